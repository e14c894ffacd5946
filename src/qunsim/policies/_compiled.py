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

__all__ = ["active_groups", "filter_gain", "ad_impressions", "care_candidates", "ladder_candidates"]

_ACTIVE = 1
_OWNER, _MODERATOR, _SPAMMER = 0, 6, 5  # Role codes (qunsim.state.Role)


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
