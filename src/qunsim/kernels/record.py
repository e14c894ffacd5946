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


# ---------------------------------------------------------------------------- the metrics row
_ROLES = ("owner", "expert", "contributor", "regular", "chatter", "spammer", "moderator")
_REASONS = ("dissatisfied", "contagion", "inactive", "banned", "forced", "dissolved")  # LeaveReason 1..6
_LEVELS = ("none", "weak", "strong")
_TIERS = ("member", "fan", "partner", "shareholder")

#: The engine's columns of the daily metrics row, in the row's order (policy metrics and
#: revenue by source follow them). ``INT_COLUMNS`` are counts (int64 in the time series).
COLUMNS: tuple[str, ...] = (
    "step", "active", *(f"active_{r}" for r in _ROLES), "joins", "leaves",
    *(f"leaves_{r}" for r in _REASONS), "churn_rate", "messages", *(f"messages_{r}" for r in _ROLES),
    "messages_operator", "removed_messages", "low_quality_share", "value_density", "info_density",
    "overload", "utility_mean", "expert_retention", "gresham_index", "trust_mean",
    *(f"trust_{x}" for x in _LEVELS), "satisfaction_mean", "strong_ties", "metcalfe_pairs", "n_groups",
    "revenue", "revenue_cumulative", "operator_capacity_used", *(f"tier_{x}" for x in _TIERS))
_FLOATS = frozenset({"churn_rate", "low_quality_share", "value_density", "info_density", "overload",
                     "utility_mean", "expert_retention", "gresham_index", "trust_mean",
                     "satisfaction_mean", "metcalfe_pairs", "revenue", "revenue_cumulative",
                     "operator_capacity_used"})
INT_COLUMNS = frozenset(COLUMNS) - _FLOATS
_C = {c: j for j, c in enumerate(COLUMNS)}
(_STEP, _ACT, _ACT0, _JOINS, _LEAVES, _LEAVES0, _CHURN, _MSG, _MSG0, _MSG_OP, _REMOVED, _LOW, _VD, _ID, _OVER,
 _UTIL, _EXPRET, _GRESHAM, _TRUST, _TRUST0, _SAT, _STRONG, _METCALFE, _NGROUPS, _REV, _REVCUM, _OPCAP,
 _TIER0) = (_C[c] for c in (
    "step", "active", "active_owner", "joins", "leaves", "leaves_dissatisfied", "churn_rate", "messages",
    "messages_owner", "messages_operator", "removed_messages", "low_quality_share", "value_density",
    "info_density", "overload", "utility_mean", "expert_retention", "gresham_index", "trust_mean",
    "trust_none", "satisfaction_mean", "strong_ties", "metcalfe_pairs", "n_groups", "revenue",
    "revenue_cumulative", "operator_capacity_used", "tier_member"))
#: columns of the Gresham history: the day's (left top, top, left bottom, bottom) and the
#: windowed index's interval (low, high)
GRESHAM_COLUMNS = ("left_top", "at_risk_top", "left_bottom", "at_risk_bottom", "low", "high")
#: ``float(scipy.stats.norm.ppf(0.975))`` (the 95% interval's z; a test checks it)
Z95 = 1.959963984540054


@njit
def gresham_estimate_nb(lt, at, lb, ab, min_exposure, min_events, z):
    """:func:`qunsim.metrics.gresham_estimate` (with :func:`qunsim.stats.hazard_ratio`'s
    shrinkage by half an event) in compiled code: ``(index, low, high)``."""
    if min(at, ab) < min_exposure or lt + lb < min_events:
        return 1.0, 1.0, 1.0
    ea, eb = lt + 0.5, lb + 0.5
    xa, xb = at + 1.0, ab + 1.0
    ratio = (ea / xa) / (eb / xb)
    se = np.sqrt(1.0 / ea + 1.0 / eb)
    return ratio, ratio * np.exp(-z * se), ratio * np.exp(z * se)


@njit
def gresham_push(gh, gn, c0, c1, c2, c3, window, min_exposure, min_events, z):
    """Append the day's Gresham counts as row ``gn`` of ``gh`` (float64[cap, 6], see
    :data:`GRESHAM_COLUMNS`) and return the index over the last ``window`` days (its interval
    is written to the row)."""
    gh[gn, 0], gh[gn, 1], gh[gn, 2], gh[gn, 3] = c0, c1, c2, c3
    s = np.zeros(4)
    for d in range(max(gn + 1 - window, 0), gn + 1):
        for c in range(4):
            s[c] += gh[d, c]
    g, lo, hi = gresham_estimate_nb(s[0], s[1], s[2], s[3], min_exposure, min_events, z)
    gh[gn, 4], gh[gn, 5] = lo, hi
    return g


@njit
def _quantile_select(x, q):
    """``np.quantile(x, q)`` (linear) of a float32 vector by selection, not a sort: the
    order statistic at ``floor(q (n - 1))`` by a partition, the next as the least above it."""
    n = len(x)
    v = q * (n - 1)
    lo = np.int64(np.floor(v))
    part = np.partition(x, lo)
    a = part[lo]
    b = a
    if lo + 1 <= n - 1:
        b = part[lo + 1]
        for j in range(lo + 2, n):
            if part[j] < b:
                b = part[j]
    return _lerp(np.float64(a), np.float64(b), v - lo)


@njit
def _order_key(b):
    """An unsigned 32-bit key of a float32's bits ``b`` (uint32) whose order is the values'
    order: the sign bit set for non-negative values, every bit flipped for negative ones."""
    if b & np.uint32(0x80000000):
        return ~b
    return b | np.uint32(0x80000000)


@njit
def order_statistics(x, ranks):
    """The ``ranks[j]``-th smallest of the float32 values ``x`` (0-based), by a radix
    selection: a histogram of the keys' high 16 bits finds each rank's bucket, one more
    pass per distinct bucket histograms the low 16 bits of the bucket's values. No sorting:
    the same values ``np.partition`` puts at those positions (an order statistic is one
    value, whichever way it is found; ``-0.0`` and ``+0.0`` are equal values, ordered by the
    key). Returns ``(values, ok)``; ``ok`` False (values undefined) if ``x`` holds a NaN."""
    n = len(x)
    out = np.empty(len(ranks), np.float32)
    bits = np.ascontiguousarray(x).view(np.uint32)
    hi = np.zeros(65536, np.int32)
    for i in range(n):
        v = x[i]
        if v != v:
            return out, False
        hi[_order_key(bits[i]) >> np.uint32(16)] += 1
    bucket = np.empty(len(ranks), np.int64)
    within = np.empty(len(ranks), np.int64)
    for j in range(len(ranks)):
        k = ranks[j]
        acc = 0
        b = 0
        while acc + hi[b] <= k:
            acc += hi[b]
            b += 1
        bucket[j] = b
        within[j] = k - acc
    lo = np.zeros(65536, np.int32)
    one = np.empty(1, np.uint32)
    as_float = one.view(np.float32)
    for j in range(len(ranks)):
        seen = False
        for jj in range(j):
            if bucket[jj] == bucket[j]:
                seen = True
        if seen:
            continue
        lo[:] = 0
        bj = np.uint32(bucket[j])
        for i in range(n):
            key = _order_key(bits[i])
            if (key >> np.uint32(16)) == bj:
                lo[key & np.uint32(0xFFFF)] += 1
        for jj in range(j, len(ranks)):
            if bucket[jj] != bucket[j]:
                continue
            acc = 0
            c = 0
            while acc + lo[c] <= within[jj]:
                acc += lo[c]
                c += 1
            key = (bj << np.uint32(16)) | np.uint32(c)
            one[0] = key & np.uint32(0x7FFFFFFF) if key & np.uint32(0x80000000) else ~key
            out[jj] = as_float[0]
    return out, True


@njit
def _quartiles_radix(qc):
    """``(_quantile_select(qc, 0.25), _quantile_select(qc, 0.75))`` from
    :func:`order_statistics` (``ok`` False if ``qc`` holds a NaN)."""
    n = len(qc)
    v1 = 0.25 * (n - 1)
    lo1 = np.int64(np.floor(v1))
    v2 = 0.75 * (n - 1)
    lo2 = np.int64(np.floor(v2))
    ranks = np.array([lo1, min(lo1 + 1, n - 1), lo2, min(lo2 + 1, n - 1)])
    vals, ok = order_statistics(qc, ranks)
    q1 = _lerp(np.float64(vals[0]), np.float64(vals[1]), v1 - lo1)
    q3 = _lerp(np.float64(vals[2]), np.float64(vals[3]), v2 - lo2)
    return q1, q3, ok


#: below this many core readers the quartiles come from numba's partition (the radix
#: selection's 256 KB histograms cost more than partitioning up to ~20,000 values; above, it
#: is 4-8x faster: 21 -> 6 ns a value at 30,000, 17 -> 2 at 700,000)
RADIX_QUARTILES_FROM = 20_000


@njit
def _gresham_counts_sorted(readers, quality, initial_role, status):
    """:func:`gresham_day` in compiled code (the quartiles by selection)."""
    qc = core_quality(readers, quality, initial_role)
    n = len(qc)
    if n < 4:
        return np.zeros(4)
    if n >= RADIX_QUARTILES_FROM:
        q1, q3, ok = _quartiles_radix(qc)
        if ok:
            return gresham_counts(readers, quality, initial_role, status, q1, q3)
    return gresham_counts(readers, quality, initial_role, status, _quantile_select(qc, 0.25),
                          _quantile_select(qc, 0.75))


@njit
def record_day(data, r, gh, gn, first, status, role, initial_role, tier, trust_r, trust_s, satisfaction, group,
               join_step, strong_ties, n_groups, weak, strong, strong_evidence, author, mgroup, spam, t,
               newcomer_days, readers, quality, k, value, info, buried, utility, joins, leaves, active0,
               removed, revenue, revenue_before, operator_capacity, window, min_exposure, min_events, z):
    """Stage *record*: write the day's metrics row into row ``r`` of ``data`` (float64[cap,
    len(COLUMNS)], the columns of :data:`COLUMNS`) and, unless ``first`` (the initial
    state, day 0), the day's Gresham counts into row ``gn`` of ``gh``.

    ``joins``, ``leaves`` (int64[7] by LeaveReason), ``active0`` (active at the end of
    yesterday), ``removed`` (messages moderated away), ``revenue`` (today's, all sources),
    ``revenue_before`` (cumulative until yesterday) and ``operator_capacity`` are the day's
    counters; the rest as in :func:`day_row`. Returns yesterday's group statistics for
    tomorrow's posting ``(questions per answerer, chatter share)``.
    """
    ints, fl, answerers = population_counts(status, role, initial_role, tier, trust_r, trust_s, satisfaction,
                                            group, join_step, strong_ties, n_groups, weak, strong,
                                            strong_evidence)
    by_role, operator, low = message_counts(author, spam, role)
    q, chat = group_stats(author, mgroup, spam, role, join_step, t, newcomer_days, answerers, n_groups)
    tot = reading_totals(k, value, info, buried, utility)
    row = data[r]
    n_act = ints[0]
    row[_STEP] = t
    row[_ACT] = n_act
    for x in range(7):
        row[_ACT0 + x] = ints[1 + x]
    n_leaves = 0
    for x in range(1, 7):
        row[_LEAVES0 + x - 1] = leaves[x]
        n_leaves += leaves[x]
    if first:
        joins = 0
        n_leaves = 0
        for x in range(6):
            row[_LEAVES0 + x] = 0
        active0 = n_act
        removed = 0
        revenue = 0.0
        operator_capacity = 0.0
    row[_JOINS] = joins
    row[_LEAVES] = n_leaves
    at_risk = active0 + joins
    row[_CHURN] = n_leaves / at_risk if at_risk else 0.0
    m = len(author)
    row[_MSG] = m
    for x in range(7):
        row[_MSG0 + x] = by_role[x]
    row[_MSG_OP] = operator
    row[_REMOVED] = removed
    row[_LOW] = low / m if m else 0.0
    n_read = len(k)
    row[_VD] = tot[1] / tot[0] if tot[0] > 0 else 0.0
    row[_ID] = tot[2] / tot[0] if tot[0] > 0 else 0.0
    row[_OVER] = tot[3] / n_read if n_read else 0.0
    row[_UTIL] = tot[4] / n_read if n_read else 0.0
    row[_EXPRET] = ints[18] / ints[17] if ints[17] else 1.0
    if first:
        row[_GRESHAM] = 1.0
    else:
        c = _gresham_counts_sorted(readers, quality, initial_role, status)
        row[_GRESHAM] = gresham_push(gh, gn, c[0], c[1], c[2], c[3], window, min_exposure, min_events, z)
    row[_TRUST] = fl[0] / n_act if n_act else 0.0
    for x in range(3):
        row[_TRUST0 + x] = ints[12 + x]
    row[_SAT] = fl[1] / n_act if n_act else 0.0
    n_strong = ints[19] // 2
    row[_STRONG] = n_strong
    row[_METCALFE] = n_act * (n_act - 1) / 2
    row[_NGROUPS] = ints[15]
    row[_REV] = revenue
    row[_REVCUM] = revenue_before + revenue
    row[_OPCAP] = operator_capacity
    for x in range(4):
        row[_TIER0 + x] = ints[8 + x]
    return q, chat
