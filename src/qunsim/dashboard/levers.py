"""The dashboard's levers: named controls mapped to dotted config overrides, and the models.

This module needs no web stack: :class:`DashboardModel` (one community, built from a scenario
and lever values) and :class:`CompareModel` (two lever settings side by side on the same
seed) are plain Mesa models, usable in tests, notebooks and ``mesa.batch_run``.

Examples
--------
>>> from qunsim.dashboard.levers import DashboardModel, lever_values
>>> m = DashboardModel(n_prospects=500, seed=1, gate_fee=60.0, moderation=0.9)
>>> m.config.get("gate.fee.price"), m.config.get("activity.spam_moderation.precision")
(60.0, 0.9)
>>> lever_values(m.config)["gate_fee"]
60.0
>>> m.step(); m.steps
1
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from qunsim.config import Config, load_config
from qunsim.model import CommunityModel

__all__ = ["Lever", "LEVERS", "lever_values", "lever_overrides", "DashboardModel", "CompareModel"]


@dataclass(frozen=True)
class Lever:
    """One control: its name (a model parameter), label, kind and range, and what it sets:
    a config ``key``, or a parameter of one or more policy ``tables`` (``(table, parameter)``
    pairs; the lever at 0 switches those policies off). The ladder's two levers set the
    ladder's rungs (see :func:`lever_overrides`)."""

    name: str
    label: str
    kind: str  # "float", "int" or "bool"
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.05
    help: str = ""
    key: str | None = None
    tables: tuple[tuple[str, str], ...] = ()

    def cast(self, value: Any) -> float | int:
        """The lever's value as its kind (``int`` levers are whole numbers)."""
        return int(value) if self.kind == "int" else float(value)


LEVERS: tuple[Lever, ...] = (
    Lever("chatter_share", "Chatter share", "float", 0.0, 0.5, 0.01,
          "`community.chatter_share`: share of chatters among newcomers and seed members.",
          key="community.chatter_share"),
    Lever("gate_screening", "Gate strictness: screening", "float", 0.0, 1.0, 0.05,
          "`gate.process.precision`: an application process that catches chatters and spammers "
          "with this probability (and loses some impatient candidates); 0 = no process gate.",
          tables=(("gate.process", "precision"),)),
    Lever("gate_fee", "Gate: entry fee", "float", 0.0, 300.0, 5.0,
          "`gate.fee.price`: pay this to join; 0 = free entry.", tables=(("gate.fee", "price"),)),
    Lever("moderation", "Moderation precision", "float", 0.0, 1.0, 0.05,
          "`activity.spam_moderation` and `activity.chatter_moderation` precision: the share of "
          "spam and low-value chatter removed before members read it; 0 = no moderation.",
          tables=(("activity.spam_moderation", "precision"), ("activity.chatter_moderation", "precision"))),
    Lever("curation", "Curation (digest / pinning)", "float", 0.0, 1.0, 0.05,
          "`activity.curation.overload_relief`: readers see the best first and this share of the "
          "overload cost is relieved; 0 = no curation.", tables=(("activity.curation", "overload_relief"),)),
    Lever("rate_limit", "Rate limit (posts/day, 0 = none)", "int", 0, 20, 1,
          "`activity.rate_limit.cap`: at most this many posts per member a day; 0 = no limit.",
          tables=(("activity.rate_limit", "cap"),)),
    Lever("care_capacity", "Private care capacity", "float", 0.0, 50.0, 1.0,
          "`activity.care.capacity`: at-risk members the operators can message each day; 0 = none.",
          tables=(("activity.care", "capacity"),)),
    Lever("ladder", "Monetization ladder on", "bool",
          help="`monetization.ladder`: offer the rungs (free, low, mid, high, profit sharing)."),
    Lever("ladder_price", "Ladder prices (x)", "float", 0.25, 4.0, 0.25,
          "multiplies every rung's price of the scenario's (or the default) ladder."),
)
_BY_NAME = {lv.name: lv for lv in LEVERS}


def _table(cfg: Config, dotted: str) -> dict | None:
    t = cfg.get(dotted)
    return copy.deepcopy(t) if isinstance(t, dict) else None


def _default_rungs() -> list[dict]:
    return load_config({"monetization": {"ladder": {}}}).to_dict()["monetization"]["ladder"]["rungs"]


def lever_values(cfg: Config) -> dict[str, Any]:
    """Each lever's value in a scenario (what the dashboard's controls start at)."""
    out: dict[str, Any] = {}
    for lv in LEVERS:
        if lv.key is not None:
            out[lv.name] = lv.cast(cfg.get(lv.key))
        elif lv.tables:  # the policies' value (the largest, for several); 0 when all are off
            on = [lv.cast(t[param]) for dotted, param in lv.tables
                  if (t := _table(cfg, dotted)) and t.get("enabled", True)]
            out[lv.name] = max(on) if on else lv.cast(0)
    lad = _table(cfg, "monetization.ladder")
    out["ladder"] = bool(lad and lad.get("enabled", True))
    out["ladder_price"] = 1.0
    return out


def lever_overrides(cfg: Config, values: dict[str, Any]) -> dict[str, Any]:
    """Dotted overrides that set the given levers on ``cfg`` (levers not given keep the scenario's).

    A lever at 0 (or ``ladder = False``) switches its policy off. Other parameters of a policy
    table already in the scenario are kept.
    """
    unknown = sorted(set(values) - set(_BY_NAME))
    if unknown:
        from qunsim.hints import did_you_mean

        raise ValueError(f"unknown lever(s) {unknown}; expected some of {sorted(_BY_NAME)}"
                         f"{did_you_mean(unknown[0], _BY_NAME)}")
    ov: dict[str, Any] = {}

    def policy(dotted: str, key: str | None, value: Any, on: bool, extra: dict | None = None):
        if not on:
            ov[dotted] = None
            return
        t = _table(cfg, dotted) or {}
        t.pop("enabled", None)
        if key is not None:
            t[key] = value
        t.update(extra or {})
        ov[dotted] = t

    v = values
    for lv in LEVERS:
        if lv.name not in v:
            continue
        x = lv.cast(v[lv.name]) if lv.key is not None or lv.tables else None
        if lv.key is not None:
            ov[lv.key] = x
        for dotted, param in lv.tables:
            policy(dotted, param, x, x > 0)
    if "ladder" in v or "ladder_price" in v:
        on = bool(v.get("ladder", lever_values(cfg)["ladder"]))
        scale = float(v.get("ladder_price", 1.0))
        if on:
            t = _table(cfg, "monetization.ladder") or {}
            rungs = copy.deepcopy(t.get("rungs") or _default_rungs())
            for r in rungs:
                r["price"] = round(float(r["price"]) * scale, 2)
            policy("monetization.ladder", None, None, True, {"rungs": rungs})
        else:
            policy("monetization.ladder", None, None, False)
    return ov


class _Paced:
    """Back-pressure between Mesa's play loop and the page's drawing.

    Mesa steps the model in one thread and redraws the page in another. When drawing a frame
    takes longer than a play interval, every day stepped during the drawing restarts it, and
    solara gives up ("too many renders"). Once a page draws the model (the dashboard's panels
    call :meth:`drawing` and :meth:`drawn`), :meth:`pace` makes the next day wait (at most
    ``limit`` seconds) for the frame being drawn. Without a page nothing waits.
    """

    limit = 5.0

    def _init_pacing(self) -> None:
        self._idle = threading.Event()
        self._idle.set()
        self._paced = False

    def drawing(self) -> None:
        """A frame of this model starts being drawn."""
        self._paced = True
        self._idle.clear()

    def drawn(self) -> None:
        """The frame is drawn: the next day may start."""
        self._idle.set()

    def pace(self) -> None:
        if self._paced:
            self._idle.wait(self.limit)


def _scenario(config: Config | str | Path | dict | None, n_prospects: int | None) -> Config:
    cfg = load_config(config)
    if n_prospects is not None:
        cfg = cfg.override({"community.n_prospects": int(n_prospects)})
    return cfg


class DashboardModel(_Paced, CommunityModel):
    """A :class:`~qunsim.CommunityModel` built from a scenario and the dashboard's levers.

    Every lever is a keyword (see :data:`LEVERS`); ``None`` keeps the scenario's value. These
    are the ``model_params`` of the dashboard: Mesa's *Reset* rebuilds the model with the
    values of the controls.

    Parameters
    ----------
    config : Config, path, dict or None
        the scenario the levers act on.
    seed : int
        the random seed (the same seed and levers give the same run).
    n_prospects : int, optional
        overrides ``community.n_prospects`` (people outside who could join).
    chatter_share, gate_screening, gate_fee, moderation, curation, rate_limit, care_capacity,
    ladder, ladder_price
        the levers (see :data:`LEVERS` for what each sets).
    rng : int, optional
        the seed under Mesa's name (``mesa.batch_run`` passes it); overrides ``seed``.
    """

    def __init__(self, config: Config | str | Path | dict | None = None, *, seed: int = 0,
                 n_prospects: int | None = None, chatter_share: float | None = None,
                 gate_screening: float | None = None, gate_fee: float | None = None,
                 moderation: float | None = None, curation: float | None = None,
                 rate_limit: int | None = None, care_capacity: float | None = None,
                 ladder: bool | None = None, ladder_price: float | None = None, rng: int | None = None):
        cfg = _scenario(config, n_prospects)
        if rng is not None:  # mesa.batch_run passes the seed as `rng`
            seed = rng
        loc = dict(locals())
        given = {lv.name: loc[lv.name] for lv in LEVERS if loc[lv.name] is not None}
        ov = lever_overrides(cfg, given)
        self.levers = {**lever_values(cfg), **given}
        self._init_pacing()
        super().__init__(cfg.override(ov) if ov else cfg, rng=int(seed))
        self.layout = None  # set by the dashboard's graph panel (positions placed once)

    def step(self) -> None:
        """Simulate one day (after the page, if one draws this model, has drawn the last)."""
        self.pace()
        super().step()


class CompareModel(_Paced, mesa.Model):
    """Two :class:`DashboardModel` runs on the same scenario and seed, stepped together.

    ``a`` takes the levers as given; ``b`` takes the same levers except those given with a
    ``b_`` prefix (e.g. ``b_moderation=0.9``). Both start from the same seed, so before the
    levers act they are the same community: differences are the levers' doing.

    Examples
    --------
    >>> from qunsim.dashboard.levers import CompareModel
    >>> c = CompareModel(n_prospects=400, seed=3, b_gate_fee=80.0)
    >>> c.step(); (c.a.steps, c.b.steps), c.b.config.get("gate.fee.price"), c.a.config.get("gate.fee")
    ((1, 1), 80.0, None)
    """

    def __init__(self, config: Config | str | Path | dict | None = None, *, seed: int = 0,
                 n_prospects: int | None = None,
                 chatter_share: float | None = None, gate_screening: float | None = None,
                 gate_fee: float | None = None, moderation: float | None = None,
                 curation: float | None = None, rate_limit: int | None = None,
                 care_capacity: float | None = None, ladder: bool | None = None,
                 ladder_price: float | None = None,
                 b_chatter_share: float | None = None, b_gate_screening: float | None = None,
                 b_gate_fee: float | None = None, b_moderation: float | None = None,
                 b_curation: float | None = None, b_rate_limit: int | None = None,
                 b_care_capacity: float | None = None, b_ladder: bool | None = None,
                 b_ladder_price: float | None = None):
        """Build both runs; see the class docstring for the parameters."""
        self._init_pacing()
        super().__init__(rng=int(seed))
        cfg = _scenario(config, n_prospects)
        loc = dict(locals())
        a = {lv.name: loc[lv.name] for lv in LEVERS}
        b = {lv.name: loc[f"b_{lv.name}"] if loc[f"b_{lv.name}"] is not None else loc[lv.name]
             for lv in LEVERS}
        self.a = DashboardModel(cfg, seed=seed, **a)
        self.b = DashboardModel(cfg, seed=seed, **b)
        self.config = cfg

    def step(self) -> None:
        """Advance both runs by one day; ``running`` is False once both have no member left."""
        self.pace()
        self.a.step()
        self.b.step()
        self.running = bool(self.a.running or self.b.running)

    @property
    def runs(self) -> dict[str, DashboardModel]:
        """``{"A": a, "B": b}``."""
        return {"A": self.a, "B": self.b}


def model_params(config: Config | str | Path | dict | None = None, *, compare: bool = False,
                 seed: int = 0, n_prospects: int | None = None) -> dict[str, Any]:
    """Mesa ``model_params`` for the dashboard: one control per lever, starting at the scenario.

    Fixed entries (``config``, ``n_prospects``) are passed unchanged to the model on Reset.
    With ``compare``, a second set of controls (``b_*``) sets run B.
    """
    cfg = _scenario(config, n_prospects)
    start = lever_values(cfg)
    params: dict[str, Any] = {
        "config": cfg,
        "seed": {"type": "SliderInt", "value": int(seed), "label": "Seed", "min": 0, "max": 999, "step": 1},
    }
    if n_prospects is not None:
        params["n_prospects"] = int(n_prospects)
    prefixes = [("", "")] + ([("b_", "B: ")] if compare else [])
    if compare:
        prefixes[0] = ("", "A: ")
    for pre, tag in prefixes:
        for lv in LEVERS:
            params[pre + lv.name] = _control(lv, start[lv.name], tag)
    return params


def _control(lv: Lever, value: Any, tag: str) -> dict:
    if lv.kind == "bool":
        return {"type": "Checkbox", "value": bool(value), "label": tag + lv.label}
    if lv.kind == "int":
        return {"type": "SliderInt", "value": int(value), "label": tag + lv.label,
                "min": int(lv.lo), "max": int(lv.hi), "step": int(lv.step)}
    v = float(np.clip(value, lv.lo, lv.hi))
    return {"type": "SliderFloat", "value": v, "label": tag + lv.label,
            "min": lv.lo, "max": lv.hi, "step": lv.step}
