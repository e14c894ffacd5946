"""Arrivals: exposure through content/ads channels, referrals along ties, word of mouth
(compiled where they loop)."""

from __future__ import annotations

import numpy as np

from qunsim._jit import njit
from qunsim.kernels.trust import trust_value
from qunsim.state import Status

__all__ = ["exposure_candidates", "referral_candidates", "accept_probability", "spread_word_of_mouth",
           "inviters", "content_low_quality"]

_PROSPECT, _ACTIVE, _SPAMMER = int(Status.PROSPECT), int(Status.ACTIVE), 5


def exposure_candidates(status: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """``Poisson(rate)`` people reached by content/ads, drawn uniformly from the population;
    returns those who are prospects (a depleting pool saturates growth)."""
    n = len(status)
    m = rng.poisson(rate) if rate > 0 else 0
    if m == 0 or n == 0:
        return np.empty(0, np.int64)
    who = rng.integers(0, n, m)
    return who[status[who] == Status.PROSPECT]


def content_low_quality(messages: np.ndarray, low_share: np.ndarray, memory: float) -> float:
    """The low-quality share of the content a content-channel visitor lands on: the days'
    messages so far (oldest first), each day's weighted by ``memory ** age`` (age 0 =
    the last day), and of them the share by chatters or spam; 0 before any message.

    ``messages`` and ``low_share`` are the metrics' daily ``messages`` and
    ``low_quality_share`` columns. Days older than ``memory ** age < 1e-12`` are left out
    (they weigh nothing).

    >>> import numpy as np
    >>> content_low_quality(np.array([10.0, 0.0, 30.0]), np.array([0.0, 0.0, 0.5]), 0.5)
    0.46153846153846156
    >>> content_low_quality(np.zeros(3), np.zeros(3), 0.9)
    0.0
    """
    n = len(messages)
    if memory <= 0.0:
        lo = n - 1
    elif memory < 1.0:
        lo = max(0, n - 1 - int(np.log(1e-12) / np.log(memory)))
    else:
        lo = 0
    m = np.asarray(messages[lo:], np.float64)
    w = float(memory) ** np.arange(len(m) - 1, -1, -1, dtype=np.float64) * m
    tot = float(w.sum())
    return float(np.dot(w, low_share[lo:]) / tot) if tot > 0 else 0.0


@njit
def inviters(status, role, trust_r, trust_s, referral_trust):
    """Active non-spammers whose trust reaches ``referral_trust``: who may invite (ids)."""
    out = np.empty(len(status), np.int64)
    m = 0
    for i in range(len(status)):
        if status[i] == _ACTIVE and role[i] != _SPAMMER and trust_value(trust_r[i], trust_s[i]) >= referral_trust:
            out[m] = i
            m += 1
    return out[:m]


@njit
def _referrals(inviters, invites, indptr, indices, status, u):
    total = 0
    for j in range(len(inviters)):
        total += invites[j]
    cand = np.empty(total, np.int64)
    src = np.empty(total, np.int64)
    m = 0
    x = 0
    for j in range(len(inviters)):
        i = inviters[j]
        lo = indptr[i]
        deg = indptr[i + 1] - lo
        if deg == 0:
            continue
        for _ in range(invites[j]):
            c = np.int64(indices[lo + np.int64(u[x] * deg)])
            x += 1
            if status[c] == _PROSPECT:
                cand[m] = c
                src[m] = i
                m += 1
    return cand[:m], src[:m]


def referral_candidates(inviters, invites, indptr, indices, status, rng: np.random.Generator):
    """Each inviter (with ties) sends ``invites[i]`` invitations to random neighbours (裂变),
    one uniform per invitation in order. Returns ``(candidate, inviter)`` for invitations
    that reached a prospect."""
    inviters = np.asarray(inviters, np.int64)
    invites = np.asarray(invites, np.int64)
    deg = indptr[inviters + 1] - indptr[inviters]
    u = rng.random(int(invites[deg > 0].sum()))
    return _referrals(inviters, invites, indptr, indices, status, u)


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


@njit
def _tell_ties(heard, leavers, indptr, indices, k_max, u):
    """Offline word of mouth: each leaver tells up to ``k_max`` of its ties (with replacement,
    one uniform of ``u`` per telling)."""
    x = 0
    for i in leavers:
        lo = indptr[i]
        deg = indptr[i + 1] - lo
        for _ in range(min(deg, k_max)):
            heard[indices[lo + np.int64(u[x] * deg)]] += 1.0
            x += 1


def spread_word_of_mouth(heard: np.ndarray, leavers: np.ndarray, indptr: np.ndarray,
                         indices: np.ndarray, reach: float, rng: np.random.Generator) -> np.ndarray:
    """Unhappy leavers tell ``reach`` people each: their own ties first (offline 口碑, one
    uniform per telling, leaver by leaver), the rest drawn from the whole population (online).
    Adds 1 to ``heard`` per telling (in place) and returns ``heard``."""
    if len(leavers) == 0 or reach <= 0:
        return heard
    leavers = np.asarray(leavers, np.int64)
    k_off = np.minimum(indptr[leavers + 1] - indptr[leavers], int(np.floor(reach)))
    u = rng.random(int(k_off.sum()))
    _tell_ties(heard, leavers, indptr, indices, np.int64(np.floor(reach)), u)
    n_online = int(rng.poisson(np.maximum(reach - k_off, 0.0).sum()))
    if n_online:
        np.add.at(heard, rng.integers(0, len(heard), n_online), 1.0)
    return heard
