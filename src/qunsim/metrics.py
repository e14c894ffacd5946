"""The model's metrics (docs/api.md lists the columns) as free functions of arrays, and the per-step collector.

Every metric is finite by construction (no NaN): ratios with an empty denominator take the
documented neutral value.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

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
    "lifecycle_spells",
    "gresham_estimate",
    "PHASES",
    "summarize",
    "MetricsCollector",
    "Row",
    "Rows",
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


def lifecycle_spells(phases) -> list[str]:
    """A run's sequence of lifecycle spells from its daily labels (:func:`lifecycle_phases`):
    one entry per run of consecutive days with one label, so a phase that comes back (a
    launch dip labelled *decline* before growth, then the decline after maturity) is listed
    each time. ``summary["phases_seen"]`` joins them with ``|``.

    >>> lifecycle_spells(["introduction"] * 3 + ["decline"] * 2 + ["growth", "maturity", "decline"])
    ['introduction', 'decline', 'growth', 'maturity', 'decline']
    """
    return [ph for ph, _ in itertools.groupby(phases)]


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


class Row(Mapping):
    """One day's metrics row, read from the :class:`MetricsCollector`'s columnar store (a
    read-only mapping: counts are ``int``, the rest ``float``; policy metrics and revenue by
    source as the policies gave them)."""

    __slots__ = ("_mc", "_r")

    def __init__(self, mc: MetricsCollector, r: int):
        self._mc, self._r = mc, r

    def __getitem__(self, key: str):
        mc = self._mc
        j = mc._index.get(key)
        if j is not None:
            v = mc.data[self._r, j]
            return int(v) if mc._is_int[j] else float(v)
        return mc._extras.get(self._r, _NO_EXTRAS)[key]

    def __iter__(self):
        yield from self._mc.columns
        yield from (k for k in self._mc._extras.get(self._r, _NO_EXTRAS) if k not in self._mc._index)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return repr(dict(self))


class Rows(Sequence):
    """The rows of a :class:`MetricsCollector` as a sequence of :class:`Row` (nothing is
    copied: slices are views of the same store)."""

    __slots__ = ("_mc", "_range")

    def __init__(self, mc: MetricsCollector, rng: range | None = None):
        self._mc, self._range = mc, rng

    def _r(self) -> range:
        return self._range if self._range is not None else range(self._mc.n)

    def __len__(self) -> int:
        return len(self._r())

    def __getitem__(self, i):
        r = self._r()
        if isinstance(i, slice):
            return Rows(self._mc, r[i])
        return Row(self._mc, r[i])

    def __iter__(self):
        mc = self._mc
        return (Row(mc, r) for r in self._r())


_NO_EXTRAS: dict = {}


class MetricsCollector:
    """The daily metrics, one row per step, in a columnar store; ``frame()`` gives the tidy
    time series.

    The engine's columns (:data:`qunsim.kernels.record.COLUMNS`) live in ``data``
    (float64[capacity, n_columns], grown by doubling; the first ``n`` rows are recorded),
    written by the compiled record stage (:func:`qunsim.kernels.record.record_day`) without
    a Python dict per day. Columns only some days have (policy metrics, revenue by source)
    are kept per row as given. ``rows`` reads the store as one mapping per day
    (``rows[-1]["active"]``), ``latest(key)`` the last day's value, ``column(key)`` one
    column as an array.

    ``gresham_update`` is called once a day with that day's counts (leaves and members at risk
    in the top and bottom quality quartiles); the index it returns pools the last
    ``gresham_window`` days (:func:`gresham_estimate`), and ``frame()`` adds its interval as
    ``gresham_low`` / ``gresham_high``.

    >>> mc = MetricsCollector()
    >>> mc.append({"step": 0, "active": 5, "trust_mean": 0.5, "policy_x": 2})
    >>> mc.rows[-1]["active"], mc.latest("policy_x"), mc.latest("missing", -1)
    (5, 2, -1)
    """

    def __init__(self, gresham_window: int = 60):
        from qunsim.kernels.record import COLUMNS, GRESHAM_COLUMNS, INT_COLUMNS

        self.window = gresham_window
        self.columns = COLUMNS
        self._index = {c: j for j, c in enumerate(COLUMNS)}
        self._is_int = np.array([c in INT_COLUMNS for c in COLUMNS])
        self.data = np.zeros((64, len(COLUMNS)))
        self.n = 0
        self._extras: dict[int, dict] = {}  # row -> its policy metrics / revenue by source
        self.gresham = np.zeros((64, len(GRESHAM_COLUMNS)))  # the daily counts, the interval
        self.gn = 0

    @classmethod
    def from_legacy(cls, attrs: dict) -> MetricsCollector:
        """The store of a collector saved before the columnar store (a list of row dicts and
        the Gresham history as lists), e.g. read from an older checkpoint."""
        mc = cls(int(attrs.get("window", 60)))
        for row in attrs.get("rows", []):
            mc.append(row)
        hist, ci = attrs.get("_g_hist", []), attrs.get("_g_ci", [])
        for d, h in enumerate(hist):
            mc.reserve()
            mc.gresham[d, :4] = h
            mc.gresham[d, 4:] = ci[d] if d < len(ci) else (1.0, 1.0)
            mc.gn += 1
        return mc

    # ------------------------------------------------------------------ writing
    def reserve(self) -> None:
        """Make room for one more row and one more Gresham day (doubling the store)."""
        if self.n >= len(self.data):
            self.data = np.concatenate([self.data, np.zeros_like(self.data)])
        if self.gn >= len(self.gresham):
            self.gresham = np.concatenate([self.gresham, np.zeros_like(self.gresham)])

    def set_extras(self, r: int, extras: dict) -> None:
        """Columns of row ``r`` beyond the engine's (an engine column named here is overwritten)."""
        for k in [k for k in extras if k in self._index]:
            self.data[r, self._index[k]] = extras.pop(k)
        if extras:
            self._extras[r] = extras

    def append(self, row: dict) -> None:
        """Append a row given as a dict (engine columns it lacks read 0)."""
        self.reserve()
        self.data[self.n] = 0.0
        self.set_extras(self.n, dict(row))
        self.n += 1

    def gresham_update(self, left_top, at_risk_top, left_bottom, at_risk_bottom) -> float:
        from qunsim.kernels.record import Z95, gresham_push

        self.reserve()
        g = gresham_push(self.gresham, self.gn, float(left_top), float(at_risk_top), float(left_bottom),
                         float(at_risk_bottom), int(self.window), GRESHAM_MIN_EXPOSURE,
                         float(GRESHAM_MIN_EVENTS), Z95)
        self.gn += 1
        return float(g)

    # ------------------------------------------------------------------ reading
    @property
    def rows(self) -> Rows:
        return Rows(self)

    def latest(self, key: str, default=0.0):
        if not self.n:
            return default
        j = self._index.get(key)
        if j is not None:
            v = self.data[self.n - 1, j]
            return int(v) if self._is_int[j] else float(v)
        return self._extras.get(self.n - 1, _NO_EXTRAS).get(key, default)

    def column(self, key: str, default: float = 0.0) -> np.ndarray:
        """One column over all rows (``default`` on days without it), float64[n]."""
        j = self._index.get(key)
        if j is not None:
            return self.data[:self.n, j].copy()
        return np.array([self._extras.get(r, _NO_EXTRAS).get(key, default) for r in range(self.n)], dtype=float)

    def extra_columns(self) -> list[str]:
        """Columns beyond the engine's, in the order they first appeared."""
        return list(dict.fromkeys(k for r in sorted(self._extras) for k in self._extras[r]))

    def column_values(self, key: str) -> list:
        """One column as a list of Python numbers (0.0 on days without it), for Mesa's collector."""
        j = self._index.get(key)
        if j is not None:
            col = self.data[:self.n, j]
            return col.astype(np.int64).tolist() if self._is_int[j] else col.tolist()
        return [self._extras.get(r, _NO_EXTRAS).get(key, 0.0) for r in range(self.n)]

    def gresham_totals(self) -> tuple[float, float, float]:
        """The whole run's pooled Gresham ratio and interval (``gresham_hr`` of the summary)."""
        if not self.gn:
            return 1.0, 1.0, 1.0
        t = self.gresham[:self.gn, :4].sum(axis=0)
        return gresham_estimate(*t)

    def frame(self) -> pd.DataFrame:
        n = self.n
        if not n:
            return pd.DataFrame([])
        cols = {c: (self.data[:n, j].astype(np.int64) if self._is_int[j] else self.data[:n, j].copy())
                for j, c in enumerate(self.columns)}
        df = pd.DataFrame(cols)
        if self._extras:
            ex = pd.DataFrame([self._extras.get(r, _NO_EXTRAS) for r in range(n)])
            df = pd.concat([df, ex], axis=1)
        df["phase"] = lifecycle_phases(df["active"].to_numpy())
        if "gresham_index" in df and self.gn:
            ci = np.ones((n, 2))
            k = min(self.gn, n)  # the first row (day 0) has no update
            ci[n - k:] = self.gresham[self.gn - k:self.gn, 4:6]
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
    definitions "at any time". ``phases_seen`` is the run's sequence of lifecycle spells, one
    entry per spell (``introduction|decline|growth|maturity|decline`` for a launch dip before
    growth); before, each phase was listed once at its first appearance, which hid a decline
    after an early dip.
    """
    from qunsim.registry import per_30_days

    if ts.empty:
        return {}
    last = ts.iloc[-1]
    n_steps = max(len(ts) - 1, 1)
    phases = lifecycle_spells(ts["phase"].tolist())
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
