"""Figures over time: active members by role, one metric by group, Gresham, value, trust, flows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qunsim.policies import schedule as _policies
from qunsim.state import ROLE_ORDER

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

from qunsim.plotting._style import (  # noqa: F401
    _DAY,
    _LABELS,
    _PERCENT,
    _PHASE_COLORS,
    OKABE_ITO,
    REASON_COLORS,
    ROLE_COLORS,
    TRUST_COLORS,
    _axes,
    _cycle_colors,
    _finish,
    _fmt,
    _legend_outside,
    _legend_right,
    _need,
    _runs_note,
    _short,
    _timeseries,
    _title,
    metric_label,
)

__all__ = ['plot_active_by_role', 'plot_timeseries', 'plot_gresham', 'plot_value_overload', 'plot_trust_levels', 'plot_leaves_by_reason', 'replicate_band']


#: Metrics of the day's messages: undefined on day 0, before anyone posted.
_MESSAGE_METRICS = {"low_quality_share", "value_density", "overload", "messages", "utility_mean",
                    "removed_messages"}


def _band_plot(ax: Axes, ts: pd.DataFrame, col: str, color: str, label: str, ci: float,
               scale: float = 1.0, log: bool = False, **kw: Any) -> pd.DataFrame:
    if col in _MESSAGE_METRICS or col.startswith("messages_"):
        ts = ts[ts["step"] > 0]
    if log:  # ratios: average and band on the log scale (geometric mean)
        ts = ts.assign(**{col: np.log(np.clip(ts[col].astype(float), 1e-6, None))})
    b = replicate_band(ts, col, ci)
    if log:
        b[["mean", "lower", "upper"]] = np.exp(b[["mean", "lower", "upper"]])
    elif len(ts) and (ts[col] >= 0).all():
        # a t interval can dip below 0 with few runs; counts and shares cannot
        b["lower"] = b["lower"].clip(lower=0.0)
        if col in _PERCENT or col.endswith("_share"):
            b["upper"] = b["upper"].clip(upper=1.0)
    x = b["step"].to_numpy()
    ax.plot(x, b["mean"] * scale, color=color, label=label, **kw)
    if (b["n"] > 1).any():
        ax.fill_between(x, b["lower"] * scale, b["upper"] * scale, color=color, alpha=0.2, linewidth=0)
    return b


def _shade_phases(ax: Axes, ts: pd.DataFrame) -> list:
    """Shade lifecycle phases of a single run behind the data; return legend proxies."""
    from matplotlib.patches import Patch

    if "phase" not in ts.columns or ts["run_id"].nunique() != 1 or len(ts) < 2:
        return []
    steps = ts["step"].to_numpy()
    ph = ts["phase"].astype(str).to_numpy()
    starts = [0] + [i for i in range(1, len(ph)) if ph[i] != ph[i - 1]]
    bounds = starts + [len(ph)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        ax.axvspan(steps[a] - 0.5, steps[b - 1] + 0.5, color=_PHASE_COLORS.get(ph[a], "#FFFFFF"),
                   zorder=0, linewidth=0)
    seen = [p for p in _PHASE_COLORS if p in set(ph)]
    return [Patch(facecolor=_PHASE_COLORS[p], edgecolor="#BBBBBB", linewidth=0.6, label=f"phase: {p}")
            for p in seen]


def _day_axes(ts: pd.DataFrame, ax: Any, n: int = 1, *, phases: bool = False,
              **kw: Any) -> tuple[Figure, list[Axes], list]:
    """Axes of a figure over days (:func:`_axes`), the run's lifecycle ``phases`` shaded behind
    the first panel and the scheduled policies' periods behind every panel; returns the
    figure, its axes and the legend proxies of the first panel's shading."""
    fig, axes = _axes(ax, n, **kw)
    proxies = _shade_phases(axes[0], ts) if phases else []
    for i, a in enumerate(axes):
        shaded = _policies.shade_policy_periods(a, ts)
        if i == 0:
            proxies += shaded
    return fig, axes, proxies


def _roles_present(ts: pd.DataFrame, prefix: str, roles: Sequence[str] | None) -> list[str]:
    cand = roles or ROLE_ORDER
    return [r for r in cand if f"{prefix}{r}" in ts.columns and ts[f"{prefix}{r}"].max() > 0]


def plot_active_by_role(data: Any, *, roles: Sequence[str] | None = None, total: bool = True,
                        ci: float = 0.95, phases: bool = True, ax: Axes | None = None,
                        title: str | None = None) -> Figure:
    """Active members by role over time, with confidence bands across replicates.

    Parameters
    ----------
    data : RunResult, DataFrame or list of RunResult
        Time series (``active_<role>`` columns); several runs are averaged.
    roles : sequence of str, optional
        Roles to draw (default: every role that ever had an active member).
    total : bool
        Also draw all active members (grey, dashed).
    ci : float
        Confidence level of the bands.
    phases : bool
        Shade the lifecycle phases (single runs only).
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import qunsim as qs
    >>> from qunsim.plotting import plot_active_by_role
    >>> runs = [qs.simulate(rng=s, steps=30, **{"community.n_seed": 60}) for s in range(3)]
    >>> fig = plot_active_by_role(runs)  # doctest: +SKIP
    """
    ts = _timeseries(data)
    present = _roles_present(ts, "active_", roles)
    if not present:
        raise ValueError("no active_<role> column with any member: nothing to draw")
    fig, (ax,), proxies = _day_axes(ts, ax, phases=phases)
    if total:
        _band_plot(ax, ts, "active", "#777777", "all members", ci, linestyle="--", linewidth=1.6)
    for r in present:
        _band_plot(ax, ts, f"active_{r}", ROLE_COLORS.get(r, "#444444"), r, ci)
    ax.set_xlabel(_DAY)
    ax.set_ylabel("active members")
    ax.set_ylim(bottom=0)
    _legend_right(ax, extra=proxies)
    _title(ax, title or "Active members by role", _runs_note(ts["run_id"].nunique(), ci))
    return _finish(fig)


def plot_timeseries(data: Any, metric: str, *, by: str | None = None, ci: float = 0.95,
                    ax: Axes | None = None, title: str | None = None, max_groups: int = 8) -> Figure:
    """One metric over time, one line per group of runs (e.g. a strategy or an axis value).

    Parameters
    ----------
    data : RunResult, DataFrame or list
        Time series; with ``by``, a column of the frame naming each run's group (join a
        sweep's design onto its time series first, see :func:`plot_sweep_dir`).
    metric : str
        Time-series column.
    by : str, optional
        Column whose values split the runs into groups; each group is averaged with a band.
    ci : float
    ax : Axes, optional
    title : str, optional
    max_groups : int
        Refuse to draw more groups than this (an unreadable spaghetti plot).

    Returns
    -------
    Figure

    Examples
    --------
    >>> import qunsim as qs
    >>> from qunsim.plotting import plot_timeseries
    >>> fig = plot_timeseries(qs.simulate(rng=1, steps=30), "messages")  # doctest: +SKIP
    """
    ts = _timeseries(data)
    _need(ts, [metric], "plot_timeseries")
    fig, (ax,), _ = _day_axes(ts, ax)
    scale = 100.0 if metric in _PERCENT else 1.0
    if by is None:
        _band_plot(ax, ts, metric, OKABE_ITO["blue"], metric_label(metric, unit=False), ci, scale=scale)
    else:
        _need(ts, [by], "plot_timeseries")
        groups = list(pd.unique(ts[by]))
        if len(groups) > max_groups:
            raise ValueError(f"{len(groups)} groups in {by!r}: more than max_groups={max_groups} lines "
                             "would be unreadable; filter the runs first or raise max_groups")
        try:
            groups = sorted(groups)
        except TypeError:
            pass
        colors = _cycle_colors(len(groups))
        for g, c in zip(groups, colors, strict=True):
            lab = _fmt(g) if by == "point_label" else f"{_short(by)} = {_fmt(g)}"
            _band_plot(ax, ts[ts[by] == g], metric, c, lab, ci, scale=scale)
        _legend_outside(ax)
    ax.set_xlabel(_DAY)
    lab, unit = _LABELS.get(metric, (metric_label(metric, unit=False), ""))
    ax.set_ylabel(unit or lab)
    if by is None:
        note = _runs_note(ts["run_id"].nunique(), ci)
    else:
        per = ts.groupby(by)["run_id"].nunique()
        rng_ = f"{per.min()}" if per.min() == per.max() else f"{per.min()}–{per.max()}"
        note = f"mean of {rng_} runs per line, band = {ci:.0%} CI of the mean"
    _title(ax, title or f"{lab} over time" + (f" by {_short(by)}" if by else ""), note)
    return _finish(fig)


def plot_gresham(data: Any, *, ci: float = 0.95, ax: Any = None, title: str | None = None) -> Figure:
    """Gresham panel (劣币驱逐良币): low-quality share and expert retention over time (top),
    and the Gresham index, the leaving hazard of the best quarter of members over the worst
    quarter's (bottom; above 1, good money leaves faster). Across replicates the index is
    averaged on the log scale (geometric mean), as befits a ratio. Expert retention is left
    out of a run until its first expert has joined (the series reports 1 there: none lost).

    Parameters
    ----------
    data : RunResult, DataFrame or list
    ci : float
    ax : sequence of two Axes, optional
    title : str, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import qunsim as qs
    >>> from qunsim.plotting import plot_gresham
    >>> fig = plot_gresham(qs.simulate(rng=1, steps=30))  # doctest: +SKIP
    """
    ts = _timeseries(data)
    _need(ts, ["low_quality_share", "expert_retention", "gresham_index"], "plot_gresham")
    fig, (top, bot), _ = _day_axes(ts, ax, 2, figsize=(9.0, 6.5), gridspec_kw={"height_ratios": [3, 2]})
    _band_plot(top, ts, "low_quality_share", OKABE_ITO["orange"], "low-quality messages\n(chatter + spam)",
               ci, scale=100)
    if "active_expert" in ts.columns:
        # retention is undefined until an expert has joined (the series says 1): leave it out
        seen = ts.sort_values("step").groupby("run_id")["active_expert"].cummax()
        ts = ts.assign(expert_retention=ts["expert_retention"].where(seen.reindex(ts.index) > 0))
    _band_plot(top, ts, "expert_retention", ROLE_COLORS["expert"], "expert retention\n(active / ever joined)",
               ci, scale=100)
    top.set_ylim(-2, 102)
    top.set_ylabel("%")
    _legend_right(top)
    b = _band_plot(bot, ts, "gresham_index", OKABE_ITO["black"], "Gresham index", ci, log=True)
    bot.axhline(1.0, color="#999999", linewidth=1, linestyle=":")
    lo = float(np.nanmin(b["lower"])) if len(b) else 1.0
    hi = float(np.nanmax(b["upper"])) if len(b) else 1.0
    lo, hi = max(min(lo, 1 / 1.5), 1e-2), min(max(hi, 1.5), 100)
    bot.set_yscale("log")
    bot.set_ylim(lo / 1.1, hi * 1.1)
    ticks = [t for t in (0.01, 0.03, 0.1, 0.25, 0.5, 1, 2, 4, 10, 20, 50, 100) if lo / 1.1 <= t <= hi * 1.1]
    bot.set_yticks(ticks, [f"{t:g}" for t in ticks])
    bot.minorticks_off()
    bot.text(1.01, 1.0, "↑ good members\n   leave faster", transform=bot.transAxes, ha="left", va="top",
             fontsize=9.5, color="#555555")
    bot.text(1.01, 0.0, "↓ poor members\n   leave faster", transform=bot.transAxes, ha="left", va="bottom",
             fontsize=9.5, color="#555555")
    bot.set_ylabel("hazard ratio\n(top / bottom quality quartile)")
    bot.set_xlabel(_DAY)
    _title(top, title or "Bad money vs good: message quality and who stays", _runs_note(ts["run_id"].nunique(), ci))
    return _finish(fig)


def plot_value_overload(data: Any, *, ci: float = 0.95, ax: Any = None, title: str | None = None) -> Figure:
    """Value density (mean value per message read), overload (share of a group's messages a
    reader cannot read) and message volume over time.

    Parameters
    ----------
    data : RunResult, DataFrame or list
    ci : float
    ax : sequence of three Axes, optional
    title : str, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import qunsim as qs
    >>> from qunsim.plotting import plot_value_overload
    >>> fig = plot_value_overload(qs.simulate(rng=1, steps=30))  # doctest: +SKIP
    """
    ts = _timeseries(data)
    _need(ts, ["value_density", "overload", "messages"], "plot_value_overload")
    fig, (top, mid, bot), _ = _day_axes(ts, ax, 3, figsize=(9.0, 8.0))
    _band_plot(top, ts, "value_density", OKABE_ITO["bluish_green"], "value density", ci)
    top.set_ylabel("value per\nmessage read")
    top.set_ylim(bottom=min(0.0, float(ts["value_density"].min())))
    _band_plot(mid, ts, "overload", OKABE_ITO["vermillion"], "overload", ci, scale=100)
    mid.set_ylabel("% of messages\nleft unread")
    mid.set_ylim(-2, 102)
    _band_plot(bot, ts, "messages", "#555555", "messages", ci)
    bot.set_ylabel("messages / day")
    bot.set_ylim(bottom=0)
    bot.set_xlabel(_DAY)
    _title(top, title or "Is reading worth it? Value per message, overload and volume",
           _runs_note(ts["run_id"].nunique(), ci))
    return _finish(fig)


def plot_trust_levels(data: Any, *, share: bool = True, ax: Axes | None = None,
                      title: str | None = None) -> Figure:
    """Distribution of active members over trust levels (none / weak / strong) over time.

    Parameters
    ----------
    data : RunResult, DataFrame or list
        Several runs are averaged step by step.
    share : bool
        Draw shares of active members (%) rather than counts.
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import qunsim as qs
    >>> from qunsim.plotting import plot_trust_levels
    >>> fig = plot_trust_levels(qs.simulate(rng=1, steps=30))  # doctest: +SKIP
    """
    ts = _timeseries(data)
    cols = ["trust_none", "trust_weak", "trust_strong"]
    _need(ts, cols, "plot_trust_levels")
    m = ts.groupby("step")[cols].mean()
    tot = m.sum(axis=1).to_numpy()
    vals = m.to_numpy().T.astype(float)
    if share:
        with np.errstate(invalid="ignore", divide="ignore"):
            vals = np.where(tot > 0, vals / np.where(tot > 0, tot, 1) * 100, np.nan)
    fig, (ax,) = _axes(ax)
    labels = ["none", "weak", "strong"]
    ax.stackplot(m.index.to_numpy(), np.nan_to_num(vals), labels=labels,
                 colors=[TRUST_COLORS[k] for k in ("none", "weak", "strong")], linewidth=0)
    if "trust_mean" in ts.columns and share:
        tm = ts.groupby("step")["trust_mean"].mean()
        ax.plot(tm.index, tm.to_numpy() * 100, color=OKABE_ITO["orange"], linewidth=2,
                label="mean trust ×100")
    ax.set_ylim(0, 100 if share else None)
    ax.set_xlim(m.index.min(), m.index.max())
    ax.set_ylabel("% of active members" if share else "active members")
    ax.set_xlabel(_DAY)
    _legend_right(ax, reverse=True, title="trust level")
    _title(ax, title or "Members' trust in the community, by level", _runs_note(ts["run_id"].nunique()))
    return _finish(fig)


def plot_leaves_by_reason(data: Any, *, bin_days: int | None = None, ax: Axes | None = None,
                          title: str | None = None) -> Figure:
    """Joins and leaves by reason, summed over periods of ``bin_days``.

    Parameters
    ----------
    data : RunResult, DataFrame or list
        Several runs are averaged.
    bin_days : int, optional
        Period length (default: the shortest of 1, 2, 7, 14, 30, 60, ... days giving at most
        about 30 bars).
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import qunsim as qs
    >>> from qunsim.plotting import plot_leaves_by_reason
    >>> fig = plot_leaves_by_reason(qs.simulate(rng=1, steps=30))  # doctest: +SKIP
    """
    ts = _timeseries(data)
    reasons = [c[len("leaves_"):] for c in ts.columns if c.startswith("leaves_")]
    _need(ts, ["joins"], "plot_leaves_by_reason")
    nruns = ts["run_id"].nunique()
    steps = ts["step"].to_numpy()
    span = int(steps.max() - steps.min()) + 1
    if bin_days is None:  # a calendar-like period giving at most ~30 bars
        bin_days = next((b for b in (1, 2, 7, 14, 30, 60, 90, 180, 365) if span / b <= 30), 365)
    if bin_days < 1:
        raise ValueError(f"bin_days must be >= 1, got {bin_days}")
    t = ts[ts["step"] > 0]
    period = ((t["step"] - 1) // bin_days).to_numpy()
    agg = t.groupby(period)[["joins"] + [f"leaves_{r}" for r in reasons]].sum() / nruns
    x = agg.index.to_numpy() * bin_days + 1 + (bin_days - 1) / 2
    fig, (ax,) = _axes(ax)
    w = bin_days * 0.85
    ax.bar(x, agg["joins"], width=w, color="#BBBBBB", label="joined")
    bottom = np.zeros(len(agg))
    for r in reasons:
        v = agg[f"leaves_{r}"].to_numpy()
        if v.sum() == 0:
            continue
        ax.bar(x, -v, bottom=-bottom, width=w, color=REASON_COLORS.get(r, "#444444"), label=f"left: {r}")
        bottom += v
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_xlabel(_DAY)
    ax.set_ylabel(f"members per {bin_days} days" if bin_days > 1 else "members per day")
    ax.legend(frameon=False, loc="best", ncol=2)
    _title(ax, title or "Who joins, who leaves, and why", _runs_note(nruns, then="joins up, leaves down"))
    return _finish(fig)


def replicate_band(data: Any, column: str, ci: float = 0.95, x: str = "step") -> pd.DataFrame:
    """Mean of ``column`` over runs at each ``x``, with a Student-t confidence interval
    (:func:`qunsim.stats.band` of the time series of ``data``).

    Returns
    -------
    DataFrame
        Columns ``x, mean, lower, upper, n``. With one run the interval collapses to the mean.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.DataFrame({"run_id": [0, 1, 0, 1], "step": [0, 0, 1, 1], "active": [10, 10, 8, 12]})
    >>> b = replicate_band(ts, "active")
    >>> b["mean"].tolist(), b["n"].tolist()
    ([10.0, 10.0], [2, 2])
    """
    from qunsim.stats import band

    ts = _timeseries(data)
    _need(ts, [column], "replicate_band")
    return band(ts, column, ci, x)
