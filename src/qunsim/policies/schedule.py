"""Scheduled and triggered policies: when a policy is switched on and off during a run.

Any policy table accepts four keys besides its parameters::

    [activity.chatter_moderation]
    mode = "community"
    start = 30                                   # first day it may be on (default 0)
    stop = 400                                   # first day it is off for good (default: never)
    when = { metric = "low_quality_share", above = 0.4, for_days = 7 }
    until = { metric = "low_quality_share", below = 0.2, for_days = 14 }

A trigger (``when``, ``until``) names one column of the time series (``metric``), one
comparison (``above = x``: value > x, or ``below = x``: value < x) and a duration
(``for_days``, default 1: the comparison held on each of the last ``for_days`` days). Configs
stay data: nothing is evaluated.

Semantics (day ``t`` runs after the metrics row of day ``t - 1`` is recorded; triggers read
the rows of days ``0 .. t - 1``, never today's):

* the policy can be on only on days ``start <= t < stop``;
* while off, it switches on on the first such day on which ``when`` has held for
  ``for_days`` days (no ``when``: once, on the first day of the window);
* while on, it switches off on the first day on which ``until`` has held for its
  ``for_days`` days, or at ``stop``; a policy with a ``when`` can switch on again later
  (thermostat), one without stays off;
* a policy is *set up* (its ``setup`` hook) at the start of the first day it is on, so it
  behaves as if it started then; while off its state is kept, and when it switches on again
  it resumes with that state (no second setup); policies that follow a calendar (events every
  ``k`` days, a rung's cadence) keep it;
* while off, none of its hooks runs (a gate admits everyone, a referral boost is 1, a curation
  policy does not curate); its ``metrics`` hook runs every day once it has been set up, so its
  columns exist on days off (counters read 0, cumulative ones hold);
* the time series gets a column ``policy_<name>_active`` (1 on days on, else 0).

A key the policy declares as a parameter of its own keeps that meaning: ``monetization.ads``
has its own ``start`` (the first day ads are posted), so an ads table schedules with ``stop``,
``when`` and ``until`` only.

Examples
--------
>>> import qunsim as qs
>>> m = qs.CommunityModel(rng=1, **{"community.n_seed": 60, "community.n_prospects": 300,
...     "activity.curation": {"start": 5, "stop": 9}})
>>> m.run_for(12)
>>> m.timeseries()["policy_curation_active"].tolist()
[0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]
>>> m.policies["activity"][0].schedule.switches
[(5, True), (9, False)]
"""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qunsim import registry
from qunsim.hints import closest

__all__ = ["Trigger", "ScheduleSpec", "Schedule", "SCHEDULE_KEYS", "scheduled_class", "build_policy",
           "pop_schedule", "check_columns", "known_metric", "policy_periods",
           "describe_periods", "shade_policy_periods", "schedule_tables"]

SCHEDULE_KEYS = ("start", "stop", "when", "until")
HOOKS = ("admit", "on_join", "on_posting", "on_messages", "after_reading", "on_step_end",
         "referral_boost")


def known_metric(name: str, extra: frozenset | set = frozenset()) -> bool:
    """Whether ``name`` is a time-series column a trigger may read: a column of the metrics
    row in the registry (:func:`qunsim.registry.is_series`) or one of ``extra`` (the columns
    the config's plug-in policies declare).

    >>> known_metric("low_quality_share"), known_metric("revenue_rung_low"), known_metric("nonsense")
    (True, True, False)
    """
    return name in extra or registry.is_series(name)


def _number(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError("must be a number")
    if not math.isfinite(v):
        raise ValueError("must be a finite number")
    return float(v)


class Trigger(BaseModel):
    """A declarative condition on one time-series column: ``metric`` above or below a value on
    each of the last ``for_days`` days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    above: float | None = None
    below: float | None = None
    for_days: int = Field(default=1, ge=1, strict=True)

    @field_validator("metric", mode="before")
    @classmethod
    def _metric(cls, v, info):
        if not isinstance(v, str):
            raise ValueError(f"must be the name of a time-series column, got {v!r}")
        ctx = info.context or {}
        extra = ctx.get("extra", frozenset())
        if not ctx.get("checked") and not known_metric(v, extra):
            close = closest(v, sorted(registry.SERIES | set(extra)))
            hint = f" (did you mean {close!r}?)" if close else ""
            raise ValueError(f"unknown metric {v!r}{hint}; expected a time-series column such as "
                             f"'active', 'low_quality_share', 'revenue_cumulative', 'trust_mean'")
        return v

    @field_validator("above", "below", mode="before")
    @classmethod
    def _num(cls, v):
        return None if v is None else _number(v)

    @model_validator(mode="after")
    def _one(self):
        if (self.above is None) == (self.below is None):
            raise ValueError("needs exactly one of `above` or `below`, got "
                             + ("both" if self.above is not None else "neither"))
        return self

    def test(self, value: float) -> bool:
        """The comparison on one value (strict: above means greater than)."""
        return value > self.above if self.above is not None else value < self.below

    def holds(self, rows: list[dict]) -> bool:
        """Whether the comparison held on each of the last ``for_days`` rows (a column a row
        lacks reads 0: nothing of it happened that day).

        >>> t = Trigger(metric="active", above=2, for_days=2)
        >>> t.holds([{"active": 3}]), t.holds([{"active": 3}, {"active": 4}]), t.holds([{"active": 4}, {"active": 1}])
        (False, True, False)
        """
        k = self.for_days
        if len(rows) < k:
            return False
        return all(self.test(float(r.get(self.metric, 0.0))) for r in rows[-k:])

    def describe(self) -> str:
        op = f"above {self.above:g}" if self.above is not None else f"below {self.below:g}"
        days = "" if self.for_days == 1 else f" for {self.for_days} days"
        return f"{self.metric} {op}{days}"


class ScheduleSpec(BaseModel):
    """The schedule keys of one policy table (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: int = Field(default=0, ge=0, strict=True)
    stop: int | None = Field(default=None, ge=1, strict=True)
    when: Trigger | None = None
    until: Trigger | None = None

    @model_validator(mode="after")
    def _window(self):
        if self.stop is not None and self.stop <= self.start:
            raise ValueError(f"`stop` ({self.stop}) must be after `start` ({self.start})")
        return self

    def to_table(self) -> dict:
        """The keys as they are written in a config (absent ones left out)."""
        return self.model_dump(mode="python", exclude_none=True, exclude_defaults=False)


class Schedule:
    """The running state of one policy's schedule: whether it is on today, whether it has been
    set up, and every switch so far (``switches``: ``(day, on)`` pairs)."""

    def __init__(self, spec: ScheduleSpec, family: str, name: str):
        self.spec = spec
        self.family = family
        self.name = name
        self.column = f"policy_{name}_active"
        self.active = False
        self.ready = False  # setup has run
        self.started = False  # has ever been on
        self.day = 0  # last day decided (day 0: construction, always off)
        self.switches: list[tuple[int, bool]] = []

    def decide(self, day: int, rows: list[dict]) -> bool:
        """Whether the policy is on on ``day``, given the metrics rows of the days before."""
        s = self.spec
        if day < s.start or (s.stop is not None and day >= s.stop):
            return False
        off_signal = s.until is not None and s.until.holds(rows)
        if self.active:
            return not off_signal
        if off_signal:
            return False
        if s.when is None:
            return not self.started
        return s.when.holds(rows)

    def sync(self, policy, model) -> bool:
        """Bring the schedule to the model's current day (setting the policy up when it first
        switches on); return whether it is on today."""
        t = int(model.steps)
        if t > self.day:
            rows = model.metrics.rows
            for d in range(self.day + 1, t + 1):
                on = self.decide(d, rows[:d])
                if on != self.active:
                    self.switches.append((d, on))
                    self.active = on
                    if on:
                        self.started = True
                if on and not self.ready:
                    self.ready = True
                    policy._base_setup(model)
            self.day = t
        return self.active

    # checkpoints: plain data only
    def state(self) -> dict:
        return {"active": self.active, "ready": self.ready, "started": self.started,
                "day": self.day, "switches": [[d, on] for d, on in self.switches]}

    def load(self, state: dict) -> None:
        self.active = bool(state["active"])
        self.ready = bool(state["ready"])
        self.started = bool(state["started"])
        self.day = int(state["day"])
        self.switches = [(int(d), bool(on)) for d, on in state["switches"]]


class _ScheduledMixin:
    """Base of the scheduled subclasses :func:`scheduled_class` makes."""

    scheduled: ClassVar[bool] = True
    _base: ClassVar[type]
    schedule: Schedule

    def _base_setup(self, model) -> None:
        self._base.setup(self, model)

    def setup(self, model) -> None:  # deferred to the first day on (see Schedule.sync)
        return None

    def begin_day(self, model) -> None:
        """Called by the model at the start of each day: decide on/off (and set up)."""
        self.schedule.sync(self, model)

    def metrics(self, model, ctx) -> dict:
        on = self.schedule.sync(self, model) if ctx is not None else False
        out = {}
        base = getattr(self._base, "metrics", None)
        if base is not None and self.schedule.ready:
            out.update(base(self, model, ctx))
        out[self.schedule.column] = int(on)
        return out


def _hook(name: str, base: type):
    fn = getattr(base, name)

    if name == "admit":
        def hook(self, model, candidates, referred, rng):
            if self.schedule.sync(self, model):
                return fn(self, model, candidates, referred, rng)
            return np.ones(len(candidates), dtype=bool)
    elif name == "referral_boost":
        def hook(self, model, inviters):
            if self.schedule.sync(self, model):
                return fn(self, model, inviters)
            return np.ones(len(inviters))
    else:
        def hook(self, model, *args, **kwargs):
            if self.schedule.sync(self, model):
                return fn(self, model, *args, **kwargs)
            return None
    hook.__name__ = name
    hook.__doc__ = fn.__doc__
    return hook


_CLASSES: dict[type, type] = {}


def scheduled_class(cls: type) -> type:
    """The subclass of policy class ``cls`` whose hooks run only while its schedule is on.

    It is a subclass, so ``isinstance`` checks and the policy's own methods work as before.
    """
    if getattr(cls, "scheduled", False):
        return cls
    if cls not in _CLASSES:
        ns: dict[str, Any] = {"_base": cls, "__module__": __name__,
                              "__doc__": f"{cls.__name__}, switched on and off by a schedule."}
        for name in HOOKS:
            if callable(getattr(cls, name, None)):
                ns[name] = _hook(name, cls)
        base_curates = getattr(cls, "curates", False)
        if base_curates:
            ns["curates"] = property(lambda self: bool(self.schedule.active))
        _CLASSES[cls] = type(f"Scheduled{cls.__name__}", (_ScheduledMixin, cls), ns)
    return _CLASSES[cls]


def _declared_metrics(data: dict | None) -> frozenset:
    """Columns the policy classes of a config declare (``metric_names``)."""
    from qunsim.policies.base import FAMILIES, PolicyError, resolve_class

    names: set[str] = set()
    for fam in FAMILIES:
        for name, table in ((data or {}).get(fam) or {}).items():
            if isinstance(table, dict):
                try:
                    names.update(getattr(resolve_class(fam, name, table), "metric_names", ()) or ())
                except PolicyError:
                    pass
    return frozenset(names)


def pop_schedule(params: dict, cls: type, where: str, source: str, data: dict | None = None) -> dict:
    """Remove the schedule keys from a policy table's ``params`` (in place) and validate them.

    Returns the validated keys as a table (empty when the policy is not scheduled). A key the
    policy declares as a parameter of its own (``start`` of ``ads``) is left to the policy.
    ``data`` (the config's tables) lets triggers read columns that its policies declare.
    Raises :class:`~qunsim.config.ConfigError` naming the file and the key.
    """
    from qunsim.config import ConfigError, format_validation_error

    own = set(getattr(getattr(cls, "Params", None), "model_fields", {}) or {})
    raw = {k: params.pop(k) for k in SCHEDULE_KEYS if k in params and k not in own}
    if not raw:
        return {}
    for k in ("when", "until"):
        if k in raw and not isinstance(raw[k], dict):
            raise ConfigError(f"invalid config ({source}): `{where}.{k}` must be a table like "
                              f"{{ metric = \"active\", above = 300 }}, got {raw[k]!r}")
    extra = _declared_metrics(data) | frozenset(getattr(cls, "metric_names", ()) or ())
    try:
        spec = ScheduleSpec.model_validate(raw, context={"extra": extra})
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source, prefix=where)) from None
    return spec.to_table()


def build_policy(family: str, name: str, cls: type, params: dict):
    """Instantiate a policy from its validated table (``params`` without ``class``/``enabled``);
    a table with schedule keys gives the scheduled subclass."""
    params = dict(params)
    own = set(cls.Params.model_fields)
    sched = {k: params.pop(k) for k in SCHEDULE_KEYS if k in params and k not in own}
    p = cls.Params.model_validate(params)
    if not sched:
        return cls(p)
    # the metric names were checked when the config was validated (with every policy's names)
    spec = ScheduleSpec.model_validate(sched, context={"checked": True})
    pol = scheduled_class(cls)(p)
    pol.schedule = Schedule(spec, family, name)
    return pol


def check_names(data: dict, source: str) -> None:
    """Config-time form of :func:`check_columns`: scheduled tables of a resolved config dict."""
    from qunsim.config import ConfigError

    seen: dict[str, str] = {}
    for fam in ("gate", "activity", "monetization"):
        for name, table in (data.get(fam) or {}).items():
            if isinstance(table, dict) and any(k in table for k in ("when", "until", "stop")) or (
                    isinstance(table, dict) and "start" in table and not _own_start(fam, name, table)):
                if name in seen:
                    raise ConfigError(f"invalid config ({source}): `{seen[name]}.{name}` and `{fam}.{name}` "
                                      f"are both scheduled and would share the column `policy_{name}_active`; "
                                      f"rename one")
                seen[name] = fam


def _own_start(fam: str, name: str, table: dict) -> bool:
    from qunsim.policies.base import PolicyError, resolve_class

    try:
        return "start" in resolve_class(fam, name, table).Params.model_fields
    except PolicyError:
        return False


def check_columns(policies: dict) -> None:
    """Two scheduled policies may not share a name (their ``policy_<name>_active`` column)."""
    from qunsim.config import ConfigError

    seen: dict[str, str] = {}
    for fam in policies.values():
        for pol in fam:
            s = getattr(pol, "schedule", None)
            if isinstance(s, Schedule):
                if s.column in seen:
                    raise ConfigError(f"invalid config: `{seen[s.column]}` and `{s.family}.{s.name}` are "
                                      f"both scheduled and would share the column `{s.column}`; rename one")
                seen[s.column] = f"{s.family}.{s.name}"


# ------------------------------------------------------------------------------ reading periods


def policy_periods(ts) -> dict[str, list[tuple[int, int | None]]]:
    """The days each scheduled policy was on, from a time series: ``{name: [(first, last), ...]}``
    with ``last = None`` when it was still on at the end.

    >>> import pandas as pd
    >>> ts = pd.DataFrame({"step": range(8), "policy_x_active": [0, 1, 1, 0, 0, 1, 1, 1]})
    >>> policy_periods(ts)
    {'x': [(1, 2), (5, None)]}
    """
    out: dict[str, list[tuple[int, int | None]]] = {}
    steps = np.asarray(ts["step"]) if "step" in ts else np.arange(len(ts))
    for col in ts.columns:
        m = re.match(r"^policy_(.+)_active$", str(col))
        if not m:
            continue
        on = np.asarray(ts[col], dtype=float) > 0.5
        spans: list[tuple[int, int | None]] = []
        start = None
        for i, v in enumerate(on):
            if v and start is None:
                start = i
            elif not v and start is not None:
                spans.append((int(steps[start]), int(steps[i - 1])))
                start = None
        if start is not None:
            spans.append((int(steps[start]), None))
        out[m.group(1)] = spans
    return out


def schedule_tables(cfg) -> dict[str, dict]:
    """The schedule keys of each scheduled policy of a config, by policy name."""
    data = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg)
    out = {}
    for fam in ("gate", "activity", "monetization"):
        for name, table in (data.get(fam) or {}).items():
            cls_own = set()
            try:
                from qunsim.policies.base import resolve_class

                cls_own = set(resolve_class(fam, name, table).Params.model_fields)
            except Exception:  # noqa: BLE001 - describing only
                pass
            keys = {k: table[k] for k in SCHEDULE_KEYS if k in table and k not in cls_own}
            if keys:
                out[name] = keys
    return out


def _why(t: dict) -> str:
    parts = []
    ctx = {"extra": {x.get("metric") for x in (t.get("when"), t.get("until")) if isinstance(x, dict)}}
    if t.get("when"):
        parts.append("when " + Trigger.model_validate(t["when"], context=ctx).describe())
    if t.get("until"):
        parts.append("off when " + Trigger.model_validate(t["until"], context=ctx).describe())
    if t.get("start"):
        parts.append(f"not before day {t['start']}")
    if t.get("stop") is not None:
        parts.append(f"off from day {t['stop']}")
    return f" ({'; '.join(parts)})" if parts else ""


def describe_periods(ts, triggers: dict | None = None) -> list[str]:
    """One sentence per scheduled policy saying when it switched on and off.

    ``triggers`` may map a policy name to its schedule table (:func:`schedule_tables`), to say why.

    >>> import pandas as pd
    >>> ts = pd.DataFrame({"step": range(9), "policy_ladder_active": [0, 0, 1, 1, 0, 0, 1, 1, 1]})
    >>> describe_periods(ts, {"ladder": {"when": {"metric": "active", "above": 300, "for_days": 14}}})
    ['ladder was on from day 2 to day 3, then from day 6 to the end (day 8) (when active above 300 for 14 days).']
    >>> describe_periods(ts.assign(policy_ladder_active=0))
    ['ladder never switched on (days 0–8).']
    """
    lines = []
    end = int(ts["step"].iloc[-1]) if len(ts) else 0
    for name, spans in policy_periods(ts).items():
        why = _why((triggers or {}).get(name) or {})
        if not spans:
            lines.append(f"{name} never switched on (days 0–{end}){why}.")
            continue
        parts = [f"from day {a} to the end (day {end})" if b is None else
                 (f"on day {a}" if a == b else f"from day {a} to day {b}") for a, b in spans]
        lines.append(f"{name} was on " + ", then ".join(parts) + f"{why}.")
    return lines


_SHADE = ("#0072B2", "#009E73", "#D55E00", "#CC79A7", "#E69F00", "#56B4E9")


def shade_policy_periods(ax, ts) -> list:
    """Shade, behind the data of a time-series ``ax``, the days each scheduled policy was on.

    ``ts`` is a time series with ``policy_<name>_active`` columns (several runs, told apart by
    ``run_id``, are shaded where at least half of them had the policy on). Each policy gets a
    hatched band and its name at the top of its first period; returns legend proxies (empty
    when no policy is scheduled). Computes no statistics beyond that share.
    """
    cols = [c for c in ts.columns if re.match(r"^policy_.+_active$", str(c))]
    if not cols or "step" not in ts.columns or len(ts) < 2:
        return []
    from matplotlib.patches import Patch

    proxies = []
    share = ts.groupby("step")[cols].mean()
    steps = share.index.to_numpy()
    for i, col in enumerate(cols):
        name = col[len("policy_"):-len("_active")]
        on = share[col].to_numpy() >= 0.5
        if not on.any():
            continue
        color = _SHADE[i % len(_SHADE)]
        edges = np.flatnonzero(np.diff(np.r_[0, on.astype(np.int8), 0]))
        for k, (a, b) in enumerate(zip(edges[::2], edges[1::2] - 1, strict=True)):
            ax.axvspan(steps[a] - 0.5, steps[b] + 0.5, facecolor=color, alpha=0.07, hatch="//",
                       edgecolor=color, linewidth=0, zorder=0)
            if k == 0:
                ax.text(steps[a], 0.99 - 0.06 * i, f" {name} on", transform=ax.get_xaxis_transform(),
                        ha="left", va="top", fontsize=8.5, color=color)
        proxies.append(Patch(facecolor=color, alpha=0.25, hatch="//", edgecolor=color, label=f"{name} on"))
    return proxies
