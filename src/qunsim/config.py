"""Scenario configuration: schema, TOML loading, validation and dotted overrides.

A scenario is a TOML file whose tables mirror :class:`ScenarioModel`. Anything not given
takes its default; per-role tables are merged key by key over the defaults of the
community's goal (``knowledge`` or ``social``). Every value is validated in one place
(pydantic), and every error names the file, the dotted key, what was expected and what
was found. Types are strict (no ``true`` or ``"0.3"`` for a number), numbers are finite (no
``inf``/``nan``) and bounded: each key declares its range, sizes and rates have the limits of
:data:`LIMITS` (so a run fits in memory), and any other number stays within ±10⁹.

Examples
--------
>>> cfg = load_config()                       # the defaults
>>> cfg.community.n_seed
50
>>> cfg2 = cfg.override({"community.chatter_share": 0.3})
>>> cfg2.community.chatter_share, cfg.community.chatter_share
(0.3, 0.05)
>>> cfg.override({"community.chatter_share": 2})
Traceback (most recent call last):
...
qunsim.config.ConfigError: invalid config (defaults): `community.chatter_share` must be less than or equal to 1, got 2
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import tomllib
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

__all__ = [
    "Config",
    "ConfigError",
    "Dist",
    "load_config",
    "deep_merge",
    "dump_toml",
    "read_scenario",
    "ROLE_NAMES",
    "Bounds",
    "declared_bounds",
    "LIMITS",
]

ROLE_NAMES = ("owner", "expert", "contributor", "regular", "chatter", "spammer", "moderator")


class ConfigError(ValueError):
    """A config (file, override or dict) does not validate. The message is one paragraph."""


# --------------------------------------------------------------------------------------
# limits: sizes and rates beyond which a run cannot fit in memory (or numpy cannot draw it).
# Each is declared on its key below (``le=``); the errors name the key and the limit.

MAX_POPULATION = 10_000_000  # community.n_seed + community.n_prospects (people in the model)
MAX_EDGES = 100_000_000  # social ties: population x network.mean_degree / 2
MAX_GROUPS = 10_000  # community.n_groups, community.n_leaders, network.blocks
MAX_STEPS = 100_000  # run.steps and every count of days (274 years)
MAX_DAILY_RATE = 1_000  # posts, invitations or ads a day by one member (or in one group)
MAX_INFLOW = 1_000_000  # exogenous exposures a day
MAX_REACH = 100_000  # prospects one unhappy leaver reaches (word of mouth online)
MAX_ATTENTION = 100_000  # messages a member reads in full a day
MAX_MAGNITUDE = 1e9  # any other number (weights, costs, money, evidence): |x| <= 1e9

LIMITS = {
    "population": MAX_POPULATION,
    "edges": MAX_EDGES,
    "groups": MAX_GROUPS,
    "steps": MAX_STEPS,
    "daily_rate": MAX_DAILY_RATE,
    "inflow": MAX_INFLOW,
    "reach": MAX_REACH,
    "attention": MAX_ATTENTION,
    "magnitude": MAX_MAGNITUDE,
}
"""The size limits, by name (see docs/api.md, "Validation")."""


class Bounds(NamedTuple):
    """The declared range of a numeric key: ``lo`` (open if ``lo_open``) to ``hi``."""

    type: type
    lo: float
    lo_open: bool
    hi: float
    hi_open: bool

    def __contains__(self, x: float) -> bool:
        above = x > self.lo if self.lo_open else x >= self.lo
        below = x < self.hi if self.hi_open else x <= self.hi
        return above and below


def declared_bounds(model: type[BaseModel]) -> dict[str, Bounds]:
    """The range of every int or float field of a pydantic model, as declared.

    A field without an upper (lower) bound gets ``MAX_MAGNITUDE`` (``-MAX_MAGNITUDE``): no
    number in a config is unbounded and none is infinite or NaN. Tests draw their valid and
    invalid values from these ranges.

    Examples
    --------
    >>> declared_bounds(Dynamics)["inflow_halflife"]
    Bounds(type=<class 'float'>, lo=0, lo_open=True, hi=1000000000.0, hi_open=False)
    """
    out = {}
    for name, f in model.model_fields.items():
        if f.annotation not in (int, float):
            continue
        lo, lo_open, hi, hi_open = -MAX_MAGNITUDE, False, MAX_MAGNITUDE, False
        for m in f.metadata:
            if getattr(m, "ge", None) is not None:
                lo, lo_open = m.ge, False
            if getattr(m, "gt", None) is not None:
                lo, lo_open = m.gt, True
            if getattr(m, "le", None) is not None:
                hi, hi_open = m.le, False
            if getattr(m, "lt", None) is not None:
                hi, hi_open = m.lt, True
        out[name] = Bounds(f.annotation, lo, lo_open, hi, hi_open)
    return out


@functools.cache
def _bounds_of(model: type[BaseModel]) -> dict[str, Bounds]:
    return declared_bounds(model)


def _fmt_limit(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) and not x.is_integer() else f"{int(x)}"


def check_magnitude(cls: type[BaseModel], v: Any, info: ValidationInfo) -> Any:
    """Field validator: a number without its own declared bound stays within MAX_MAGNITUDE."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        b = _bounds_of(cls).get(info.field_name)
        if b is not None and v not in b:
            raise ValueError(f"must be between {_fmt_limit(b.lo)} and {_fmt_limit(b.hi)} "
                             f"(qunsim's limit for a number without a declared range)")
    return v


class KeyedError(ValueError):
    """A validation error about a key other than the one being validated (cross-field)."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


# strict: no bool for a number, no string for a number (TOML integers are fine for floats);
# finite: inf and nan are refused everywhere (no key documents them).
STRICT = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True, allow_inf_nan=False)


class _Strict(BaseModel):
    model_config = STRICT

    _magnitude = field_validator("*", mode="after")(classmethod(check_magnitude))


def check_text(v: str) -> str:
    """A string a config may hold: any Unicode text that UTF-8 (and so TOML) can store."""
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)") from None
    return v


class Dist(_Strict):
    """A distribution given by its mean and standard deviation.

    Attributes in [0, 1] (quality, warmth, taste, threshold) are drawn from a Beta with this
    mean and sd; positive attributes (post rate, attention, need, willingness to pay) from a
    Gamma. ``sd = 0`` gives the mean to everyone. In TOML: ``quality = {mean = 0.8, sd = 0.1}``
    or just ``quality = 0.8``.
    """

    mean: float = Field(ge=0.0)
    sd: float = Field(default=0.0, ge=0.0)

    @classmethod
    def _coerce(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return {"mean": float(v), "sd": 0.0}
        return v


class RoleParams(_Strict):
    """Per-role attribute distributions (see docs/model.md for what each attribute does)."""

    quality: Dist  # information value of posts, [0,1]
    warmth: Dist  # social warmth of posts, [0,1]
    post_rate: Dist  # posts a day at multiplier 1
    attention: Dist  # messages a day read in full
    taste: Dist  # weight on information vs warmth, [0,1]
    need: Dist  # value a day needed to stay
    wtp: Dist  # willingness to pay (currency units)
    threshold: Dist  # contagion threshold phi, [0,1]

    _coerce = field_validator("*", mode="before")(lambda cls, v: Dist._coerce(v))

    @field_validator("post_rate", "attention")
    @classmethod
    def _rate_limit(cls, d: Dist, info: ValidationInfo) -> Dist:
        limit = MAX_DAILY_RATE if info.field_name == "post_rate" else MAX_ATTENTION
        for part in ("mean", "sd"):
            if getattr(d, part) > limit:
                raise ValueError(f"{part} must be at most {limit} (a day, per member)")
        return d

    @field_validator("quality", "warmth", "taste", "threshold")
    @classmethod
    def _unit_mean(cls, d: Dist) -> Dist:
        if d.mean > 1.0:
            raise ValueError(f"mean must be in [0, 1] for this attribute, got {d.mean}")
        if d.sd > 0 and d.sd**2 >= d.mean * (1 - d.mean):
            raise ValueError(
                f"sd {d.sd} too large for a Beta with mean {d.mean} (need sd^2 < mean*(1-mean))"
            )
        return d


class Composition(_Strict):
    """Shares of the core roles among members who are neither chatters nor spammers."""

    expert: float = Field(default=0.05, ge=0, le=1)
    contributor: float = Field(default=0.20, ge=0, le=1)
    regular: float = Field(default=0.75, ge=0, le=1)

    @field_validator("regular")
    @classmethod
    def _positive_sum(cls, v: float, info) -> float:
        total = v + info.data.get("expert", 0) + info.data.get("contributor", 0)
        if total <= 0:
            raise ValueError("expert + contributor + regular shares must be > 0")
        return v


class Community(_Strict):
    """Who is in the community at the start, who could join, and how it is organised."""

    name: str = "community"
    goal: Literal["knowledge", "social"] = "knowledge"
    n_seed: int = Field(default=50, ge=1, le=MAX_POPULATION)  # initial (invited) members, the owner included
    n_prospects: int = Field(default=20_000, ge=0, le=MAX_POPULATION)  # people outside who can join
    n_groups: int = Field(default=1, ge=1, le=MAX_GROUPS)
    group_cap: int = Field(default=500, ge=2, le=MAX_POPULATION)  # members per group; a full community opens a new group
    structure: Literal["pyramid", "ring"] = "pyramid"
    n_leaders: int = Field(default=4, ge=1, le=MAX_GROUPS)  # ring structure: balanced leaders
    leader_tie_share: float = Field(default=0.8, ge=0, le=1)  # share of seed members tied to a leader
    chatter_share: float = Field(default=0.05, ge=0, le=1)
    spammer_share: float = Field(default=0.0, ge=0, le=1)
    moderators: int = Field(default=0, ge=0, le=MAX_POPULATION)
    composition: Composition = Composition()

    @field_validator("name")
    @classmethod
    def _writable(cls, v: str) -> str:
        return check_text(v)

    @field_validator("n_prospects")
    @classmethod
    def _population(cls, v: int, info: ValidationInfo) -> int:
        n = v + info.data.get("n_seed", 0)
        if n > MAX_POPULATION:
            raise ValueError(f"must keep n_seed + n_prospects at most {MAX_POPULATION} (the population "
                             f"limit; n_seed is {info.data.get('n_seed')})")
        return v

    @field_validator("group_cap")
    @classmethod
    def _slots(cls, v: int, info: ValidationInfo) -> int:
        g = info.data.get("n_groups", 1)
        if v * g > MAX_POPULATION:
            raise ValueError(f"must keep group_cap x n_groups at most {MAX_POPULATION} (the population "
                             f"limit; n_groups is {g})")
        return v

    @field_validator("spammer_share")
    @classmethod
    def _shares(cls, v: float, info) -> float:
        if v + info.data.get("chatter_share", 0.0) > 1.0:
            raise ValueError("chatter_share + spammer_share must be at most 1")
        return v


class Network(_Strict):
    """The social graph over members and prospects."""

    kind: Literal["er", "ws", "ba", "sbm", "edgelist", "file"] = "er"  # file: GraphML/GEXF/edge list at `path`
    mean_degree: float = Field(default=10.0, gt=0, le=1_000)
    rewire: float = Field(default=0.1, ge=0, le=1)  # Watts–Strogatz rewiring probability
    blocks: int = Field(default=4, ge=1, le=MAX_GROUPS)  # stochastic block model: number of blocks
    assortativity: float = Field(default=0.8, ge=0, le=1)  # SBM: share of a node's ties inside its block
    path: str = ""  # graph file for kind "file"/"edgelist": .graphml, .gexf or an edge list (u v [weight])
    initial_tie: float = Field(default=0.2, ge=0, le=1)  # tie strength of pre-existing ties

    @field_validator("path")
    @classmethod
    def _writable(cls, v: str) -> str:
        return check_text(v)


class Dynamics(_Strict):
    """Rates and weights of the daily step. See docs/model.md for the equations."""

    # 1. arrivals
    inflow: float = Field(default=3.0, ge=0, le=MAX_INFLOW)  # exogenous exposures a day at t = 0
    inflow_halflife: float = Field(default=240.0, gt=0)  # days for exogenous exposure to halve
    inflow_ramp: float = Field(default=60.0, ge=0)  # days for content channels to build their audience
    content_bounce: float = Field(default=0.0, ge=0, le=1)  # share of content-channel visitors who land on a low-quality message (chatter, spam) and leave without considering: exposure *= 1 - content_bounce x the low-quality share of the content (docs/model.md); 0 = off
    content_memory: float = Field(default=0.99, ge=0, le=1)  # daily persistence of the content visitors land on (a day's messages weigh content_memory ** age); 0 = yesterday's only
    accept: float = Field(default=0.6, ge=0, le=1)  # a prospect's base chance to join when exposed
    referral_rate: float = Field(default=0.05, ge=0, le=MAX_DAILY_RATE)  # invitations a day by a trusting member
    referral_trust: float = Field(default=0.8, ge=0, le=1)  # trust needed to invite
    wom_reach: float = Field(default=6.0, ge=0, le=MAX_REACH)  # prospects an unhappy leaver reaches
    wom_weight: float = Field(default=1.0, ge=0)  # acceptance *= exp(-wom_weight * heard)
    wom_memory: float = Field(default=0.98, ge=0, le=1)  # daily persistence of what was heard
    # 2. posting
    answer_base: float = Field(default=0.05, ge=0, le=1)  # answerers' rate multiplier with no questions
    answer_halfsat: float = Field(default=1.0, gt=0)  # questions per answerer at half response
    chatter_contagion: float = Field(default=1.0, ge=0, le=MAX_DAILY_RATE)  # chatter rate *= 1 + c * chatter share
    chatter_conversion: float = Field(default=0.003, ge=0, le=1)  # regulars turning chatter
    reply_reward: float = Field(default=0.0, ge=0)  # rate *= 1 + r * replies received yesterday (newcomers)
    # participation inequality (docs/participation.md): a per-member propensity
    # multiplier on post_rate, mean 1 over the members it applies to
    lurker_share: float = Field(default=0.9, ge=0, le=1)  # share of members who are lurkers
    lurker_rate: float = Field(default=0.0, ge=0, le=1)  # a lurker's propensity relative to the mean
    propensity_sd: float = Field(default=3.0, ge=0, le=5)  # sd of log propensity among posters
    propensity_max: float = Field(default=60.0, ge=0, le=1_000)  # cap on a propensity (a superuser posts at most this x their role's rate); 0 = none
    welcome_boost: float = Field(default=0.2, ge=0, le=1_000)  # propensity *= 1 + b when one's first post gets a reply
    welcome_commitment: float = Field(default=0.3, ge=0, le=1_000)  # commitment += c when one's first post gets a reply
    welcome_rate: float = Field(default=0.0, ge=0, le=MAX_DAILY_RATE)  # a newcomer whose first post got a reply posts at least this a day until they post again, for newcomer_days after it (posts a day; the reply invites an answer back, lurker or not); 0 = off
    follow_up_rate: float = Field(default=0.0, ge=0, le=MAX_DAILY_RATE)  # a newcomer who has posted once posts at least this a day until they post again, for newcomer_days after that first post, reply or not (they follow up on their question or introduction; posts a day); 0 = off
    first_post_rate: float = Field(default=0.012, ge=0, le=MAX_DAILY_RATE)  # a newcomer's floor rate until their first post (posts a day)
    seed_members_lurk: bool = False  # false: the seed members (the founding core the owner invited) post at their role's rate
    founder_floor: float = Field(default=1.0, ge=0, le=1)  # the seed members (who do not lurk) post at least this x their role's rate; the rest of their volume is drawn heavy-tailed (mean 1 in all): a few founders are superusers; 1 = all at their role's rate
    founder_commitment: float = Field(default=0.0, ge=0, le=1_000)  # commitment of the seed members (the founding core the owner invited personally); 0 = none
    chatter_propensity_sd: float = Field(default=0.0, ge=0, le=5)  # sd of log propensity among the chatters (mean 1, capped at propensity_max; none lurks): a few chatters write most of the chat; the founding chatters follow founder_floor; 0 = all at their role's rate
    newcomer_days: int = Field(default=14, ge=0, le=MAX_STEPS)
    message_noise: float = Field(default=0.1, ge=0)  # sd of message quality/warmth around the author's
    # 4. reading
    spam_penalty: float = Field(default=0.5, ge=0)  # cost of reading one spam message
    read_cost: float = Field(default=0.05, ge=0)  # cost of reading one message
    overload_cost: float = Field(default=1.5, ge=0)  # cost per unit of overflow (V - a)/a
    recognition: float = Field(default=0.2, ge=0)  # value of one reply received
    # 5. replies and ties
    reply_prob: float = Field(default=0.035, ge=0, le=1)  # chance to reply to a read message of value 1
    tie_increment: float = Field(default=0.15, ge=0, le=1)  # w += inc * (1 - w) per reply
    tie_formation: float = Field(default=0.05, ge=0, le=1)  # chance a reply between strangers makes a tie
    tie_decay: float = Field(default=0.0, ge=0, le=1)
    weak_tie: float = Field(default=0.1, ge=0, le=1)
    strong_tie: float = Field(default=0.5, ge=0, le=1)
    # 6. trust
    trust_memory: float = Field(default=0.95, ge=0, le=1)
    trust_weak: float = Field(default=0.6, ge=0, le=1)
    trust_strong: float = Field(default=0.8, ge=0, le=1)
    strong_evidence: float = Field(default=5.0, ge=0)  # evidence r+s needed for strong trust
    spam_distrust: float = Field(default=0.05, ge=0)  # negative evidence per spam message read
    leader_loss: float = Field(default=6.0, ge=0)  # negative evidence when a leader one is tied to leaves
    # 8. satisfaction and churn
    satisfaction_memory: float = Field(default=0.9, ge=0, lt=1)
    hazard_base: float = Field(default=0.0003, ge=0, le=1)
    hazard_max: float = Field(default=0.06, ge=0, le=1)
    hazard_slope: float = Field(default=6.0, ge=0)
    hazard_midpoint: float = Field(default=-0.4)  # satisfaction at which hazard is half its max
    commit_sunk: float = Field(default=0.2, ge=0)  # damping per log(1 + amount paid)
    commit_tier: float = Field(default=0.5, ge=0)
    commit_ties: float = Field(default=0.2, ge=0)  # per strong tie
    commit_identity: float = Field(default=1.0, ge=0)  # trust x (1/2 + 1/2 [tied to a leader])
    contagion: bool = True  # threshold contagion on ties
    contagion_window: int = Field(default=30, ge=0, le=MAX_STEPS)  # only departures this recent count; 0 = all (Watts)
    habituation: float = Field(default=1.2, ge=0)  # need grows by this share per year of tenure
    grace_days: int = Field(default=7, ge=0, le=MAX_STEPS)  # newcomers do not leave for dissatisfaction before this


class Run(_Strict):
    steps: int = Field(default=730, ge=0, le=MAX_STEPS)
    agent_views: bool = True  # keep a mesa.Agent view per active member in model.agents


class ScenarioModel(_Strict):
    community: Community = Community()
    network: Network = Network()
    roles: dict[str, RoleParams] = Field(default_factory=dict)
    dynamics: Dynamics = Dynamics()
    gate: dict[str, dict[str, Any]] = Field(default_factory=dict)
    activity: dict[str, dict[str, Any]] = Field(default_factory=dict)
    monetization: dict[str, dict[str, Any]] = Field(default_factory=dict)
    run: Run = Run()

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, v: dict) -> dict:
        unknown = sorted(set(v) - set(ROLE_NAMES))
        if unknown:
            raise ValueError(f"unknown role(s) {unknown}; expected some of {list(ROLE_NAMES)}")
        return v

    @model_validator(mode="after")
    def _edges(self) -> ScenarioModel:
        n = self.community.n_seed + self.community.n_prospects
        edges = n * self.network.mean_degree / 2
        if edges > MAX_EDGES:
            raise KeyedError("network.mean_degree", (
                f"must keep population x mean_degree / 2 at most {MAX_EDGES} (the social-tie limit), "
                f"got {n} x {self.network.mean_degree:g} / 2 = {edges:.3g}"))
        return self


def _d(mean: float, sd: float) -> dict:
    return {"mean": mean, "sd": sd}


# Defaults by role for a knowledge community. A social community changes taste and attention.
_KNOWLEDGE_ROLES: dict[str, dict] = {
    "owner": dict(quality=_d(0.9, 0.0), warmth=_d(0.6, 0.0), post_rate=_d(3.0, 0.0),
                  attention=_d(200.0, 0.0), taste=_d(0.7, 0.0), need=_d(0.0, 0.0),
                  wtp=_d(0.0, 0.0), threshold=_d(1.0, 0.0)),
    "expert": dict(quality=_d(0.85, 0.08), warmth=_d(0.3, 0.1), post_rate=_d(2.0, 0.6),
                   attention=_d(40.0, 10.0), taste=_d(0.9, 0.05), need=_d(6.0, 1.5),
                   wtp=_d(200.0, 100.0), threshold=_d(0.5, 0.1)),
    "contributor": dict(quality=_d(0.6, 0.1), warmth=_d(0.4, 0.1), post_rate=_d(1.0, 0.4),
                        attention=_d(50.0, 15.0), taste=_d(0.75, 0.1), need=_d(8.0, 2.0),
                        wtp=_d(120.0, 60.0), threshold=_d(0.5, 0.1)),
    "regular": dict(quality=_d(0.3, 0.1), warmth=_d(0.4, 0.1), post_rate=_d(0.25, 0.15),
                    attention=_d(40.0, 15.0), taste=_d(0.7, 0.15), need=_d(6.5, 2.0),
                    wtp=_d(60.0, 40.0), threshold=_d(0.5, 0.1)),
    "chatter": dict(quality=_d(0.08, 0.04), warmth=_d(0.6, 0.1), post_rate=_d(2.0, 0.7),
                    attention=_d(150.0, 40.0), taste=_d(0.2, 0.1), need=_d(20.0, 7.0),
                    wtp=_d(20.0, 15.0), threshold=_d(0.5, 0.1)),
    "spammer": dict(quality=_d(0.0, 0.0), warmth=_d(0.0, 0.0), post_rate=_d(4.0, 1.0),
                    attention=_d(5.0, 2.0), taste=_d(0.5, 0.0), need=_d(0.0, 0.0),
                    wtp=_d(0.0, 0.0), threshold=_d(1.0, 0.0)),
    "moderator": dict(quality=_d(0.6, 0.05), warmth=_d(0.6, 0.05), post_rate=_d(1.0, 0.0),
                      attention=_d(300.0, 0.0), taste=_d(0.6, 0.0), need=_d(0.0, 0.0),
                      wtp=_d(0.0, 0.0), threshold=_d(1.0, 0.0)),
}

_SOCIAL_CHANGES: dict[str, dict] = {
    "owner": dict(taste=_d(0.3, 0.0)),
    "expert": dict(taste=_d(0.35, 0.1), attention=_d(80.0, 20.0)),
    "contributor": dict(taste=_d(0.3, 0.1), attention=_d(100.0, 25.0)),
    "regular": dict(taste=_d(0.25, 0.1), attention=_d(120.0, 30.0)),
    "chatter": dict(taste=_d(0.15, 0.05)),
}


def default_roles(goal: str) -> dict[str, dict]:
    """The default role table for a community goal (``knowledge`` or ``social``)."""
    roles = copy.deepcopy(_KNOWLEDGE_ROLES)
    if goal == "social":
        roles = deep_merge(roles, _SOCIAL_CHANGES)
    return roles


def deep_merge(base: dict, update: dict) -> dict:
    """Return ``base`` updated key by key (recursively for tables) with ``update``."""
    out = copy.deepcopy(base)
    for k, v in update.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and not _is_dist(v):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _plain(v: Any) -> Any:
    """A deep copy with numpy scalars made Python scalars (``np.int64(3)`` -> ``3``), so that
    values computed with numpy pass the strict checks; ``np.bool_`` stays a boolean."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return copy.deepcopy(v)


def _is_dist(v: dict) -> bool:
    return set(v) <= {"mean", "sd"} and "mean" in v


# --------------------------------------------------------------------------------------
# error formatting


def _fmt_value(v: Any) -> str:
    if isinstance(v, str):
        return repr(v)
    text = json.dumps(v, default=str) if isinstance(v, (dict, list)) else str(v)
    return text if len(text) < 80 else text[:77] + "..."


def _fmt_msg(msg: str) -> str:
    msg = msg.replace("Input should be", "must be").replace("Value error, ", "")
    msg = msg.replace("Extra inputs are not permitted", "is not a known key")
    return msg


def format_validation_error(err: ValidationError, source: str, prefix: str = "") -> str:
    """One paragraph naming the source, each dotted key, what was expected and what was found."""
    parts = []
    for e in err.errors(include_url=False):
        loc = ".".join(str(p) for p in (prefix.split(".") if prefix else []) + list(e["loc"]))
        what = _fmt_msg(e["msg"])
        found = e.get("input")
        keyed = (e.get("ctx") or {}).get("error")
        if isinstance(keyed, KeyedError):
            parts.append(f"`{'.'.join(p for p in (prefix, keyed.key) if p)}` {keyed}")
        elif e["type"] == "extra_forbidden":
            parts.append(f"`{loc}` {what}{_unknown_key_hint(prefix, e['loc'])}")
        elif e["type"] == "missing":
            parts.append(f"`{loc}` is required")
        else:
            parts.append(f"`{loc}` {what}, got {_fmt_value(found)}")
    return f"invalid config ({source}): " + "; ".join(parts)


def _unknown_key_hint(prefix: str, loc: tuple) -> str:
    """"; did you mean `community.chatter_share`?" for an unknown key at ``prefix`` + ``loc``."""
    from qunsim.hints import did_you_mean, fields_at

    model: Any = ScenarioModel
    if prefix:  # a policy table: its class's parameter model
        from qunsim.policies.base import REGISTRY

        family, _, name = prefix.partition(".")
        cls = REGISTRY.get(family, {}).get(name)
        model = getattr(cls, "Params", None)
        if model is None:
            return ""
    where = [str(p) for p in (prefix.split(".") if prefix else []) + list(loc[:-1])]
    return did_you_mean(str(loc[-1]), fields_at(model, loc[:-1]),
                        prefix=".".join(where) + "." if where else "")


# --------------------------------------------------------------------------------------
# Config


class Config:
    """A validated scenario: attribute access to its tables, dotted overrides, TOML round trip.

    Build one with :func:`load_config`. ``Config`` is immutable; :meth:`override` returns a
    new one. The raw dict (``to_dict``) holds every value, defaults included.
    """

    def __init__(self, data: dict | None = None, *, source: str = "defaults"):
        self.source = source
        raw = _plain(data or {})
        goal = raw.get("community", {}).get("goal", "knowledge") if isinstance(
            raw.get("community"), dict) else "knowledge"
        roles_user = raw.get("roles", {})
        if not isinstance(roles_user, dict):
            raise ConfigError(f"invalid config ({source}): `roles` must be a table, got {_fmt_value(roles_user)}")
        goal = goal if goal in ("knowledge", "social") else "knowledge"
        unknown = sorted(set(roles_user) - set(ROLE_NAMES))
        if unknown:
            raise ConfigError(
                f"invalid config ({source}): `roles` has unknown role(s) {unknown}; "
                f"expected some of {list(ROLE_NAMES)}"
            )
        raw["roles"] = deep_merge(default_roles(goal), roles_user)
        try:
            self._model = ScenarioModel.model_validate(raw)
        except ValidationError as err:
            raise ConfigError(format_validation_error(err, source)) from None
        self._data = self._model.model_dump(mode="python")
        # policy tables are validated by their own parameter models
        from qunsim.policies import validate_policy_tables

        self._data = validate_policy_tables(self._data, source)

    # -- access -------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._model, name)

    def __getitem__(self, dotted: str) -> Any:
        node: Any = self._data
        for part in dotted.split("."):
            node = node[part]
        return node

    def get(self, dotted: str, default: Any = None) -> Any:
        try:
            return self[dotted]
        except (KeyError, TypeError):
            return default

    def to_dict(self) -> dict:
        """The fully resolved config as plain Python data (defaults included)."""
        return copy.deepcopy(self._data)

    def to_toml(self) -> str:
        """The config as TOML that :func:`load_config` reads back to an equal config.

        A relative ``network.path`` (possible in a config built from a dict: relative to the
        current directory) is written absolute, since a TOML file's relative paths are read
        relative to the file.
        """
        data = self._data
        path = data.get("network", {}).get("path")
        if path and not Path(path).is_absolute():
            data = copy.deepcopy(data)
            data["network"]["path"] = os.path.abspath(path)
        return dump_toml(data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self._data == other._data

    def __hash__(self) -> int:
        return hash(json.dumps(self._data, sort_keys=True, default=str))

    def __repr__(self) -> str:
        return f"Config(source={self.source!r}, goal={self.community.goal!r})"

    def __reduce__(self):
        return (Config, (self._data,), {"source": self.source})

    def __setstate__(self, state):
        self.source = state["source"]

    # -- overrides ------------------------------------------------------------------------
    def override(self, overrides: dict[str, Any] | None = None, **kw: Any) -> Config:
        """A new config with dotted keys set, e.g. ``{"community.chatter_share": 0.3}``.

        Tables can be given whole (``{"gate.fee": {"price": 99}}``) and a policy table
        can be switched off with ``None`` (``{"activity.spam_moderation": None}``).
        """
        items = dict(overrides or {})
        items.update(kw)
        data = self.to_dict()
        for key, value in items.items():
            set_dotted(data, key, value, source=self.source)
        return Config(data, source=self.source)


def set_dotted(data: dict, key: str, value: Any, *, source: str = "override") -> None:
    """Set ``data[a][b][c] = value`` for ``key = "a.b.c"``, creating policy tables as needed."""
    parts = key.split(".")
    if not key or any(not p for p in parts):
        raise ConfigError(f"invalid override ({source}): `{key}` is not a dotted key")
    node = data
    for i, part in enumerate(parts[:-1]):
        if part not in node:
            if i == 0 or parts[0] not in ("gate", "activity", "monetization", "roles"):
                from qunsim.hints import did_you_mean

                hint = did_you_mean(part, [k for k in node if not k.startswith("_")],
                                    prefix=".".join(parts[:i]) + "." if i else "")
                raise ConfigError(
                    f"invalid override ({source}): `{key}` names no known key (`{'.'.join(parts[:i + 1])}` does not exist){hint}"
                )
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict):
            raise ConfigError(
                f"invalid override ({source}): `{'.'.join(parts[:i + 1])}` is a value, not a table"
            )
    last = parts[-1]
    if value is None and parts[0] in ("gate", "activity", "monetization") and len(parts) == 2:
        node.pop(last, None)
        return
    if last not in node and parts[0] not in ("gate", "activity", "monetization", "roles"):
        from qunsim.hints import did_you_mean

        hint = did_you_mean(last, [k for k in node if not k.startswith("_")], prefix=".".join(parts[:-1]) + "." if parts[:-1] else "")
        raise ConfigError(f"invalid override ({source}): `{key}` is not a known key{hint}")
    if parts[0] in ("gate", "activity", "monetization") and len(parts) == 2 and not isinstance(value, dict):
        # shorthand: gate.fee = 99 sets the policy's primary parameter
        node[last] = {"_primary": value}
        return
    node[last] = value


def load_config(source: str | Path | dict | Config | None = None, overrides: dict | None = None) -> Config:
    """Load and validate a scenario.

    Parameters
    ----------
    source : path to a TOML file, a dict, a Config, or None for the defaults.
    overrides : dotted keys to set after loading.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        with one paragraph naming the file, key, expectation and value.
    """
    if isinstance(source, Config):
        cfg = source
    elif source is None:
        cfg = Config({}, source="defaults")
    elif isinstance(source, dict):
        cfg = Config(source, source="dict")
    else:
        path = Path(source)
        data, chain = read_scenario(path)
        cfg = Config(data, source=_chain_source(chain))
    if overrides:
        cfg = cfg.override(overrides)
    return cfg


def read_scenario(path: str | Path) -> tuple[dict, list[Path]]:
    """The raw tables of a scenario file, with ``extends`` resolved.

    A scenario may start from another: ``extends = "knowledge_community.toml"`` (a path
    relative to the file) takes every table of that file and merges this file's tables over
    it key by key (:func:`deep_merge`); the parent may extend another in turn. A cycle is
    refused. Relative ``network.path`` entries resolve against the file that names them.

    Returns
    -------
    data : dict
        the merged tables, not yet validated (``extends`` removed).
    chain : list of Path
        the files read, this one first, then its parent, and so on.

    Raises
    ------
    ConfigError
        a file is missing or not TOML, ``extends`` is not a path to a file, or the chain
        has a cycle.
    """
    return _read_chain(Path(path), [])


def _chain_source(chain: list[Path]) -> str:
    """``"variant.toml (extends base.toml)"``: the source recorded in errors and provenance."""
    head = str(chain[0])
    return head if len(chain) == 1 else f"{head} (extends {' -> '.join(str(p) for p in chain[1:])})"


def _read_chain(path: Path, seen: list[Path]) -> tuple[dict, list[Path]]:
    where = str(seen[0]) if seen else str(path)
    if not path.is_file():
        if seen:
            raise ConfigError(f"invalid config ({where}): `extends` names a scenario file that does not exist: {path}")
        raise ConfigError(f"invalid config ({path}): file not found")
    real = path.resolve()
    if real in [p.resolve() for p in seen]:
        cycle = " -> ".join(str(p) for p in [*seen, path])
        raise ConfigError(f"invalid config ({where}): `extends` makes a cycle ({cycle}); a scenario cannot extend itself")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid config ({path}): not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"invalid config ({path}): not a UTF-8 text file") from None
    except OSError as e:
        raise ConfigError(f"invalid config ({path}): cannot be read ({e.strerror or e})") from None
    # relative edge-list paths resolve against the config file
    net = data.get("network")
    if isinstance(net, dict) and isinstance(net.get("path"), str) and net["path"]:
        p = Path(net["path"])
        if not p.is_absolute():
            net["path"] = str((path.parent / p).resolve())
    if "extends" not in data:
        return data, [path]
    parent = data.pop("extends")
    if not isinstance(parent, str) or not parent:
        raise ConfigError(f"invalid config ({path}): `extends` must be the path of a scenario file "
                          f"(relative to this file), got {_fmt_value(parent)}")
    ppath = Path(parent)
    if not ppath.is_absolute():
        ppath = path.parent / ppath
    base, chain = _read_chain(ppath, [*seen, path])
    return deep_merge(base, data), [path, *chain]


# --------------------------------------------------------------------------------------
# minimal TOML writer (tomllib only reads)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if math.isnan(v):
            return "nan"
        return repr(v)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if v is None:
        return '""'
    return json.dumps(str(v))


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
                 "\r": "\\r"}


def _toml_string(v: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters (DEL too) escaped.

    Other Unicode is written as is (the file is UTF-8). A lone surrogate cannot be stored in
    TOML at all: ``ValueError``.
    """
    check_text(v)
    out = []
    for ch in v:
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(k: str) -> str:
    """A bare key if TOML allows it (ASCII letters, digits, ``_``, ``-``), else a quoted key."""
    bare = bool(k) and all(c.isascii() and (c.isalnum() or c in "_-") for c in k)
    return k if bare else _toml_string(str(k))


def dump_toml(data: dict, _prefix: str = "") -> str:
    """Write nested dicts of scalars and lists as TOML (tables for dicts of dicts)."""
    lines: list[str] = []
    tables: list[tuple[str, dict]] = []
    for k, v in data.items():
        if isinstance(v, dict) and (not v or any(isinstance(x, dict) for x in v.values()) or not _is_dist(v)):
            tables.append((k, v))
        elif v is None:
            continue
        else:
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    out = "\n".join(lines)
    for k, v in tables:
        name = f"{_prefix}.{_toml_key(k)}" if _prefix else _toml_key(k)
        body = dump_toml(v, name)
        out += ("\n\n" if out else "") + f"[{name}]" + ("\n" + body if body and not body.startswith("[") else ("\n\n" + body if body else ""))
    return out.strip() + "\n" if _prefix == "" else out
