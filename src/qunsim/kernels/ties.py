"""Replies: readers answer some of what they read (more often the better messages)."""

from __future__ import annotations

import numpy as np

from qunsim.kernels.context import Messages
from qunsim.kernels.reading import GroupIndex
from qunsim.network import searchsorted_sorted

__all__ = ["draw_replies"]


def draw_replies(
    gi: GroupIndex,
    msgs: Messages,
    readers: np.ndarray,
    group: np.ndarray,
    k: np.ndarray,
    curated: np.ndarray,
    reply_prob: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Reply pairs ``(reader, author)`` for today.

    Reader i makes ``R_i ~ Poisson(p * W_i)`` replies, ``W_i`` the summed reply weight
    ``(q + w)/2`` (0 for spam) of the messages it read (expected, in random order). Each reply
    goes to a message drawn with probability proportional to its weight among the group's
    messages (random order) or among the ``k_i`` read (curated). Self-replies and replies to
    operator content are dropped.
    """
    if len(readers) == 0 or len(msgs) == 0 or reply_prob <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    start = gi.start[group]
    V = gi.count[group]
    cur = curated[group]
    hi = start + np.where(cur, np.floor(k).astype(np.int64), V)
    lo = start
    window = gi.cum_reply[hi] - gi.cum_reply[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(cur | (V == 0), 1.0, k / np.maximum(V, 1))
    W = window * frac
    R = rng.poisson(reply_prob * W)
    total = int(R.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    # per-reader values first, then gathered per reply by the (monotone) reader position
    who = np.repeat(np.arange(len(readers)), R)
    lo_r, hi_r = lo[who], hi[who]
    base_i = gi.cum_reply[lo]
    base = base_i[who]
    target = base + rng.random(total) * (gi.cum_reply[hi] - base_i)[who]
    idx = _search_right(gi.cum_reply, target) - 1
    idx = np.clip(idx, lo_r, np.maximum(hi_r - 1, lo_r))
    author = msgs.author[gi.order[idx]]
    reader = readers[who].astype(np.int64)
    keep = (author >= 0) & (author != reader)
    return reader[keep], author[keep]


def _search_right(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """``np.searchsorted(haystack, needles, side="right")``, faster for many unsorted needles
    into a large haystack: searching them in sorted order keeps the binary searches in cache."""
    if len(needles) < 4096 or len(haystack) < 65536:
        return np.searchsorted(haystack, needles, side="right")
    order = np.argsort(needles)
    out = np.empty(len(needles), dtype=np.int64)
    out[order] = searchsorted_sorted(haystack, needles[order], side="right")
    return out
