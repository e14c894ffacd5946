"""Sweep files: schema, loading and validation.

A sweep file is TOML. It names a base scenario, the *levers* (what the operator decides) and
the *uncertainties* (what the operator does not control) to vary, the design that samples
them, replicates, how replicates are paired, steps, a root seed, what to keep, the outcomes
that matter and the goal a strategy review judges options by::

    name = "gresham_moderation"
    base = "../knowledge.toml"        # a scenario file (relative to this file), or a [base] table
                                      # (or an axis over scenario files: [axes] base = [...])
    steps = 180
    replicates = 5
    seed = 20261122
    timeout = 600                     # optional: seconds a run may take (local pool)

    [fixed]                           # dotted overrides applied to every run
    "community.n_seed" = 150

    [design]
    kind = "grid"                     # grid | lhs | sobol | csv

    pairing = "common"                # replicate r runs with the same seed at every point
                                      # (common random numbers); or "independent"

    [levers]                          # `[axes]` is accepted and means levers
    "activity.spam_moderation" = { values = [false, { precision = 0.9 }], labels = ["off", "on"] }

    [uncertainties]
    "community.chatter_share" = [0.0, 0.1, 0.2, 0.3]
    "dynamics.chatter_contagion" = { low = 0.0, high = 4.0, num = 3 }

    [outcomes]                        # the metrics that matter (direction from the registry,
    metrics = ["final_active", "final_expert_retention"]   # or a table {name = "max" | "min"})
    collapse = { active_below = 30, when = "end" }          # or survival_below = 0.5; "any"

    [goal]
    maximise = "final_active"         # or minimise = "..."
    max_p_collapse = 0.1              # an option-level limit on P(collapse)
    require = { final_expert_retention = { at_least = 0.5 } }   # per-run constraints

    [keep]
    timeseries = ["active", "low_quality_share"]   # or "all", or [] for none
    period = 5                                     # keep every 5th step (and the last)
    summary = "all"                                # or a list of summary keys

A *strategies file* (a ``[strategies.NAME]`` table per strategy, see :mod:`qunsim.strategies`)
loads as a sweep whose one lever is ``strategy``; it may add ``[uncertainties]``,
``[outcomes]``, ``[goal]``, ``[fixed]``, ``[keep]`` and ``pairing``.

Every error is a :class:`~qunsim.config.ConfigError` of one paragraph naming the file and
the dotted key. A key given twice (``"community.chatter_share"`` quoted and again inside
``[levers.community]``, or as both a lever and an uncertainty), a repeated value (``[1, 1.0]``
is one value twice: an error, never two identical points), more than
:data:`MAX_POINTS` design points, more than :data:`MAX_RUNS` runs or more than
:data:`MAX_REPLICATES` replicates are errors naming the key and the limit.

Examples
--------
>>> spec = SweepSpec.from_dict({"steps": 10, "replicates": 2,
...     "axes": {"community.chatter_share": [0.0, 0.2]}})
>>> spec.axes[0].key, spec.axes[0].values, spec.n_runs, spec.axes[0].role, spec.pairing
('community.chatter_share', [0.0, 0.2], 4, 'lever', 'common')
>>> SweepSpec.from_dict({"replicates": 0, "axes": {"community.chatter_share": [0.1]}})
Traceback (most recent call last):
...
qunsim.config.ConfigError: invalid sweep (dict): `replicates` must be greater than or equal to 1, got 0
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qunsim.config import MAX_STEPS, Config, ConfigError, _fmt_msg, _fmt_value, load_config

__all__ = ["SweepSpec", "Axis", "Outcomes", "Goal", "load_sweep", "AXIS_KEYS", "MAX_POINTS",
           "MAX_RUNS", "MAX_REPLICATES"]

AXIS_KEYS = frozenset({"values", "labels", "low", "high", "num", "log", "integer"})
#: Largest design (points) a sweep file may ask for: beyond it a typo (a range with num = 1e6)
#: would plan millions of runs before anything ran.
MAX_POINTS = 100_000
#: Largest number of runs (points x replicates).
MAX_RUNS = 1_000_000
#: Most replicates per point.
MAX_REPLICATES = 10_000
_POLICY_FAMILIES = ("gate", "activity", "monetization")


# size limits (a sweep too large to hold is refused up front, naming the key and the limit)
_MAX_SEED = 2**63 - 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DesignModel(_Strict):
    kind: Literal["grid", "lhs", "sobol", "csv"] = "grid"
    n: int | None = Field(default=None, ge=1, le=MAX_POINTS, strict=True)  # lhs: points; sobol: base samples (power of 2)
    path: str | None = None  # csv: a file of points, one column per dotted key
    second_order: bool = False  # sobol: also sample the BA matrices (second-order indices)
    scramble: bool = True  # lhs/sobol: randomised (seeded from the root seed)


class CollapseModel(_Strict):
    active_below: float | None = Field(default=None, ge=0)
    survival_below: float | None = Field(default=None, gt=0, le=1)
    when: Literal["end", "any"] = "end"


class OutcomesModel(_Strict):
    metrics: list[str] | dict[str, Literal["max", "min"]] | None = None
    collapse: dict[str, Any] | bool | None = None  # validated as CollapseModel (or false)


class BoundModel(_Strict):
    at_least: float | None = None
    at_most: float | None = None


class GoalModel(_Strict):
    maximise: str | None = None
    minimise: str | None = None
    max_p_collapse: float | None = Field(default=None, ge=0, le=1)
    require: dict[str, BoundModel] = Field(default_factory=dict)


class KeepModel(_Strict):
    timeseries: Literal["all"] | list[str] = "all"
    period: int = Field(default=1, ge=1, le=MAX_STEPS, strict=True)
    summary: Literal["all"] | list[str] = "all"


class AxisModel(_Strict):
    values: list[Any] | None = None
    labels: list[str] | None = None
    low: float | None = None
    high: float | None = None
    num: int | None = Field(default=None, ge=1, le=MAX_POINTS, strict=True)
    log: bool = False
    integer: bool = False


class SweepModel(_Strict):
    name: str = "sweep"
    base: str | dict[str, Any] | None = None
    steps: int | None = Field(default=None, ge=0, le=MAX_STEPS, strict=True)
    replicates: int = Field(default=1, ge=1, le=MAX_REPLICATES, strict=True)
    seed: int = Field(default=0, ge=0, le=_MAX_SEED, strict=True)
    pairing: Literal["common", "independent"] = "common"
    fixed: dict[str, Any] = Field(default_factory=dict)
    design: DesignModel = DesignModel()
    axes: dict[str, Any] = Field(default_factory=dict)
    levers: dict[str, Any] = Field(default_factory=dict)
    uncertainties: dict[str, Any] = Field(default_factory=dict)
    outcomes: OutcomesModel = OutcomesModel()
    goal: GoalModel | None = None
    keep: KeepModel = KeepModel()
    timeout: float | None = Field(default=None, gt=0)  # seconds a run may take (local pool)


@dataclass(frozen=True)
class Axis:
    """One swept parameter.

    ``key`` is a dotted config key. Either ``values`` (a list, categorical or numeric; with
    optional ``labels`` for table values) or a range ``low``..``high`` (``num`` points for a
    grid; bounds for lhs/sobol; ``log`` spacing; ``integer`` rounding).
    """

    key: str
    values: list | None = None
    labels: list[str] | None = None
    low: float | None = None
    high: float | None = None
    num: int | None = None
    log: bool = False
    integer: bool = False
    role: str = "lever"  # "lever" (the operator decides) or "uncertainty" (they do not)

    @property
    def is_range(self) -> bool:
        return self.values is None

    def label_of(self, i: int) -> Any:
        """The design-table value of the ``i``-th categorical value."""
        return self.design_labels()[i]

    def design_labels(self) -> list:
        """Design-table values of the categorical values: scalars as they are, tables as JSON
        (or the given ``labels``), ``false`` on a policy table as ``"off"``; one type per column."""
        if self.labels is not None:
            return list(self.labels)
        out = []
        for v in self.values:
            if v is False and _is_policy_table(self.key):
                out.append("off")
            elif isinstance(v, (dict, list)):
                out.append(json.dumps(v, sort_keys=True))
            else:
                out.append(v)
        kinds = {"bool" if isinstance(x, bool) else "num" if isinstance(x, (int, float)) else "str"
                 for x in out}
        if len(kinds) > 1:  # a Parquet column holds one type
            out = [x if isinstance(x, str) else json.dumps(x) for x in out]
        return out

    def config_value(self, design_value: Any) -> Any:
        """The value to set in the config for a design-table value."""
        if self.values is not None:
            for i, lab in enumerate(self.design_labels()):
                if _same(lab, design_value):
                    return _policy_value(self.key, self.values[i])
            raise KeyError(f"{design_value!r} is not a value of axis `{self.key}`")
        v = float(design_value)
        return int(round(v)) if self.integer else v


def _py(x: Any) -> Any:
    return x.item() if hasattr(x, "item") and not isinstance(x, (list, dict, str)) else x


def _same(a: Any, b: Any) -> bool:
    a, b = _py(a), _py(b)
    num = (int, float)
    if isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def _is_policy_table(key: str) -> bool:
    parts = key.split(".")
    return len(parts) == 2 and parts[0] in _POLICY_FAMILIES


def _policy_value(key: str, v: Any) -> Any:
    # `false` on a policy table switches the policy off (TOML has no null)
    if v is False and _is_policy_table(key):
        return None
    return copy.deepcopy(v)


@dataclass(frozen=True)
class Outcomes:
    """The metrics that matter, with their direction (+1 more is better, -1 less), and the
    collapse definition: a run *collapses* when its active members fall below
    ``active_below`` (or below ``survival_below`` times the starting members) at the end
    (``when = "end"``) or on any day (``when = "any"``). Default: the registry's headline
    metrics, and collapse = ending below half the starting members."""

    metrics: dict[str, int]
    active_below: float | None = None
    survival_below: float | None = 0.5
    when: str = "end"

    def describe(self) -> str:
        """The collapse definition in words."""
        at = "at the end" if self.when == "end" else "on any day"
        if self.active_below is not None:
            return f"fewer than {self.active_below:g} active members {at}"
        if self.survival_below is not None:
            return f"fewer active members {at} than {self.survival_below:.0%} of those it started with"
        return "never (no collapse definition)"


@dataclass(frozen=True)
class Goal:
    """What a strategy review optimises: ``objective`` (a summary metric) with ``sense`` +1
    (maximise) or -1 (minimise), ``max_p_collapse`` (an option-level limit on the probability
    of collapse), and ``require``: per-run bounds ``{metric: (at_least, at_most)}``. A run
    *meets the goal* when it does not collapse and meets every bound."""

    objective: str
    sense: int = 1
    max_p_collapse: float | None = None
    require: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def describe(self) -> str:
        from qunsim.registry import label

        words = [f"{'maximise' if self.sense > 0 else 'minimise'} {label(self.objective, unit=False).lower()}"]
        cons = []
        if self.max_p_collapse is not None:
            cons.append(f"P(collapse) ≤ {self.max_p_collapse:g}")
        for m, (lo, hi) in self.require.items():
            from qunsim.registry import fmt

            if lo is not None:
                cons.append(f"{label(m, unit=False).lower()} ≥ {fmt(m, lo)}")
            if hi is not None:
                cons.append(f"{label(m, unit=False).lower()} ≤ {fmt(m, hi)}")
        return words[0] + (" subject to " + " and ".join(cons) if cons else "")


@dataclass
class SweepSpec:
    """A validated sweep: base config, axes, design, replicates, steps, seed, what to keep.

    Build it with :func:`load_sweep` (a file) or :meth:`from_dict`.
    """

    name: str
    base: Config
    axes: list[Axis]
    design: DesignModel
    replicates: int
    steps: int
    seed: int
    keep: KeepModel
    fixed: dict[str, Any] = field(default_factory=dict)
    source: str = "dict"
    raw: dict = field(default_factory=dict)
    text: str | None = None  # the sweep file as written (for provenance)
    csv_points: Any = None  # kind = "csv": the points (a DataFrame, one column per key)
    bases: dict[str, Config] | None = None  # an axis over scenario files: label -> config
    timeout: float | None = None  # seconds a run may take before it is stopped (local pool)
    pairing: str = "common"  # "common": replicate r has one seed everywhere; "independent"
    outcomes: Outcomes = field(default_factory=lambda: Outcomes(_default_outcome_metrics()))
    goal: Goal | None = None
    base_key: str = "base"  # the axis over whole configs ("base", or "strategy")
    option_labels: dict[str, str] = field(default_factory=dict)  # strategy name -> label

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, data: dict, *, source: str = "dict", root: Path | None = None,
                  text: str | None = None) -> SweepSpec:
        """Validate a sweep given as a dict (relative paths resolve against ``root``)."""
        if not isinstance(data, dict):
            raise ConfigError(f"invalid sweep ({source}): expected a table, got {_fmt_value(data)}")
        data = copy.deepcopy(data)
        try:
            m = SweepModel.model_validate(data)
        except ValidationError as err:
            raise ConfigError(_format(err, source)) from None
        root = Path(root) if root is not None else Path.cwd()
        try:
            fixed = _flatten(m.fixed)
        except _Repeated as e:
            raise ConfigError(f"invalid sweep ({source}): `fixed.{e.args[0]}` is given twice (a quoted "
                              f"dotted key and the same key in a table); give it once") from None

        def with_fixed(cfg: Config) -> Config:
            try:
                return cfg.override(fixed) if fixed else cfg
            except ConfigError as e:
                raise ConfigError(f"invalid sweep ({source}): in `fixed`: {_strip(e)}") from None

        base = with_fixed(_load_base(m.base, source, root))
        design = m.design
        if design.kind == "csv":
            if not design.path:
                raise ConfigError(f"invalid sweep ({source}): `design.path` is required for kind = \"csv\"")
            p = Path(design.path)
            design = design.model_copy(update={"path": str(p if p.is_absolute() else (root / p).resolve())})
        if m.axes and m.levers:
            raise ConfigError(f"invalid sweep ({source}): give `levers` or `axes` (an older name for "
                              f"levers), not both")
        axes = _parse_axes(m.axes or m.levers, design.kind, source, "axes" if m.axes else "levers")
        axes += _parse_axes(m.uncertainties, design.kind, source, "uncertainties", role="uncertainty")
        _no_repeats(axes, source)
        csv_points = None
        if design.kind == "csv":
            if axes:
                raise ConfigError(
                    f"invalid sweep ({source}): `axes` must be empty for kind = \"csv\" (the CSV columns are the axes)")
            csv_points, axes = _read_csv_points(Path(design.path), source)
        if design.kind in ("lhs", "sobol") and design.n is None:
            raise ConfigError(f"invalid sweep ({source}): `design.n` is required for kind = \"{design.kind}\"")
        if design.kind == "sobol" and design.n & (design.n - 1):
            raise ConfigError(
                f"invalid sweep ({source}): `design.n` must be a power of 2 for kind = \"sobol\", got {design.n}")
        if design.kind == "sobol" and any(not a.is_range for a in axes):
            bad = next(a.key for a in axes if not a.is_range)
            raise ConfigError(
                f"invalid sweep ({source}): `axes.{bad}` must be a range (low, high) for a sobol design")
        if not axes and design.kind != "csv":
            raise ConfigError(f"invalid sweep ({source}): `axes` is required (at least one dotted key, "
                              f"under `[levers]` (or `[axes]`) or `[uncertainties]`)")
        _check_size(axes, design, m.replicates, csv_points, source)
        bases = None
        if "base" in [a.key for a in axes]:
            if m.base is not None:
                raise ConfigError(f"invalid sweep ({source}): give either `base` or an axis `axes.base`, not both")
            i = [a.key for a in axes].index("base")
            axes[i], bases = _base_axis(axes[i], source, root, with_fixed)
            base = next(iter(bases.values()))
        if m.steps is None and bases and len({c.run.steps for c in bases.values()}) > 1:
            raise ConfigError(f"invalid sweep ({source}): the scenarios of `axes.base` have different "
                              f"`run.steps`; set `steps` in the sweep file")
        steps = base.run.steps if m.steps is None else m.steps
        spec = cls(name=m.name, base=base, axes=axes, design=design, replicates=m.replicates,
                   steps=steps, seed=m.seed, keep=m.keep, fixed=fixed, source=source, raw=data,
                   text=text, csv_points=csv_points, bases=bases, timeout=m.timeout,
                   pairing=m.pairing, outcomes=_outcomes(m.outcomes, source),
                   goal=_goal(m.goal, source))
        spec._check_values()
        spec._check_size()
        return spec

    def _check_size(self) -> None:
        """Bound the design before anything is planned (named key, stated limit)."""
        if self.design.kind == "grid":
            n = 1
            for a in self.axes:
                n *= len(a.values) if a.values is not None else a.num
            what = "the grid (the product of the axes' numbers of values)"
        elif self.design.kind == "csv":
            n, what = len(self.csv_points), "`design.path` (rows)"
        else:
            d = len(self.axes)
            per = 1 if self.design.kind == "lhs" else d + 2 + (d if self.design.second_order else 0)
            n, what = self.design.n * per, "`design.n`" + ("" if per == 1 else f" x {per} Saltelli rows")
            if self.design.kind == "lhs" and self.levers and self.uncertainties:
                for a in self.axes:
                    if a.role == "lever":
                        n *= len(a.values) if a.values is not None else (a.num or 1)
                what = "`design.n` x the levers' settings"
        if n > MAX_POINTS:
            raise ConfigError(f"invalid sweep ({self.source}): {what} makes {n:,} design points; "
                              f"at most {MAX_POINTS:,} are allowed (split the sweep, or sample it with "
                              f"an lhs design)")
        if n * self.replicates > MAX_RUNS:
            raise ConfigError(f"invalid sweep ({self.source}): {n:,} design points x `replicates` = "
                              f"{self.replicates} makes {n * self.replicates:,} runs; at most "
                              f"{MAX_RUNS:,} are allowed")

    def _check_values(self) -> None:
        """Every axis value (or range end) must make a valid config on its own (with every base)."""
        for a in self.axes:
            if a.key == self.base_key:
                continue
            if a.is_range:
                probes = [a.low, a.high]
                if a.integer:
                    probes = [int(round(x)) for x in probes]
            else:
                probes = [_policy_value(a.key, v) for v in a.values]
            for label, cfg in (self.bases or {None: self.base}).items():
                for v in probes:
                    try:
                        cfg.override({a.key: v})
                    except ConfigError as e:
                        with_base = f" with base {label!r}" if label is not None else ""
                        raise ConfigError(
                            f"invalid sweep ({self.source}): axis `axes.{a.key}` value {_fmt_value(v)}"
                            f"{with_base}: {_strip(e)}") from None

    def config_for(self, row: dict) -> Config:
        """The base config of a design row (its ``base`` / ``strategy`` axis value, if any)."""
        return self.bases[row[self.base_key]] if self.bases else self.base

    def overrides_for(self, row: dict) -> dict[str, Any]:
        """The dotted overrides of a design row (every axis but ``base`` / ``strategy``)."""
        return {a.key: a.config_value(row[a.key]) for a in self.axes if a.key != self.base_key}

    @property
    def levers(self) -> list[str]:
        """The dotted keys the operator decides."""
        return [a.key for a in self.axes if a.role == "lever"]

    @property
    def uncertainties(self) -> list[str]:
        """The dotted keys the operator does not control."""
        return [a.key for a in self.axes if a.role == "uncertainty"]

    def decision(self) -> dict:
        """Levers, uncertainties, pairing, outcomes and goal as plain data (for the manifest
        and the report)."""
        o = self.outcomes
        g = self.goal
        return {
            "levers": self.levers, "uncertainties": self.uncertainties, "pairing": self.pairing,
            "outcomes": {"metrics": dict(o.metrics), "collapse": {
                "active_below": o.active_below, "survival_below": o.survival_below, "when": o.when}},
            "goal": None if g is None else {"objective": g.objective, "sense": g.sense,
                                            "max_p_collapse": g.max_p_collapse,
                                            "require": {k: list(v) for k, v in g.require.items()}},
            "option_labels": dict(self.option_labels), "base_key": self.base_key,
        }

    # ------------------------------------------------------------------ derived
    @property
    def keys(self) -> list[str]:
        return [a.key for a in self.axes]

    @property
    def n_points(self) -> int:
        from qunsim.sweep.design import make_design

        return len(make_design(self))

    @property
    def n_runs(self) -> int:
        return self.n_points * self.replicates

    def fingerprint(self) -> str:
        """A hash of everything that determines the runs (to refuse resuming a changed sweep)."""
        bases = {k: c.to_dict() for k, c in self.bases.items()} if self.bases else self.base.to_dict()
        raw = {k: v for k, v in self.raw.items() if k != "timeout"}  # how runs execute, not what
        blob = json.dumps({"raw": raw, "base": bases, "steps": self.steps},
                          sort_keys=True, default=str)
        if self.design.kind == "csv":
            blob += Path(self.design.path).read_text(encoding="utf-8") if Path(self.design.path).is_file() else ""
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def axis(self, key: str) -> Axis:
        for a in self.axes:
            if a.key == key:
                return a
        raise KeyError(key)


def load_sweep(path: str | Path | dict | SweepSpec) -> SweepSpec:
    """Load and validate a sweep file (or dict, or pass a :class:`SweepSpec` through).

    Raises
    ------
    ConfigError
        one paragraph naming the file, the key and what was expected.
    """
    if isinstance(path, SweepSpec):
        return path
    if isinstance(path, dict):
        if "strategies" in path:
            raise ConfigError("invalid sweep (dict): a strategies table needs a file (its base "
                              "scenario is a path relative to it); use qunsim.sweep.spec.load_sweep(path)")
        return SweepSpec.from_dict(path)
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"invalid sweep ({path}): file not found")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid sweep ({path}): not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"invalid sweep ({path}): not a UTF-8 text file") from None
    if "strategies" in data:
        return _strategies_spec(path, data, text)
    return SweepSpec.from_dict(data, source=str(path), root=path.parent, text=text)


def _strategies_spec(path: Path, data: dict, text: str) -> SweepSpec:
    """A strategies file as a sweep: one lever, ``strategy``, over the strategies' configs."""
    from qunsim.strategies import SWEEP_KEYS, load_strategies

    source = str(path)
    st = load_strategies(path)
    rest = {k: v for k, v in data.items() if k in SWEEP_KEYS}
    if "levers" in data or "axes" in data:
        raise ConfigError(f"invalid sweep ({source}): a strategies file has one lever, the strategy; "
                          f"vary the rest with `[uncertainties]` (or write a sweep file)")
    probe = {**rest, "replicates": st.replicates, "seed": st.seed, "steps": st.steps,
             "levers": {"community.name": [st.base.community.name]}}
    m = SweepSpec.from_dict(probe, source=source, root=path.parent, text=text)  # validates the rest
    names = list(st.strategies)
    bases = {}
    for n in names:
        cfg = st.strategies[n].config
        try:
            bases[n] = cfg.override(m.fixed) if m.fixed else cfg
        except ConfigError as e:
            raise ConfigError(f"invalid sweep ({source}): in `fixed`, strategy `{n}`: {_strip(e)}") from None
    lever = Axis("strategy", values=names, labels=names)
    axes = [lever, *[a for a in m.axes if a.role == "uncertainty"]]
    spec = SweepSpec(name=data.get("name", path.stem) if isinstance(data.get("name"), str) else path.stem,
                     base=bases[names[0]], axes=axes, design=m.design, replicates=m.replicates,
                     steps=m.steps, seed=m.seed, keep=m.keep, fixed=m.fixed, source=source, raw=data,
                     text=text, bases=bases, timeout=m.timeout, pairing=m.pairing,
                     outcomes=m.outcomes, goal=m.goal, base_key="strategy",
                     option_labels={n: st.strategies[n].label for n in names})
    spec._check_values()
    spec._check_size()
    return spec


def _default_outcome_metrics() -> dict[str, int]:
    from qunsim.registry import HEADLINE, direction

    return {k: direction(k) or 1 for k in HEADLINE}


def _known_metric(name: str, where: str, source: str) -> str:
    from qunsim.registry import METRICS

    prefixes = ("left_",)
    if not isinstance(name, str) or not (name in METRICS or name.startswith(prefixes)):
        known = ", ".join(k for k, v in METRICS.items() if not v.reporter)
        raise ConfigError(f"invalid sweep ({source}): `{where}` names an unknown summary metric "
                          f"{_fmt_value(name)}; known: {known}")
    return name


def _outcomes(m: OutcomesModel, source: str) -> Outcomes:
    from qunsim.registry import direction

    if m.metrics is None:
        mets = _default_outcome_metrics()
    elif isinstance(m.metrics, list):
        if not m.metrics:
            raise ConfigError(f"invalid sweep ({source}): `outcomes.metrics` must name at least one metric")
        mets = {_known_metric(k, "outcomes.metrics", source): direction(k) or 1 for k in m.metrics}
    else:
        mets = {_known_metric(k, f"outcomes.metrics.{k}", source): (1 if v == "max" else -1)
                for k, v in m.metrics.items()}
    c = m.collapse
    if c is False:
        return Outcomes(mets, None, None, "end")
    if c is None:
        return Outcomes(mets)
    if c is True:
        raise ConfigError(f"invalid sweep ({source}): `outcomes.collapse` must be a table such as "
                          f"{{ active_below = 30 }} or false, got true")
    try:
        c = CollapseModel.model_validate(c)
    except ValidationError as err:
        raise ConfigError(_format(err, source).replace("`", "`outcomes.collapse.", 1)) from None
    if c.active_below is not None and c.survival_below is not None:
        raise ConfigError(f"invalid sweep ({source}): `outcomes.collapse` gives both `active_below` and "
                          f"`survival_below`; give one")
    if c.active_below is None and c.survival_below is None:
        raise ConfigError(f"invalid sweep ({source}): `outcomes.collapse` needs `active_below` (members) "
                          f"or `survival_below` (a share of the starting members), or `collapse = false`")
    return Outcomes(mets, c.active_below, c.survival_below, c.when)


def _goal(m: GoalModel | None, source: str) -> Goal | None:
    if m is None:
        return None
    if (m.maximise is None) == (m.minimise is None):
        raise ConfigError(f"invalid sweep ({source}): `goal` needs exactly one of `maximise` or "
                          f"`minimise` (a summary metric such as \"revenue_total\")")
    obj = m.maximise if m.maximise is not None else m.minimise
    key = "goal.maximise" if m.maximise is not None else "goal.minimise"
    req = {}
    for k, b in m.require.items():
        _known_metric(k, f"goal.require.{k}", source)
        if b.at_least is None and b.at_most is None:
            raise ConfigError(f"invalid sweep ({source}): `goal.require.{k}` needs `at_least` or `at_most`")
        for v in (b.at_least, b.at_most):
            if v is not None and not math.isfinite(v):
                raise ConfigError(f"invalid sweep ({source}): `goal.require.{k}` bounds must be finite, got {v}")
        req[k] = (b.at_least, b.at_most)
    return Goal(_known_metric(obj, key, source), 1 if m.maximise is not None else -1,
                m.max_p_collapse, req)


def _no_repeats(axes: list[Axis], source: str) -> None:
    seen: dict[str, str] = {}
    for a in axes:
        if a.key in seen:
            raise ConfigError(f"invalid sweep ({source}): `{a.key}` is given twice (as {seen[a.key]} and "
                              f"as {a.role}); a key is one lever or one uncertainty, once")
        seen[a.key] = a.role


# ---------------------------------------------------------------------- helpers


def _check_size(axes: list, design: Any, replicates: int, csv_points: Any, source: str) -> None:
    """Refuse a design whose runs (points x replicates) exceed MAX_RUNS, before building it."""
    if design.kind == "csv":
        points, where = len(csv_points), "the CSV's rows"
    elif design.kind == "lhs":
        points, where = design.n, "`design.n`"
    elif design.kind == "sobol":
        d = len(axes)
        points, where = design.n * (d + 2 + (d if design.second_order else 0)), "`design.n` x (axes + 2)"
    else:
        points, where = math.prod(len(a.values) if a.values is not None else (a.num or 1) for a in axes), \
            "the product of the axes' sizes"
    if points * replicates > MAX_RUNS:
        raise ConfigError(
            f"invalid sweep ({source}): the design has {points:,} points ({where}) x {replicates:,} "
            f"replicates = {points * replicates:,} runs, more than the limit {MAX_RUNS:,}; use fewer "
            f"points or replicates, or split the sweep")


def _format(err: ValidationError, source: str) -> str:
    import re

    found: dict[str, list] = {}  # key -> [whats, value]; unions report one error per branch
    for e in err.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"] if not str(p).startswith(("literal[", "list[", "dict[", "str")))
        loc = loc or ".".join(str(p) for p in e["loc"][:1])
        what = _fmt_msg(e["msg"])
        what = re.sub(r" or instance of \w+", "", what).replace("a valid dictionary", "a table")
        if e["type"] == "extra_forbidden":
            from qunsim.hints import did_you_mean, fields_at

            where = ".".join(str(p) for p in e["loc"][:-1])
            what += did_you_mean(str(e["loc"][-1]), fields_at(SweepModel, e["loc"][:-1]),
                                 prefix=where + "." if where else "")
            found.setdefault(loc, [[], None, True])[0].append(what)
        else:
            entry = found.setdefault(loc, [[], e.get("input"), False])
            entry[0].append(what)
    parts = []
    for loc, (whats, value, extra) in found.items():
        whats = list(dict.fromkeys(whats))
        text = whats[0] + "".join(" or " + w.removeprefix("must be ") for w in whats[1:])
        parts.append(f"`{loc}` {text}" if extra else f"`{loc}` {text}, got {_fmt_value(value)}")
    return f"invalid sweep ({source}): " + "; ".join(parts)


def _strip(e: ConfigError) -> str:
    msg = str(e)
    return msg.split("): ", 1)[1] if msg.startswith("invalid ") and "): " in msg else msg


def _load_base(base: Any, source: str, root: Path, where: str = "base") -> Config:
    if base is None:
        return load_config(None)
    if isinstance(base, str):
        p = Path(base)
        p = p if p.is_absolute() else (root / p)
        if not p.is_file():
            raise ConfigError(f"invalid sweep ({source}): `{where}` names a scenario file that does not exist: {p}")
        try:
            return load_config(p)
        except ConfigError as e:
            raise ConfigError(f"invalid sweep ({source}): `{where}` scenario {p}: {_strip(e)}") from None
    try:
        cfg = Config(base, source=f"{source} [{where}]")
    except ConfigError as e:
        raise ConfigError(f"invalid sweep ({source}): in `{where}`: {_strip(e)}") from None
    return cfg


def _base_axis(ax: Axis, source: str, root: Path, with_fixed) -> tuple[Axis, dict[str, Config]]:
    """An axis over whole scenarios: ``base = ["a.toml", "b.toml"]`` (labels default to stems)."""
    if ax.is_range or not all(isinstance(v, str) for v in ax.values):
        raise ConfigError(f"invalid sweep ({source}): `axes.base` must be a list of scenario file paths")
    labels = ax.labels if ax.labels is not None else [Path(v).stem for v in ax.values]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"invalid sweep ({source}): `axes.base` needs distinct labels (give `labels = [...]`)")
    bases = {lab: with_fixed(_load_base(v, source, root, where="axes.base")) for lab, v in zip(labels, ax.values, strict=True)}
    return Axis("base", values=list(ax.values), labels=list(labels), role=ax.role), bases


class _Repeated(ValueError):
    """A dotted key reached twice while flattening (quoted and as a table)."""


def _flatten(d: dict, prefix: str = "", *, leaf=None) -> dict[str, Any]:
    """``{"a": {"b": 1}} -> {"a.b": 1}``; ``leaf(value)`` says when to stop descending.

    A key reached twice (``"a.b" = 1`` and ``[a] b = 2``) raises :class:`_Repeated`.
    """
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v and not (leaf and leaf(key, v)) and not _is_policy_leaf(key, v, leaf):
            items = _flatten(v, key, leaf=leaf).items()
        else:
            items = [(key, v)]
        for kk, vv in items:
            if kk in out:
                raise _Repeated(kk)
            out[kk] = vv
    return out


def _is_policy_leaf(key: str, v: dict, leaf) -> bool:
    # in `fixed`, a whole policy table (`activity.spam_moderation = {precision = 0.9}`) is a value
    return leaf is None and _is_policy_table(key)


def _read_csv_points(path: Path, source: str):
    import pandas as pd

    where = f"`design.path` ({path})"
    if not path.is_file():
        raise ConfigError(f"invalid sweep ({source}): {where} names a file that does not exist")
    try:
        pts = pd.read_csv(path)
    except Exception as e:  # noqa: BLE001 - any parse failure is a user error
        raise ConfigError(f"invalid sweep ({source}): {where} is not a readable CSV file: {e}") from None
    if pts.empty or not len(pts.columns):
        raise ConfigError(f"invalid sweep ({source}): {where} has no points (expected a header of dotted keys and one row per point)")
    if pts.isna().any().any():
        col = pts.columns[pts.isna().any()][0]
        row = int(pts[col].isna().to_numpy().argmax()) + 2
        raise ConfigError(f"invalid sweep ({source}): {where} has an empty cell in column `{col}` (line {row})")
    axes = []
    for col in pts.columns:
        vals = list(dict.fromkeys(_py(x) for x in pts[col]))
        axes.append(Axis(str(col), values=vals))
    pts.columns = [str(c) for c in pts.columns]
    return pts.reset_index(drop=True), axes


def _axis_leaf(key: str, v: dict) -> bool:
    # a table giving values or a range is an axis (its unknown keys are then reported as such)
    return bool(v) and ("values" in v or "low" in v or "high" in v)


def _parse_axes(raw: dict, kind: str, source: str, section: str = "axes",
                role: str = "lever") -> list[Axis]:
    try:
        flat = _flatten(raw, leaf=_axis_leaf)
    except _Repeated as e:
        raise ConfigError(f"invalid sweep ({source}): `{section}.{e.args[0]}` is given twice (a quoted "
                          f"dotted key and the same key in a table); give it once") from None
    axes = []
    for key, spec in flat.items():
        where = f"{section}.{key}"
        if isinstance(spec, list):
            spec = {"values": spec}
        if not isinstance(spec, dict):
            raise ConfigError(
                f"invalid sweep ({source}): `{where}` must be a list of values or a table "
                f"{{values = [...]}} or {{low = ..., high = ...}}, got {_fmt_value(spec)}")
        try:
            m = AxisModel.model_validate(spec)
        except ValidationError as err:
            raise ConfigError(_format(err, source).replace("`", f"`{where}.", 1)) from None
        if m.values is not None:
            if m.low is not None or m.high is not None:
                raise ConfigError(f"invalid sweep ({source}): `{where}` gives both values and low/high; give one")
            if not m.values:
                raise ConfigError(f"invalid sweep ({source}): `{where}.values` must not be empty")
            if m.labels is not None and len(m.labels) != len(m.values):
                raise ConfigError(
                    f"invalid sweep ({source}): `{where}.labels` must have one label per value "
                    f"({len(m.values)}), got {len(m.labels)}")
            ax = Axis(key, values=list(m.values), labels=m.labels, role=role)
            labels = ax.design_labels()
            norm = [float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else x
                    for x in labels]  # 1 and 1.0 are one value: never two identical points
            if len({json.dumps(x, sort_keys=True, default=str) for x in norm}) != len(labels):
                raise ConfigError(f"invalid sweep ({source}): `{where}` has repeated values or labels "
                                  f"(1 and 1.0 are the same value); give each once")
        else:
            if m.low is None or m.high is None:
                raise ConfigError(f"invalid sweep ({source}): `{where}` needs both `low` and `high` (or `values`)")
            if not (math.isfinite(m.low) and math.isfinite(m.high)) or m.high < m.low:
                raise ConfigError(
                    f"invalid sweep ({source}): `{where}` needs finite low <= high, got low={m.low}, high={m.high}")
            if m.log and m.low <= 0:
                raise ConfigError(f"invalid sweep ({source}): `{where}.low` must be > 0 with log = true, got {m.low}")
            if kind == "grid" and m.num is None:
                raise ConfigError(f"invalid sweep ({source}): `{where}.num` (number of grid points) is required for a grid range")
            ax = Axis(key, low=float(m.low), high=float(m.high), num=m.num, log=m.log, integer=m.integer,
                      role=role)
        axes.append(ax)
    return axes


def decision_from_manifest(manifest: dict, design: Any = None) -> dict:
    """Levers, uncertainties, pairing, outcomes and goal of a sweep already run, read back from
    its manifest (the sweep file as resolved) without loading its scenario files.

    ``pairing`` is read from the seeds in ``design`` when given (one seed per replicate
    across every point: "common"), so a store made before pairing existed reports what it did.
    """
    raw = ((manifest.get("sweep") or {}).get("resolved")) or {}
    source = str((manifest.get("sweep") or {}).get("source") or "manifest")
    axes = list(manifest.get("axes") or [])
    names: dict[str, str] = {}
    if isinstance(raw.get("strategies"), dict):
        names = {str(k): str((v or {}).get("label", k)) if isinstance(v, dict) else str(k)
                 for k, v in raw["strategies"].items()}
    try:
        unc = list(_flatten(raw.get("uncertainties") or {}, leaf=_axis_leaf))
    except _Repeated:
        unc = []
    unc = [a for a in axes if a in unc]
    try:
        m = SweepModel.model_validate({k: v for k, v in raw.items()
                                       if k in ("outcomes", "goal")})
        outcomes, goal = _outcomes(m.outcomes, source), _goal(m.goal, source)
    except (ValidationError, ConfigError):
        outcomes, goal = Outcomes(_default_outcome_metrics()), None
    pairing = raw.get("pairing", "common")
    if design is not None and len(design) and {"replicate", "seed", "point"} <= set(design.columns) \
            and design["point"].nunique() > 1:  # what the seeds say, whatever the file says
        same = bool((design.groupby("replicate")["seed"].nunique() == 1).all())
        pairing = "common" if same else "independent"
    spec_like = SweepSpec.__new__(SweepSpec)
    spec_like.__dict__.update(axes=[Axis(a, values=[0], role="uncertainty" if a in unc else "lever") for a in axes],
                              pairing=pairing, outcomes=outcomes, goal=goal, option_labels=names,
                              base_key="strategy" if names else "base")
    return SweepSpec.decision(spec_like)
