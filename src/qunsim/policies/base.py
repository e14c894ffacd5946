"""Policy plug-ins: the three families and how a config names them.

A policy is a class with a ``key`` (its name in a config), a pydantic ``Params`` model
(its parameters, declared with their constraints) and hooks the model calls during the
daily step. Configs name built-ins by key and user classes by import path::

    [gate.interest]                    # built-in, by key
    precision = 0.8

    [activity.my_policy]               # user class, by import path
    class = "mypackage.policies:MyPolicy"
    strength = 2.0

Hooks receive the model (read its ``state``), the day's :class:`~qunsim.kernels.StepContext`
and the model's generator; they never touch global random state.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from qunsim.kernels import StepContext
    from qunsim.model import CommunityModel

__all__ = [
    "Policy",
    "Gate",
    "ActivityPolicy",
    "MonetizationPolicy",
    "PolicyParams",
    "REGISTRY",
    "register",
    "resolve_class",
    "validate_policy_tables",
    "build_policies",
]


class PolicyParams(BaseModel):
    """Base of every policy's parameter model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Policy:
    """Base of all policies. Subclasses set ``key``, ``Params`` and, optionally, ``primary``
    (the parameter a shorthand like ``gate.fee = 99`` sets)."""

    key: ClassVar[str] = ""
    family: ClassVar[str] = ""
    Params: ClassVar[type[PolicyParams]] = PolicyParams
    primary: ClassVar[str | None] = None

    def __init__(self, params: PolicyParams | dict | None = None):
        if not isinstance(params, PolicyParams):
            params = self.Params.model_validate(params or {})
        self.params = params

    def setup(self, model: CommunityModel) -> None:
        """Called once when the model is built."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


class Gate(Policy):
    """An entry gate (门槛): decides which candidates become members."""

    family = "gate"

    def admit(self, model: CommunityModel, candidates: np.ndarray, referred: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
        """Return a boolean mask over ``candidates`` (population indices) of those admitted.

        ``referred`` marks candidates invited by a member (else exposed through content/ads).
        """
        return np.ones(len(candidates), dtype=bool)

    def on_join(self, model: CommunityModel, joined: np.ndarray, rng: np.random.Generator) -> None:
        """Called with the population indices of those who joined today."""

    def on_step_end(self, model: CommunityModel, ctx: StepContext, rng: np.random.Generator) -> None:
        """Called at the end of each day (e.g. to remove members who failed a requirement)."""


class ActivityPolicy(Policy):
    """An activity policy: acts on posting, messages, reading and members."""

    family = "activity"
    curates: ClassVar[bool] = False  # readers see the best messages first

    def on_posting(self, model: CommunityModel, ctx: StepContext, rng: np.random.Generator) -> None:
        """May change ``ctx.post_counts`` (posts each member makes today) before messages exist."""

    def on_messages(self, model: CommunityModel, ctx: StepContext, rng: np.random.Generator) -> None:
        """May remove or add messages (``ctx.messages``) before anyone reads."""

    def after_reading(self, model: CommunityModel, ctx: StepContext, rng: np.random.Generator) -> None:
        """May add utility (``ctx.utility``) or trust evidence (``ctx.pos``, ``ctx.neg``)."""

    def on_step_end(self, model: CommunityModel, ctx: StepContext, rng: np.random.Generator) -> None:
        """Called at the end of the day (bans, group reorganisation, ...)."""


class MonetizationPolicy(Policy):
    """A monetization policy: offers, ads, fees, commissions."""

    family = "monetization"

    def on_messages(self, model: CommunityModel, ctx: StepContext, rng: np.random.Generator) -> None:
        """May add messages to groups (broadcast offers, ads) before anyone reads."""

    def after_reading(self, model: CommunityModel, ctx: StepContext, rng: np.random.Generator) -> None:
        """Offers, purchases, revenue, trust evidence."""

    def on_step_end(self, model: CommunityModel, ctx: StepContext, rng: np.random.Generator) -> None:
        """Called at the end of the day."""


FAMILIES: dict[str, type[Policy]] = {
    "gate": Gate,
    "activity": ActivityPolicy,
    "monetization": MonetizationPolicy,
}

REGISTRY: dict[str, dict[str, type[Policy]]] = {f: {} for f in FAMILIES}


def register(cls: type[Policy]) -> type[Policy]:
    """Class decorator: make a built-in policy known by its ``key`` in its family."""
    REGISTRY[cls.family][cls.key] = cls
    return cls


class PolicyError(ValueError):
    pass


def resolve_class(family: str, name: str, table: dict) -> type[Policy]:
    """The policy class a config table names: ``class = "pkg.mod:Cls"`` or a built-in key."""
    path = table.get("class")
    if path is None:
        if name not in REGISTRY[family]:
            known = ", ".join(sorted(REGISTRY[family])) or "none"
            raise PolicyError(
                f"`{family}.{name}` is not a built-in {family} policy (known: {known}); "
                f"a user policy needs `class = \"package.module:ClassName\"`"
            )
        return REGISTRY[family][name]
    if not isinstance(path, str) or not path:
        raise PolicyError(f"`{family}.{name}.class` must be an import path string, got {path!r}")
    if path in REGISTRY[family]:
        return REGISTRY[family][path]
    mod_name, sep, attr = path.partition(":")
    if not sep:
        mod_name, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(mod_name)
        cls = getattr(module, attr)
    except Exception as e:  # noqa: BLE001 - any import failure is a config error
        raise PolicyError(
            f"`{family}.{name}.class` = {path!r} does not resolve to a class ({type(e).__name__}: {e})"
        ) from None
    base = FAMILIES[family]
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise PolicyError(
            f"`{family}.{name}.class` = {path!r} is not a subclass of qunsim.policies.{base.__name__}"
        )
    return cls


def _split(table: dict) -> tuple[dict, dict]:
    meta = {k: table[k] for k in ("class", "enabled") if k in table}
    params = {k: v for k, v in table.items() if k not in ("class", "enabled")}
    return meta, params


def validate_policy_tables(data: dict, source: str) -> dict:
    """Validate every policy table of a resolved config dict; return it with params filled in."""
    from qunsim.config import ConfigError, format_validation_error

    for family in FAMILIES:
        tables = data.get(family) or {}
        for name, table in list(tables.items()):
            if not isinstance(table, dict):
                raise ConfigError(f"invalid config ({source}): `{family}.{name}` must be a table, got {table!r}")
            try:
                cls = resolve_class(family, name, table)
            except PolicyError as e:
                raise ConfigError(f"invalid config ({source}): {e}") from None
            meta, params = _split(table)
            if "enabled" in meta and not isinstance(meta["enabled"], bool):
                raise ConfigError(
                    f"invalid config ({source}): `{family}.{name}.enabled` must be true or false, got {meta['enabled']!r}")
            if "_primary" in params:
                value = params.pop("_primary")
                if cls.primary is None:
                    raise ConfigError(
                        f"invalid config ({source}): `{family}.{name}` needs a table of parameters "
                        f"(it has no single primary parameter), got {value!r}")
                params[cls.primary] = value
            from qunsim.policies.schedule import pop_schedule  # start / stop / when / until
            sched = pop_schedule(params, cls, f"{family}.{name}", source, data)
            try:
                p = cls.Params.model_validate(params)
            except ValidationError as err:
                raise ConfigError(format_validation_error(err, source, prefix=f"{family}.{name}")) from None
            tables[name] = {**meta, **p.model_dump(mode="python"), **sched}
    from qunsim.policies.schedule import check_names
    check_names(data, source)
    return data


def build_policies(data: dict) -> dict[str, list[Policy]]:
    """Instantiate the enabled policies of a resolved config dict, by family, in config order."""
    from qunsim.policies.schedule import build_policy, check_columns

    out: dict[str, list[Policy]] = {}
    for family in FAMILIES:
        out[family] = []
        for name, table in (data.get(family) or {}).items():
            if not table.get("enabled", True):
                continue
            cls = resolve_class(family, name, table)
            _, params = _split(table)
            out[family].append(build_policy(family, name, cls, params))
    check_columns(out)
    return out

