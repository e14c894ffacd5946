"""Sweep files: schema, loading and validation.

A sweep file is TOML. It names a base scenario, the axes to vary, the design that samples
them, replicates, steps, a root seed and what to keep::

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

    [axes]
    "community.chatter_share" = [0.0, 0.1, 0.2, 0.3]
    "dynamics.chatter_contagion" = { low = 0.0, high = 4.0, num = 3 }
    "activity.spam_moderation" = { values = [false, { precision = 0.9 }], labels = ["off", "on"] }

    [keep]
    timeseries = ["active", "low_quality_share"]   # or "all", or [] for none
    period = 5                                     # keep every 5th step (and the last)
    summary = "all"                                # or a list of summary keys

Every error is a :class:`~qunsim.config.ConfigError` of one paragraph naming the file and
the dotted key.

Examples
--------
>>> spec = SweepSpec.from_dict({"steps": 10, "replicates": 2,
...     "axes": {"community.chatter_share": [0.0, 0.2]}})
>>> spec.axes[0].key, spec.axes[0].values, spec.n_runs
('community.chatter_share', [0.0, 0.2], 4)
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

from qunsim.config import Config, ConfigError, _fmt_msg, _fmt_value, load_config

__all__ = ["SweepSpec", "Axis", "load_sweep", "AXIS_KEYS"]

AXIS_KEYS = frozenset({"values", "labels", "low", "high", "num", "log", "integer"})
_POLICY_FAMILIES = ("gate", "activity", "monetization")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DesignModel(_Strict):
    kind: Literal["grid", "lhs", "sobol", "csv"] = "grid"
    n: int | None = Field(default=None, ge=1)  # lhs: points; sobol: base samples (power of 2)
    path: str | None = None  # csv: a file of points, one column per dotted key
    second_order: bool = False  # sobol: also sample the BA matrices (second-order indices)
    scramble: bool = True  # lhs/sobol: randomised (seeded from the root seed)


class KeepModel(_Strict):
    timeseries: Literal["all"] | list[str] = "all"
    period: int = Field(default=1, ge=1)
    summary: Literal["all"] | list[str] = "all"


class AxisModel(_Strict):
    values: list[Any] | None = None
    labels: list[str] | None = None
    low: float | None = None
    high: float | None = None
    num: int | None = Field(default=None, ge=1)
    log: bool = False
    integer: bool = False


class SweepModel(_Strict):
    name: str = "sweep"
    base: str | dict[str, Any] | None = None
    steps: int | None = Field(default=None, ge=0)
    replicates: int = Field(default=1, ge=1)
    seed: int = Field(default=0, ge=0)
    fixed: dict[str, Any] = Field(default_factory=dict)
    design: DesignModel = DesignModel()
    axes: dict[str, Any] = Field(default_factory=dict)
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
        fixed = _flatten(m.fixed)

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
        axes = _parse_axes(m.axes, design.kind, source)
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
            raise ConfigError(f"invalid sweep ({source}): `axes` is required (at least one dotted key)")
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
                   text=text, csv_points=csv_points, bases=bases, timeout=m.timeout)
        spec._check_values()
        return spec

    def _check_values(self) -> None:
        """Every axis value (or range end) must make a valid config on its own (with every base)."""
        for a in self.axes:
            if a.key == "base":
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
        """The base config of a design row (its ``base`` axis value, if the sweep has one)."""
        return self.bases[row["base"]] if self.bases else self.base

    def overrides_for(self, row: dict) -> dict[str, Any]:
        """The dotted overrides of a design row (every axis but ``base``)."""
        return {a.key: a.config_value(row[a.key]) for a in self.axes if a.key != "base"}

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
    return SweepSpec.from_dict(data, source=str(path), root=path.parent, text=text)


# ---------------------------------------------------------------------- helpers


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
    return Axis("base", values=list(ax.values), labels=list(labels)), bases


def _flatten(d: dict, prefix: str = "", *, leaf=None) -> dict[str, Any]:
    """``{"a": {"b": 1}} -> {"a.b": 1}``; ``leaf(value)`` says when to stop descending."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v and not (leaf and leaf(key, v)) and not _is_policy_leaf(key, v, leaf):
            out.update(_flatten(v, key, leaf=leaf))
        else:
            out[key] = v
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


def _parse_axes(raw: dict, kind: str, source: str) -> list[Axis]:
    flat = _flatten(raw, leaf=_axis_leaf)
    axes = []
    for key, spec in flat.items():
        where = f"axes.{key}"
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
            ax = Axis(key, values=list(m.values), labels=m.labels)
            labels = ax.design_labels()
            if len({json.dumps(x, sort_keys=True, default=str) for x in labels}) != len(labels):
                raise ConfigError(f"invalid sweep ({source}): `{where}` has repeated values or labels")
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
            ax = Axis(key, low=float(m.low), high=float(m.high), num=m.num, log=m.log, integer=m.integer)
        axes.append(ax)
    return axes
