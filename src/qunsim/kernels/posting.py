"""Posting: who posts how much today, and the messages they make."""

from __future__ import annotations

import numpy as np

from qunsim.kernels.context import MSG_POST, Messages
from qunsim.state import Role

__all__ = ["posting_rates", "make_messages", "chatter_conversion", "ANSWERERS"]

ANSWERERS = (Role.EXPERT, Role.CONTRIBUTOR)


def posting_rates(
    ids: np.ndarray,
    role: np.ndarray,
    post_rate: np.ndarray,
    group: np.ndarray,
    newcomer: np.ndarray,
    replies_yesterday: np.ndarray,
    questions_per_answerer: np.ndarray,
    chatter_share: np.ndarray,
    *,
    answer_base: float,
    answer_halfsat: float,
    chatter_contagion: float,
    reply_reward: float,
) -> np.ndarray:
    """Expected posts today, ``mu_i = lambda_i * m_i``, for members ``ids``.

    Answerers (experts, contributors) respond to questions: ``m = b + (1 - b) Q/(Q + h)`` with
    ``Q`` yesterday's questions (posts by regulars and newcomers) per answerer in their group:
    a group with no one asking falls silent. Chatter is contagious: ``m = 1 + c * x`` with
    ``x`` yesterday's chatter share of the group's messages. A newcomer who got replies
    yesterday posts more: ``m *= 1 + r * min(replies, 3)``.

    Arrays ``role``, ``post_rate``, ``group``, ``newcomer``, ``replies_yesterday`` are indexed
    by ``ids``' positions (already gathered); ``questions_per_answerer`` and
    ``chatter_share`` are per group.

    >>> import numpy as np
    >>> mu = posting_rates(np.arange(2), np.array([1, 4]), np.array([2.0, 5.0]), np.array([0, 0]),
    ...     np.array([False, False]), np.array([0, 0]), np.array([1.0]), np.array([0.5]),
    ...     answer_base=0.2, answer_halfsat=1.0, chatter_contagion=2.0, reply_reward=0.5)
    >>> mu.round(3).tolist()     # expert: 2 * (0.2 + 0.8 * 0.5); chatter: 5 * (1 + 2 * 0.5)
    [1.2, 10.0]
    """
    m = np.ones(len(ids), dtype=np.float64)
    ans = (role == Role.EXPERT) | (role == Role.CONTRIBUTOR)
    if ans.any():
        q = questions_per_answerer[group[ans]]
        m[ans] = answer_base + (1.0 - answer_base) * q / (q + answer_halfsat)
    chat = role == Role.CHATTER
    if chat.any():
        m[chat] = 1.0 + chatter_contagion * chatter_share[group[chat]]
    if reply_reward > 0 and newcomer.any():
        m[newcomer] *= 1.0 + reply_reward * np.minimum(replies_yesterday[newcomer], 3)
    return post_rate.astype(np.float64) * m


def make_messages(
    authors: np.ndarray,
    counts: np.ndarray,
    group: np.ndarray,
    quality: np.ndarray,
    warmth: np.ndarray,
    is_spam: np.ndarray,
    noise: float,
    rng: np.random.Generator,
) -> Messages:
    """One message per post: author's quality and warmth plus Gaussian noise, clipped to [0, 1].

    ``group``, ``quality``, ``warmth``, ``is_spam`` are indexed like ``authors``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    m = int(counts.sum())
    if m == 0:
        return Messages.empty()
    pos = np.repeat(np.arange(len(authors)), counts)
    q = quality[pos].astype(np.float32)
    w = warmth[pos].astype(np.float32)
    if noise > 0:
        q = np.clip(q + rng.normal(0, noise, m).astype(np.float32), 0, 1)
        w = np.clip(w + rng.normal(0, noise, m).astype(np.float32), 0, 1)
    spam = is_spam[pos]
    q[spam] = 0.0
    w[spam] = 0.0
    return Messages(authors[pos].astype(np.int64), group[pos].astype(np.int32), q, w, spam,
                    np.full(m, MSG_POST, dtype=np.int8))


def chatter_conversion(
    taste: np.ndarray,
    chatter_neighbor_share: np.ndarray,
    rate: float,
    u: np.ndarray,
) -> np.ndarray:
    """Which regulars turn chatter today ("one starts, others follow").

    Probability ``rate * (1 - taste) * s`` with ``s`` the share of one's active ties who chat;
    only low-taste (``taste < 0.5``) regulars are susceptible. ``u`` are pre-drawn uniforms.

    >>> import numpy as np
    >>> chatter_conversion(np.array([0.2, 0.2, 0.9]), np.array([1.0, 0.0, 1.0]), 1.0,
    ...                    np.array([0.5, 0.0, 0.0])).tolist()
    [True, False, False]
    """
    p = rate * (1.0 - taste) * chatter_neighbor_share
    return (taste < 0.5) & (u < p)
