"""From a sweep's runs to a decision: options, risk, goal, regret, and when the answer changes.

A sweep varies *levers* (what the operator decides) and *uncertainties* (what they do not
control). An *option* is one setting of every lever; a *scenario* is one point of the
uncertainties. :func:`verdict` turns the finished runs into:

- per option, over every scenario and replicate: the quantiles and mean (t interval) of each
  outcome metric, the probability of collapse and the probability of meeting the goal, each
  a Wilson interval;
- the ranking: options within the goal's ``max_p_collapse`` first, then by P(goal), then
  (among options over the limit) the less likely to collapse first, then by the objective's
  median (more is better when maximising);
- paired differences of every other option from the recommended one (pairs: same scenario,
  same replicate — the same seed under common random numbers) with t intervals;
- regret on the objective: in each scenario, each option's mean shortfall from the best
  option there; the worst case and the mean over scenarios;
- the scenarios where another option would be recommended, and a PRIM box (:func:`prim`)
  describing them in terms of the uncertainties;
- lever main effects (paired, marginalised over the other levers and the uncertainties) and
  lever x uncertainty tables (the objective's mean per lever value and uncertainty value).

Everything is plain data (``verdict.json`` next to the report); the figures only draw it.

Examples
--------
>>> import pandas as pd
>>> runs = pd.DataFrame({"point": [0, 0, 1, 1], "replicate": [0, 1, 0, 1],
...                      "gate": ["strict", "strict", "open", "open"],
...                      "revenue_total": [100.0, 120.0, 90.0, 80.0],
...                      "final_active": [200, 210, 20, 150], "survival_ratio": [4.0, 4.2, 0.4, 3.0]})
>>> v = verdict(runs, levers=["gate"], uncertainties=[],
...             outcomes={"metrics": {"revenue_total": 1}, "collapse": {"active_below": 30, "when": "end"}},
...             goal={"objective": "revenue_total", "sense": 1, "max_p_collapse": 0.1, "require": {}})
>>> v["recommended"], [o["p_collapse"]["p"] for o in v["options"]]
('strict', [0.0, 0.5])
>>> v["differences"][0]["metrics"]["revenue_total"]["mean"]   # strict - open, paired by replicate
25.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from qunsim import stats

__all__ = ["verdict", "collapsed", "meets_goal", "prim", "option_labels", "PrimBox"]


# ---------------------------------------------------------------------- per-run judgements


def collapsed(runs: pd.DataFrame, collapse: dict | None) -> np.ndarray:
    """Boolean per run: did it collapse (see :class:`qunsim.sweep.spec.Outcomes`)?

    >>> r = pd.DataFrame({"final_active": [10, 50], "min_active": [5, 12], "survival_ratio": [0.2, 1.0]})
    >>> collapsed(r, {"active_below": 30, "when": "end"}).tolist(), collapsed(r, {"active_below": 30, "when": "any"}).tolist()
    ([True, False], [True, True])
    >>> collapsed(r, {"survival_below": 0.5, "when": "end"}).tolist()
    [True, False]
    """
    n = len(runs)
    if not collapse or (collapse.get("active_below") is None and collapse.get("survival_below") is None):
        return np.zeros(n, dtype=bool)
    when = collapse.get("when", "end")
    if when == "any":
        if "min_active" not in runs:
            raise ValueError("a collapse `when = \"any\"` needs the summary metric `min_active`, which these "
                             "runs do not have (rerun them with this qunsim, or use when = \"end\")")
        level = runs["min_active"].to_numpy(dtype=float)
    else:
        level = runs["final_active"].to_numpy(dtype=float)
    if collapse.get("active_below") is not None:
        return level < float(collapse["active_below"])
    # survival: relative to the starting members (final / survival_ratio)
    final = runs["final_active"].to_numpy(dtype=float)
    ratio = runs["survival_ratio"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        start = np.where(ratio > 0, final / ratio, np.nan)
    if "initial_active" in runs:
        start = runs["initial_active"].to_numpy(dtype=float)
    start = np.where(np.isfinite(start) & (start > 0), start, 1.0)
    return level < float(collapse["survival_below"]) * start


def meets_goal(runs: pd.DataFrame, goal: dict | None, collapse: np.ndarray) -> np.ndarray:
    """Boolean per run: it did not collapse and meets every ``require`` bound of the goal."""
    ok = ~np.asarray(collapse, dtype=bool)
    for m, (lo, hi) in ((goal or {}).get("require") or {}).items():
        x = pd.to_numeric(runs[m], errors="coerce").to_numpy(dtype=float)
        if lo is not None:
            ok &= x >= lo
        if hi is not None:
            ok &= x <= hi
    return ok


# ---------------------------------------------------------------------- scenario discovery


class PrimBox(dict):
    """A PRIM box: ``limits`` {dimension: (low, high)} of the restricted dimensions (None on a
    side never peeled; a list of the categories kept for a categorical dimension),
    ``coverage`` (share of the cases of interest inside), ``density`` (share of the points
    inside that are cases of interest), ``support`` (share of all points inside), ``n``."""


def prim(x: pd.DataFrame, y: np.ndarray, *, alpha: float = 0.1, min_support: float = 0.05) -> PrimBox:
    """Patient Rule Induction Method (Friedman & Fisher 1999), peeling only.

    Starting from the box holding every point, repeatedly remove the ``alpha`` share of the
    points in the box at the low or the high end of one dimension — the one peel that most
    raises the share of cases of interest (``y``) in what remains — until the box would hold
    less than ``min_support`` of all points. On a discrete grid a peel removes at least the
    points at the extreme value. Of the peeling trajectory the box returned is the first one
    reaching the highest density (the largest box as pure as the purest). No pasting.

    Parameters
    ----------
    x : the points (one numeric column per uncertainty; categorical columns are used by their
        order of appearance).
    y : bool per point, the cases of interest (e.g. "another option is recommended here").
    alpha : share of the box peeled per step.
    min_support : smallest box, as a share of all points.

    Returns
    -------
    PrimBox

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame(rng.uniform(size=(1000, 2)), columns=["a", "b"])
    >>> box = prim(x, (x.a > 0.7).to_numpy())
    >>> round(box["limits"]["a"][0], 1), box["limits"]["a"][1], "b" in box["limits"], box["density"]
    (0.7, None, False, 1.0)
    """
    y = np.asarray(y, dtype=bool)
    cols = list(x.columns)
    X = np.empty((len(x), len(cols)))
    codes: dict[str, list] = {}
    for j, c in enumerate(cols):
        col = x[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            X[:, j] = col.to_numpy(dtype=float)
        else:
            cats = list(dict.fromkeys(col.tolist()))
            codes[c] = cats
            X[:, j] = [cats.index(v) for v in col]
    n, total = len(y), int(y.sum())
    inside = np.ones(n, dtype=bool)
    traj = [inside.copy()]
    bounds = [{}]  # per box: dimension -> [low, high] of the dimensions peeled so far
    floor = max(min_support * n, 1)
    while True:
        best, best_mean = None, -1.0
        for j in range(X.shape[1]):
            xj = X[inside, j]
            if len(np.unique(xj)) < 2:
                continue
            lo_t, hi_t = np.quantile(xj, alpha), np.quantile(xj, 1 - alpha)
            low, high = inside & (X[:, j] < lo_t), inside & (X[:, j] > hi_t)
            if not low.any():  # ties (a grid): peel the lowest level itself
                low = inside & (X[:, j] == xj.min())
            if not high.any():
                high = inside & (X[:, j] == xj.max())
            for side, rm in ((0, low), (1, high)):
                keep = inside & ~rm
                if keep.sum() < floor:
                    continue
                mean = y[keep].mean()
                if mean > best_mean + 1e-12:
                    best, best_mean, peel = keep, mean, (j, side)
        if best is None or best_mean < y[inside].mean() - 1e-12:
            break
        inside = best
        traj.append(inside.copy())
        j, side = peel
        b = {k: list(v) for k, v in bounds[-1].items()}
        lim = b.setdefault(cols[j], [None, None])  # None: that side was never peeled
        lim[side] = X[inside, j].min() if side == 0 else X[inside, j].max()
        bounds.append(b)
        if y[inside].mean() >= 1.0:
            break
    dens = [y[b].mean() if b.any() else 0.0 for b in traj]
    k = int(np.argmax(np.round(dens, 12)))
    box = traj[k]
    limits = {}
    for c, (lo, hi) in bounds[k].items():
        j = cols.index(c)
        if len(np.unique(X[box, j])) == 1:  # peeled down to one value: say which
            lo = hi = float(X[box, j][0])
        if c in codes:
            lo_i = -1 if lo is None else lo
            hi_i = len(codes[c]) if hi is None else hi
            limits[c] = [v for v in codes[c] if lo_i <= codes[c].index(v) <= hi_i]
        else:
            limits[c] = (None if lo is None else float(lo), None if hi is None else float(hi))
    return PrimBox(limits=limits, coverage=float(y[box].sum() / total) if total else 0.0,
                   density=float(dens[k]), support=float(box.mean()), n=int(box.sum()),
                   trajectory=[{"coverage": float(y[b].sum() / total) if total else 0.0,
                                "density": float(d), "support": float(b.mean())} for b, d in zip(traj, dens, strict=True)])


# ---------------------------------------------------------------------- options


def _short(key: str) -> str:
    parts = key.split(".")
    return parts[-1].replace("_", " ") if len(parts) > 1 else key.replace("_", " ")


def option_labels(options: pd.DataFrame, levers: list[str], names: dict[str, str] | None = None) -> list[str]:
    """One readable label per option (row of lever values): the value itself for one lever
    (or its name in ``names``, e.g. a strategy's label), ``lever = value, ...`` for several."""
    names = names or {}
    out = []
    for row in options[levers].itertuples(index=False, name=None):
        if len(levers) == 1:
            out.append(str(names.get(str(row[0]), row[0])))
        else:
            out.append(", ".join(f"{_short(k)} = {v}" for k, v in zip(levers, row, strict=True)))
    return out


def _key(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    if not cols:
        return pd.Series(["all"] * len(df), index=df.index)
    return df[cols].astype(str).agg(" | ".join, axis=1)


def _rank_key(o: dict, sense: int, max_pc: float | None) -> tuple:
    """Within the collapse limit first; then P(goal); then, among options over the limit, the
    less likely to collapse first; then the objective's median."""
    fails = max_pc is not None and o["p_collapse"]["p"] > max_pc + 1e-12
    med = o["objective"]["median"]
    med = -math.inf if med is None or not math.isfinite(med) else med
    return (fails, -o["p_goal"]["p"], o["p_collapse"]["p"] if fails else 0.0, -sense * med)


def verdict(runs: pd.DataFrame, *, levers: list[str], uncertainties: list[str], outcomes: dict,
            goal: dict | None = None, pairing: str = "common", names: dict[str, str] | None = None,
            level: float = 0.95) -> dict:
    """The decision a sweep's finished runs support (see the module docstring).

    Parameters
    ----------
    runs : one row per finished run: ``point``, ``replicate``, the lever and uncertainty
        columns and the summary metrics.
    levers, uncertainties : column names.
    outcomes : ``{"metrics": {name: +1 | -1}, "collapse": {...}}``.
    goal : ``{"objective", "sense", "max_p_collapse", "require": {name: [at_least, at_most]}}``;
        default: maximise the first outcome metric, with no constraint but not collapsing.
    pairing : "common" (pairs share a seed) or "independent" (differences are Welch, unpaired).
    names : display names of single-lever options (e.g. strategy labels).

    Returns
    -------
    dict (JSON-ready): ``objective``, ``goal``, ``pairing``, ``collapse``, ``options`` (ranked),
    ``recommended``, ``differences``, ``regret``, ``scenarios``, ``changes``, ``main_effects``,
    ``interactions``, ``n_runs``.
    """
    if not levers:
        raise ValueError("a verdict needs at least one lever (an option to choose)")
    metrics = dict(outcomes.get("metrics") or {})
    if goal is None:
        first = next(iter(metrics), "final_active")
        goal = {"objective": first, "sense": metrics.get(first, 1) or 1, "max_p_collapse": None,
                "require": {}, "implicit": True}
    obj, sense = goal["objective"], int(goal.get("sense", 1))
    need = [obj, *metrics, *(goal.get("require") or {})]
    missing = [m for m in dict.fromkeys(need) if m not in runs.columns]
    if missing:
        raise ValueError(f"the runs have no summary column(s) {missing} named by the outcomes or goal")
    metrics = {obj: sense, **{k: v for k, v in metrics.items() if k != obj}}
    df = runs.copy()
    df["_collapsed"] = collapsed(df, outcomes.get("collapse"))
    df["_goal"] = meets_goal(df, goal, df["_collapsed"].to_numpy())
    df["_option"] = _key(df, levers)
    df["_scenario"] = _key(df, uncertainties)
    opts = df.drop_duplicates("_option")[["_option", *levers]].reset_index(drop=True)
    labels = dict(zip(opts["_option"], option_labels(opts, levers, names), strict=True))
    max_pc = goal.get("max_p_collapse")

    options = []
    for key in opts["_option"]:
        g = df[df["_option"] == key]
        o = {"option": labels[key], "levers": {k: _py(g[k].iloc[0]) for k in levers}, "n": int(len(g)),
             "p_collapse": stats.wilson(int(g["_collapsed"].sum()), len(g), level),
             "p_goal": stats.wilson(int(g["_goal"].sum()), len(g), level), "metrics": {}}
        for m in metrics:
            x = pd.to_numeric(g[m], errors="coerce").to_numpy(dtype=float)
            o["metrics"][m] = {**stats.quantiles(x), **{k: v for k, v in stats.mean_ci(x, level).items()
                                                       if k in ("mean", "low", "high", "sd")},
                               "bimodal": _bimodal(x)}
        q = o["metrics"][obj]
        o["objective"] = {"metric": obj, "median": q["q50"], "mean": q["mean"], "low": q["low"], "high": q["high"]}
        o["within_risk_limit"] = max_pc is None or o["p_collapse"]["p"] <= max_pc + 1e-12
        options.append(o)
    options.sort(key=lambda o: _rank_key(o, sense, max_pc))
    for i, o in enumerate(options):
        o["rank"] = i + 1
    best = options[0]
    best_key = next(k for k, lab in labels.items() if lab == best["option"])

    # paired differences: every other option minus... the recommended one minus each other
    differences = []
    pair_cols = ["_scenario", "replicate"]
    a = df[df["_option"] == best_key].set_index(pair_cols)
    for o in options[1:]:
        k = next(kk for kk, lab in labels.items() if lab == o["option"])
        b = df[df["_option"] == k].set_index(pair_cols)
        common_idx = a.index.intersection(b.index)
        entry = {"vs": o["option"], "n_pairs": int(len(common_idx)), "metrics": {}}
        for m in [*metrics, "_collapsed"]:
            xa = pd.to_numeric(a[m], errors="coerce").astype(float)
            xb = pd.to_numeric(b[m], errors="coerce").astype(float)
            if pairing == "common":
                r = stats.paired_difference(xa.loc[common_idx].to_numpy(), xb.loc[common_idx].to_numpy(), level)
            else:
                r = stats.diff_ci(xa.to_numpy(), xb.to_numpy(), level)
            entry["metrics"]["collapse" if m == "_collapsed" else m] = {
                k2: _py(v) for k2, v in r.items() if k2 in ("n", "mean", "low", "high", "p_value", "paired", "sd")}
        differences.append(entry)

    # regret and the best option per scenario
    per = df.groupby(["_scenario", "_option"])
    means = per[obj].mean().unstack("_option")
    pgoal = per["_goal"].mean().unstack("_option")
    pcol = per["_collapsed"].mean().unstack("_option")
    reg = stats.regret(means, maximise=sense > 0)
    regret = {labels[k]: {kk: _py(v) for kk, v in reg.loc[k].items()} for k in reg.index}
    scen = df.drop_duplicates("_scenario")[["_scenario", *uncertainties]].set_index("_scenario")
    best_here = {}
    for s in means.index:
        cands = []
        for k in means.columns:
            if not np.isfinite(means.loc[s, k]):
                continue
            fails = max_pc is not None and pcol.loc[s, k] > max_pc + 1e-12
            cands.append(((fails, -pgoal.loc[s, k], pcol.loc[s, k] if fails else 0.0,
                           -sense * means.loc[s, k]), k))
        best_here[s] = min(cands)[1] if cands else None
    scenarios = []
    for s in means.index:
        scenarios.append({"scenario": {u: _py(scen.loc[s, u]) for u in uncertainties},
                          "best": labels.get(best_here[s]), "objective": {labels[k]: _py(means.loc[s, k]) for k in means.columns},
                          "p_goal": {labels[k]: _py(pgoal.loc[s, k]) for k in pgoal.columns},
                          "p_collapse": {labels[k]: _py(pcol.loc[s, k]) for k in pcol.columns}})
    changed = np.array([best_here[s] != best_key for s in means.index])
    changes: dict[str, Any] = {"n_scenarios": int(len(changed)), "n_changed": int(changed.sum()),
                               "alternatives": {}}
    for s, c in zip(means.index, changed, strict=True):
        if c:
            lab = labels.get(best_here[s])
            changes["alternatives"][lab] = changes["alternatives"].get(lab, 0) + 1
    if uncertainties and 0 < changed.sum() < len(changed):
        box = prim(scen.loc[means.index, uncertainties].reset_index(drop=True), changed,
                   alpha=0.2, min_support=1.0 / max(len(changed), 1))
        changes["box"] = {"limits": {k: (list(v) if isinstance(v, tuple) else v) for k, v in box["limits"].items()},
                          "coverage": box["coverage"], "density": box["density"], "support": box["support"],
                          "n": box["n"]}
        changes["rule"] = _box_words(box["limits"])

    main_effects = _main_effects(df, levers, metrics, pairing, level)
    interactions = []
    for lev in levers:
        for u in uncertainties:
            t = df.groupby([lev, u])[obj].agg(["mean", "count"]).reset_index()
            interactions.append({"lever": lev, "uncertainty": u, "metric": obj,
                                 "table": [{"lever_value": _py(r[lev]), "uncertainty_value": _py(r[u]),
                                            "mean": _py(r["mean"]), "n": int(r["count"])}
                                           for _, r in t.iterrows()]})
    return _clean({
        "objective": {"metric": obj, "sense": "maximise" if sense > 0 else "minimise"},
        "goal": {k: v for k, v in goal.items()},
        "collapse": outcomes.get("collapse"),
        "pairing": pairing, "levers": levers, "uncertainties": uncertainties, "n_runs": int(len(df)),
        "recommended": best["option"], "options": options, "differences": differences,
        "regret": regret, "scenarios": scenarios, "changes": changes,
        "main_effects": main_effects, "interactions": interactions,
    })


def _main_effects(df: pd.DataFrame, levers: list[str], metrics: dict, pairing: str, level: float) -> list:
    """Each lever value minus the lever's first value, paired over everything else."""
    out = []
    for lev in levers:
        others = [c for c in levers if c != lev]
        vals = list(dict.fromkeys(df[lev].tolist()))
        ref = vals[0]
        key = _key(df, others) + " || " + df["_scenario"] + " || " + df["replicate"].astype(str)
        d = df.assign(_pair=key)
        for v in vals[1:]:
            a = d[d[lev] == v].set_index("_pair")
            b = d[d[lev] == ref].set_index("_pair")
            idx = a.index.intersection(b.index)
            eff = {"lever": lev, "value": _py(v), "reference": _py(ref), "n_pairs": int(len(idx)), "metrics": {}}
            for m in metrics:
                xa = pd.to_numeric(a[m], errors="coerce").astype(float)
                xb = pd.to_numeric(b[m], errors="coerce").astype(float)
                r = (stats.paired_difference(xa.loc[idx].to_numpy(), xb.loc[idx].to_numpy(), level)
                     if pairing == "common" else stats.diff_ci(xa.to_numpy(), xb.to_numpy(), level))
                eff["metrics"][m] = {k: _py(x) for k, x in r.items() if k in ("mean", "low", "high", "n", "paired")}
            out.append(eff)
    return out


def _bimodal(x: np.ndarray) -> bool:
    """Sarle's bimodality coefficient above 5/9 (the uniform's), with at least 8 values: the
    outcomes split in two (e.g. thrive or collapse) and a mean would hide it."""
    from scipy import stats as sst

    x = x[np.isfinite(x)]
    n = len(x)
    if n < 8 or np.std(x) == 0:
        return False
    g = float(sst.skew(x, bias=False))
    k = float(sst.kurtosis(x, bias=False))
    b = (g**2 + 1) / (k + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
    return bool(b > 5 / 9)


def _box_words(limits: dict) -> str:
    parts = []
    for k, v in limits.items():
        name = _short(k)
        if isinstance(v, list):
            parts.append(f"{name} in {{{', '.join(map(str, v))}}}")
        else:
            lo, hi = v
            if lo is not None and hi is not None:
                parts.append(f"{name} between {lo:g} and {hi:g}" if lo != hi else f"{name} = {lo:g}")
            elif lo is not None:
                parts.append(f"{name} ≥ {lo:g}")
            elif hi is not None:
                parts.append(f"{name} ≤ {hi:g}")
    return " and ".join(parts)


def _py(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _clean(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    return _py(o)


def label_runs(df: pd.DataFrame, levers: list[str], names: dict[str, str] | None = None) -> pd.Series:
    """The option label of each run (row), as :func:`verdict` names options."""
    opts = df[levers].drop_duplicates()
    lab = dict(zip(map(tuple, opts.astype(str).to_numpy()), option_labels(opts, levers, names), strict=True))
    return pd.Series([lab[tuple(r)] for r in df[levers].astype(str).to_numpy()], index=df.index)


def sweep_verdict(results: Any) -> tuple[dict, pd.DataFrame, dict] | None:
    """The verdict of a sweep directory (or :class:`~qunsim.sweep.analysis.SweepResults`):
    ``(verdict, runs, decision)`` where ``runs`` is the summary with ``option`` and
    ``collapsed`` columns and ``decision`` the levers/uncertainties/outcomes/goal read from the
    manifest; None when the sweep has no lever with two or more values (nothing to choose).
    """
    from qunsim.sweep.analysis import SweepResults, load_results
    from qunsim.sweep.spec import decision_from_manifest

    res = results if isinstance(results, SweepResults) else load_results(results)
    dec = decision_from_manifest(res.manifest, res.design)
    runs = res.summary
    levers = [k for k in dec["levers"] if k in runs.columns and runs[k].nunique() > 1]
    if runs.empty or not levers:
        return None
    unc = [k for k in dec["uncertainties"] if k in runs.columns]
    present = [m for m in dec["outcomes"]["metrics"] if m in runs.columns]
    outcomes = {**dec["outcomes"], "metrics": {m: dec["outcomes"]["metrics"][m] for m in present}}
    goal = dec["goal"]
    if goal is not None and goal["objective"] not in runs.columns:
        raise ValueError(f"the goal's objective {goal['objective']!r} is not a summary column of these runs")
    v = verdict(runs, levers=levers, uncertainties=unc, outcomes=outcomes, goal=goal,
                pairing=dec["pairing"], names=dec["option_labels"])
    runs = runs.assign(option=label_runs(runs, levers, dec["option_labels"]),
                       collapsed=collapsed(runs, outcomes.get("collapse")))
    return v, runs, {**dec, "levers": levers, "uncertainties": unc, "outcomes": outcomes}


def option_bands(ts: pd.DataFrame, runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per option and step: the 5%, 50% and 95% quantiles of ``metric`` over the option's runs
    (and ``n``), for :func:`qunsim.plotting.plot_option_timeseries`."""
    t = ts[["run_id", "step", metric]].merge(runs[["run_id", "option"]], on="run_id", how="inner")
    parts = []
    for o, g in t.groupby("option", sort=False):
        b = stats.band(g, metric, qs=(0.05, 0.5, 0.95))
        b.insert(0, "option", o)
        parts.append(b)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["option", "step", "mean", "lower", "upper", "n", "q05", "q50", "q95"])
