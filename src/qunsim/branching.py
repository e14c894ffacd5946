"""Branches: continue one history under several interventions, with common random numbers.

:func:`branch` takes a running model (the shared history up to today) and continues copies of
it under each *arm* (a dict of dotted overrides: a policy added, removed or changed, a dynamics
parameter changed). Replicate ``r`` of every arm starts from the same copy of the history and
runs with the same freshly seeded generator (``SeedSequence(seed).spawn(replicates)[r]``), so
arms differ only by their intervention and their differences are paired.

What an arm may change: policy tables (``gate.*``, ``activity.*``, ``monetization.*``) and
``dynamics.*``. The population, the graph and the roles were built on day 0 and cannot change
at a branch point (an error names the key). A policy whose table is unchanged keeps its state;
a new or changed one is built at the branch day and set up then (a scheduled one when it
first switches on); a removed one stops.

:func:`branch_strategies` does the same from a strategies file with ``branch_at = DAY``: per
replicate, the base scenario runs once to ``DAY`` (saved as a checkpoint), then each strategy
continues from it. With ``out`` every finished piece is written as it finishes, and a rerun
skips what exists (resumable). ``qunsim branch FILE --out DIR`` runs it from the shell.

Examples
--------
>>> import qunsim as qs
>>> m = qs.CommunityModel(rng=1, **{"community.n_seed": 60, "community.n_prospects": 400})
>>> m.run_for(20)
>>> res = qs.branch(m, arms={"as_is": {}, "curated": {"activity.curation": {}}}, steps=10,
...                 replicates=3, seed=7)
>>> sorted(res.summary["arm"].unique()), res.branch_step, len(res.timeseries)
(['as_is', 'curated'], 20, 186)
>>> d = res.paired("active_mean_after", "curated", "as_is")
>>> d["n"]
3
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qunsim.config import Config, ConfigError

__all__ = ["branch", "BranchResult", "reconfigure", "branch_strategies", "load_branch",
           "plot_branch_fan", "after_branch_summary", "RUNTIME_SECTIONS", "register"]

#: config sections an arm may change at a branch point
RUNTIME_SECTIONS = ("dynamics", "gate", "activity", "monetization")
_FAMILIES = ("gate", "activity", "monetization")


def _first_difference(a: Any, b: Any, prefix: str) -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            d = _first_difference(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else str(k))
            if d:
                return d
        return None
    return None if a == b else prefix


def reconfigure(model, change: dict | Config, *, where: str = "branch") -> None:
    """Switch a running model to a new config from today on (in place).

    ``change`` is a dict of dotted overrides over the model's config, or a whole
    :class:`~qunsim.config.Config`. Only ``dynamics`` and policy tables may differ.
    """
    from qunsim.policies.base import resolve_class
    from qunsim.policies.schedule import Schedule, build_policy, check_columns

    old = model.config
    new = change if isinstance(change, Config) else old.override(change or {})
    od, nd = old.to_dict(), new.to_dict()
    for sec in sorted(set(od) | set(nd)):
        if sec in RUNTIME_SECTIONS or sec == "run":
            continue
        key = _first_difference(od.get(sec), nd.get(sec), sec)
        if key:
            raise ConfigError(
                f"invalid branch ({where}): `{key}` cannot change at the branch point (day "
                f"{model.steps}): it shapes the community built on day 0; an arm may change "
                f"`dynamics.*` and the policy tables ({', '.join(_FAMILIES)})")
    policies: dict[str, list] = {}
    for fam in _FAMILIES:
        old_tables = {n: t for n, t in (od.get(fam) or {}).items() if t.get("enabled", True)}
        kept = dict(zip(old_tables, model.policies.get(fam, []), strict=True))
        policies[fam] = []
        for name, table in (nd.get(fam) or {}).items():
            if not table.get("enabled", True):
                continue
            if name in kept and old_tables[name] == table:
                policies[fam].append(kept[name])
                continue
            cls = resolve_class(fam, name, table)
            params = {k: v for k, v in table.items() if k not in ("class", "enabled")}
            pol = build_policy(fam, name, cls, params)
            sched = getattr(pol, "schedule", None)
            if isinstance(sched, Schedule):
                sched.day = int(model.steps)  # decides from tomorrow on, reading the history
            else:
                pol.setup(model)
            policies[fam].append(pol)
    check_columns(policies)
    model.config = new
    model.p = new.dynamics
    model.policies = policies


def _auto_seed(model) -> int:
    """A seed derived from the model's generator state (without drawing from it)."""
    blob = json.dumps(model.rng.bit_generator.state, sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "little")


def after_branch_summary(ts: pd.DataFrame, branch_step: int) -> dict:
    """Outcomes over the days after the branch point (``step > branch_step``).

    >>> ts = pd.DataFrame({"step": [0, 1, 2, 3], "active": [10, 10, 8, 8], "leaves": [0, 0, 2, 0],
    ...                    "revenue": [0.0, 1.0, 2.0, 3.0], "low_quality_share": [0, .1, .2, .3]})
    >>> s = after_branch_summary(ts, 1)
    >>> s["revenue_after"], s["leaves_after"], s["final_active"], round(s["leave_hazard_after"], 4)
    (5.0, 2, 8, 0.125)
    """
    post = ts[ts["step"] > branch_step]
    days = float(post["active"].sum()) if len(post) else 0.0
    leaves = int(post["leaves"].sum()) if "leaves" in post else 0
    unhappy = sum(int(post[c].sum()) for c in ("leaves_dissatisfied", "leaves_contagion") if c in post)
    out = {
        "final_active": int(ts["active"].iloc[-1]) if len(ts) else 0,
        "active_mean_after": float(post["active"].mean()) if len(post) else 0.0,
        "member_days_after": days,
        "leaves_after": leaves,
        "leave_hazard_after": leaves / days if days else 0.0,
        "unhappy_leave_hazard_after": unhappy / days if days else 0.0,
        "revenue_after": float(post["revenue"].sum()) if "revenue" in post else 0.0,
        "low_quality_share_after": float(post["low_quality_share"].mean()) if len(post) and "low_quality_share" in post else 0.0,
    }
    if "trust_mean" in ts and len(ts):
        out["final_trust_mean"] = float(ts["trust_mean"].iloc[-1])
    if "net_revenue" in post:
        out["net_revenue_after"] = float(post["net_revenue"].sum())
    return out


@dataclass
class BranchResult:
    """The arms of a branch: ``timeseries`` (tidy: ``arm``, ``replicate`` + the run's columns,
    the shared history included), ``summary`` (one row per arm x replicate: ``arm``,
    ``replicate``, ``seed`` and :func:`after_branch_summary`), ``branch_step``, the arms'
    overrides and the replicate seeds."""

    timeseries: pd.DataFrame
    summary: pd.DataFrame
    branch_step: int
    arms: dict
    seeds: list = field(default_factory=list)
    models: dict = field(default_factory=dict)

    def paired(self, metric: str, a: str, b: str, level: float = 0.95) -> dict:
        """Arm ``a`` minus arm ``b`` on ``metric``, paired by replicate (mean, t interval, p)."""
        from qunsim.strategies import paired_difference

        return paired_difference(self.summary.rename(columns={"arm": "strategy"}), a, b, metric, level)

    def intervals(self, metrics: list[str] | None = None, level: float = 0.95) -> pd.DataFrame:
        """Mean and t interval of each metric by arm."""
        from qunsim.strategies import summarize_comparison

        metrics = metrics or ["revenue_after", "leave_hazard_after", "final_active", "active_mean_after"]
        s = summarize_comparison(self.summary.rename(columns={"arm": "strategy"}), metrics, level)
        return s.rename(columns={"strategy": "arm"})


def _continue(model, change, where: str, steps: int, ss: np.random.SeedSequence):
    m = model.copy()
    reconfigure(m, change, where=where)
    m.rng = np.random.Generator(type(model.rng.bit_generator)(ss))
    if steps:
        m.run_for(steps)
    return m


def branch(model, arms: dict[str, dict], steps: int, replicates: int = 1, seed: int | None = None,
           keep_models: bool = False) -> BranchResult:
    """Continue ``model``'s history under each arm for ``steps`` days, ``replicates`` times.

    Parameters
    ----------
    model : a :class:`~qunsim.CommunityModel` at the branch day (left unchanged).
    arms : ``{name: overrides}``; ``{}`` continues as is (a control arm).
    steps : days to run after the branch point.
    replicates : futures per arm; replicate ``r`` of every arm uses the same generator seed.
    seed : root of the replicate seeds (default: derived from the model's generator state).
    keep_models : also return the final models (``result.models[(arm, r)]``).
    """
    if not isinstance(arms, dict) or not arms:
        raise ValueError("arms must be a non-empty dict {name: overrides}")
    steps, replicates = int(steps), int(replicates)
    if steps < 0 or replicates < 1:
        raise ValueError(f"steps must be >= 0 and replicates >= 1, got {steps} and {replicates}")
    root = _auto_seed(model) if seed is None else int(seed)
    seqs = np.random.SeedSequence(root).spawn(replicates)
    t0 = int(model.steps)
    rows, series, models = [], [], {}
    for r, ss in enumerate(seqs):
        for name, change in arms.items():
            m = _continue(model, change, f"arm `{name}`", steps, ss)
            ts = m.timeseries()
            rows.append({"arm": name, "replicate": r, "seed": int(ss.generate_state(1, np.uint64)[0]),
                         **after_branch_summary(ts, t0)})
            ts.insert(0, "replicate", r)
            ts.insert(0, "arm", name)
            series.append(ts)
            if keep_models:
                models[(name, r)] = m
    tsall = pd.concat(series, ignore_index=True).fillna(0.0)
    return BranchResult(tsall, pd.DataFrame(rows), t0, dict(arms),
                        [int(s.generate_state(1, np.uint64)[0]) for s in seqs], models)


# ------------------------------------------------------------------------------ from a file


def _branch_spec(path: Path):
    from qunsim.strategies import load_strategies

    spec = load_strategies(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    b = data.get("branch_at")
    if b is None:
        raise ConfigError(f"invalid strategies ({path}): no `branch_at = DAY`: a branch file names the day "
                          f"the strategies start from the shared history (else use compare_strategies)")
    if isinstance(b, bool) or not isinstance(b, int) or b < 0:
        raise ConfigError(f"invalid strategies ({path}): `branch_at` must be a day (an integer >= 0), got {b!r}")
    if b >= spec.steps:
        raise ConfigError(f"invalid strategies ({path}): `branch_at` = {b} must be before the last day "
                          f"(`steps` = {spec.steps})")
    base = spec.base.to_dict()
    for name, st in spec.strategies.items():
        sd = st.config.to_dict()
        for sec in sorted(set(base) | set(sd)):
            if sec in RUNTIME_SECTIONS or sec == "run":
                continue
            key = _first_difference(base.get(sec), sd.get(sec), sec)
            if key:
                raise ConfigError(
                    f"invalid strategies ({path}, strategy `{name}`): `{key}` differs from the base, "
                    f"but with `branch_at` every strategy continues the base's history; a strategy "
                    f"may change `dynamics.*` and the policy tables only")
    return spec, b


def _replicate_task(path: str, r: int, seed: int, branch_at: int, steps: int, names: list[str],
                    overrides: dict | None, out: str | None) -> list[tuple[str, dict, pd.DataFrame]]:
    """History of replicate ``r`` (or its checkpoint) and every arm not yet written."""
    from qunsim.checkpoint import CheckpointError
    from qunsim.model import CommunityModel

    spec, _ = _branch_spec(Path(path))
    base = spec.base.override(overrides) if overrides else spec.base
    outp = Path(out) if out else None
    hist = None
    ck = outp / "history" / f"rep{r:03d}.npz" if outp else None
    if ck is not None and ck.is_file():
        try:
            hist = CommunityModel.load(ck)
            if hist.steps != branch_at or hist.config != base:
                hist = None
        except CheckpointError:
            hist = None  # damaged: run it again
    if hist is None:
        hist = CommunityModel(base, rng=seed)
        if branch_at:
            hist.run_for(branch_at)
        if ck is not None:
            hist.save(ck)
    ss = np.random.SeedSequence(seed).spawn(1)[0]  # the arms' generator after the branch point
    done = []
    for name in names:
        target = outp / "arms" / name / f"rep{r:03d}.parquet" if outp else None
        if target is not None and target.is_file():
            continue
        cfg = spec.strategies[name].config
        cfg = cfg.override(overrides) if overrides else cfg
        m = _continue(hist, cfg, f"{path}, strategy `{name}`", steps - branch_at, ss)
        ts = m.timeseries()
        row = {"arm": name, "replicate": r, "seed": seed, **after_branch_summary(ts, branch_at)}
        if target is not None:  # the summary first: the parquet file marks the arm done
            target.parent.mkdir(parents=True, exist_ok=True)
            target.with_suffix(".json").write_text(json.dumps(row))
            tmp = target.with_suffix(".tmp")
            ts.to_parquet(tmp, index=False)
            tmp.replace(target)
        done.append((name, row, ts))
    return done


def _describe_run(spec, names: list[str], overrides: dict | None) -> dict:
    """What branch.json records besides the settings a rerun must match: the base scenario and
    each arm's label, description and runtime sections (for the report), and the versions."""
    import platform
    from datetime import UTC, datetime

    from qunsim import __version__

    def cfg(c):
        c = c.override(overrides) if overrides else c
        return c.to_dict()

    base = cfg(spec.base)
    arms = {}
    for n in names:
        st = spec.strategies[n]
        d = cfg(st.config)
        arms[n] = {"label": st.label, "description": st.description,
                   "config": {k: d.get(k) for k in RUNTIME_SECTIONS}}
    return {"pairing": "common", "base_source": spec.base.source, "base_config": base, "arms": arms,
            "qunsim_version": __version__, "python": platform.python_version(),
            "numpy_version": np.__version__, "pandas_version": pd.__version__,
            "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def branch_strategies(path: str | Path, out: str | Path | None = None, *, replicates: int | None = None,
                      steps: int | None = None, seed: int | None = None,
                      strategies: list[str] | None = None, overrides: dict | None = None,
                      executor: str = "serial", workers: int | None = None) -> BranchResult:
    """Run a strategies file with ``branch_at``: per replicate the base runs once to the branch
    day, then every strategy continues it (same generator seed across strategies).

    With ``out``, writes ``history/rep###.npz`` (the shared history), ``arms/<strategy>/rep###``
    (time series and summary of each arm) as they finish, then ``timeseries.parquet``,
    ``summary.csv`` and ``branch.json``; a rerun with the same arguments skips what is written.
    ``executor`` is ``serial``, ``local`` or ``dask`` (replicates run in parallel).
    """
    from qunsim.strategies import replicate_seeds
    from qunsim.sweep.executors import open_executor

    path = Path(path)
    spec, b = _branch_spec(path)
    R = spec.replicates if replicates is None else int(replicates)
    T = spec.steps if steps is None else int(steps)
    if R < 1 or T <= b:
        raise ConfigError(f"invalid strategies ({path}): need replicates >= 1 and steps > branch_at "
                          f"({b}), got {R} and {T}")
    names = list(spec.strategies) if strategies is None else list(strategies)
    missing = [n for n in names if n not in spec.strategies]
    if missing:
        raise ConfigError(f"invalid strategies ({path}): no strategy named {missing}; known: {list(spec.strategies)}")
    seeds = replicate_seeds(spec.seed if seed is None else int(seed), R)
    outp = Path(out) if out is not None else None
    if outp is not None:
        outp.mkdir(parents=True, exist_ok=True)
        man = outp / "branch.json"
        meta = {"file": str(path.resolve()), "branch_at": b, "steps": T, "replicates": R, "seeds": seeds,
                "strategies": names, "overrides": overrides or {}}
        if man.is_file():
            old = json.loads(man.read_text())
            if {k: old.get(k) for k in meta} != meta:
                raise ConfigError(f"invalid branch output ({outp}): it holds a branch run with other "
                                  f"settings ({man}); use another --out")
        man.write_text(json.dumps({**meta, **_describe_run(spec, names, overrides)}, indent=2,
                                  ensure_ascii=False, default=str))
    with open_executor(executor, workers) as h:
        futs = [h.executor.submit(_replicate_task, str(path), r, sd, b, T, names, overrides,
                                  str(outp) if outp else None) for r, sd in enumerate(seeds)]
        results = [f.result() for f in futs]
    rows, series = [], []
    for r in range(R):
        fresh = {name: (row, ts) for name, row, ts in results[r]}
        for name in names:
            if name in fresh:
                row, ts = fresh[name]
            else:
                target = outp / "arms" / name / f"rep{r:03d}.parquet"
                ts = pd.read_parquet(target)
                row = json.loads(target.with_suffix(".json").read_text())
            rows.append(row)
            ts = ts.copy()
            ts.insert(0, "replicate", r)
            ts.insert(0, "arm", name)
            series.append(ts)
    res = BranchResult(pd.concat(series, ignore_index=True).fillna(0.0), pd.DataFrame(rows), b,
                       {n: spec.strategies[n].label for n in names}, seeds)
    if outp is not None:
        res.timeseries.to_parquet(outp / "timeseries.parquet", index=False)
        res.summary.to_csv(outp / "summary.csv", index=False)
    return res


def load_branch(out: str | Path) -> BranchResult:
    """Read the tables :func:`branch_strategies` wrote to ``out``."""
    out = Path(out)
    meta = json.loads((out / "branch.json").read_text())
    return BranchResult(pd.read_parquet(out / "timeseries.parquet"), pd.read_csv(out / "summary.csv"),
                        int(meta["branch_at"]), {n: n for n in meta["strategies"]}, meta["seeds"])


# ------------------------------------------------------------------------------ figure


def plot_branch_fan(res: BranchResult, metric: str = "active", *, baseline: str | None = None,
                    band: tuple[float, float] = (0.1, 0.9), history_days: int | None = None,
                    title: str | None = None, labels: dict | None = None):
    """The fan of arms after the branch point, and paired differences to a baseline arm.

    Top: the shared history (black; a band when replicates have their own history, as from a
    strategies file) and, per arm, the median over replicates with a band of the ``band``
    quantiles. Bottom: per arm, the paired difference to ``baseline`` (default
    the first arm), replicate by replicate, as its median and band. The figure computes
    quantiles of the series only.
    """
    import matplotlib.pyplot as plt

    ts = res.timeseries
    if metric not in ts:
        raise ValueError(f"plot_branch_fan: no column {metric!r} in the branch time series")
    arms = list(dict.fromkeys(ts["arm"]))
    baseline = baseline or arms[0]
    t0 = res.branch_step
    lo_day = 0 if history_days is None else max(0, t0 - history_days)
    wide = ts.pivot_table(index="step", columns=["arm", "replicate"], values=metric)
    wide = wide[wide.index >= lo_day]
    fig, (top, bot) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, height_ratios=(3, 2))
    # the history is shared by the arms of a replicate (it may differ between replicates)
    hist = wide[arms[0]][wide.index <= t0]
    qh = hist.quantile([band[0], 0.5, band[1]], axis=1).T
    top.fill_between(qh.index, qh.iloc[:, 0], qh.iloc[:, 2], color="black", alpha=0.12, lw=0)
    top.plot(qh.index, qh.iloc[:, 1], color="black", lw=1.6, label="shared history")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    names = labels or {}
    for i, arm in enumerate(arms):
        c = colors[i % len(colors)]
        w = wide[arm][wide.index >= t0]
        q = w.quantile([band[0], 0.5, band[1]], axis=1).T
        top.fill_between(q.index, q.iloc[:, 0], q.iloc[:, 2], color=c, alpha=0.2, lw=0)
        top.plot(q.index, q.iloc[:, 1], color=c, lw=1.8, label=names.get(arm, arm))
        if arm != baseline:
            d = w - wide[baseline][wide.index >= t0]
            qd = d.quantile([band[0], 0.5, band[1]], axis=1).T
            bot.fill_between(qd.index, qd.iloc[:, 0], qd.iloc[:, 2], color=c, alpha=0.2, lw=0)
            bot.plot(qd.index, qd.iloc[:, 1], color=c, lw=1.8, label=f"{names.get(arm, arm)} − {names.get(baseline, baseline)}")
    for ax in (top, bot):
        ax.axvline(t0, color="grey", ls="--", lw=1)
    bot.axhline(0, color="black", lw=0.8)
    n = ts["replicate"].nunique()
    top.set_ylabel(metric)
    top.set_title(title or f"{metric}: arms after the branch on day {t0} (median, "
                           f"{int(band[0] * 100)}–{int(band[1] * 100)}% of {n} replicates)")
    top.legend(loc="best", fontsize=8)
    bot.set_ylabel("paired difference")
    bot.set_xlabel("day")
    bot.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ command line


def _cmd_branch(args) -> int:
    from qunsim.cli import UsageError, _parse_sets

    if args.replicates is not None and args.replicates < 1:
        raise UsageError(f"--replicates must be >= 1, got {args.replicates}")
    res = branch_strategies(args.file, args.out, replicates=args.replicates, steps=args.steps,
                            seed=args.seed, strategies=args.strategy, overrides=_parse_sets(args.set) or None,
                            executor=args.executor, workers=args.workers)
    out = Path(args.out)
    fig = plot_branch_fan(res, args.metric, labels=res.arms)
    fig.savefig(out / f"fan_{args.metric}.png", dpi=120)
    s = res.intervals()
    print(f"branched {args.file} at day {res.branch_step}: {len(res.arms)} arms x "
          f"{res.summary['replicate'].nunique()} replicates")
    for _, row in s.iterrows():
        print(f"  {row['arm']:<24} {row['metric']:<20} {row['mean']:.4g} [{row['ci_low']:.4g}, {row['ci_high']:.4g}]")
    print(f"wrote {out}/timeseries.parquet, summary.csv, branch.json, fan_{args.metric}.png")
    if args.no_report:
        return 0
    from qunsim.report import build_report

    try:
        page = build_report(out, out / "report.html")
    except ValueError as e:
        raise UsageError(f"qunsim branch ({out}): the arms finished but the report failed: {e}") from None
    print(f"wrote {page} (self-contained: open it in any browser, offline)")
    return 0


def register(sub) -> None:
    """Add ``qunsim branch`` to the command line."""
    p = sub.add_parser("branch", help="run a strategies file with branch_at: one history, several arms")
    p.add_argument("file", help="strategies TOML file with `branch_at = DAY`")
    p.add_argument("--out", required=True, help="output directory (rerun to resume)")
    p.add_argument("--replicates", type=int, default=None)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--strategy", action="append", help="run only this strategy (repeatable)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="dotted override for every run")
    p.add_argument("--executor", default="serial", choices=("serial", "local", "dask"))
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--metric", default="active", help="column the fan figure shows (default active)")
    p.add_argument("--no-report", action="store_true",
                   help="run only; write the report later with `qunsim report DIR`")
    p.set_defaults(func=_cmd_branch)
