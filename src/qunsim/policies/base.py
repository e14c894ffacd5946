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

A config naming a ``class`` runs that module's code, like any Python import, and only when a
model is built (:func:`build_policies`): loading, validating, reporting or plotting a config
checks the import path's syntax and never imports it. The module must be importable as usual
(an installed package, or a directory on ``PYTHONPATH``); the current directory and the
config's directory are not searched.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import keyword
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

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
    "plugin_classes",
    "plugin_fingerprints",
    "split_class_path",
    "user_classes",
]


class PolicyParams(BaseModel):
    """Base of every policy's parameter model.

    Unknown keys are errors; types are strict (no ``true`` for a number, no ``"0.3"`` for a
    number); inf and nan are refused; a number without its own declared range stays within
    ``qunsim.config.MAX_MAGNITUDE``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _magnitude(cls, v, info):
        from qunsim.config import check_magnitude

        return check_magnitude(cls, v, info)


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


def _is_dotted_name(text: str) -> bool:
    return bool(text) and all(p.isidentifier() and not keyword.iskeyword(p) for p in text.split("."))


def split_class_path(path: Any) -> tuple[str, str]:
    """``"pkg.mod:Cls"`` (or ``"pkg.mod.Cls"``) -> ``("pkg.mod", "Cls")``, checked without importing.

    Raises ``ValueError`` if ``path`` is not an import path of a class.

    Examples
    --------
    >>> split_class_path("mypackage.policies:QuietHours")
    ('mypackage.policies', 'QuietHours')
    >>> split_class_path("helpers.QuietHours")
    ('helpers', 'QuietHours')
    """
    if not isinstance(path, str):
        raise ValueError("must be an import path string like \"package.module:ClassName\"")
    mod_name, sep, attr = path.partition(":")
    if not sep:
        mod_name, _, attr = path.rpartition(".")
    if not (_is_dotted_name(mod_name) and _is_dotted_name(attr)):
        raise ValueError("must be an import path like \"package.module:ClassName\" (Python names "
                         "separated by dots, the class after a colon)")
    return mod_name, attr


def _user_path(family: str, name: str, table: dict) -> str | None:
    """The import path of a user class the table names, or None for a built-in."""
    path = table.get("class")
    if path is None or (isinstance(path, str) and path in REGISTRY[family]):
        return None
    return path


def user_classes(cfg: Any) -> dict[str, str]:
    """The user classes a config names, ``{dotted key: import path}``, without importing them.

    Examples
    --------
    >>> user_classes({"activity": {"quiet": {"class": "mypkg.policies:QuietHours"}}})
    {'activity.quiet': 'mypkg.policies:QuietHours'}
    """
    data = cfg.to_dict() if hasattr(cfg, "to_dict") else cfg
    out = {}
    for family in FAMILIES:
        for name, table in (data.get(family) or {}).items():
            path = _user_path(family, name, table) if isinstance(table, dict) else None
            if path is not None:
                out[f"{family}.{name}"] = path
    return out


def _import_class(family: str, name: str, path: str) -> Any:
    mod_name, attr = split_class_path(path)
    key = f"`{family}.{name}.class` = {path!r}"
    try:
        module = importlib.import_module(mod_name)
    except ModuleNotFoundError as e:
        if e.name and (mod_name == e.name or mod_name.startswith(e.name + ".")):
            raise PolicyError(
                f"{key}: module {e.name!r} is not importable; make it importable like any Python "
                f"module (install its package, or put its directory on PYTHONPATH: the current "
                f"directory and the config's directory are not searched)") from None
        raise PolicyError(f"{key}: importing {mod_name!r} failed (ModuleNotFoundError: {e})") from None
    except SystemExit as e:  # a module that exits on import must not end the program silently
        raise PolicyError(f"{key}: importing {mod_name!r} called sys.exit({e.code!r}); a plug-in "
                          f"module must not exit when imported") from None
    except Exception as e:  # noqa: BLE001 - any import failure is a config error
        raise PolicyError(f"{key}: importing {mod_name!r} raised {type(e).__name__}: {e}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise PolicyError(f"{key}: module {mod_name!r} has no attribute {attr!r}") from None


def resolve_class(family: str, name: str, table: dict, *, import_user: bool = True) -> type[Policy]:
    """The policy class a config table names: ``class = "pkg.mod:Cls"`` or a built-in key.

    A user class is imported (running its module's code) unless ``import_user=False``, which
    raises :class:`PolicyError` for it instead.
    """
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
    try:
        split_class_path(path)
    except ValueError as e:
        raise PolicyError(f"`{family}.{name}.class` {e}, got {path!r}") from None
    if not import_user:
        raise PolicyError(f"`{family}.{name}.class` = {path!r} is a user class (not imported)")
    cls = _import_class(family, name, path)
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
    """Validate every policy table of a resolved config dict; return it with params filled in.

    Built-in policies are validated fully. A table naming a user ``class`` is checked without
    importing anything (its import path's syntax, ``enabled``); its parameters are validated
    by the class's ``Params`` when a model is built (:func:`build_policies`).
    """
    from qunsim.config import ConfigError, check_text

    for family in FAMILIES:
        tables = data.get(family) or {}
        if not isinstance(tables, dict):
            raise ConfigError(f"invalid config ({source}): `{family}` must be a table, got {tables!r}")
        for name, table in list(tables.items()):
            try:
                check_text(name)
            except ValueError as e:
                raise ConfigError(f"invalid config ({source}): policy name {name!r} {e}") from None
            if not isinstance(table, dict):
                raise ConfigError(f"invalid config ({source}): `{family}.{name}` must be a table, got {table!r}")
            meta, params = _split(table)
            if "enabled" in meta and not isinstance(meta["enabled"], bool):
                raise ConfigError(
                    f"invalid config ({source}): `{family}.{name}.enabled` must be true or false, got {meta['enabled']!r}")
            path = _user_path(family, name, table)
            if path is not None:  # a user class: its syntax now, the rest when a model is built
                try:
                    split_class_path(path)
                except ValueError as e:
                    raise ConfigError(
                        f"invalid config ({source}): `{family}.{name}.class` {e}, got {path!r}") from None
                continue
            try:
                cls = resolve_class(family, name, table)
            except PolicyError as e:
                raise ConfigError(f"invalid config ({source}): {e}") from None
            tables[name] = _validated(cls, family, name, meta, params, source, data)
    from qunsim.policies.schedule import check_names
    check_names(data, source)
    return data


def _validated(cls: type[Policy], family: str, name: str, meta: dict, params: dict, source: str,
               data: dict | None = None) -> dict:
    """A policy table with its parameters validated by ``cls.Params`` (defaults filled in),
    and its schedule keys (``start``/``stop``/``when``/``until``) validated."""
    from qunsim.config import ConfigError, format_validation_error
    from qunsim.policies.schedule import pop_schedule

    params = dict(params)
    if "_primary" in params:
        value = params.pop("_primary")
        if cls.primary is None:
            raise ConfigError(
                f"invalid config ({source}): `{family}.{name}` needs a table of parameters "
                f"(it has no single primary parameter), got {value!r}")
        params[cls.primary] = value
    sched = pop_schedule(params, cls, f"{family}.{name}", source, data)
    try:
        p = cls.Params.model_validate(params)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source, prefix=f"{family}.{name}")) from None
    return {**meta, **p.model_dump(mode="python"), **sched}


def plugin_classes(data: Any, source: str | None = None) -> dict[str, type[Policy]]:
    """Import the user classes an (enabled) policy table names, by dotted key (``activity.x``).

    This runs the plug-in modules' code. Any failure (module not importable, an exception or
    ``sys.exit`` during its import, not a policy subclass) is a
    :class:`~qunsim.config.ConfigError` naming the key.
    """
    from qunsim.config import ConfigError

    source = source or getattr(data, "source", "config")
    data = data.to_dict() if hasattr(data, "to_dict") else data
    out = {}
    for family in FAMILIES:
        for name, table in (data.get(family) or {}).items():
            if _user_path(family, name, table) is None or not table.get("enabled", True):
                continue
            try:
                out[f"{family}.{name}"] = resolve_class(family, name, table)
            except PolicyError as e:
                raise ConfigError(f"invalid config ({source}): {e}") from None
    return out


def build_policies(data: Any, source: str | None = None) -> dict[str, list[Policy]]:
    """Instantiate the enabled policies of a config (or its resolved dict), by family, in order.

    This is where user classes are imported (see :func:`plugin_classes`) and their parameters
    validated; errors are :class:`~qunsim.config.ConfigError`.
    """
    source = source or getattr(data, "source", "config")
    classes = plugin_classes(data, source)
    data = data.to_dict() if hasattr(data, "to_dict") else data
    from qunsim.policies.schedule import build_policy, check_columns

    out: dict[str, list[Policy]] = {}
    for family in FAMILIES:
        out[family] = []
        for name, table in (data.get(family) or {}).items():
            if not table.get("enabled", True):
                continue
            meta, params = _split(table)
            cls = classes.get(f"{family}.{name}") or resolve_class(family, name, table)
            if f"{family}.{name}" in classes:
                params = _split(_validated(cls, family, name, meta, params, source, data))[1]
            out[family].append(build_policy(family, name, cls, params))
    check_columns(out)
    return out


def _module_file(mod_name: str) -> str | None:
    """The source file of a module, found along sys.path without importing it (or its parents)."""
    parts = mod_name.split(".")
    path = None
    spec = None
    for i in range(len(parts)):
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: i + 1]), path)
        if spec is None:
            return None
        path = spec.submodule_search_locations
    return spec.origin if spec is not None else None


def plugin_fingerprints(cfg: Any) -> dict[str, str]:
    """The plug-in modules a config names, each with the SHA-256 of its source file.

    Every policy table with a user ``class`` (enabled or not) counts. The modules are located
    on ``sys.path`` without being imported, so computing fingerprints runs no user code. Only
    the named module's own file is hashed (not the modules it imports). A sweep records these
    to notice a plug-in edited between a start and a resume.

    Parameters
    ----------
    cfg : Config or dict (a resolved config)

    Returns
    -------
    dict
        ``{module name: "sha256:<hex>"}``, sorted by module name; empty without user classes.

    Raises
    ------
    ConfigError
        if a named module cannot be found.

    Examples
    --------
    >>> from qunsim import load_config
    >>> plugin_fingerprints(load_config())
    {}
    """
    from qunsim.config import ConfigError

    source = getattr(cfg, "source", "config")
    out: dict[str, str] = {}
    for key, path in user_classes(cfg).items():
        try:
            mod_name, _ = split_class_path(path)
        except ValueError as e:
            raise ConfigError(f"invalid config ({source}): `{key}.class` {e}, got {path!r}") from None
        origin = _module_file(mod_name)
        if origin is None:
            raise ConfigError(
                f"invalid config ({source}): `{key}.class` = {path!r}: module "
                f"{mod_name!r} is not found on the Python path (install its package, or put "
                f"its directory on PYTHONPATH)")
        try:
            with open(origin, "rb") as f:
                blob = f.read()
        except OSError:
            blob = origin.encode()  # frozen or built-in module: its name stands for its source
        out[mod_name] = "sha256:" + hashlib.sha256(blob).hexdigest()
    return dict(sorted(out.items()))

