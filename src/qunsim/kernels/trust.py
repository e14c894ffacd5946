"""Beta-evidence trust: ``r <- lambda r + positive``, ``s <- lambda s + negative``,
``trust = (r + 1) / (r + s + 2)``."""

from __future__ import annotations

import numpy as np

from qunsim.state import TrustLevel

__all__ = ["update_trust", "trust_levels"]


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


def trust_levels(r: np.ndarray, s: np.ndarray, weak: float, strong: float,
                 strong_evidence: float) -> np.ndarray:
    """无关系 / 弱关系 / 强关系: STRONG if trust >= ``strong`` with at least ``strong_evidence``
    evidence, WEAK if trust >= ``weak``, else NONE.

    >>> import numpy as np
    >>> trust_levels(np.array([0.0, 4.0, 20.0]), np.array([0.0, 0.0, 1.0]), 0.6, 0.8, 5.0).tolist()
    [0, 1, 2]
    """
    t = (r + 1.0) / (r + s + 2.0)
    lvl = np.zeros(len(t), dtype=np.int8)
    lvl[t >= weak] = TrustLevel.WEAK
    lvl[(t >= strong) & (r + s >= strong_evidence)] = TrustLevel.STRONG
    return lvl
