"""Posting: who posts how much today, and the messages they make (compiled)."""

from __future__ import annotations

import numpy as np

from qunsim._jit import njit
from qunsim.kernels.context import MSG_POST, Messages
from qunsim.state import EntryPath, Role, Status

__all__ = ["posting_rate", "posting_rates", "draw_posts", "make_messages", "messages_from_counts",
           "chatter_conversion", "converts", "ANSWERERS"]

ANSWERERS = (Role.EXPERT, Role.CONTRIBUTOR)
_EXPERT, _CONTRIBUTOR, _CHATTER, _SPAMMER = int(Role.EXPERT), int(Role.CONTRIBUTOR), int(Role.CHATTER), int(Role.SPAMMER)
_ACTIVE, _SEED = int(Status.ACTIVE), int(EntryPath.SEED)


@njit
def posting_rate(role, post_rate, questions_per_answerer, chatter_share, newcomer, replies_yesterday,
                 answer_base, answer_halfsat, chatter_contagion, reply_reward):
    """Expected posts today of one member, ``mu = lambda * m``.

    Answerers (experts, contributors) respond to questions: ``m = b + (1 - b) Q/(Q + h)`` with
    ``Q`` yesterday's questions per answerer in their group (a group with no one asking falls
    silent). Chatter is contagious: ``m = 1 + c * x`` with ``x`` yesterday's chatter share of
    the group's messages. A newcomer who got replies yesterday posts more:
    ``m *= 1 + r * min(replies, 3)``.
    """
    m = 1.0
    if role == _EXPERT or role == _CONTRIBUTOR:
        q = questions_per_answerer
        m = answer_base + (1.0 - answer_base) * q / (q + answer_halfsat)
    elif role == _CHATTER:
        m = 1.0 + chatter_contagion * chatter_share
    if reply_reward > 0 and newcomer:
        m *= 1.0 + reply_reward * min(replies_yesterday, 3)
    return np.float64(post_rate) * m


@njit
def _posting_rates(role, post_rate, group, newcomer, replies_yesterday, qpa, chat,
                   answer_base, answer_halfsat, chatter_contagion, reply_reward):
    out = np.empty(len(role))
    for j in range(len(role)):
        g = group[j]
        out[j] = posting_rate(role[j], post_rate[j], qpa[g], chat[g], newcomer[j], replies_yesterday[j],
                              answer_base, answer_halfsat, chatter_contagion, reply_reward)
    return out


def posting_rates(ids, role, post_rate, group, newcomer, replies_yesterday, questions_per_answerer,
                  chatter_share, *, answer_base: float, answer_halfsat: float,
                  chatter_contagion: float, reply_reward: float) -> np.ndarray:
    """:func:`posting_rate` for members ``ids`` (arrays already gathered at ``ids``' positions;
    ``questions_per_answerer`` and ``chatter_share`` are per group).

    >>> import numpy as np
    >>> mu = posting_rates(np.arange(2), np.array([1, 4]), np.array([2.0, 5.0]), np.array([0, 0]),
    ...     np.array([False, False]), np.array([0, 0]), np.array([1.0]), np.array([0.5]),
    ...     answer_base=0.2, answer_halfsat=1.0, chatter_contagion=2.0, reply_reward=0.5)
    >>> mu.round(3).tolist()     # expert: 2 * (0.2 + 0.8 * 0.5); chatter: 5 * (1 + 2 * 0.5)
    [1.2, 10.0]
    """
    return _posting_rates(np.asarray(role), np.asarray(post_rate), np.asarray(group), np.asarray(newcomer),
                          np.asarray(replies_yesterday), np.asarray(questions_per_answerer, np.float64),
                          np.asarray(chatter_share, np.float64), float(answer_base), float(answer_halfsat),
                          float(chatter_contagion), float(reply_reward))


@njit
def _posting_means(ids, role, post_rate, group, join_step, entry_path, replies_yesterday, qpa, chat, t,
                   newcomer_days, answer_base, answer_halfsat, chatter_contagion, reply_reward):
    mu = np.empty(len(ids))
    for j in range(len(ids)):
        i = ids[j]
        newcomer = (t - join_step[i]) <= newcomer_days and entry_path[i] != _SEED
        g = group[i]
        mu[j] = posting_rate(role[i], post_rate[i], qpa[g], chat[g], newcomer, replies_yesterday[i],
                             answer_base, answer_halfsat, chatter_contagion, reply_reward)
    return mu


def draw_posts(ids, role, post_rate, group, join_step, entry_path, replies_yesterday, qpa, chat, t,
               newcomer_days, answer_base, answer_halfsat, chatter_contagion, reply_reward, rng):
    """Stage *posting*: today's post counts, ``Poisson(mu_i)`` for members ``ids`` (one vector
    draw in ``ids``' order).

    Inputs are population arrays (``qpa``, ``chat``: yesterday's questions per answerer and
    chatter share by group). A newcomer joined at most ``newcomer_days`` ago, not as a seed.
    Returns ``counts`` int64[n] (0 outside ``ids``).
    """
    mu = _posting_means(ids, role, post_rate, group, join_step, entry_path, replies_yesterday, qpa, chat,
                        int(t), int(newcomer_days), float(answer_base), float(answer_halfsat),
                        float(chatter_contagion), float(reply_reward))
    counts = np.zeros(len(role), np.int64)
    counts[ids] = rng.poisson(mu)
    return counts


@njit
def _clip01(x):
    return np.float32(0.0) if x < 0 else np.float32(1.0) if x > 1 else x


@njit
def _make_messages(authors, at, counts, group, quality, warmth, spam_role, is_spam, noise_q, noise_w):
    """Messages of ``authors``; attribute ``x`` of author j is ``x[at[j]]``. Spam is
    ``role == SPAMMER`` when ``spam_role`` (``is_spam`` holds roles), else ``is_spam``.
    ``noise_q``, ``noise_w``: one Gaussian noise per message (or empty: no noise)."""
    m = 0
    for j in range(len(authors)):
        m += counts[at[j]]
    author = np.empty(m, np.int64)
    grp = np.empty(m, np.int32)
    q = np.empty(m, np.float32)
    w = np.empty(m, np.float32)
    spam = np.empty(m, np.bool_)
    pos = 0
    for j in range(len(authors)):
        a = at[j]
        s = is_spam[a] == _SPAMMER if spam_role else is_spam[a] != 0
        for _ in range(counts[a]):
            author[pos] = authors[j]
            grp[pos] = group[a]
            q[pos] = quality[a]
            w[pos] = warmth[a]
            spam[pos] = s
            pos += 1
    if len(noise_q):
        for j in range(m):
            q[j] = _clip01(q[j] + np.float32(noise_q[j]))
            w[j] = _clip01(w[j] + np.float32(noise_w[j]))
    for j in range(m):
        if spam[j]:
            q[j] = 0.0
            w[j] = 0.0
    return author, grp, q, w, spam


_EMPTY = np.empty(0)


def _noise(m: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """All quality noises, then all warmth noises (two vector draws; none if ``noise = 0``)."""
    if noise <= 0 or m == 0:
        return _EMPTY, _EMPTY
    return rng.normal(0, noise, m), rng.normal(0, noise, m)


def make_messages(authors, counts, group, quality, warmth, is_spam, noise: float,
                  rng: np.random.Generator) -> Messages:
    """One message per post: author's quality and warmth plus Gaussian noise, clipped to [0, 1]
    (spam: 0). ``counts``, ``group``, ``quality``, ``warmth``, ``is_spam`` are indexed like
    ``authors``."""
    authors = np.asarray(authors, np.int64)
    at = np.arange(len(authors), dtype=np.int64)
    counts = np.asarray(counts, np.int64)
    nq, nw = _noise(int(counts.sum()), noise, rng)
    parts = _make_messages(authors, at, counts, np.asarray(group),
                           np.asarray(quality, np.float32), np.asarray(warmth, np.float32), False,
                           np.asarray(is_spam, np.bool_), nq, nw)
    return Messages(*parts, np.full(len(parts[0]), MSG_POST, dtype=np.int8))


def messages_from_counts(posters, counts, group, quality, warmth, role, noise: float,
                         rng: np.random.Generator) -> Messages:
    """:func:`make_messages` over population arrays: ``posters`` (ascending ids) with
    ``counts[i]`` posts each; spam is posted by spammers (``role``)."""
    nq, nw = _noise(int(counts[posters].sum()), noise, rng)
    parts = _make_messages(posters, posters, counts, group, quality, warmth, True, role, nq, nw)
    return Messages(*parts, np.full(len(parts[0]), MSG_POST, dtype=np.int8))


@njit
def converts(taste, chatter_neighbor_share, rate, u):
    """A regular turns chatter ("one starts, others follow") when ``u < rate * (1 - taste) * s``
    with ``s`` the share of one's active ties who chat; only low-taste (``taste < 0.5``)
    regulars are susceptible. ``u`` is a uniform draw."""
    return taste < 0.5 and u < rate * (1.0 - taste) * chatter_neighbor_share


@njit
def _conversions(taste, share, rate, u):
    out = np.empty(len(taste), np.bool_)
    for j in range(len(taste)):
        out[j] = converts(taste[j], share[j], rate, u[j])
    return out


def chatter_conversion(taste, chatter_neighbor_share, rate: float, u) -> np.ndarray:
    """:func:`converts` for each candidate (``u`` pre-drawn uniforms).

    >>> import numpy as np
    >>> chatter_conversion(np.array([0.2, 0.2, 0.9]), np.array([1.0, 0.0, 1.0]), 1.0,
    ...                    np.array([0.5, 0.0, 0.0])).tolist()
    [True, False, False]
    """
    return _conversions(np.asarray(taste, np.float64), np.asarray(chatter_neighbor_share, np.float64),
                        float(rate), np.asarray(u, np.float64))
