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
    "gresham_estimate",
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


def lifecycle_phases(active: np.ndarray, window: int = 30, grow_in: float = 0.10,
                     grow_out: float = 0.03, decline_in: float = 0.03, off_peak: float = 0.05,
                     drawdown: float = 0.2, dead_share: float = 0.05, min_days: int = 30,
                     takeoff: float = 0.3) -> np.ndarray:
    """Label each step introduction / growth / maturity / decline / death (生命周期).

    Offline, with hysteresis so that noise does not flip the label. The active count is
    smoothed (centred ``window``-day mean) and its trend measured as the relative change per
    30 days, ``g_t = 30 (s[t+h] - s[t-h]) / (2h s_t)`` with ``h = window / 2``. A state machine
    then walks the days:

    - *growth* is entered when ``g >= grow_in`` (+10% a month) and the absolute slope is at
      least ``takeoff`` (30%) of the run's steepest (Polli & Cook's relative test: the slow
      start before take-off is *introduction*); it is left when ``g < grow_out`` (+3%): a
      plateau's noise never re-enters it;
    - *decline* is entered when ``g <= -decline_in`` (-3% a month) with the smoothed size at
      least ``off_peak`` (5%) below its peak, or when it has fallen ``drawdown`` (20%) below its
      peak and is still falling; it is left only for a clear recovery (``g >= grow_out``, or
      back within 5% of the peak): a wobble on the way down does not end it;
    - *death*: empty, or below ``dead_share`` of the peak size (once the peak reached 20);
    - otherwise *introduction* before the first growth spell and *maturity* after it.

    Spells shorter than ``min_days`` (30) are merged into the phase before them (death is kept), so
    a run has few phases and the last label is the trajectory's: a community that ends 33%
    below its peak and still falling ends in *decline*.

    >>> import numpy as np
    >>> a = np.r_[np.full(40, 10.0), np.linspace(10, 100, 60), np.full(80, 100.0), np.linspace(100, 30, 80)]
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
    idx = np.arange(n)
    lo = np.maximum(idx - h, 0)
    hi = np.minimum(idx + h, n - 1)
    slope = (sm[hi] - sm[lo]) / np.maximum(hi - lo, 1)
    g = 30.0 * slope / np.maximum(sm, 1.0)
    steep = slope >= takeoff * max(float(slope.max()), 1e-9)
    peak_sm = np.maximum.accumulate(sm)
    dd = 1.0 - sm / np.maximum(peak_sm, 1e-9)
    peak = np.maximum.accumulate(a)
    dead = (a <= 0) | ((peak >= 20) & (a < dead_share * peak))
    code = np.empty(n, dtype=np.int64)  # -1 undecided (introduction / maturity)
    state = -1
    for t in range(n):
        if dead[t]:
            state = 4
        elif state == 4:
            state = 1 if g[t] >= grow_in and steep[t] else -1
        elif state == 3:
            if g[t] >= grow_in and steep[t]:
                state = 1
            elif g[t] >= grow_out or dd[t] < off_peak:
                state = -1
        elif (g[t] <= -decline_in and dd[t] >= off_peak) or (dd[t] >= drawdown and g[t] < 0):
            state = 3
        elif state == 1:
            if g[t] < grow_out:
                state = -1
        elif g[t] >= grow_in and steep[t]:
            state = 1
        code[t] = state
    # merge short spells into the preceding one (never the first spell, never death)
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


#: Pooled exposure (member-days in the window) each quartile needs before the Gresham index
#: is estimated: at the calibrated leave hazards (0.2-1% a day) 300 member-days hold 1-3
#: expected leaves per quartile, the least for which a hazard ratio carries information.
GRESHAM_MIN_EXPOSURE = 300.0
#: ... and leaves pooled over both quartiles: with fewer, the ratio is noise.
GRESHAM_MIN_EVENTS = 5


def gresham_estimate(left_top: float, at_risk_top: float, left_bottom: float, at_risk_bottom: float,
                     min_exposure: float = GRESHAM_MIN_EXPOSURE, min_events: int = GRESHAM_MIN_EVENTS,
                     level: float = 0.95) -> tuple[float, float, float]:
    """Pooled leave-hazard ratio of the top-quality quartile over the bottom quartile, with a
    95% interval: ``(index, low, high)``.

    Counts are pooled (leaves and member-days over a window, not daily ratios averaged) and
    shrunk by half an event (:func:`qunsim.stats.hazard_ratio`). When either quartile has less
    than ``min_exposure`` member-days, or fewer than ``min_events`` leaves happened in both,
    there is no evidence either way: the index and both bounds are the neutral 1 (an estimated
    interval always has ``low < high``, so ``low == high`` marks "not estimable"). Hence the index is finite and bounded on tiny groups:
    ``index <= 2 (at_risk_bottom + 1)`` always.

    >>> gresham_estimate(10, 1000, 1, 1000)[0]
    7.0
    >>> gresham_estimate(3, 4, 0, 4)          # 4 member-days: too little exposure
    (1.0, 1.0, 1.0)
    """
    from qunsim.stats import hazard_ratio

    if min(at_risk_top, at_risk_bottom) < min_exposure or left_top + left_bottom < min_events:
        return 1.0, 1.0, 1.0
    r = hazard_ratio(left_top, at_risk_top, left_bottom, at_risk_bottom, level=level)
    return r["ratio"], r["low"], r["high"]


class MetricsCollector:
    """Holds one dict of metrics per step; ``frame()`` gives the tidy time series.

    ``gresham_update`` is called once a day with that day's counts (leaves and members at risk
    in the top and bottom quality quartiles); the index it returns pools the last
    ``gresham_window`` days (:func:`gresham_estimate`), and ``frame()`` adds its interval as
    ``gresham_low`` / ``gresham_high``.
    """

    def __init__(self, gresham_window: int = 60):
        self.rows: list[dict] = []
        self.window = gresham_window
        self._g_hist: list[tuple[float, float, float, float]] = []
        self._g_ci: list[tuple[float, float]] = []

    def gresham_update(self, left_top, at_risk_top, left_bottom, at_risk_bottom) -> float:
        self._g_hist.append((float(left_top), float(at_risk_top), float(left_bottom), float(at_risk_bottom)))
        h = np.array(self._g_hist[-self.window:], dtype=np.float64)
        # at-risk is member-days: sum over the window
        g, lo, hi = gresham_estimate(h[:, 0].sum(), h[:, 1].sum(), h[:, 2].sum(), h[:, 3].sum())
        self._g_ci.append((lo, hi))
        return g

    def gresham_totals(self) -> tuple[float, float, float]:
        """The whole run's pooled Gresham ratio and interval (``gresham_hr`` of the summary)."""
        if not self._g_hist:
            return 1.0, 1.0, 1.0
        t = np.array(self._g_hist, dtype=np.float64).sum(axis=0)
        return gresham_estimate(*t)

    def append(self, row: dict) -> None:
        self.rows.append(row)

    def latest(self, key: str, default=0.0):
        return self.rows[-1].get(key, default) if self.rows else default

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows)
        if len(df):
            df["phase"] = lifecycle_phases(df["active"].to_numpy())
            if "gresham_index" in df and self._g_ci:
                ci = np.ones((len(df), 2))
                k = min(len(self._g_ci), len(df))  # the first row (day 0) may have no update
                ci[len(df) - k:] = np.array(self._g_ci[-k:])
                df["gresham_low"], df["gresham_high"] = ci[:, 0], ci[:, 1]
            hr, lo, hi = self.gresham_totals()
            df.attrs["gresham_hr"] = (hr, lo, hi)
        return df


def summarize(ts: pd.DataFrame, members: pd.DataFrame) -> dict:
    """Run-level summary statistics from the time series and the member table.

    Shares are fractions in [0, 1] (the report shows them as %, see :mod:`qunsim.registry`);
    churn is given per day (``mean_churn_rate``, ``leave_hazard``: leaves per member-day) and
    per 30 days (``churn_30d = 1 - (1 - leave_hazard)^30``). ``gresham_hr`` pools the whole
    run's leaves and member-days of the top and bottom quality quartiles (with its 95%
    interval ``gresham_hr_low`` / ``gresham_hr_high``; all three 1 when there is too little
    exposure);
    ``mean_gresham_index`` averages the windowed index over the days it was estimable.
    ``min_active`` (the fewest active members on any day after the first) feeds collapse
    definitions "at any time".
    """
    from qunsim.registry import per_30_days

    if ts.empty:
        return {}
    last = ts.iloc[-1]
    n_steps = max(len(ts) - 1, 1)
    phases = list(dict.fromkeys(ts["phase"].tolist()))
    joined = members[members["join_step"] >= 0]
    later = ts.iloc[1:] if len(ts) > 1 else ts
    days = float(later["active"].sum()) if len(ts) > 1 else 0.0
    leaves = float(later["leaves"].sum()) if len(ts) > 1 else 0.0
    hazard = leaves / days if days else 0.0
    g = later["gresham_index"]
    if "gresham_low" in later:
        g = g[later["gresham_low"] < later["gresham_high"]]
    hr, hr_lo, hr_hi = ts.attrs.get("gresham_hr", (1.0, 1.0, 1.0))
    out = {
        "steps": int(last["step"]),
        "initial_active": int(ts["active"].iloc[0]),
        "final_active": int(last["active"]),
        "min_active": int(later["active"].min()),
        "peak_active": int(ts["active"].max()),
        "peak_step": int(ts.loc[ts["active"].idxmax(), "step"]),
        "total_joined": int(len(joined)),
        "total_left": int(ts["leaves"].sum()),
        "mean_churn_rate": float(ts["churn_rate"].iloc[1:].mean()) if len(ts) > 1 else 0.0,
        "leave_hazard": hazard,
        "churn_30d": per_30_days(hazard),
        "final_expert_retention": float(last["expert_retention"]),
        "mean_low_quality_share": float(ts["low_quality_share"].iloc[1:].mean()) if len(ts) > 1 else 0.0,
        "final_low_quality_share": float(last["low_quality_share"]),
        "mean_value_density": float(ts["value_density"].iloc[1:].mean()) if len(ts) > 1 else 0.0,
        "final_gresham_index": float(last["gresham_index"]),
        "mean_gresham_index": float(g.mean()) if len(g) else 1.0,
        "gresham_hr": float(hr),
        "gresham_hr_low": float(hr_lo),
        "gresham_hr_high": float(hr_hi),
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
