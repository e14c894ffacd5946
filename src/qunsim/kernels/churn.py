"""Trust, satisfaction and leaving: hazard damped by commitment, and threshold contagion
(compiled).

Scalar rules (:func:`surplus`, :func:`leave_hazard`, :func:`contagious`) are written once
and used both by the day's stage kernel :func:`members_day` and by the array functions
below (which the tests compare with the per-agent reference).
"""

from __future__ import annotations

import numpy as np

from qunsim._jit import njit
from qunsim.kernels.trust import trust_value

__all__ = ["relative_surplus", "update_satisfaction", "leave_probability", "contagion_mask",
           "surplus", "leave_hazard", "contagious", "members_day"]


@njit
def surplus(utility, need, clip):
    """``(u - nu) / nu`` clipped to ``[-clip, clip]``; 0 for a member with no need."""
    if not need > 0:
        return 0.0
    x = (utility - need) / need
    return min(max(x, -clip), clip)


@njit
def leave_hazard(S, damping, base, maximum, slope, midpoint):
    """Daily leaving probability ``(h0 + h_max * sigmoid(-k (S - S_mid))) / D``, in [0, 1].

    ``D >= 1`` is the commitment damping (sunk cost, tier, strong ties, identity attachment).
    """
    z = slope * (S - midpoint)
    h = base + (maximum / (1.0 + np.exp(z)) if z < 700.0 else 0.0)
    h = h / max(damping, 1.0)
    return min(max(h, 0.0), 1.0)


@njit
def contagious(left_neighbors, member_neighbors, threshold):
    """Watts (2002): leave when the fraction of one's (ever-member) ties who left reaches
    ``threshold`` (at least one tie left)."""
    frac = left_neighbors / max(member_neighbors, 1.0) if member_neighbors > 0 else 0.0
    return left_neighbors > 0 and frac >= threshold


@njit
def _surpluses(utility, need, clip):
    out = np.empty(len(utility))
    for j in range(len(utility)):
        out[j] = surplus(np.float64(utility[j]), np.float64(need[j]), clip)
    return out


def relative_surplus(utility, need, clip: float = 2.0) -> np.ndarray:
    """:func:`surplus` of each member.

    >>> import numpy as np
    >>> relative_surplus(np.array([6.0, 1.0, 5.0]), np.array([4.0, 4.0, 0.0])).tolist()
    [0.5, -0.75, 0.0]
    """
    return _surpluses(np.asarray(utility), np.asarray(need), float(clip))


def update_satisfaction(S, surplus_, memory: float) -> np.ndarray:
    """EWMA: ``S <- m S + (1 - m) surplus``."""
    return memory * np.asarray(S, np.float64) + (1.0 - memory) * np.asarray(surplus_, np.float64)


@njit
def _hazards(S, damping, base, maximum, slope, midpoint):
    out = np.empty(len(S))
    for j in range(len(S)):
        out[j] = leave_hazard(np.float64(S[j]), np.float64(damping[j]), base, maximum, slope, midpoint)
    return out


def leave_probability(S, damping, *, base: float, maximum: float, slope: float,
                      midpoint: float) -> np.ndarray:
    """:func:`leave_hazard` of each member.

    >>> import numpy as np
    >>> p = leave_probability(np.array([-5.0, 0.0, 5.0]), np.ones(3), base=0.0, maximum=0.1,
    ...                       slope=4.0, midpoint=0.0)
    >>> bool(p[0] > p[1] > p[2]), float(p[1])
    (True, 0.05)
    """
    return _hazards(np.asarray(S), np.asarray(damping), float(base), float(maximum), float(slope),
                    float(midpoint))


@njit
def _contagion(left, mem, threshold):
    out = np.empty(len(left), np.bool_)
    for j in range(len(left)):
        out[j] = contagious(np.float64(left[j]), np.float64(mem[j]), np.float64(threshold[j]))
    return out


def contagion_mask(left_neighbors, member_neighbors, threshold) -> np.ndarray:
    """:func:`contagious` for each member.

    >>> import numpy as np
    >>> contagion_mask(np.array([1, 1, 0]), np.array([4, 10, 3]), np.array([0.18, 0.18, 0.0])).tolist()
    [True, False, False]
    """
    return _contagion(np.asarray(left_neighbors), np.asarray(member_neighbors), np.asarray(threshold))


@njit
def members_day(ids, t, read_utility, spam_read, received, extra_utility, extra_pos, extra_neg,
                join_step, need, trust_r, trust_s, satisfaction, utility, spend, tier, strong_ties,
                leader_tie, commitment, threshold, left_n, member_n, recognition, habituation,
                spam_distrust, trust_memory, satisfaction_memory, commit_sunk, commit_tier,
                commit_ties, commit_identity, hazard_base, hazard_max, hazard_slope,
                hazard_midpoint, grace_days, contagion, uniforms):
    """Stage *trust, satisfaction and churn* for readers ``ids`` (in place on the state).

    Per member: utility ``u`` = reading utility + ``recognition`` × replies received + what
    policies added; surplus ``(u - need_t)/need_t`` with the need growing by ``habituation``
    a year of tenure; trust evidence ``pos = surplus^+ + 0.1 min(replies, 5) + policy``,
    ``neg = surplus^- + spam_distrust × spam read + policy`` discounted by ``trust_memory``;
    satisfaction an EWMA of the surplus; then the leaving hazard damped by commitment
    (sunk cost ``log(1 + spend)``, tier, strong ties, trust — doubled with a leader tie —
    and policy commitment), zero within ``grace_days`` or without need, decided by the
    uniform ``uniforms[j]`` (one per member, aligned with ``ids``). With ``contagion``, a member whose left/ever-member
    neighbour counts (``left_n``, ``member_n``) pass its threshold (< 1) leaves by contagion.

    Arrays ``read_utility``, ``spam_read`` are aligned with ``ids``; the others are population
    arrays. Writes ``utility``, ``trust_r``, ``trust_s``, ``satisfaction``. Returns the masks
    ``(contagious, dissatisfied)`` aligned with ``ids`` (dissatisfied excludes contagious).
    """
    n = len(ids)
    conta = np.zeros(n, np.bool_)
    diss = np.zeros(n, np.bool_)
    for j in range(n):
        i = ids[j]
        rep = received[i]
        u = read_utility[j] + recognition * rep + extra_utility[i]
        utility[i] = u
        tenure = np.float64(t - join_step[i])
        need_t = np.float64(need[i]) * (1.0 + habituation * tenure / 365.0)
        x = surplus(u, need_t, 2.0)
        pos = max(x, 0.0) + 0.1 * min(rep, 5) + extra_pos[i]
        neg = max(-x, 0.0) + spam_distrust * spam_read[j] + extra_neg[i]
        r = trust_memory * np.float64(trust_r[i]) + max(pos, 0.0)
        s = trust_memory * np.float64(trust_s[i]) + max(neg, 0.0)
        trust_r[i] = r
        trust_s[i] = s
        S = satisfaction_memory * np.float64(satisfaction[i]) + (1.0 - satisfaction_memory) * x
        satisfaction[i] = S
        sp = np.float64(spend[i])
        sunk = np.log1p(sp) if sp != 0.0 else sp  # log1p(0) is exactly 0: most members spent nothing
        damping = (1.0 + commit_sunk * sunk + commit_tier * tier[i]
                   + commit_ties * strong_ties[i]
                   + commit_identity * trust_value(r, s) * (1.0 if leader_tie[i] else 0.5)
                   + commitment[i])
        pl = leave_hazard(S, damping, hazard_base, hazard_max, hazard_slope, hazard_midpoint)
        if tenure < grace_days or not need[i] > 0:
            pl = 0.0
        d = uniforms[j] < pl
        if contagion and threshold[i] < 1.0 and contagious(np.float64(left_n[i]), np.float64(member_n[i]),
                                                            np.float64(threshold[i])):
            conta[j] = True
        elif d:
            diss[j] = True
    return conta, diss
