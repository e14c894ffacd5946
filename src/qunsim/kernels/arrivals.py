"""Arrivals: exposure through content/ads channels, referrals along ties, word of mouth."""

from __future__ import annotations

import numpy as np

from qunsim.state import Status

__all__ = ["exposure_candidates", "referral_candidates", "accept_probability", "spread_word_of_mouth"]


def exposure_candidates(status: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """``Poisson(rate)`` people reached by content/ads, drawn uniformly from the population;
    returns those who are prospects (a depleting pool saturates growth)."""
    n = len(status)
    m = rng.poisson(rate) if rate > 0 else 0
    if m == 0 or n == 0:
        return np.empty(0, np.int64)
    who = rng.integers(0, n, m)
    return who[status[who] == Status.PROSPECT]


def referral_candidates(
    inviters: np.ndarray,
    invites: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    status: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Each inviter sends ``invites[i]`` invitations to random neighbours (裂变).

    Returns ``(candidate, inviter)`` for invitations that reached a prospect.
    """
    deg = indptr[inviters + 1] - indptr[inviters]
    invites = np.where(deg > 0, invites, 0)
    total = int(invites.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    src = np.repeat(inviters, invites)
    d = deg[np.repeat(np.arange(len(inviters)), invites)]
    pick = indptr[src] + (rng.random(total) * d).astype(np.int64)
    cand = indices[pick].astype(np.int64)
    keep = status[cand] == Status.PROSPECT
    return cand[keep], src[keep]


def accept_probability(interest: np.ndarray, heard: np.ndarray, referred: np.ndarray, *,
                       accept: float, wom_weight: float) -> np.ndarray:
    """A candidate's chance to join: ``accept * (0.25 + 0.75 iota) * exp(-w * heard)``, ×1.5 if
    invited by a member (capped at 1).

    >>> import numpy as np
    >>> accept_probability(np.array([1.0, 1.0]), np.array([0.0, 1.0]), np.array([False, False]),
    ...                    accept=0.5, wom_weight=np.log(2)).round(3).tolist()
    [0.5, 0.25]
    """
    p = accept * (0.25 + 0.75 * interest) * np.exp(-wom_weight * heard)
    p = np.where(referred, 1.5 * p, p)
    return np.clip(p, 0.0, 1.0)


def spread_word_of_mouth(heard: np.ndarray, leavers: np.ndarray, indptr: np.ndarray,
                         indices: np.ndarray, reach: float, rng: np.random.Generator) -> np.ndarray:
    """Unhappy leavers tell ``reach`` people each: their own ties first (offline 口碑), the rest
    drawn from the whole population (online). Adds 1 to ``heard`` per telling (in place) and
    returns ``heard``."""
    if len(leavers) == 0 or reach <= 0:
        return heard
    n = len(heard)
    deg = indptr[leavers + 1] - indptr[leavers]
    # offline: up to `reach` of one's neighbours
    k_off = np.minimum(deg, int(np.floor(reach)))
    total_off = int(k_off.sum())
    if total_off:
        src = np.repeat(leavers, k_off)
        d = np.repeat(deg, k_off)
        pick = indptr[src] + (rng.random(total_off) * d).astype(np.int64)
        np.add.at(heard, indices[pick], 1.0)
    rest = np.maximum(reach - k_off, 0.0)
    n_online = int(rng.poisson(rest.sum()))
    if n_online:
        np.add.at(heard, rng.integers(0, n, n_online), 1.0)
    return heard
