"""Satisfaction and leaving: hazard damped by commitment, and threshold contagion."""

from __future__ import annotations

import numpy as np

__all__ = ["relative_surplus", "update_satisfaction", "leave_probability", "contagion_mask"]


def relative_surplus(utility: np.ndarray, need: np.ndarray, clip: float = 2.0) -> np.ndarray:
    """``(u - nu) / nu`` clipped to ``[-clip, clip]``; 0 for members with no need (``nu = 0``).

    >>> import numpy as np
    >>> relative_surplus(np.array([6.0, 1.0, 5.0]), np.array([4.0, 4.0, 0.0])).tolist()
    [0.5, -0.75, 0.0]
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.where(need > 0, (utility - need) / np.where(need > 0, need, 1.0), 0.0)
    return np.clip(x, -clip, clip)


def update_satisfaction(S: np.ndarray, surplus: np.ndarray, memory: float) -> np.ndarray:
    """EWMA: ``S <- m S + (1 - m) surplus``."""
    return memory * S + (1.0 - memory) * surplus


def leave_probability(
    S: np.ndarray,
    damping: np.ndarray,
    *,
    base: float,
    maximum: float,
    slope: float,
    midpoint: float,
) -> np.ndarray:
    """Daily leaving probability ``(h0 + h_max * sigmoid(-k (S - S_mid))) / D``.

    ``D >= 1`` is the commitment damping (sunk cost, tier, strong ties, identity attachment).

    >>> import numpy as np
    >>> p = leave_probability(np.array([-5.0, 0.0, 5.0]), np.ones(3), base=0.0, maximum=0.1,
    ...                       slope=4.0, midpoint=0.0)
    >>> bool(p[0] > p[1] > p[2]), float(p[1])
    (True, 0.05)
    """
    with np.errstate(over="ignore"):  # exp overflow -> inf -> a hazard of exactly base
        h = base + maximum / (1.0 + np.exp(slope * (S - midpoint)))
    return np.clip(h / np.maximum(damping, 1.0), 0.0, 1.0)


def contagion_mask(left_neighbors: np.ndarray, member_neighbors: np.ndarray,
                   threshold: np.ndarray) -> np.ndarray:
    """Watts (2002): leave when the fraction of one's (ever-member) ties who left reaches phi.

    >>> import numpy as np
    >>> contagion_mask(np.array([1, 1, 0]), np.array([4, 10, 3]), np.array([0.18, 0.18, 0.0])).tolist()
    [True, False, False]
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(member_neighbors > 0, left_neighbors / np.maximum(member_neighbors, 1), 0.0)
    return (left_neighbors > 0) & (frac >= threshold)
