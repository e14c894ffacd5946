"""Calibration: fit a scenario's parameters to a community's observed data.

A calibration file (TOML) names

- the observed data: a **member table** (CSV or Parquet; one row per member: ``member_id``,
  ``join_day``, ``leave_day`` (empty while still a member), optionally ``posts`` and
  ``role``) and/or a **daily series** (``day``, ``active``, ``messages``);
- the **scenario** to calibrate (a TOML file, plus fixed overrides);
- the **parameters** to fit, each with a prior range (uniform, or log-uniform);
- the **summary statistics** compared (Kaplan–Meier retention by day, the active-member
  curve, the posts-per-member distribution, daily messages);
- the **method** (``abc-smc`` with pyabc, or ``optuna``, a point fit) and its budget.

:func:`calibrate` returns a :class:`CalibrationResult` and, given ``out``, writes
``calibration.json`` (estimates, intervals, budget used, seeds), ``calibrated.toml`` (the
scenario at the estimates, ready for ``qunsim run``/``sweep``) and ``posterior_predictive.png``
(observed statistics against bands of simulations at the fitted parameters).

Every simulation is seeded from a ``numpy.random.SeedSequence`` of the calibration's seed and
the parameter values it runs at (and its replicate), so the same parameters always give the
same simulation, whichever process runs it.

See docs/calibration.md for a walk-through.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from qunsim.config import Config, ConfigError, load_config

__all__ = [
    "CalibrationSpec",
    "CalibrationResult",
    "Observed",
    "calibrate",
    "load_calibration",
    "load_observed",
    "summary_statistics",
    "simulated_tables",
    "km_survival",
    "distance",
    "STATISTICS",
]

#: The summary statistics a calibration can compare.
STATISTICS = ("retention", "active", "posts", "messages")


class CalibrationError(ConfigError):
    """A calibration file or its data do not validate (one paragraph)."""


# ------------------------------------------------------------------------------ the spec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataModel(_Strict):
    members: str = ""  # CSV/Parquet member table
    daily: str = ""  # CSV/Parquet daily series
    days: int | None = Field(default=None, ge=2)  # observation horizon (default: from the data)


class ScenarioTable(_Strict):
    base: str = ""  # scenario TOML (default: the built-in defaults)
    set: dict[str, Any] = Field(default_factory=dict)  # fixed dotted overrides


class Prior(_Strict):
    low: float
    high: float
    log: bool = False  # log-uniform between low and high
    integer: bool = False  # round to an integer (e.g. community.n_prospects)

    @field_validator("high")
    @classmethod
    def _order(cls, v: float, info) -> float:
        low = info.data.get("low")
        if low is not None and not v > low:
            raise ValueError(f"high must be greater than low ({low})")
        if not (math.isfinite(v) and (low is None or math.isfinite(low))):
            raise ValueError("low and high must be finite")
        return v


class StatisticsModel(_Strict):
    use: list[Literal["retention", "active", "posts", "messages"]] | None = None  # default: all the data allow
    retention_days: list[int] = Field(default_factory=lambda: [7, 14, 30, 60, 90, 180, 365])
    curve_points: int = Field(default=12, ge=2)  # days sampled on the active/messages curves
    post_quantiles: list[float] = Field(default_factory=lambda: [0.5, 0.75, 0.9, 0.99])


class MethodModel(_Strict):
    name: Literal["abc-smc", "optuna"] = "abc-smc"
    budget: int = Field(default=2000, ge=2)  # simulations at most
    population: int = Field(default=100, ge=5)  # ABC-SMC particles per generation
    generations: int = Field(default=8, ge=1)  # ABC-SMC populations at most
    min_epsilon: float = Field(default=0.0, ge=0)  # ABC-SMC: stop below this distance
    replicates: int = Field(default=1, ge=1)  # simulations averaged per parameter value
    interval: float = Field(default=0.9, gt=0, lt=1)  # credible / uncertainty interval level
    seed: int = Field(default=0, ge=0)
    executor: Literal["serial", "local", "dask"] = "serial"
    workers: int | None = Field(default=None, ge=1)
    scheduler: str | None = None  # dask: address of a running scheduler
    predictive: int = Field(default=20, ge=2)  # posterior-predictive simulations
    batch: int | None = Field(default=None, ge=1)  # optuna: trials evaluated together


class CalibrationModel(_Strict):
    name: str = "calibration"
    data: DataModel
    scenario: ScenarioTable = ScenarioTable()
    parameters: dict[str, Prior]
    statistics: StatisticsModel = StatisticsModel()
    method: MethodModel = MethodModel()

    @field_validator("parameters")
    @classmethod
    def _some(cls, v: dict) -> dict:
        if not v:
            raise ValueError("name at least one parameter to fit, e.g. \"dynamics.inflow\" = {low = 1, high = 6}")
        return v


@dataclass
class CalibrationSpec:
    """A validated calibration: the model, the base scenario and the observed data."""

    model: CalibrationModel
    base: Config
    observed: Observed
    source: str
    root: Path

    @property
    def names(self) -> list[str]:
        return list(self.model.parameters)

    @property
    def steps(self) -> int:
        return self.observed.horizon


def _fail(source: str, msg: str) -> CalibrationError:
    return CalibrationError(f"invalid calibration ({source}): {msg}")


def load_calibration(source: str | Path | dict, *, root: str | Path | None = None) -> CalibrationSpec:
    """Read and validate a calibration file (or dict); data paths resolve against its folder."""
    if isinstance(source, dict):
        raw, name, here = source, "dict", Path(root or ".")
    else:
        path = Path(source)
        if not path.is_file():
            raise CalibrationError(f"invalid calibration ({path}): file not found")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise _fail(str(path), f"not valid TOML: {e}") from None
        name, here = str(path), path.parent
    try:
        m = CalibrationModel.model_validate(raw)
    except ValidationError as err:
        parts = []
        for e in err.errors(include_url=False):
            loc = ".".join(str(p) for p in e["loc"])
            msg = e["msg"].replace("Value error, ", "").replace("Input should be", "must be")
            msg = msg.replace("Extra inputs are not permitted", "is not a known key")
            parts.append(f"`{loc}` {msg}" + ("" if e["type"] in ("missing", "extra_forbidden")
                                             else f", got {e.get('input')!r}"))
        raise _fail(name, "; ".join(parts)) from None
    if not (m.data.members or m.data.daily):
        raise _fail(name, "`data` must name a member table (`data.members`) and/or a daily series (`data.daily`)")
    base_path = (here / m.scenario.base) if m.scenario.base else None
    base = load_config(base_path) if base_path else load_config()
    try:
        base = base.override(dict(m.scenario.set)) if m.scenario.set else base
    except ConfigError as e:
        raise _fail(name, f"`scenario.set`: {e}") from None
    for key, prior in m.parameters.items():
        if prior.log and prior.low <= 0:
            raise _fail(name, f"`parameters.{key}` is log-uniform: low must be > 0, got {prior.low}")
        for value in (prior.low, prior.high):
            try:
                base.override({key: int(round(value)) if prior.integer else value})
            except ConfigError as e:
                raise _fail(name, f"`parameters.{key}` prior bound {value} is not a valid value: {e}") from None
    obs = load_observed(here / m.data.members if m.data.members else None,
                        here / m.data.daily if m.data.daily else None, m.data.days)
    use = m.statistics.use or [s for s in STATISTICS if _available(s, obs)]
    for s in use:
        if not _available(s, obs):
            raise _fail(name, f"statistic {s!r} needs data the calibration does not give "
                        f"({_needs(s)})")
    m = m.model_copy(update={"statistics": m.statistics.model_copy(update={"use": use})})
    return CalibrationSpec(m, base, obs, name, here)


def _available(stat: str, obs: Observed) -> bool:
    if stat == "retention":
        return obs.members is not None
    if stat == "posts":
        return obs.members is not None and "posts" in obs.members
    if stat == "active":
        return obs.members is not None or (obs.daily is not None and "active" in obs.daily)
    return obs.daily is not None and "messages" in obs.daily


def _needs(stat: str) -> str:
    return {"retention": "a member table", "posts": "a member table with a `posts` column",
            "active": "a member table or a daily series with `active`",
            "messages": "a daily series with `messages`"}[stat]


# ------------------------------------------------------------------------------ the data


@dataclass
class Observed:
    """Observed (or simulated) community data over days ``0 .. horizon - 1``.

    members : DataFrame ``member_id, join_day, leave_day`` (NaN = still a member), optional
        ``posts``, ``role``; days since the community started.
    daily : DataFrame ``day, active[, messages]`` or None.
    """

    members: pd.DataFrame | None
    daily: pd.DataFrame | None
    horizon: int


def _read_table(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise CalibrationError(f"invalid calibration data: {what} file {str(path)!r} not found")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except Exception as e:  # noqa: BLE001 - report any parser failure in one paragraph
        raise CalibrationError(f"invalid calibration data ({path}): cannot read the {what}: {e}") from None


def _numeric(df: pd.DataFrame, col: str, path: Any, *, allow_empty: bool = False) -> np.ndarray:
    x = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(x) & (~df[col].isna().to_numpy() if allow_empty else True)
    bad |= ~np.isnan(x) & ((x < 0) | ~np.isfinite(x))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CalibrationError(f"invalid calibration data ({path}): column `{col}` must hold numbers >= 0"
                               f"{' or be empty' if allow_empty else ''}; row {i + 2} has {df[col].iloc[i]!r}")
    return x


def load_observed(members: str | Path | pd.DataFrame | None = None, daily: str | Path | pd.DataFrame | None = None,
                  days: int | None = None) -> Observed:
    """Read and check a member table and/or a daily series (CSV or Parquet, or DataFrames).

    >>> m = pd.DataFrame({"member_id": [1, 2, 3], "join_day": [0, 0, 5], "leave_day": [10, None, None]})
    >>> obs = load_observed(m, days=30)
    >>> obs.horizon, obs.members["leave_day"].isna().sum()
    (30, np.int64(2))
    """
    mt = dt = None
    horizon = 0
    if members is not None:
        where = members if not isinstance(members, pd.DataFrame) else "member table"
        mt = members.copy() if isinstance(members, pd.DataFrame) else _read_table(Path(members), "member table")
        missing = [c for c in ("member_id", "join_day", "leave_day") if c not in mt]
        if missing:
            raise CalibrationError(f"invalid calibration data ({where}): the member table needs columns "
                                   f"member_id, join_day, leave_day (empty while a member); missing {missing}")
        join = _numeric(mt, "join_day", where)
        leave = _numeric(mt, "leave_day", where, allow_empty=True)
        early = ~np.isnan(leave) & (leave < join)
        if early.any():
            i = int(np.flatnonzero(early)[0])
            raise CalibrationError(f"invalid calibration data ({where}): row {i + 2} leaves (day {leave[i]:g}) "
                                   f"before joining (day {join[i]:g})")
        if mt["member_id"].duplicated().any():
            dup = mt["member_id"][mt["member_id"].duplicated()].iloc[0]
            raise CalibrationError(f"invalid calibration data ({where}): member_id {dup!r} appears twice")
        mt["join_day"], mt["leave_day"] = join, leave
        if "posts" in mt:
            mt["posts"] = _numeric(mt, "posts", where)
        horizon = int(np.nanmax(np.concatenate([join, leave, [0]]))) + 1
    if daily is not None:
        where = daily if not isinstance(daily, pd.DataFrame) else "daily series"
        dt = daily.copy() if isinstance(daily, pd.DataFrame) else _read_table(Path(daily), "daily series")
        if "day" not in dt or not ({"active", "messages"} & set(dt)):
            raise CalibrationError(f"invalid calibration data ({where}): the daily series needs a `day` column "
                                   f"and `active` and/or `messages`; it has {list(dt.columns)}")
        for c in ("day", "active", "messages"):
            if c in dt:
                dt[c] = _numeric(dt, c, where)
        dt = dt.sort_values("day").reset_index(drop=True)
        horizon = max(horizon, int(dt["day"].max()) + 1)
    if mt is None and dt is None:
        raise CalibrationError("invalid calibration data: give a member table and/or a daily series")
    if days is not None:
        horizon = int(days)
    if horizon < 2:
        raise CalibrationError(f"invalid calibration data: the data span {horizon} day(s); need at least 2")
    return Observed(mt, dt, horizon)


def simulated_tables(res, horizon: int | None = None) -> Observed:
    """The member table and daily series of a simulated run, in the observed data's format."""
    m = res.members
    leave = m["leave_step"].to_numpy(dtype=float)
    leave[leave < 0] = np.nan
    members = pd.DataFrame({"member_id": m["member_id"].to_numpy(), "join_day": m["join_step"].to_numpy(dtype=float),
                            "leave_day": leave, "posts": m["posts"].to_numpy(dtype=float),
                            "role": m["role"].astype(str).to_numpy()})
    ts = res.timeseries
    daily = pd.DataFrame({"day": ts["step"].to_numpy(dtype=float), "active": ts["active"].to_numpy(dtype=float),
                          "messages": ts["messages"].to_numpy(dtype=float)})
    h = int(horizon if horizon is not None else len(ts))
    return Observed(members, daily, h)


# ------------------------------------------------------------------------------ statistics


def km_survival(durations: np.ndarray, observed: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Kaplan–Meier S(t) evaluated at times ``at`` (right-continuous step function).

    >>> km_survival(np.array([1, 2, 2, 3.]), np.array([1, 1, 0, 1], bool), np.array([0, 1, 2.5, 3])).tolist()
    [1.0, 0.75, 0.5, 0.0]
    """
    d = np.asarray(durations, float)
    e = np.asarray(observed, bool)
    times = np.unique(d[e])
    if not len(times):
        return np.ones(len(at))
    at_risk = len(d) - np.searchsorted(np.sort(d), times, side="left")
    events = np.bincount(np.searchsorted(times, d[e]), minlength=len(times))
    s = np.cumprod(1.0 - events / np.maximum(at_risk, 1))
    idx = np.searchsorted(times, np.asarray(at, float), side="right") - 1
    return np.where(idx >= 0, s[np.maximum(idx, 0)], 1.0)


def _grid(horizon: int, points: int) -> np.ndarray:
    return np.unique(np.linspace(1, horizon - 1, points).round().astype(int))


def summary_statistics(obs: Observed, stats: StatisticsModel | None = None,
                       use: list[str] | None = None) -> dict[str, np.ndarray]:
    """The summary statistics of observed or simulated data, as named vectors.

    - ``retention``: Kaplan–Meier share still a member ``d`` days after joining, for each
      ``d`` of ``retention_days`` below the horizon (members censored at the horizon);
    - ``active``: active members on ``curve_points`` days spread over the horizon;
    - ``posts``: share of members who never posted, then quantiles of ``log1p(posts)``, then
      the share of all posts written by the top 10% of members;
    - ``messages``: messages a day (7-day mean) on the same days as ``active``.
    """
    st = stats or StatisticsModel()
    use = list(use or st.use or STATISTICS)
    H = obs.horizon
    out: dict[str, np.ndarray] = {}
    grid = _grid(H, st.curve_points)
    mt = obs.members
    if mt is not None:
        mt = mt[mt["join_day"] < H]
    if "retention" in use:
        days = np.array([d for d in st.retention_days if d < H], dtype=float)
        join = mt["join_day"].to_numpy(float)
        leave = mt["leave_day"].to_numpy(float)
        left = ~np.isnan(leave) & (leave < H)
        dur = np.where(left, leave - join, (H - 1) - join)
        out["retention"] = km_survival(dur, left, days)
    if "active" in use:
        if obs.daily is not None and "active" in obs.daily:
            d = obs.daily
            out["active"] = np.interp(grid, d["day"].to_numpy(float), d["active"].to_numpy(float))
        else:
            join = mt["join_day"].to_numpy(float)
            leave = np.nan_to_num(mt["leave_day"].to_numpy(float), nan=np.inf)
            out["active"] = np.array([((join <= g) & (leave > g)).sum() for g in grid], dtype=float)
    if "posts" in use:
        p = np.sort(mt["posts"].to_numpy(float))
        if len(p):
            q = np.quantile(np.log1p(p), st.post_quantiles)
            top = p[::-1][: max(1, int(math.ceil(0.1 * len(p))))].sum() / max(p.sum(), 1.0)
            out["posts"] = np.concatenate([[float((p == 0).mean())], q, [top]])
        else:
            out["posts"] = np.zeros(len(st.post_quantiles) + 2)
    if "messages" in use:
        d = obs.daily
        x = d["messages"].to_numpy(float)
        smooth = pd.Series(x).rolling(7, min_periods=1).mean().to_numpy()
        out["messages"] = np.interp(grid, d["day"].to_numpy(float), smooth)
    return out


def _scales(observed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-statistic scales: shares are on [0, 1]; counts relative to the observed maximum."""
    sc = {}
    for k, v in observed.items():
        if k == "retention":
            sc[k] = np.full(len(v), 0.1)  # 10 percentage points of retention = 1 unit
        elif k == "posts":
            n_q = len(v) - 2
            sc[k] = np.concatenate([[0.1], np.full(n_q, max(float(np.max(v[1:-1])) if n_q else 1.0, 0.5) * 0.25), [0.1]])
        else:
            sc[k] = np.full(len(v), max(float(np.max(v)), 1.0) * 0.1)
    return sc


def distance(sim: dict[str, np.ndarray], obs: dict[str, np.ndarray],
             scales: dict[str, np.ndarray] | None = None) -> float:
    """Root mean of each statistic's mean squared scaled difference (statistics weigh equally).

    >>> o = {"retention": np.array([0.9, 0.8])}
    >>> round(distance({"retention": np.array([0.8, 0.7])}, o), 9)
    1.0
    """
    sc = scales or _scales(obs)
    parts = [np.mean(((np.asarray(sim[k]) - obs[k]) / sc[k]) ** 2) for k in obs]
    return float(np.sqrt(np.mean(parts)))


# ------------------------------------------------------------------------------ simulations


def param_seed(root: int, values: list[float], replicate: int = 0) -> int:
    """The seed of a simulation at parameter ``values``: a SeedSequence of the calibration's
    seed, the values' float64 bits and the replicate (same parameters, same run).

    >>> param_seed(0, [1.5, 0.002]) == param_seed(0, [1.5, 0.002]) != param_seed(1, [1.5, 0.002])
    True
    """
    words = np.asarray(values, dtype=np.float64).view(np.uint32).tolist()
    ss = np.random.SeedSequence(entropy=[int(root), *words, int(replicate)])
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _run_stats(task: dict) -> dict:
    """One simulation -> its summary statistics (a module-level function: runs in any worker)."""
    from qunsim.simulation import simulate

    cfg = Config(task["config"], source="calibration")
    res = simulate(cfg, rng=task["seed"], steps=task["steps"] - 1, **{"run.agent_views": False})
    obs = simulated_tables(res, task["steps"])
    stats = summary_statistics(obs, StatisticsModel(**task["stats"]), task["stats"]["use"])
    return {k: v.tolist() for k, v in stats.items()}


class _Problem:
    """Parameters <-> config, tasks and the distance, shared by the methods (picklable)."""

    def __init__(self, spec: CalibrationSpec):
        self.names = spec.names
        self.priors = [spec.model.parameters[k] for k in self.names]
        self.base = spec.base.to_dict()
        self.source = spec.base.source
        self.steps = spec.steps
        self.stats = spec.model.statistics.model_dump()
        self.seed = spec.model.method.seed
        self.replicates = spec.model.method.replicates
        self.observed = summary_statistics(spec.observed, spec.model.statistics)
        self.scales = _scales(self.observed)

    def values(self, theta: dict[str, float]) -> dict[str, Any]:
        out = {}
        for k, pr in zip(self.names, self.priors, strict=True):
            v = float(theta[k])
            out[k] = int(round(v)) if pr.integer else v
        return out

    def config(self, theta: dict[str, float]) -> Config:
        return Config(self.base, source=self.source).override(self.values(theta))

    def tasks(self, theta: dict[str, float], seed_offset: int = 0) -> list[dict]:
        vals = [float(theta[k]) for k in self.names]
        cfg = self.config(theta).to_dict()
        return [{"config": cfg, "seed": param_seed(self.seed + seed_offset, vals, r), "steps": self.steps,
                 "stats": self.stats} for r in range(self.replicates)]

    @staticmethod
    def mean_stats(results: list[dict]) -> dict[str, np.ndarray]:
        return {k: np.mean([np.asarray(r[k]) for r in results], axis=0) for k in results[0]}

    def simulate_stats(self, theta: dict[str, float]) -> dict[str, np.ndarray]:
        return self.mean_stats([_run_stats(t) for t in self.tasks(theta)])

    def distance(self, sim: dict[str, np.ndarray]) -> float:
        return distance(sim, self.observed, self.scales)


# ------------------------------------------------------------------------------ result


@dataclass
class CalibrationResult:
    """What a calibration found.

    estimates : {parameter: value} (posterior median for ABC-SMC, best trial for optuna)
    intervals : {parameter: (low, high)} at ``level`` (credible for ABC-SMC; for optuna the
        range of the trials within the best 10% of distances: an uncertainty range, not a
        posterior interval)
    samples : DataFrame of posterior particles (ABC-SMC, with ``weight``) or of all trials
        (optuna, with ``distance``)
    """

    method: str
    estimates: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    level: float
    samples: pd.DataFrame
    budget: dict
    seed: int
    observed: dict[str, np.ndarray]
    config: Config
    predictive: dict[str, np.ndarray] = field(default_factory=dict)
    predictive_seeds: list[int] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "method": self.method, "level": self.level, "seed": self.seed,
            "parameters": {k: {"estimate": self.estimates[k], "interval": list(self.intervals[k])}
                           for k in self.estimates},
            "budget": self.budget,
            "observed_statistics": {k: np.asarray(v).tolist() for k, v in self.observed.items()},
            "predictive_seeds": self.predictive_seeds,
            "files": self.files, **self.info,
        }


def _wquantile(x: np.ndarray, w: np.ndarray, q: list[float]) -> np.ndarray:
    o = np.argsort(x)
    x, w = x[o], w[o]
    c = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, c, x)


# ------------------------------------------------------------------------------ methods


def _abc_smc(spec: CalibrationSpec, prob: _Problem, out: Path) -> tuple[pd.DataFrame, dict]:
    try:
        import pyabc
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise CalibrationError("method 'abc-smc' needs pyabc: pip install 'qunsim[calibrate]'") from None
    import logging

    for name in ("ABC", "ABC.Sampler", "ABC.History", "ABC.Distance", "ABC.Epsilon", "ABC.Population",
                 "ABC.Adaptation", "ABC.Predictor", "ABC.Transition"):
        logging.getLogger(name).setLevel(logging.WARNING)
    me = spec.model.method
    keys = [f"p{i}" for i in range(len(prob.names))]
    prior = pyabc.Distribution(**{
        k: pyabc.RV("uniform", math.log(p.low) if p.log else p.low,
                    (math.log(p.high) - math.log(p.low)) if p.log else (p.high - p.low))
        for k, p in zip(keys, prob.priors, strict=True)})

    def theta_of(par) -> dict[str, float]:
        return {n: (math.exp(par[k]) if p.log else float(par[k]))
                for n, k, p in zip(prob.names, keys, prob.priors, strict=True)}

    def model(par):
        return {k: v for k, v in prob.simulate_stats(theta_of(par)).items()}

    def dist(x, x0):
        return prob.distance({k: np.asarray(x[k]) for k in prob.observed})

    if me.executor == "serial":
        sampler = pyabc.sampler.SingleCoreSampler()
        handle = None
    else:
        from qunsim.sweep.executors import open_executor

        handle = open_executor(me.executor, me.workers, me.scheduler)
        h = handle.__enter__()
        sampler = pyabc.sampler.ConcurrentFutureSampler(h.executor, client_max_jobs=max(2, 2 * h.workers))
    db = out / "abc.db"
    if db.exists():
        db.unlink()
    # pyabc draws and perturbs particles with numpy's global generator: seed it for this run
    # (serial runs are then reproducible) and give the caller's state back afterwards
    saved = np.random.get_state()  # noqa: NPY002 - pyabc's generator, restored below
    np.random.seed(me.seed)  # noqa: NPY002
    try:
        abc = pyabc.ABCSMC(model, prior, dist, population_size=me.population, sampler=sampler)
        abc.new("sqlite:///" + str(db.resolve()), {k: v.tolist() for k, v in prob.observed.items()})
        hist = abc.run(minimum_epsilon=me.min_epsilon, max_nr_populations=me.generations,
                       max_total_nr_simulations=me.budget)
    finally:
        np.random.set_state(saved)  # noqa: NPY002
        if handle is not None:
            handle.__exit__(None, None, None)
    df, w = hist.get_distribution()
    samples = pd.DataFrame({n: [theta_of(r)[n] for _, r in df.iterrows()] for n in prob.names})
    samples["weight"] = np.asarray(w) / np.sum(w)
    pops = hist.get_all_populations()
    pops = pops[pops["t"] >= 0]
    budget = {"simulations": int(hist.total_nr_simulations) * prob.replicates, "parameter_evaluations":
              int(hist.total_nr_simulations), "generations": int(hist.max_t + 1), "population": me.population,
              "epsilons": [float(e) for e in pops["epsilon"]], "budget": me.budget,
              "replicates": prob.replicates, "sampler": type(sampler).__name__}
    return samples, {"budget": budget, "files": {"abc_db": db.name}}


def _optuna(spec: CalibrationSpec, prob: _Problem, out: Path) -> tuple[pd.DataFrame, dict]:
    try:
        import optuna
    except ImportError:  # pragma: no cover
        raise CalibrationError("method 'optuna' needs optuna: pip install 'qunsim[calibrate]'") from None
    from qunsim.sweep.executors import open_executor

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    me = spec.model.method
    n_trials = max(1, me.budget // prob.replicates)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=me.seed))
    rows = []
    with open_executor(me.executor, me.workers, me.scheduler) as h:
        batch = me.batch or h.workers
        done = 0
        while done < n_trials:
            trials = [study.ask() for _ in range(min(batch, n_trials - done))]
            thetas = [{n: (t.suggest_float(n, p.low, p.high, log=p.log)) for n, p in
                       zip(prob.names, prob.priors, strict=True)} for t in trials]
            futs = [[h.executor.submit(_run_stats, task) for task in prob.tasks(th)] for th in thetas]
            for t, th, fs in zip(trials, thetas, futs, strict=True):
                d = prob.distance(prob.mean_stats([f.result() for f in fs]))
                study.tell(t, d)
                rows.append({**th, "distance": d})
            done += len(trials)
        kind = h.kind
    samples = pd.DataFrame(rows)
    budget = {"simulations": n_trials * prob.replicates, "trials": n_trials, "budget": me.budget,
              "replicates": prob.replicates, "sampler": "TPESampler", "executor": kind}
    return samples, {"budget": budget, "best_distance": float(samples["distance"].min())}


def _summarise(method: str, prob: _Problem, samples: pd.DataFrame, level: float):
    a = (1 - level) / 2
    est, iv = {}, {}
    for n in prob.names:
        if method == "abc-smc":
            x, w = samples[n].to_numpy(float), samples["weight"].to_numpy(float)
            lo, med, hi = _wquantile(x, w, [a, 0.5, 1 - a])
        else:
            best = samples.nsmallest(max(1, int(math.ceil(0.1 * len(samples)))), "distance")
            med = float(samples.loc[samples["distance"].idxmin(), n])
            lo, hi = float(best[n].min()), float(best[n].max())
        est[n], iv[n] = float(med), (float(lo), float(hi))
    return est, iv


def _predictive_draws(method: str, prob: _Problem, samples: pd.DataFrame, k: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    if method == "abc-smc":
        idx = rng.choice(len(samples), size=k, replace=True, p=samples["weight"].to_numpy(float))
    else:
        best = samples.nsmallest(max(1, int(math.ceil(0.1 * len(samples)))), "distance")
        idx = rng.choice(best.index.to_numpy(), size=k, replace=True)
        return [{n: float(samples.loc[i, n]) for n in prob.names} for i in idx]
    return [{n: float(samples.iloc[i][n]) for n in prob.names} for i in idx]


def calibrate(calibration: str | Path | dict | CalibrationSpec, out: str | Path | None = None, *,
              budget: int | None = None, executor: str | None = None, workers: int | None = None,
              plot: bool = True) -> CalibrationResult:
    """Fit the calibration's parameters to its observed data.

    Parameters
    ----------
    calibration : path to a calibration TOML, a dict of the same tables, or a spec from
        :func:`load_calibration`.
    out : directory for ``calibration.json``, ``calibrated.toml``, ``posterior_predictive.png``
        (and pyabc's ``abc.db``); a temporary directory when None (nothing kept).
    budget, executor, workers : override ``method.budget``, ``method.executor``, ``method.workers``.
    plot : draw the posterior-predictive figure.

    Returns
    -------
    CalibrationResult
    """
    import tempfile

    spec = calibration if isinstance(calibration, CalibrationSpec) else load_calibration(calibration)
    upd = {k: v for k, v in {"budget": budget, "executor": executor, "workers": workers}.items() if v is not None}
    if upd:
        try:
            me = MethodModel.model_validate({**spec.model.method.model_dump(), **upd})
        except ValidationError as e:
            raise _fail(spec.source, f"method override {upd}: {e.errors(include_url=False)[0]['msg']}") from None
        spec = CalibrationSpec(spec.model.model_copy(update={"method": me}), spec.base, spec.observed,
                               spec.source, spec.root)
    me = spec.model.method
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="qunsim-cal-")
        outp = Path(tmp.name)
    else:
        outp = Path(out)
        outp.mkdir(parents=True, exist_ok=True)
    try:
        prob = _Problem(spec)
        if me.name == "abc-smc":
            samples, extra = _abc_smc(spec, prob, outp)
        else:
            samples, extra = _optuna(spec, prob, outp)
        est, iv = _summarise(me.name, prob, samples, me.interval)
        cfg = prob.config(est)
        # posterior predictive: fresh seeds (offset) at parameters drawn from the fit
        draws = _predictive_draws(me.name, prob, samples, me.predictive, me.seed)
        tasks = []
        for j, th in enumerate(draws):
            t = prob.tasks(th, seed_offset=1_000_003 + j)[0]
            tasks.append(t)
        from qunsim.sweep.executors import open_executor

        kind = "serial" if me.executor == "serial" else me.executor
        with open_executor(kind, me.workers, me.scheduler) as h:
            pred = [f.result() for f in [h.executor.submit(_run_stats, t) for t in tasks]]
        predictive = {k: np.array([p[k] for p in pred]) for k in pred[0]}
        res = CalibrationResult(me.name, est, iv, me.interval, samples, extra["budget"], me.seed,
                                prob.observed, cfg, predictive, [t["seed"] for t in tasks],
                                dict(extra.get("files", {})),
                                {"name": spec.model.name, "source": spec.source, "horizon_days": spec.steps,
                                 "statistics": list(prob.observed),
                                 "priors": {k: p.model_dump() for k, p in spec.model.parameters.items()},
                                 **({"best_distance": extra["best_distance"]} if "best_distance" in extra else {})})
        if out is not None:
            _write(res, spec, outp, plot)
        return res
    finally:
        if tmp is not None:
            tmp.cleanup()


# ------------------------------------------------------------------------------ outputs


def calibrated_toml(res: CalibrationResult, spec: CalibrationSpec) -> str:
    head = [f"# Calibrated by `qunsim calibrate` ({res.method}) from {spec.source}.",
            f"# Fitted over {spec.steps} days of observed data; {res.level:.0%} intervals in calibration.json:"]
    for k, v in res.estimates.items():
        lo, hi = res.intervals[k]
        head.append(f"#   {k} = {v:.6g}  [{lo:.6g}, {hi:.6g}]")
    head.append("# Run it: qunsim run calibrated.toml --out runs/calibrated")
    cfg = res.config.override({"run.steps": max(int(res.config.run.steps), spec.steps)})
    return "\n".join(head) + "\n\n" + cfg.to_toml()


def _write(res: CalibrationResult, spec: CalibrationSpec, out: Path, plot: bool) -> None:
    (out / "calibrated.toml").write_text(calibrated_toml(res, spec), encoding="utf-8")
    res.files.update({"scenario": "calibrated.toml", "samples": "samples.csv"})
    res.samples.to_csv(out / "samples.csv", index=False)
    if plot:
        plot_predictive(res, spec, out / "posterior_predictive.png")
        res.files["figure"] = "posterior_predictive.png"
    res.files["report"] = "calibration.json"
    (out / "calibration.json").write_text(json.dumps(res.to_json(), indent=2), encoding="utf-8")


def plot_predictive(res: CalibrationResult, spec: CalibrationSpec, path: str | Path) -> Path:
    """Observed statistics (black) against the 5–95% band and median of simulations at the fit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    st = spec.model.statistics
    names = list(res.observed)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
    grid = _grid(spec.steps, st.curve_points)
    for ax, k in zip(axes[0], names, strict=True):
        obs, sim = res.observed[k], res.predictive[k]
        if k == "retention":
            x = np.array([d for d in st.retention_days if d < spec.steps])
            xl, yl = "days since joining", "still a member (Kaplan–Meier)"
        elif k == "posts":
            x = np.arange(len(obs))
            xl, yl = "", "value"
            ax.set_xticks(x, ["never\nposted"] + [f"q{int(q * 100)}\nlog1p" for q in st.post_quantiles] + ["top 10%\nshare"],
                          fontsize=7)
        else:
            x = grid
            xl, yl = "day", "active members" if k == "active" else "messages a day (7-day mean)"
        lo, med, hi = np.quantile(sim, [0.05, 0.5, 0.95], axis=0)
        if k == "posts":
            ax.errorbar(x + 0.1, med, yerr=[med - lo, hi - med], fmt="o", color="C0", capsize=3,
                        label="simulated (5–95%)")
            ax.plot(x - 0.1, obs, "ks", label="observed")
        else:
            ax.fill_between(x, lo, hi, color="C0", alpha=0.3, label="simulated 5–95%")
            ax.plot(x, med, color="C0", label="simulated median")
            ax.plot(x, obs, "k.-", label="observed")
        ax.set_title(k)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
    axes[0][0].legend(fontsize=8)
    est = ", ".join(f"{k.split('.')[-1]}={v:.3g}" for k, v in res.estimates.items())
    fig.suptitle(f"posterior predictive ({res.method}, {len(sim)} runs at the fit): {est}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


# ------------------------------------------------------------------------------ CLI


def _cmd_calibrate(args) -> int:
    from qunsim.cli import UsageError

    out = Path(args.out)
    if out.exists() and (out / "calibration.json").exists() and not args.force:
        raise UsageError(f"{out} already holds a calibration; pass --force to overwrite it")
    res = calibrate(args.calibration, out, budget=args.budget, executor=args.executor, workers=args.workers)
    print(f"calibrated {len(res.estimates)} parameter(s) by {res.method} with "
          f"{res.budget['simulations']} simulations (seed {res.seed}):")
    for k, v in res.estimates.items():
        lo, hi = res.intervals[k]
        print(f"  {k} = {v:.4g}  {res.level:.0%} interval [{lo:.4g}, {hi:.4g}]")
    print(f"wrote {out}/calibration.json, calibrated.toml" + (", posterior_predictive.png" if "figure" in res.files else ""))
    return 0


def register(subparsers) -> None:
    c = subparsers.add_parser("calibrate", help="fit a scenario to your community's data")
    c.add_argument("calibration", help="calibration TOML (data, parameters with priors, method)")
    c.add_argument("--out", required=True, help="output directory")
    c.add_argument("--budget", type=int, default=None, help="simulations at most (default: method.budget)")
    c.add_argument("--executor", choices=["serial", "local", "dask"], default=None,
                   help="where simulations run (default: method.executor)")
    c.add_argument("--workers", type=int, default=None, help="worker processes (local/dask)")
    c.add_argument("--force", action="store_true", help="overwrite an existing calibration in --out")
    c.set_defaults(func=_cmd_calibrate)
