"""Strategy comparison: several named strategies over one base scenario, side by side.

A strategy file (TOML) names a base scenario and the strategies as override tables::

    base = "monetization_base.toml"      # relative to this file
    steps = 365                          # optional: default the base's run.steps
    replicates = 10
    seed = 2026

    [strategies.none]
    label = "No monetization"

    [strategies.hard_sell]
    label = "Direct high-price hard sell in the group"
    overrides = { "dynamics.hazard_max" = 0.05 }     # optional dotted keys
    [strategies.hard_sell.monetization.ladder]       # tables merged over the base
    gradual = false
    [[strategies.hard_sell.monetization.ladder.rungs]]
    name = "high"
    price = 299.0
    channel = "broadcast"

Each strategy's config is the base with the strategy's tables merged in key by key (arrays,
such as the ladder's rungs, are replaced whole), then its dotted ``overrides`` applied, and
validated like any scenario: errors name the file, the strategy and the key.

Replicate ``r`` of every strategy runs with the same seed (common random numbers, so
strategies can be compared pairwise); the seeds are spawned from ``SeedSequence(seed)``.

A strategies file is also a sweep: ``qunsim compare FILE --out DIR`` (or
:func:`qunsim.sweep.load_sweep`) runs it on the sweep engine with one lever, ``strategy``, and
the file may add the sweep keys ``[uncertainties]``, ``[outcomes]``, ``[goal]``, ``[fixed]``,
``[keep]``, ``pairing`` and ``name`` (see docs/sweeps.md). :func:`compare_strategies` is the
serial in-memory shortcut of the same comparison (it ignores those sweep keys).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qunsim.config import Config, ConfigError, deep_merge, load_config, read_scenario
from qunsim.hints import did_you_mean

__all__ = ["Strategy", "StrategySet", "load_strategies", "compare_strategies",
           "replicate_seeds", "churn_summary", "summarize_comparison", "paired_difference"]

#: Sweep-file keys a strategies file may also hold (see :func:`qunsim.sweep.load_sweep`).
SWEEP_KEYS = {"base", "name", "pairing", "fixed", "design", "uncertainties", "outcomes", "goal",
              "keep", "timeout"}
_TOP = {"base", "steps", "replicates", "seed", "strategies", "branch_at"} | SWEEP_KEYS  # branch_at: qunsim.branching
_META = {"label", "description", "overrides"}
_TABLES = {"community", "network", "roles", "dynamics", "gate", "activity", "monetization", "run"}


@dataclass
class Strategy:
    name: str
    label: str
    description: str
    config: Config


@dataclass
class StrategySet:
    """A validated strategy file: base config, run settings and strategies (in file order)."""

    path: Path
    base: Config
    steps: int
    replicates: int
    seed: int
    strategies: dict[str, Strategy] = field(default_factory=dict)


def _int(data: dict, key: str, default: int | None, minimum: int, where: str) -> int | None:
    v = data.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ConfigError(f"invalid strategies ({where}): `{key}` must be an integer >= {minimum}, got {v!r}")
    return v


def load_strategies(path: str | Path) -> StrategySet:
    """Read and validate a strategy file.

    Raises
    ------
    ConfigError
        one paragraph naming the file, the strategy and the key, e.g. ``invalid config
        (configs/strategies.toml, strategy `hard_sell`): `monetization.ladder.rungs.0.price`
        must be greater than or equal to 0, got -1.0``.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ConfigError(f"invalid strategies ({where}): file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid strategies ({where}): not valid TOML: {e}") from None
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise ConfigError(f"invalid strategies ({where}): unknown key(s) {unknown}; expected some of "
                          f"{sorted(_TOP)}{did_you_mean(unknown[0], _TOP)}")
    base_ref = data.get("base")
    if not isinstance(base_ref, str) or not base_ref:
        raise ConfigError(f"invalid strategies ({where}): `base` must name a scenario file, got {base_ref!r}")
    base_path = Path(base_ref)
    if not base_path.is_absolute():
        base_path = path.parent / base_path
    if not base_path.is_file():
        raise ConfigError(f"invalid strategies ({where}): `base` = {base_ref!r}: file not found ({base_path})")
    base = load_config(base_path)
    steps = _int(data, "steps", None, 1, where)
    replicates = _int(data, "replicates", 10, 1, where)
    seed = _int(data, "seed", 0, 0, where)
    strategies = data.get("strategies")
    if not isinstance(strategies, dict) or not strategies:
        raise ConfigError(f"invalid strategies ({where}): `strategies` must be a table of at least one named strategy")
    # the base as a raw dict: the file's own tables (policy tables unresolved) so that the
    # strategy's tables merge over what the user wrote
    base_raw = read_scenario(base_path)[0]  # `extends` resolved, relative paths too
    out: dict[str, Strategy] = {}
    for name, table in strategies.items():
        key = f"strategies.{name}"
        if not isinstance(table, dict):
            raise ConfigError(f"invalid strategies ({where}): `{key}` must be a table, got {table!r}")
        bad = sorted(set(table) - _META - _TABLES)
        if bad:
            raise ConfigError(
                f"invalid strategies ({where}): `{key}` has unknown key(s) {bad}; expected `label`, "
                f"`description`, `overrides` or scenario tables {sorted(_TABLES)}"
                f"{did_you_mean(bad[0], _META | _TABLES, prefix=key + '.')}")
        label = table.get("label", name)
        desc = table.get("description", "")
        if not isinstance(label, str) or not isinstance(desc, str):
            raise ConfigError(f"invalid strategies ({where}): `{key}.label` and `{key}.description` must be strings")
        ov = table.get("overrides", {})
        if not isinstance(ov, dict):
            raise ConfigError(f"invalid strategies ({where}): `{key}.overrides` must be a table of dotted keys, got {ov!r}")
        tables = {k: v for k, v in table.items() if k in _TABLES}
        source = f"{where}, strategy `{name}`"
        cfg = Config(deep_merge(base_raw, tables), source=source)
        if ov:
            cfg = cfg.override(ov)
        out[name] = Strategy(name, label, desc, cfg)
    return StrategySet(path, base, steps if steps is not None else base.run.steps, replicates, seed, out)


def replicate_seeds(seed: int, replicates: int) -> list[int]:
    """One int seed per replicate, spawned from ``SeedSequence(seed)``.

    >>> replicate_seeds(1, 3) == replicate_seeds(1, 3), len(set(replicate_seeds(1, 3)))
    (True, 3)
    """
    return [int(s.generate_state(1, dtype=np.uint32)[0]) for s in np.random.SeedSequence(seed).spawn(replicates)]


def compare_strategies(path: str | Path, replicates: int | None = None, steps: int | None = None,
                       seed: int | None = None, *, strategies: list[str] | None = None,
                       timeseries: bool = False, overrides: dict[str, Any] | None = None):
    """Run every strategy ``replicates`` times and tabulate the outcomes.

    Parameters
    ----------
    path : strategy file (see the module docstring).
    replicates, steps, seed : override the file's values.
    strategies : run only these (in this order); default all, in file order.
    timeseries : also return the tidy time series (``strategy``, ``replicate`` + columns).
    overrides : dotted config keys applied to every strategy (e.g. a smaller community).

    Returns
    -------
    pandas.DataFrame
        one row per strategy x replicate: ``strategy``, ``label``, ``replicate``, ``seed``,
        the run summary (:func:`qunsim.metrics.summarize`: ``final_active``, ``total_left``,
        ``mean_churn_rate``, ...), :func:`churn_summary` (``leave_hazard``,
        ``unhappy_leave_hazard``) and the revenue summary
        (:func:`qunsim.revenue.revenue_summary`: ``revenue_total``, ``net_revenue_total``,
        ``seed_retention``, ...). With ``timeseries=True`` a pair ``(table, timeseries)``.
    """
    from qunsim.revenue import revenue_summary
    from qunsim.simulation import simulate

    spec = load_strategies(path)
    if "branch_at" in tomllib.loads(spec.path.read_text(encoding="utf-8")):  # see qunsim.branching
        raise ConfigError(f"invalid strategies ({spec.path}): it has `branch_at`: run it with `qunsim branch` "
                          f"(qunsim.branching.branch_strategies), which continues one history per replicate")
    R = spec.replicates if replicates is None else int(replicates)
    n_steps = spec.steps if steps is None else int(steps)
    s0 = spec.seed if seed is None else int(seed)
    if R < 1 or n_steps < 1:
        raise ValueError(f"replicates and steps must be >= 1, got {R} and {n_steps}")
    names = list(spec.strategies) if strategies is None else list(strategies)
    missing = [n for n in names if n not in spec.strategies]
    if missing:
        raise ConfigError(f"invalid strategies ({spec.path}): no strategy named {missing}; "
                          f"known: {list(spec.strategies)}")
    seeds = replicate_seeds(s0, R)
    rows, series = [], []
    for name in names:
        st = spec.strategies[name]
        cfg = st.config.override(overrides) if overrides else st.config
        for r, sd in enumerate(seeds):
            res = simulate(cfg, rng=sd, steps=n_steps)
            rows.append({"strategy": name, "label": st.label, "replicate": r, "seed": sd,
                         **res.summary, **churn_summary(res.timeseries),
                         **revenue_summary(res.timeseries, res.members)})
            if timeseries:
                ts = res.timeseries.copy()
                ts.insert(0, "replicate", r)
                ts.insert(0, "strategy", name)
                series.append(ts)
    table = pd.DataFrame(rows)
    if timeseries:
        return table, pd.concat(series, ignore_index=True).fillna(0.0)
    return table


def churn_summary(ts: pd.DataFrame) -> dict:
    """Growth-neutral churn: leaves per member-day over the run, all reasons
    (``leave_hazard``) and the members' own choice only (``unhappy_leave_hazard``:
    dissatisfied or contagion), and ``member_days``.

    >>> ts = pd.DataFrame({"active": [10, 10, 8], "leaves": [0, 2, 0],
    ...                    "leaves_dissatisfied": [0, 1, 0], "leaves_contagion": [0, 0, 0]})
    >>> churn_summary(ts)
    {'member_days': 18.0, 'leave_hazard': 0.1111111111111111, 'unhappy_leave_hazard': 0.05555555555555555}
    """
    days = float(ts["active"].iloc[1:].sum())
    leaves = float(ts["leaves"].iloc[1:].sum())
    unhappy = sum(float(ts[c].iloc[1:].sum()) for c in ("leaves_dissatisfied", "leaves_contagion") if c in ts)
    return {"member_days": days, "leave_hazard": leaves / days if days else 0.0,
            "unhappy_leave_hazard": unhappy / days if days else 0.0}


def summarize_comparison(table: pd.DataFrame, metrics: list[str] | None = None,
                         level: float = 0.95) -> pd.DataFrame:
    """Mean and t confidence interval of each metric by strategy (rows: strategy x metric).

    >>> t = pd.DataFrame({"strategy": ["a"] * 3 + ["b"] * 3, "x": [1.0, 2.0, 3.0, 5.0, 5.0, 5.0]})
    >>> s = summarize_comparison(t, ["x"])
    >>> s[["strategy", "mean", "ci_low"]].round(2).values.tolist()
    [['a', 2.0, -0.48], ['b', 5.0, 5.0]]
    """
    from qunsim.stats import mean_ci

    metrics = metrics or ["revenue_total", "net_revenue_total", "mean_churn_rate", "total_left",
                          "seed_retention", "final_active"]
    rows = []
    for name, g in table.groupby("strategy", sort=False):
        for m in metrics:
            r = mean_ci(g[m].to_numpy(dtype=float), level)
            lo, hi = (r["low"], r["high"]) if r["n"] > 1 else (np.nan, np.nan)
            rows.append({"strategy": name, "metric": m, "n": r["n"], "mean": r["mean"],
                         "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


def paired_difference(table: pd.DataFrame, a: str, b: str, metric: str, level: float = 0.95) -> dict:
    """Strategy ``a`` minus ``b`` on ``metric``, paired by replicate (same seeds): mean
    difference, t confidence interval and two-sided p-value of the paired t test
    (:func:`qunsim.stats.paired_difference`).

    >>> t = pd.DataFrame({"strategy": ["a"] * 3 + ["b"] * 3, "replicate": [0, 1, 2] * 2,
    ...                   "x": [3.0, 4.0, 6.0, 1.0, 2.0, 3.0]})
    >>> d = paired_difference(t, "a", "b", "x")
    >>> round(d["mean"], 3), d["n"]
    (2.333, 3)
    """
    from qunsim.stats import paired_difference as _paired

    xa = table[table["strategy"] == a].set_index("replicate")[metric]
    xb = table[table["strategy"] == b].set_index("replicate")[metric]
    common = xa.index.intersection(xb.index)
    if len(common) < 2:
        raise ValueError(f"paired_difference needs at least 2 paired replicates, got {len(common)}")
    r = _paired(xa.loc[common].to_numpy(dtype=float), xb.loc[common].to_numpy(dtype=float), level)
    return {"a": a, "b": b, "metric": metric, "n": r["n"], "mean": r["mean"],
            "ci_low": r["low"], "ci_high": r["high"], "p_value": r["p_value"]}
