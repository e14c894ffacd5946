"""Comparisons across strategies or design points: replicate dots with intervals, heatmaps."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

from qunsim.plotting._style import (  # noqa: F401
    _PERCENT,
    OKABE_ITO,
    _axes,
    _finish,
    _fmt,
    _mean_ci,
    _num,
    _short,
    _title,
    metric_label,
)

__all__ = ['plot_policy_comparison', 'plot_heatmap']


def plot_policy_comparison(summary: pd.DataFrame | dict, metric: str, *, by: str | None = None,
                           ci: float = 0.95, higher_is_better: bool | None = None, sort: bool = True,
                           ylabel: str | None = None, ax: Axes | None = None,
                           title: str | None = None) -> Figure:
    """A summary metric per strategy (or per value of a sweep axis): replicate dots, mean and
    its confidence interval.

    Parameters
    ----------
    summary : DataFrame or dict
        One row per run (a sweep's ``summary``), or ``{strategy: values}``.
    metric : str
        Summary column.
    by : str
        Column naming each run's strategy or axis value (required for a DataFrame).
    ci : float
    higher_is_better : bool, optional
        If given, the best strategy's interval is drawn in bold and the axis says which way
        is better.
    sort : bool
        Order strategies by their mean (highest at the top); else keep their order of
        appearance (first at the top).
    ylabel : str, optional
        Label of the strategy axis (default: ``by``).
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> from qunsim.plotting import plot_policy_comparison
    >>> fig = plot_policy_comparison({"ladder": [120, 140, 130], "hard sell": [60, 90, 70]},
    ...                              "revenue_total")  # doctest: +SKIP
    """
    if isinstance(summary, dict):
        frame = pd.DataFrame([(k, v) for k, vals in summary.items() for v in np.ravel(vals)],
                             columns=["strategy", metric])
        by = "strategy"
    else:
        frame = summary
        if by is None:
            raise ValueError("plot_policy_comparison needs `by`: the column naming each run's strategy")
    for c in (by, metric):
        if c not in frame.columns:
            raise ValueError(f"column {c!r} not in the summary (columns: {', '.join(map(str, frame.columns))})")
    stats_rows = []
    for g, sub in frame.groupby(by, sort=False):
        m, lo, hi, n = _mean_ci(sub[metric].to_numpy(), ci)
        stats_rows.append((g, m, lo, hi, n, sub[metric].to_numpy(dtype=float)))
    if sort:
        stats_rows.sort(key=lambda r: (np.nan_to_num(r[1], nan=-np.inf)))
    fig, (ax,) = _axes(ax, figsize=(9.0, max(3.0, 0.7 * len(stats_rows) + 1.8)))
    ax.grid(axis="y", visible=False)
    best = None
    if higher_is_better is not None and stats_rows:
        means = [r[1] for r in stats_rows]
        best = int(np.nanargmax(means) if higher_is_better else np.nanargmin(means))
    scale = 100.0 if metric in _PERCENT else 1.0
    jitter = np.linspace(-0.15, 0.15, 9)
    for i, (g, m, lo, hi, n, vals) in enumerate(stats_rows):
        color = OKABE_ITO["blue"] if i != best else OKABE_ITO["vermillion"]
        ax.plot(vals * scale, i + jitter[np.arange(len(vals)) % len(jitter)], linestyle="none", marker="o",
                markersize=4, color="#999999", alpha=0.7)
        ax.plot([lo * scale, hi * scale], [i, i], color=color, linewidth=4 if i == best else 3,
                solid_capstyle="butt", gid=f"ci:{g}")
        ax.plot([m * scale], [i], marker="D", markersize=8, color=color, gid=f"mean:{g}")
        ax.annotate(_num(m * scale) + (f" [{_num(lo * scale)}, {_num(hi * scale)}]" if n > 1 else ""),
                    (hi * scale if np.isfinite(hi) else 0, i), xytext=(6, 6), textcoords="offset points",
                    fontsize=9.5, color="#333333")
    ax.set_yticks(range(len(stats_rows)), [f"{_fmt(r[0])}" for r in stats_rows])
    ax.set_ylim(-0.6, len(stats_rows) - 0.4)
    if not sort:
        ax.invert_yaxis()
    xl = metric_label(metric)
    if higher_is_better is not None:
        xl += "  — higher is better →" if higher_is_better else "  — ← lower is better"
    ax.set_xlabel(xl)
    ax.set_ylabel(ylabel or _short(by))
    ns = sorted({r[4] for r in stats_rows})
    rep = f"{ns[0]}" if len(ns) == 1 else f"{ns[0]}–{ns[-1]}"
    _title(ax, title or f"{metric_label(metric, unit=False)} by {ylabel or _short(by)}",
           f"dots: runs ({rep} per row); diamond: mean; bar: {ci:.0%} CI of the mean")
    return _finish(fig)


def plot_heatmap(summary: pd.DataFrame, x: str, y: str, metric: str, *, agg: str = "mean",
                 center: float | None = None, log: bool = False, annotate: bool = True,
                 cmap: str | None = None, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Phase diagram: a summary metric (mean over replicates) over two sweep axes.

    Parameters
    ----------
    summary : DataFrame
        One row per run with the two axis columns and the metric.
    x, y : str
        Axis columns (dotted config keys in a sweep).
    metric : str
    agg : {"mean", "median"}
    center : float, optional
        Draw a diverging map centred here (e.g. 1 for the Gresham index).
    log : bool
        Colour on a log scale (ratios; values must be positive), symmetric about ``center``.
    annotate : bool
        Write the value in each cell (when the grid has at most 15×15 cells).
    cmap : str, optional
        A matplotlib colormap name (default ``cividis``, or ``PuOr_r`` with ``center``).
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from qunsim.plotting import plot_heatmap
    >>> s = pd.DataFrame({"a": [0, 0, 1, 1], "b": [0, 1, 0, 1], "final_active": [10, 20, 30, 40]})
    >>> fig = plot_heatmap(s, "a", "b", "final_active")  # doctest: +SKIP
    """
    import matplotlib
    from matplotlib.colors import TwoSlopeNorm

    for c in (x, y, metric):
        if c not in summary.columns:
            raise ValueError(f"column {c!r} not in the summary (columns: {', '.join(map(str, summary.columns))})")
    if agg not in ("mean", "median"):
        raise ValueError(f"agg must be 'mean' or 'median', got {agg!r}")
    table = summary.pivot_table(index=y, columns=x, values=metric, aggfunc=agg)
    counts = summary.pivot_table(index=y, columns=x, values=metric, aggfunc="count")

    def order(col: str) -> list:  # numbers ascending; labels in design order
        vals = list(pd.unique(summary[col].dropna()))
        return sorted(vals) if pd.api.types.is_numeric_dtype(summary[col]) else vals

    table = table.reindex(index=order(y), columns=order(x))
    counts = counts.reindex_like(table)
    fig, (ax,) = _axes(ax, figsize=(8.5, 6.0))
    ax.grid(False)
    vals = table.to_numpy(dtype=float)
    norm = None
    if log:
        from matplotlib.colors import LogNorm

        if not np.all(vals[np.isfinite(vals)] > 0):
            raise ValueError(f"log colour scale needs positive values of {metric!r}")
        lo, hi = np.nanmin(vals), np.nanmax(vals)
        if center is not None:
            f = max(center / lo, hi / center, 1.0 + 1e-9)
            lo, hi = center / f, center * f
        norm = LogNorm(vmin=lo, vmax=hi)
    elif center is not None:
        lo, hi = np.nanmin(vals), np.nanmax(vals)
        span = max(center - lo, hi - center, 1e-12)
        norm = TwoSlopeNorm(vcenter=center, vmin=center - span, vmax=center + span)
    cm = matplotlib.colormaps[cmap or ("PuOr_r" if center is not None else "cividis")]
    im = ax.imshow(vals, origin="lower", aspect="auto", cmap=cm, norm=norm)
    ax.set_xticks(range(table.shape[1]), [_fmt(v) for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [_fmt(v) for v in table.index])
    ax.set_xlabel(metric_label(x))
    ax.set_ylabel(metric_label(y))
    if not pd.api.types.is_numeric_dtype(summary[y]):
        ax.invert_yaxis()  # labels read top-down in design order
    for s in ax.spines.values():
        s.set_visible(False)
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(metric_label(metric) + (f", {agg} over runs" if agg != "mean" else ""))
    if log:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        cb.ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        cb.ax.yaxis.set_minor_formatter(NullFormatter())
    if annotate and vals.shape[0] <= 15 and vals.shape[1] <= 15:
        for i in range(vals.shape[0]):
            for j in range(vals.shape[1]):
                v = vals[i, j]
                if not np.isfinite(v):
                    continue
                r, g, b, _ = cm(im.norm(v))
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                ax.text(j, i, _num(v), ha="center", va="center", fontsize=10,
                        color="white" if dark else "black")
    n = counts.to_numpy()
    n = n[np.isfinite(n)]
    rep = f"{int(n.min())}" if len(n) and n.min() == n.max() else (f"{int(n.min())}–{int(n.max())}" if len(n) else "0")
    _title(ax, title or f"{metric_label(metric, unit=False)} across the design",
           f"{agg} of {rep} run(s) per cell")
    return _finish(fig)
