"""The model's metrics (docs/api.md lists the columns) as free functions of arrays, and the per-step collector.

Every metric is finite by construction (no NaN): ratios with an empty denominator take the
documented neutral value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qunsim.state import ROLE_ORDER, LeaveReason, Role, Status, TrustLevel

__all__ = [
    "active_by_role",
    "low_quality_share",
    "value_density",
    "gresham_ratio",
    "expert_retention",
    "metcalfe_value",
    "trust_counts",
    "lifecycle_phases",
    "PHASES",
    "summarize",
    "MetricsCollector",
    "LEAVE_REASONS",
]

LEAVE_REASONS = tuple(r.name.lower() for r in LeaveReason if r != LeaveReason.NONE)
PHASES = ("introduction", "growth", "maturity", "decline", "death")


def active_by_role(role: np.ndarray, status: np.ndarray) -> dict[str, int]:
    """Active members counted by (current) role.

    >>> import numpy as np
    >>> active_by_role(np.array([0, 1, 1, 3]), np.array([1, 1, 2, 1]))["expert"]
    1
    """
    counts = np.bincount(role[status == Status.ACTIVE].astype(np.int64), minlength=len(Role))
    return {name: int(c) for name, c in zip(ROLE_ORDER, counts, strict=True)}


def low_quality_share(author_role: np.ndarray, spam: np.ndarray) -> float:
    """Share of messages that are chatter or spam (0 with no messages).

    >>> import numpy as np
    >>> low_quality_share(np.array([4, 1, 3, 5]), np.array([False, False, False, True]))
    0.5
    """
    m = len(author_role)
    if m == 0:
        return 0.0
    return float(((author_role == Role.CHATTER) | spam).sum() / m)


def value_density(value: np.ndarray, k: np.ndarray) -> float:
    """Mean value per message read, over all readers (0 if nothing was read).

    >>> import numpy as np
    >>> value_density(np.array([2.0, 1.0]), np.array([4.0, 0.0]))
    0.75
    """
    tot = float(np.sum(k))
    return float(np.sum(value) / tot) if tot > 0 else 0.0


def gresham_ratio(left_top: float, at_risk_top: float, left_bottom: float, at_risk_bottom: float) -> float:
    """Leaving hazard of the top-quality quartile over the bottom quartile's.

    A half-count is added to both leave counts (and one to the at-risk counts) so the ratio is
    finite and equals 1 when nobody leaves; above 1, good money leaves faster (劣币驱逐良币).

    >>> gresham_ratio(10, 100, 1, 100)
    7.0
    >>> gresham_ratio(0, 50, 0, 50)
    1.0
    """
    return float(((left_top + 0.5) / (at_risk_top + 1.0)) / ((left_bottom + 0.5) / (at_risk_bottom + 1.0)))


def expert_retention(initial_role: np.ndarray, status: np.ndarray, join_step: np.ndarray) -> float:
    """Active experts over experts ever joined (by initial role); 1 (none lost) if no expert
    has joined yet.

    >>> import numpy as np
    >>> expert_retention(np.array([1, 1, 3]), np.array([1, 2, 1]), np.array([0, 0, 0]))
    0.5
    >>> expert_retention(np.array([3]), np.array([1]), np.array([0]))
    1.0
    """
    ever = (initial_role == Role.EXPERT) & (join_step >= 0)
    n = int(ever.sum())
    if n == 0:
        return 1.0
    return float((ever & (status == Status.ACTIVE)).sum() / n)


def metcalfe_value(n_active: int, strong_ties: int) -> tuple[float, float]:
    """梅特卡夫: ``n(n-1)/2`` possible connections, and the strong ties actually held.

    >>> metcalfe_value(4, 2)
    (6.0, 2.0)
    """
    return float(n_active * (n_active - 1) / 2), float(strong_ties)


def trust_counts(levels: np.ndarray, active: np.ndarray) -> dict[str, int]:
    """Active members by trust level (none / weak / strong)."""
    c = np.bincount(levels[active].astype(np.int64), minlength=3)
    return {f"trust_{lvl.name.lower()}": int(c[lvl]) for lvl in TrustLevel}


def lifecycle_phases(active: np.ndarray, window: int = 30, grow: float = 0.3,
                     shrink: float = 0.15, dead_share: float = 0.05, min_days: int = 21) -> np.ndarray:
    """Label each step introduction / growth / maturity / decline / death (生命周期).

    Offline, in the spirit of Polli & Cook's (1969) product-life-cycle test: the active count
    is smoothed (centred ``window``-day mean) and its daily change ``d_t`` compared with the
    run's peak growth ``d*``. *growth*: ``d_t >= grow d*``; *decline*: ``d_t <= -shrink d*``;
    *death*: empty, or below ``dead_share`` of the peak size; otherwise *introduction* before
    the first growth spell and *maturity* after it. Spells shorter than ``min_days`` are merged
    into the phase before them.

    >>> import numpy as np
    >>> a = np.r_[np.linspace(10, 14, 40), np.linspace(14, 100, 60), np.full(80, 100.0), np.linspace(100, 30, 80)]
    >>> ph = lifecycle_phases(a)
    >>> [p for i, p in enumerate(ph) if i == 0 or p != ph[i - 1]]
    ['introduction', 'growth', 'maturity', 'decline']
    """
    a = np.asarray(active, dtype=np.float64)
    n = len(a)
    if n == 0:
        return np.empty(0, dtype=object)
    sm = pd.Series(a).rolling(window, center=True, min_periods=1).mean().to_numpy()
    h = max(window // 2, 1)
    lo = np.maximum(np.arange(n) - h, 0)
    hi = np.minimum(np.arange(n) + h, n - 1)
    d = (sm[hi] - sm[lo]) / np.maximum(hi - lo, 1)
    dstar = max(float(d.max()), 1e-9)
    peak = np.maximum.accumulate(a)
    code = np.full(n, -1)  # -1 undecided (intro/maturity)
    code[d >= grow * dstar] = 1
    code[d <= -shrink * dstar] = 3
    code[(a <= 0) | ((peak >= 20) & (a < dead_share * peak))] = 4
    # merge short spells into the preceding one
    start = 0
    for t in range(1, n + 1):
        if t == n or code[t] != code[start]:
            if t - start < min_days and start > 0 and code[start] != 4:
                code[start:t] = code[start - 1]
            start = t
    grown = np.maximum.accumulate(code == 1)
    code[(code == -1) & ~grown] = 0
    code[(code == -1) & grown] = 2
    return np.array([PHASES[c] for c in code], dtype=object)


class MetricsCollector:
    """Holds one dict of metrics per step; ``frame()`` gives the tidy time series."""

    def __init__(self, gresham_window: int = 60):
        self.rows: list[dict] = []
        self.window = gresham_window
        self._g_hist: list[tuple[float, float, float, float]] = []

    def gresham_update(self, left_top, at_risk_top, left_bottom, at_risk_bottom) -> float:
        self._g_hist.append((left_top, at_risk_top, left_bottom, at_risk_bottom))
        h = np.array(self._g_hist[-self.window:], dtype=np.float64)
        # at-risk is member-days: sum over the window
        return gresham_ratio(h[:, 0].sum(), h[:, 1].sum(), h[:, 2].sum(), h[:, 3].sum())

    def append(self, row: dict) -> None:
        self.rows.append(row)

    def latest(self, key: str, default=0.0):
        return self.rows[-1].get(key, default) if self.rows else default

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows)
        if len(df):
            df["phase"] = lifecycle_phases(df["active"].to_numpy())
        return df


def summarize(ts: pd.DataFrame, members: pd.DataFrame) -> dict:
    """Run-level summary statistics from the time series and the member table."""
    if ts.empty:
        return {}
    last = ts.iloc[-1]
    n_steps = max(len(ts) - 1, 1)
    phases = list(dict.fromkeys(ts["phase"].tolist()))
    joined = members[members["join_step"] >= 0]
    out = {
        "steps": int(last["step"]),
        "final_active": int(last["active"]),
        "peak_active": int(ts["active"].max()),
        "peak_step": int(ts.loc[ts["active"].idxmax(), "step"]),
        "total_joined": int(len(joined)),
        "total_left": int(ts["leaves"].sum()),
        "mean_churn_rate": float(ts["churn_rate"].iloc[1:].mean()) if len(ts) > 1 else 0.0,
        "final_expert_retention": float(last["expert_retention"]),
        "mean_low_quality_share": float(ts["low_quality_share"].iloc[1:].mean()) if len(ts) > 1 else 0.0,
        "final_low_quality_share": float(last["low_quality_share"]),
        "mean_value_density": float(ts["value_density"].iloc[1:].mean()) if len(ts) > 1 else 0.0,
        "final_gresham_index": float(last["gresham_index"]),
        "mean_gresham_index": float(ts["gresham_index"].iloc[1:].mean()) if len(ts) > 1 else 1.0,
        "final_trust_mean": float(last["trust_mean"]),
        "final_strong_ties": int(last["strong_ties"]),
        "messages_per_day": float(ts["messages"].iloc[1:].mean()) if len(ts) > 1 else 0.0,
        "final_phase": str(last["phase"]),
        "phases_seen": "|".join(phases),
        "survival_ratio": float(last["active"] / max(ts["active"].iloc[0], 1)),
    }
    for reason in LEAVE_REASONS:
        out[f"left_{reason}"] = int(ts[f"leaves_{reason}"].sum())
    if "revenue" in ts:
        out["revenue_total"] = float(ts["revenue"].sum())
        out["revenue_per_member"] = float(ts["revenue"].sum() / max(len(joined), 1))
    out["member_days"] = float(ts["active"].iloc[1:].sum()) / n_steps * n_steps
    return out
