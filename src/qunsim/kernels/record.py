"""The day's bookkeeping and its metrics row (compiled): one pass over the population and one
over the day's messages instead of a numpy call per column."""

from __future__ import annotations

import numpy as np

from qunsim._jit import njit
from qunsim.kernels.trust import trust_level, trust_value

__all__ = ["population_counts", "message_counts", "group_stats", "gresham_counts", "core_quality",
           "end_of_day", "reading_totals", "gresham_day"]

_ACTIVE = 1
_OWNER, _EXPERT, _CONTRIBUTOR, _REGULAR, _CHATTER, _SPAMMER = 0, 1, 2, 3, 4, 5


@njit
def population_counts(status, role, initial_role, tier, trust_r, trust_s, satisfaction, group,
                      join_step, strong_ties, n_groups, weak, strong, strong_evidence):
    """One pass over the population for the metrics row and tomorrow's posting.

    Returns ``(ints, floats, answerers)``: ``ints`` int64[20] = active, active by role (7),
    by tier (4), by trust level (3), groups with an active member, experts ever joined,
    experts active (by initial role), strong-tie endpoints; ``floats`` = (sum of trust, sum
    of satisfaction) over active members; ``answerers`` float64[n_groups] active experts and
    contributors per group.
    """
    ints = np.zeros(20, np.int64)
    fl = np.zeros(2)
    answerers = np.zeros(n_groups)
    occupied = np.zeros(n_groups, np.bool_)
    for i in range(len(status)):
        if initial_role[i] == _EXPERT and join_step[i] >= 0:
            ints[17] += 1
            if status[i] == _ACTIVE:
                ints[18] += 1
        if status[i] != _ACTIVE:
            continue
        ints[0] += 1
        ints[1 + role[i]] += 1
        ints[8 + tier[i]] += 1
        r, s = trust_r[i], trust_s[i]
        ints[12 + trust_level(r, s, weak, strong, strong_evidence)] += 1
        fl[0] += trust_value(np.float64(r), np.float64(s))
        fl[1] += satisfaction[i]
        g = group[i]
        if 0 <= g < n_groups:
            occupied[g] = True
            if role[i] == _EXPERT or role[i] == _CONTRIBUTOR:
                answerers[g] += 1.0
        ints[19] += strong_ties[i]
    for g in range(n_groups):
        if occupied[g]:
            ints[15] += 1
    return ints, fl, answerers


@njit
def message_counts(author, spam, role):
    """Messages by author role (int64[7]), operator messages (author -1) and low-quality
    messages (chatter or spam): ``(by_role, operator, low_quality)``."""
    by_role = np.zeros(7, np.int64)
    operator = 0
    low = 0
    for j in range(len(author)):
        a = author[j]
        if a < 0:
            operator += 1
            if spam[j]:
                low += 1
            continue
        r = role[a]
        by_role[r] += 1
        if r == _CHATTER or spam[j]:
            low += 1
    return by_role, operator, low


@njit
def group_stats(author, group, spam, role, join_step, t, newcomer_days, answerers, n_groups):
    """Yesterday's statistics by group for today's posting: questions per answerer (posts by
    regulars and by newcomers other than experts: experts answer, they do not ask) and the
    chatter share of the group's messages."""
    q = np.zeros(n_groups)
    chat = np.zeros(n_groups)
    tot = np.zeros(n_groups)
    for j in range(len(author)):
        g = group[j]
        tot[g] += 1.0
        a = author[j]
        if a < 0:
            continue
        r = role[a]
        if r == _CHATTER:
            chat[g] += 1.0
        newcomer = (t - join_step[a]) <= newcomer_days
        if (r == _REGULAR or (newcomer and r != _EXPERT)) and not spam[j]:
            q[g] += 1.0
    for g in range(n_groups):
        q[g] = q[g] / max(answerers[g], 1.0)
        chat[g] = chat[g] / tot[g] if tot[g] > 0 else 0.0
    return q, chat


@njit
def core_quality(readers, quality, initial_role):
    """Quality of today's readers of the core roles (expert, contributor, regular, chatter)."""
    out = np.empty(len(readers), np.float32)
    m = 0
    for i in readers:
        r = initial_role[i]
        if r == _EXPERT or r == _CONTRIBUTOR or r == _REGULAR or r == _CHATTER:
            out[m] = quality[i]
            m += 1
    return out[:m]


@njit
def gresham_counts(readers, quality, initial_role, status, lo, hi):
    """Among today's core readers: (left top, top, left bottom, bottom) with top = quality >=
    ``hi`` and bottom = quality <= ``lo`` (the quartiles)."""
    out = np.zeros(4)
    for i in readers:
        r = initial_role[i]
        if not (r == _EXPERT or r == _CONTRIBUTOR or r == _REGULAR or r == _CHATTER):
            continue
        q = quality[i]
        left = status[i] != _ACTIVE
        if q >= hi:
            out[1] += 1.0
            if left:
                out[0] += 1.0
        if q <= lo:
            out[3] += 1.0
            if left:
                out[2] += 1.0
    return out


@njit
def end_of_day(ids, counts, received, posts, posts_yesterday, replies_yesterday, last_post, t):
    """Stage *bookkeeping*: posts made, yesterday's posts and replies received (saturated at
    int16), last post step, for today's members ``ids`` (replies of everyone else reset)."""
    replies_yesterday[:] = 0
    for i in ids:
        c = counts[i]
        posts[i] += c
        posts_yesterday[i] = min(c, 32767)
        replies_yesterday[i] = min(received[i], 32767)
        if c > 0:
            last_post[i] = t


@njit
def reading_totals(k, value, info, buried, utility):
    """Sums over readers of messages read, value, information value, buried share, utility."""
    out = np.zeros(5)
    for j in range(len(k)):
        out[0] += k[j]
        out[1] += value[j]
        out[2] += info[j]
        out[3] += buried[j]
        out[4] += utility[j]
    return out


@njit
def _lerp(a, b, t):
    """numpy's linear interpolation between order statistics (``np.quantile``'s default)."""
    d = b - a
    if t >= 0.5:
        return b - d * (1.0 - t)
    return a + d * t


@njit
def _quantile(part, n, q):
    """``np.quantile(x, q)`` (linear) of the ``n`` values, given ``part``: ``x`` partitioned so
    that the order statistics at ``floor(q (n - 1))`` and the next are in place."""
    v = q * (n - 1)
    lo = np.int64(np.floor(v))
    hi = min(lo + 1, n - 1)
    return _lerp(np.float64(part[lo]), np.float64(part[hi]), v - lo)


@njit
def _quartile_counts(part, readers, quality, initial_role, status):
    n = len(part)
    return gresham_counts(readers, quality, initial_role, status, _quantile(part, n, 0.25),
                          _quantile(part, n, 0.75))


def gresham_day(readers, quality, initial_role, status, qc=None) -> np.ndarray:
    """Today's Gresham counts: among core readers, (left top quartile, top quartile, left bottom
    quartile, bottom quartile) by quality (``np.quantile``'s linear quartiles, found by one
    numpy partition); all 0 with fewer than 4 core
    readers. ``qc``: their qualities (:func:`core_quality`), if already gathered."""
    if qc is None:
        qc = core_quality(readers, quality, initial_role)
    n = len(qc)
    if n < 4:
        return np.zeros(4)
    kth = sorted({int(np.floor(q * (n - 1))) + d for q in (0.25, 0.75) for d in (0, 1) if
                  int(np.floor(q * (n - 1))) + d < n})
    return _quartile_counts(np.partition(qc, kth), readers, quality, initial_role, status)


@njit
def day_row(status, role, initial_role, tier, trust_r, trust_s, satisfaction, group, join_step, strong_ties,
            n_groups, weak, strong, strong_evidence, author, mgroup, spam, t, newcomer_days, readers,
            quality, k, value, info, buried, utility):
    """Stage *record* in one call: :func:`population_counts`, :func:`message_counts`,
    :func:`group_stats` (tomorrow's posting), :func:`reading_totals` and the core readers'
    qualities (:func:`core_quality`, for the Gresham quartiles)."""
    ints, fl, answerers = population_counts(status, role, initial_role, tier, trust_r, trust_s, satisfaction,
                                            group, join_step, strong_ties, n_groups, weak, strong,
                                            strong_evidence)
    by_role, operator, low = message_counts(author, spam, role)
    q, chat = group_stats(author, mgroup, spam, role, join_step, t, newcomer_days, answerers, n_groups)
    return (ints, fl, by_role, operator, low, q, chat, reading_totals(k, value, info, buried, utility),
            core_quality(readers, quality, initial_role))
