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
from qunsim.kernels.trust import trust_value

__all__ = ["active_groups", "group_counts", "filter_gain", "ad_impressions", "care_candidates", "ladder_candidates", "role_mask",
           "capped_counts", "inactive_members"]

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
