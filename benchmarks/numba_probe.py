"""How much would compiled kernels buy? A measurement for a design decision, not library code.

    pip install numba            # not a qunsim dependency
    python benchmarks/numba_probe.py [members]

Captures the inputs of the replies pipeline (the dominant kernel at 10^6 members, see
docs/benchmarks.md) from one real day of a ``CommunityModel``, then times, on those inputs:

- reply targets: ``kernels.ties.draw_replies``' search (numpy: argsort + chunked
  ``searchsorted`` over all the day's messages) against a numba loop that bisects inside each
  reader's group window;
- tie lookup: ``SocialGraph.strengthen``'s lookup (numpy: unique pairs + search over all
  keys) against a numba loop that bisects inside the row of the pair's smaller endpoint
  (row offsets into the sorted keys: one int64 per member).

Both numba loops must give exactly the numpy answers (checked). Draws are made by numpy in
both cases (same generator, same order), so only the deterministic work is compared.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    import numba
except ImportError:  # pragma: no cover - optional
    sys.exit("numba is not installed: pip install numba (it is not a qunsim dependency)")

import qunsim.kernels as K
from qunsim.kernels.ties import _search_right
from qunsim.network import SocialGraph, searchsorted_sorted, unique_first_counts


@numba.njit(cache=False)
def _targets_numba(cum, lo_r, hi_r, target):  # pragma: no cover - compiled
    out = np.empty(len(target), np.int64)
    for j in range(len(target)):
        a, b, t = lo_r[j], hi_r[j], target[j]
        # first index in cum[a:b+1] with cum > t (side="right"), then -1, clipped to [a, b-1]
        lo, hi = a, b + 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if cum[mid] <= t:
                lo = mid + 1
            else:
                hi = mid
        idx = lo - 1
        if idx < a:
            idx = a
        top = b - 1 if b - 1 > a else a
        if idx > top:
            idx = top
        out[j] = idx
    return out


@numba.njit(cache=False)
def _targets_numba_ordered(cum, lo_r, hi_r, target, order):  # pragma: no cover - compiled
    """The same, visiting replies group by group (``order``) so each window stays in cache."""
    out = np.empty(len(target), np.int64)
    for jj in range(len(order)):
        j = order[jj]
        a, b, t = lo_r[j], hi_r[j], target[j]
        lo, hi = a, b + 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if cum[mid] <= t:
                lo = mid + 1
            else:
                hi = mid
        idx = lo - 1
        if idx < a:
            idx = a
        top = b - 1 if b - 1 > a else a
        if idx > top:
            idx = top
        out[j] = idx
    return out


@numba.njit(cache=False)
def _lookup_numba(keys, rowptr, n, a, b):  # pragma: no cover - compiled
    out = np.empty(len(a), np.int64)
    for j in range(len(a)):
        u, v = (a[j], b[j]) if a[j] < b[j] else (b[j], a[j])
        k = u * n + v
        lo, hi = rowptr[u], rowptr[u + 1]
        while lo < hi:
            mid = (lo + hi) >> 1
            if keys[mid] < k:
                lo = mid + 1
            else:
                hi = mid
        out[j] = lo if lo < rowptr[u + 1] and keys[lo] == k else -1
    return out


def capture(n: int):
    """Arguments of draw_replies and strengthen on day 4 of a model with n members."""
    import run as B

    model = B.build(n)
    for _ in range(3):
        model.step()
    box = {}
    orig_draw, orig_str = K.draw_replies, SocialGraph.strengthen

    def draw(gi, msgs, readers, group, k, curated, p, rng):
        import copy

        box["draw"] = (gi, msgs, readers.copy(), group.copy(), k.copy(), curated.copy(), p, copy.deepcopy(rng))
        return orig_draw(gi, msgs, readers, group, k, curated, p, rng)

    def strengthen(self, a, b, inc, *args, **kw):
        box["ties"] = (self.keys.copy(), self.n, a.copy(), b.copy())
        return orig_str(self, a, b, inc, *args, **kw)

    K.draw_replies, SocialGraph.strengthen = draw, strengthen
    try:
        model.step()
    finally:
        K.draw_replies, SocialGraph.strengthen = orig_draw, orig_str
    return box


def best(f, *a, r=5):
    t_best, out = 1e9, None
    for _ in range(r):
        c = time.process_time()
        out = f(*a)
        t_best = min(t_best, time.process_time() - c)
    return t_best, out


def main(n: int = 1_000_000) -> None:
    box = capture(n)
    gi, msgs, readers, group, k, curated, p, rng = box["draw"]
    # the deterministic part of draw_replies, with the same draws
    start, V = gi.start[group], gi.count[group]
    cur = curated[group]
    hi = start + np.where(cur, np.floor(k).astype(np.int64), V)
    lo = start
    W = (gi.cum_reply[hi] - gi.cum_reply[lo]) * np.where(cur | (V == 0), 1.0, k / np.maximum(V, 1))
    R = rng.poisson(p * W)
    who = np.repeat(np.arange(len(readers)), R)
    lo_r, hi_r = lo[who], hi[who]
    base = gi.cum_reply[lo_r]
    target = base + rng.random(len(who)) * (gi.cum_reply[hi_r] - base)

    def numpy_targets():
        idx = _search_right(gi.cum_reply, target) - 1
        return np.clip(idx, lo_r, np.maximum(hi_r - 1, lo_r))

    _targets_numba(gi.cum_reply, lo_r[:10], hi_r[:10], target[:10])  # compile
    t_np, i_np = best(numpy_targets)
    t_nb, i_nb = best(_targets_numba, gi.cum_reply, lo_r, hi_r, target)
    assert np.array_equal(i_np, i_nb)

    def ordered():
        order = np.argsort(group[who].astype(np.int16) if gi.count.size < 32767 else group[who], kind="stable")
        return _targets_numba_ordered(gi.cum_reply, lo_r, hi_r, target, order)

    _targets_numba_ordered(gi.cum_reply, lo_r[:10], hi_r[:10], target[:10], np.arange(10))  # compile
    t_nb_o, i_nb_o = best(ordered)
    assert np.array_equal(i_np, i_nb_o)
    m = len(target)
    print(f"{n:,} members, {len(msgs):,} messages, {m:,} replies")
    print(f"reply targets: numpy {t_np * 1e9 / n:6.1f} ns/member-step, numba {t_nb * 1e9 / n:6.1f}, "
          f"numba by group (incl. the radix sort) {t_nb_o * 1e9 / n:6.1f} (identical)")

    keys, nn, a, b = box["ties"]
    rowptr = np.searchsorted(keys, np.arange(nn + 1, dtype=np.int64) * nn)

    def numpy_lookup():
        kk = np.minimum(a, b) * nn + np.maximum(a, b)
        uk, first, counts = unique_first_counts(kk)
        pos = searchsorted_sorted(keys, uk)
        pos_c = np.minimum(pos, len(keys) - 1)
        return uk, np.where(keys[pos_c] == uk, pos_c, -1)

    _lookup_numba(keys, rowptr, nn, a[:10], b[:10])  # compile
    t_np2, (uk, e_np) = best(numpy_lookup)
    t_nb2, e_nb = best(_lookup_numba, keys, rowptr, nn, a, b)
    kk = np.minimum(a, b) * nn + np.maximum(a, b)
    assert np.array_equal(e_nb, e_np[np.searchsorted(uk, kk)])
    print(f"tie lookup:    numpy {t_np2 * 1e9 / n:6.1f} ns/member-step, numba {t_nb2 * 1e9 / n:6.1f} "
          f"(identical; numba leaves the per-pair counts of new ties to do)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
