"""The standard figures of a run directory and of a sweep directory (``qunsim plot``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

from qunsim.plotting._style import FIGURE_FORMATS, _close, _fmt, _short, save_figure  # noqa: F401
from qunsim.plotting.compare import plot_heatmap, plot_policy_comparison  # noqa: F401
from qunsim.plotting.members import plot_survival  # noqa: F401
from qunsim.plotting.monetization import plot_monetization  # noqa: F401
from qunsim.plotting.network import plot_network  # noqa: F401
from qunsim.plotting.timeseries import (  # noqa: F401
    _roles_present,
    plot_active_by_role,
    plot_gresham,
    plot_leaves_by_reason,
    plot_timeseries,
    plot_trust_levels,
    plot_value_overload,
)

__all__ = ['plot_run_dir', 'network_snapshot', 'is_run_dir', 'plot_sweep_dir', 'HEADLINE_METRICS', 'SweepView', 'load_sweep', 'sweep_figures']


#: Standard figures of a single run: name -> (function, kwargs, needs).
def _run_figures(res: Any) -> list[tuple[str, Any]]:
    ts = res.timeseries
    figs: list[tuple[str, Any]] = [
        ("active_by_role", lambda: plot_active_by_role(res)),
        ("flows", lambda: plot_leaves_by_reason(res)),
        ("survival_by_role", lambda: plot_survival(res, by="role")),
        ("survival_by_cohort", lambda: plot_survival(res, by="cohort")),
        ("gresham", lambda: plot_gresham(res)),
        ("value_overload", lambda: plot_value_overload(res)),
        ("trust_levels", lambda: plot_trust_levels(res)),
    ]
    earns = "revenue" in ts.columns and float(ts["revenue"].abs().sum()) > 0
    climbs = "tier" in res.members.columns and (res.members["tier"].astype(str) != "member").any()
    if earns or climbs:
        figs.append(("monetization", lambda: plot_monetization(res)))
    return figs


def plot_run_dir(run_dir: str | Path, out_dir: str | Path | None = None,
                 formats: Sequence[str] = FIGURE_FORMATS, network: bool = True,
                 max_nodes: int = 1500) -> list[Path]:
    """Draw the standard figures of a run directory (written by ``qunsim run``).

    Active members by role, joins and leaves, survival by role and by cohort, the Gresham
    panel, value and overload, trust levels, monetization (when the run earned or converted
    anyone) and, for communities of at most ``max_nodes`` members, a network snapshot. The
    snapshot needs the graph, which a run directory does not store: the run is replayed from
    its ``config.toml`` and seed (same config + seed = same run) up to the day drawn, and the
    snapshot is skipped if the replay does not match the saved time series, and when the
    config names a user policy class (replaying would run its code; plotting never does).

    Parameters
    ----------
    run_dir : path
    out_dir : path, optional
        Default ``run_dir/figures``.
    formats : sequence of str
    network : bool
        Draw the network snapshot (replays the run).
    max_nodes : int

    Returns
    -------
    list of Path
        Every file written.
    """
    from qunsim.simulation import load_run

    run_dir = Path(run_dir)
    _check_run_dir(run_dir)
    out_dir = Path(out_dir) if out_dir is not None else run_dir / "figures"
    res = load_run(run_dir)
    written: list[Path] = []
    for name, make in _run_figures(res):
        fig = make()
        written += save_figure(fig, out_dir / name, formats)
        _close(fig)
    if network:
        snap = network_snapshot(res, max_nodes=max_nodes)
        if snap is not None:
            graph, day, why = snap
            fig = plot_network(graph, max_nodes=max_nodes,
                               title=f"Who is connected to whom on day {day} ({why})")
            written += save_figure(fig, out_dir / "network", formats)
            _close(fig)
    return written


def network_snapshot(res: Any, max_nodes: int = 1500) -> tuple[nx.Graph, int, str] | None:
    """Replay a run to the day worth drawing and return ``(graph, day, reason)``.

    The day is the last day if the community still has at least 30 members then, else the
    day of peak membership. Returns None when the community is larger than ``max_nodes`` on
    that day, the seed is unknown, or the replay does not reproduce the saved time series.
    """
    from qunsim.model import CommunityModel
    from qunsim.policies import user_classes

    ts = res.timeseries
    if res.seed is None or not len(ts) or user_classes(res.config):
        return None  # (replaying a run with plug-in policies would run their code: plots never do)
    last = int(ts["step"].max())
    final = int(ts.loc[ts["step"] == last, "active"].iloc[0])
    if final >= 30:
        day, why = last, "end of the run"
    else:
        day = int(ts.loc[ts["active"].idxmax(), "step"])
        why = "peak membership"
    expected = int(ts.loc[ts["step"] == day, "active"].iloc[0])
    if expected > max_nodes or expected == 0:
        return None
    model = CommunityModel(res.config, rng=res.seed)
    if day:
        model.run_for(day)
    replay = model.timeseries()
    got = replay.loc[replay["step"] == day, "active"]
    if len(got) != 1 or int(got.iloc[0]) != expected:
        return None
    return model.graph(), day, why


def _check_run_dir(run_dir: Path) -> None:
    if not run_dir.is_dir():
        raise FileNotFoundError(2, "no such results directory", str(run_dir))
    need = [f for f in ("timeseries.parquet", "members.parquet", "summary.json", "config.toml")
            if not (run_dir / f).exists()]
    if need:
        raise ValueError(f"{run_dir} is not a run directory written by `qunsim run`: it lacks "
                         f"{', '.join(need)}")


def is_run_dir(path: str | Path) -> bool:
    """True if ``path`` holds a single run written by ``qunsim run`` / :func:`save_run`."""
    p = Path(path)
    return (p / "timeseries.parquet").is_file() and (p / "summary.json").is_file()


def plot_sweep_dir(sweep_dir: str | Path, out_dir: str | Path | None = None,
                   formats: Sequence[str] = FIGURE_FORMATS, metrics: Sequence[str] | None = None) -> list[Path]:
    """Draw the standard figures of a sweep directory (written by ``qunsim sweep``).

    The figures of :func:`sweep_figures`: for a sweep with levers, every run per option for
    each outcome, the levers' paired effects, lever x uncertainty interactions and each
    option's trajectory with the spread of its replicates; for a sweep over uncertainties
    only, comparisons across design points and heatmaps.

    Parameters
    ----------
    sweep_dir : path
    out_dir : path, optional
        Default ``sweep_dir/figures``.
    formats : sequence of str
    metrics : sequence of str, optional
        Summary metrics to draw (default: the sweep's outcomes, else the headline metrics).

    Returns
    -------
    list of Path
    """
    sweep_dir = Path(sweep_dir)
    out_dir = Path(out_dir) if out_dir is not None else sweep_dir / "figures"
    sw = load_sweep(sweep_dir)
    written: list[Path] = []
    for name, make in sweep_figures(sw, metrics):
        fig = make()
        written += save_figure(fig, out_dir / name, formats)
        _close(fig)
    return written


#: Summary metrics shown in sweep comparisons and reports, with whether more is better (from
#: the metric registry, :data:`qunsim.registry.HEADLINE`).
def _headline_metrics() -> dict[str, bool]:
    from qunsim.registry import HEADLINE, direction

    return {k: direction(k) > 0 for k in HEADLINE}


HEADLINE_METRICS: dict[str, bool] = _headline_metrics()


class SweepView:
    """A sweep's tables prepared for plotting: finished runs, a readable label per design point.

    Attributes
    ----------
    summary : DataFrame      one row per finished run, with ``point_label``
    timeseries : DataFrame   tidy time series with ``point_label`` and the axes joined on
    axes : list of str       swept dotted keys
    manifest : dict          provenance
    failures : DataFrame     runs whose last attempt raised
    path : Path
    """

    def __init__(self, summary: pd.DataFrame, timeseries: pd.DataFrame | None, axes: list[str],
                 manifest: dict, path: Path, failures: pd.DataFrame | None = None, planned: int | None = None):
        self.summary = summary
        self.timeseries = timeseries
        self.axes = axes
        self.manifest = manifest
        self.path = path
        self.failures = failures if failures is not None else pd.DataFrame()
        self.planned = planned if planned is not None else len(summary)

    @property
    def points(self) -> list[str]:
        """Design-point labels, in design order."""
        return list(dict.fromkeys(self.summary["point_label"]))


def load_sweep(sweep_dir: str | Path) -> SweepView:
    """Open a sweep directory with :func:`qunsim.load_results` and label its design points."""
    from qunsim.sweep import load_results

    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(2, "no such results directory", str(sweep_dir))
    res = load_results(sweep_dir)
    summary = res.summary.copy()
    manifest = dict(res.manifest or {})
    axes = [a for a in res.axes if a in summary.columns]
    if summary.empty:
        nf = len(res.failures)
        raise ValueError(f"the sweep in {sweep_dir} has no finished run to plot"
                         + (f" ({nf} failed; see qs.load_results(dir).failures)" if nf else ""))
    order = ["point", "replicate"] if "point" in summary.columns else axes
    if order:
        summary = summary.sort_values(order, kind="stable")
    summary["point_label"] = _point_labels(summary, axes)
    ts = res.timeseries
    if isinstance(ts, pd.DataFrame) and len(ts):
        ts = ts.merge(summary[["run_id", "point_label"] + axes], on="run_id", how="inner")
    else:
        ts = None
    return SweepView(summary.reset_index(drop=True), ts, axes, manifest, sweep_dir, res.failures,
                     len(res.design))


def _point_labels(summary: pd.DataFrame, axes: list[str]) -> pd.Series:
    if not axes:
        return pd.Series(["all runs"] * len(summary), index=summary.index)
    if len(axes) == 1:
        return summary[axes[0]].map(_fmt)
    def leaf(a: str) -> str:
        return "scenario" if a == "base" else a.rsplit(".", 1)[-1].replace("_", " ")

    return summary[axes].apply(lambda r: ", ".join(f"{leaf(a)} = {_fmt(r[a])}" for a in axes), axis=1)


def _axes_title(axes: Sequence[str]) -> str:
    return " × ".join(_short(a) for a in axes) if axes else "design point"


def sweep_figures(sw: SweepView, metrics: Sequence[str] | None = None,
                  decision: tuple | None = None) -> list[tuple[str, Any]]:
    """The standard figures of a sweep as ``(name, make)`` pairs (``make()`` -> Figure).

    With levers to choose between (``decision``: :func:`qunsim.decision.sweep_verdict` of the
    sweep, computed when not given): every run's outcome per option (``outcome_<metric>``),
    the levers' paired main effects (``lever_effects``), lever x uncertainty interactions
    (``interaction_<i>``), and each option's trajectory with the spread of its replicates
    (``over_time_<metric>``). Without levers (a sweep over uncertainties only): the
    comparison across design points and heatmaps over the first two axes. Figures of one
    design point's runs (roles, Gresham, trust) only when the sweep has a single point.
    """
    from qunsim.decision import option_bands, sweep_verdict
    from qunsim.plotting.decision import (
        plot_interactions,
        plot_main_effects,
        plot_option_timeseries,
        plot_outcome_strips,
    )
    from qunsim.registry import headline

    s = sw.summary
    if decision is None:
        decision = sweep_verdict(sw.path)
    figs: list[tuple[str, Any]] = []
    npoints = len(sw.points)
    ts = sw.timeseries
    if decision is not None:
        v, runs, dec = decision
        order = [o["option"] for o in v["options"]]
        quant = {o["option"]: o["metrics"] for o in v["options"]}
        mets = list(metrics or dec["outcomes"]["metrics"])
        dirs = dict(dec["outcomes"]["metrics"])
        for m in mets:
            if m not in runs.columns:
                continue
            figs.append((f"outcome_{m}", lambda m=m: plot_outcome_strips(
                runs, m, quantiles={o: q.get(m) for o, q in quant.items()}, order=order,
                direction=dirs.get(m, 0))))
        names = dec["option_labels"] or None
        if v["main_effects"]:
            figs.append(("lever_effects", lambda: plot_main_effects(v["main_effects"], mets[:4], directions=dirs,
                                                                    names=names)))
        for i, it in enumerate(v["interactions"][:6]):
            lev_order = [o["levers"][it["lever"]] for o in v["options"]]
            lev_order = list(dict.fromkeys(lev_order))
            figs.append((f"interaction_{i}", lambda it=it, lo=lev_order: plot_interactions(
                it["table"], it["lever"], it["uncertainty"], it["metric"], names=names, order=lo)))
        if ts is not None:
            for m in ("active", "revenue_cumulative", "expert_retention", "low_quality_share"):
                if m in ts.columns and float(ts[m].abs().sum()) > 0:
                    bands = option_bands(ts, runs, m)
                    figs.append((f"over_time_{m}", lambda m=m, b=bands: plot_option_timeseries(b, m, order=order)))
        return figs
    mets = [m for m in (metrics or headline(s.columns)) if m in s.columns and pd.api.types.is_numeric_dtype(s[m])]
    mets = [m for m in mets if not (m.startswith("revenue") and float(s[m].abs().sum()) == 0)]
    from qunsim.registry import direction

    better = {m: (direction(m) > 0 if direction(m) else None) for m in mets}
    if ts is not None and 1 < npoints <= 8:
        figs.append(("active_by_point", lambda: plot_timeseries(
            ts, "active", by="point_label", title="Active members over time, by design point")))
    if ts is not None and 1 < npoints <= 8 and "revenue_cumulative" in ts.columns \
            and float(ts["revenue_cumulative"].abs().sum()) > 0:
        figs.append(("revenue_by_point", lambda: plot_timeseries(
            ts, "revenue_cumulative", by="point_label", title="Cumulative revenue, by design point")))
    if ts is not None and npoints == 1:
        cols = set(ts.columns)
        # only the figures whose series the sweep kept (its `keep.timeseries`)
        if _roles_present(ts, "active_", None):
            figs.append(("active_by_role", lambda: plot_active_by_role(ts, title="Active members by role")))
        if {"low_quality_share", "expert_retention", "gresham_index"} <= cols:
            figs.append(("gresham", lambda: plot_gresham(ts, title="Bad money vs good")))
        if {"trust_none", "trust_weak", "trust_strong"} <= cols:
            figs.append(("trust_levels", lambda: plot_trust_levels(ts, title="Trust levels")))
    if npoints > 1 and len(sw.axes) <= 1:
        for m in mets:
            figs.append((f"compare_{m}", lambda m=m: plot_policy_comparison(
                s, m, by="point_label", higher_is_better=better.get(m), sort=False,
                ylabel=_axes_title(sw.axes))))
    if len(sw.axes) >= 2 and 1 < npoints <= 12:  # a few points: also their intervals, for key metrics
        key = [m for m in ("final_active", "mean_churn_rate", "revenue_total") if m in mets] or mets[:2]
        for m in key:
            figs.append((f"compare_{m}", lambda m=m: plot_policy_comparison(
                s, m, by="point_label", higher_is_better=better.get(m), sort=False,
                ylabel=_axes_title(sw.axes))))
    if len(sw.axes) >= 2:
        x, y = sw.axes[0], sw.axes[1]
        for m in mets:
            figs.append((f"heatmap_{m}", lambda m=m: plot_heatmap(
                s, x, y, m, center=1.0 if "gresham" in m else None, log="gresham" in m
                and bool((s[m] > 0).all()))))
    return figs
