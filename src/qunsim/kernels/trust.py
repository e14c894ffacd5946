"""Beta-evidence trust: ``r <- lambda r + positive``, ``s <- lambda s + negative``,
``trust = (r + 1) / (r + s + 2)``.

:func:`trust_value` is the one trust formula of qunsim: the compiled kernels call it per
member, and ``MemberState.trust``, ``Member.trust``, the policies and the metrics call it on
arrays.
"""

from __future__ import annotations

import numpy as np

from qunsim._jit import njit

__all__ = ["trust_value", "update_trust", "trust_levels", "trust_level"]

NONE, WEAK, STRONG = 0, 1, 2  # TrustLevel


@njit
def trust_value(r, s):
    """``(r + 1) / (r + s + 2)``: the posterior mean of a Beta(r + 1, s + 1); 0.5 with no
    evidence. Works on scalars and on arrays (in compiled code and from Python).

    >>> round(float(trust_value(3.0, 1.0)), 4)
    0.6667
    """
    return (r + 1.0) / (r + s + 2.0)


def update_trust(r: np.ndarray, s: np.ndarray, pos: np.ndarray, neg: np.ndarray,
                 memory: float) -> tuple[np.ndarray, np.ndarray]:
    """Discount old evidence by ``memory`` and add today's (non-negative) evidence.

    >>> import numpy as np
    >>> r, s = update_trust(np.array([1.0]), np.array([1.0]), np.array([2.0]), np.array([0.0]), 0.5)
    >>> (r.tolist(), s.tolist())
    ([2.5], [0.5])
    """
    r = memory * r + np.maximum(pos, 0.0)
    s = memory * s + np.maximum(neg, 0.0)
    return r, s


@njit
def trust_level(r, s, weak, strong, strong_evidence):
    """无关系 / 弱关系 / 强关系 of one member: STRONG (2) if trust >= ``strong`` with at least
    ``strong_evidence`` evidence, WEAK (1) if trust >= ``weak``, else NONE (0)."""
    t = trust_value(r, s)
    if t >= strong and r + s >= strong_evidence:
        return STRONG
    if t >= weak:
        return WEAK
    return NONE


@njit
def _levels(r, s, weak, strong, strong_evidence):
    out = np.empty(len(r), np.int8)
    for i in range(len(r)):
        out[i] = trust_level(r[i], s[i], weak, strong, strong_evidence)
    return out


def trust_levels(r: np.ndarray, s: np.ndarray, weak: float, strong: float,
                 strong_evidence: float) -> np.ndarray:
    """:func:`trust_level` of every member, int8.

    >>> import numpy as np
    >>> trust_levels(np.array([0.0, 4.0, 20.0]), np.array([0.0, 0.0, 1.0]), 0.6, 0.8, 5.0).tolist()
    [0, 1, 2]
    """
    return _levels(np.asarray(r, np.float64), np.asarray(s, np.float64), float(weak), float(strong),
                   float(strong_evidence))
