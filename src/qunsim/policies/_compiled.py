"""Compiled hot paths of the built-in policies (numba, like the day's kernels).

Each function is one pass over members or messages that the policy would otherwise write as
several numpy calls (each a pass and a temporary array). They compute exactly what the numpy
formulation computes (same operations on the same dtypes, element by element); random draws
and sums over arrays stay in numpy, in the policies, so draws and summation order are
unchanged. ``NUMBA_DISABLE_JIT=1`` runs them as plain Python.
"""

from __future__ import annotations

import numpy as np

from qunsim._jit import njit
from qunsim.kernels.day import generator_from, numpy_sum
from qunsim.kernels.reading import _filtered_index, read_utilities
from qunsim.kernels.trust import trust_value

__all__ = ["active_groups", "group_counts", "filter_gain", "ad_impressions", "care_candidates", "ladder_candidates", "role_mask",
           "capped_counts", "inactive_members", "generator_handle", "personal_filter", "ad_reach",
           "ladder_candidates_all", "broadcast_audience", "warned_spammers", "over_limit"]


def generator_handle(model, rng):
    """The handle of ``model``'s generator for compiled code that draws
    (``CommunityModel._generator_handle``) when a hook's ``rng`` is the model's generator (as
    the model calls hooks); None otherwise (the hook then draws with numpy from ``rng``)."""
    if rng is getattr(model, "rng", None) and hasattr(model, "_generator_handle"):
        return model._generator_handle()
    return None

_ACTIVE = 1
_OWNER, _MODERATOR, _SPAMMER = 0, 6, 5  # Role codes (qunsim.state.Role)


@njit
def group_counts(status, group, n_groups):
    """Active members per group (``np.bincount(group[status == ACTIVE], minlength=n_groups)``),
    int64[max(n_groups, largest active group + 1)]."""
    top = n_groups - 1
    for i in range(len(status)):
        if status[i] == _ACTIVE and group[i] > top:
            top = group[i]
    out = np.zeros(top + 1, np.int64)
    for i in range(len(status)):
        if status[i] == _ACTIVE:
            out[group[i]] += 1
    return out


@njit
def active_groups(status, group):
    """Groups with at least one active member, ascending (``np.unique(group[status == ACTIVE])``),
    int64."""
    top = -1
    for i in range(len(status)):
        if status[i] == _ACTIVE and group[i] > top:
            top = group[i]
    seen = np.zeros(top + 1, np.bool_)
    m = 0
    for i in range(len(status)):
        if status[i] == _ACTIVE and not seen[group[i]]:
            seen[group[i]] = True
            m += 1
    out = np.empty(m, np.int64)
    m = 0
    for g in range(top + 1):
        if seen[g]:
            out[m] = g
            m += 1
    return out


@njit
def filter_gain(ids, filtered_utility, read_utility, u, adoption, utility, group, msg_group, flag, n_groups):
    """Personal chatter filter: reader ``ids[j]`` keeps the filter when it helps
    (``gain = filtered - unfiltered utility > 0``) and it adopted one (``u[j] < adoption``);
    then ``utility[i] += gain`` (in place). Returns ``(users, hidden)``: readers who kept
    it and the flagged posts of their groups hidden from their feeds."""
    top = n_groups
    for x in range(len(flag)):
        top = max(top, np.int64(msg_group[x]) + 1)
    hidden = np.zeros(top, np.int64)
    for x in range(len(flag)):
        if flag[x]:
            hidden[msg_group[x]] += 1
    users = 0
    hid = 0
    for j in range(len(ids)):
        gain = filtered_utility[j] - read_utility[j]
        if gain > 0 and u[j] < adoption:
            i = ids[j]
            utility[i] += gain
            users += 1
            hid += hidden[group[i]]
    return users, hid


@njit
def ad_impressions(ids, group, ads, volume, read_k, curated):
    """Expected ads read by each reader: ``k * A / V`` in a random-order group, what is left
    after the better posts (``clip(k - (V - A), 0, A)``) in a curated one. float64[len(ids)]."""
    out = np.empty(len(ids))
    top = -1
    for j in range(len(ids)):
        top = max(top, np.int64(group[ids[j]]))
    have = top < len(ads)  # (as the numpy formulation: no ads at all if a group has no entry)
    for j in range(len(ids)):
        g = group[ids[j]]
        A = np.float64(ads[g]) if have else 0.0
        V = np.float64(volume[g])
        k = np.float64(read_k[j])
        if curated[g]:
            out[j] = min(max(k - (V - A), 0.0), A)
        else:
            out[j] = k * A / max(V, 1.0) if V > 0 else 0.0
    return out


@njit
def care_candidates(ids, satisfaction, need, last, role, t, threshold, cooldown):
    """Positions in ``ids`` of members at risk: satisfaction below ``threshold`` (pass it in the
    dtype of ``satisfaction``, as numpy compares), some need,
    not cared for in the last ``cooldown`` days, not an owner, moderator or spammer."""
    out = np.empty(len(ids), np.int64)
    m = 0
    for j in range(len(ids)):
        i = ids[j]
        r = role[i]
        if (satisfaction[i] < threshold and need[i] > 0 and t - last[i] >= cooldown
                and r != _OWNER and r != _MODERATOR and r != _SPAMMER):
            out[m] = j
            m += 1
    return out[:m]


@njit
def ladder_candidates(ids, last_offer, t, cadence, bought, trust_r, trust_s, min_trust, level, need_level):
    """Members of ``ids`` due a private offer of a rung: not offered it in the last
    ``cadence`` days, not bought it, trust >= ``min_trust`` and (``need_level >= 0``) at
    least rung ``need_level`` taken. int64 ids."""
    out = np.empty(len(ids), np.int64)
    m = 0
    for j in range(len(ids)):
        i = ids[j]
        if (t - last_offer[i]) >= cadence and not bought[i] and trust_value(trust_r[i], trust_s[i]) >= min_trust \
                and (need_level < 0 or level[i] >= need_level):
            out[m] = i
            m += 1
    return out[:m]


@njit
def role_mask(codes):
    """bool[7] over role codes: True for the codes given."""
    out = np.zeros(7, np.bool_)
    for c in codes:
        out[c] = True
    return out


@njit
def capped_counts(counts, cap, exempt, role):
    """Post counts cut to ``cap`` except for roles in ``exempt`` (bool over role codes):
    ``(limited int64[n], posts cut)``."""
    out = np.empty(len(counts), np.int64)
    cut = 0
    for i in range(len(counts)):
        c = counts[i]
        if c > cap and not exempt[role[i]]:
            out[i] = cap
            cut += c - cap
        else:
            out[i] = c
    return out, cut


@njit
def inactive_members(status, role, exempt, posts, post_counts, join_step, last_post, t, days, rolling):
    """Active members (roles not in ``exempt``) silent for ``days`` days: since they joined
    without a post (``rolling`` False), or since their last post (``rolling``). ``post_counts``
    are today's posts (empty: none). Ascending ids."""
    out = np.empty(len(status), np.int64)
    m = 0
    have = len(post_counts) > 0
    for i in range(len(status)):
        if status[i] != _ACTIVE or exempt[role[i]]:
            continue
        today = have and post_counts[i] > 0
        if rolling:
            last = np.int64(t) if today else np.int64(last_post[i])
            since = max(last + 1, np.int64(join_step[i]))
        else:
            since = np.int64(t + 1) if (posts[i] > 0 or today) else np.int64(join_step[i])
        if t - since + 1 >= days:
            out[m] = i
            m += 1
    return out[:m]


@njit
def personal_filter(h, kind, spam, quality, warmth, mgroup, max_quality, precision, false_positive, order, n_index,
                    ids, group, attention, taste, interest, curated, relief, spam_penalty, read_cost, overload_cost,
                    read_utility, adoption, utility, n_groups):
    """The personal chatter filter of a day in one call (``ChatterModeration.after_reading``).

    One uniform per message flags it: a member post (kind 0, not spam) of quality below
    ``max_quality`` (pass it in the dtype of ``quality``, as numpy compares) when the uniform
    is below ``precision``, another member post when below ``false_positive``. With any flag,
    each reader ``ids[j]`` reads the filtered feed (the day's reading ``order`` without the
    flagged messages: ``kernels.reading.read_utilities``), one uniform per reader decides
    adoption, and :func:`filter_gain` adds the gain to ``utility`` (in place). Returns
    ``(users, hidden)``, or ``(-1, 0)`` when nothing was flagged (no reader uniform drawn).
    """
    rng = generator_from(h)
    m = len(kind)
    flag = np.empty(m, np.bool_)
    some = False
    for j in range(m):
        u = rng.random()
        post = kind[j] == 0 and not spam[j]
        off = post and quality[j] < max_quality
        f = (off and u < precision) or (post and not off and u < false_positive)
        flag[j] = f
        some = some or f
    if not some:
        return -1, 0
    kept, start, count, cq, cw, cs, cr = _filtered_index(order, flag, mgroup, n_index, quality, warmth, spam)
    filt = read_utilities(ids, group, attention, taste, interest, start, count, cq, cw, cs, cr, curated, relief,
                          spam_penalty, read_cost, overload_cost)
    ur = np.empty(len(ids))
    for j in range(len(ids)):
        ur[j] = rng.random()
    return filter_gain(ids, filt, read_utility, ur, adoption, utility, group, mgroup, flag, n_groups)


@njit
def ad_reach(ids, group, ads, volume, read_k, curated, interest, neg, annoyance):
    """Ads after reading in one pass: :func:`ad_impressions` per reader, ``neg[ids] +=
    annoyance * impressions`` (in place), and ``(reach, impressions)``: the sums of
    ``impressions * interest`` and of impressions, each by numpy's pairwise summation."""
    imp = ad_impressions(ids, group, ads, volume, read_k, curated)
    prod = np.empty(len(ids))
    for j in range(len(ids)):
        i = ids[j]
        prod[j] = imp[j] * np.float64(interest[i])
        neg[i] += annoyance * imp[j]
    return numpy_sum(prod), numpy_sum(imp)


@njit
def broadcast_audience(ids, read_k, group, groups, n_groups):
    """Today's readers (``read_k > 0``) in the groups ``groups`` (where a broadcast offer was
    posted), in ``ids`` order."""
    top = n_groups
    for g in groups:
        top = max(top, np.int64(g) + 1)
    mask = np.zeros(top, np.bool_)
    for g in groups:
        mask[g] = True
    out = np.empty(len(ids), np.int64)
    m = 0
    for j in range(len(ids)):
        if read_k[j] > 0 and mask[group[ids[j]]]:
            out[m] = ids[j]
            m += 1
    return out[:m]


@njit
def ladder_candidates_all(ids, last_offer, t, cadence, bought, trust_r, trust_s, min_trust, level, need, due):
    """:func:`ladder_candidates` of every rung ``r`` with ``due[r]``, each member's trust
    computed once. Returns ``(ptr int64[R + 1], cand)``: rung ``r``'s candidates are
    ``cand[ptr[r]:ptr[r + 1]]``, ascending."""
    R = len(due)
    n = len(ids)
    tr = np.empty(n)
    for j in range(n):
        tr[j] = trust_value(trust_r[ids[j]], trust_s[ids[j]])
    buf = np.empty(n * R, np.int64)
    ptr = np.zeros(R + 1, np.int64)
    m = 0
    for r in range(R):
        if due[r]:
            lo = last_offer[r]
            bo = bought[r]
            cad, mt, nd = cadence[r], min_trust[r], need[r]
            for j in range(n):
                i = ids[j]
                if (t - lo[i]) >= cad and not bo[i] and tr[j] >= mt and (nd < 0 or level[i] >= nd):
                    buf[m] = i
                    m += 1
        ptr[r + 1] = m
    return ptr, buf[:m]


@njit
def warned_spammers(offences, role, counts):
    """Spammers with an offence who post today (``np.flatnonzero((offences > 0) & (role ==
    SPAMMER) & (counts > 0))``), ascending."""
    out = np.empty(len(counts), np.int64)
    m = 0
    for i in range(len(counts)):
        if offences[i] > 0 and role[i] == _SPAMMER and counts[i] > 0:
            out[m] = i
            m += 1
    return out[:m]


@njit
def over_limit(status, offences, limit):
    """Active members whose offences reach ``limit`` (``np.flatnonzero(active & (offences >=
    limit))``), ascending."""
    out = np.empty(len(status), np.int64)
    m = 0
    for i in range(len(status)):
        if status[i] == _ACTIVE and offences[i] >= limit:
            out[m] = i
            m += 1
    return out[:m]
