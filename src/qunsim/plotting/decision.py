"""Verdict figures: outcomes of every replicate per option, lever effects, lever x uncertainty
interactions, and each option's trajectory with the spread of its replicates.

These draw tables computed by :func:`qunsim.decision.verdict` and :func:`qunsim.stats.band`;
they compute no statistics themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qunsim.plotting._style import (
    _DAY,
    OKABE_ITO,
    _axes,
    _cycle_colors,
    _finish,
    _fmt,
    _is_percent,
    _legend_outside,
    _short,
    _title,
    metric_label,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_outcome_strips", "plot_main_effects", "plot_interactions", "plot_option_timeseries"]

_JITTER = np.array([0.0, 0.12, -0.12, 0.06, -0.06, 0.18, -0.18, 0.03, -0.03, 0.15, -0.15, 0.09, -0.09])


def plot_outcome_strips(runs: pd.DataFrame, metric: str, *, option: str = "option",
                        collapsed: str | None = "collapsed", quantiles: dict | None = None,
                        order: Sequence[str] | None = None, direction: int = 0,
                        ax: Axes | None = None, title: str | None = None) -> Figure:
    """Every run's outcome per option (a strip of dots), collapsed runs marked, with the
    median, the 25–75% box and the 5–95% whiskers: the spread, never a lone mean.

    Parameters
    ----------
    runs : one row per run with the ``option`` column, ``metric`` and (optionally) a boolean
        ``collapsed`` column.
    metric : the summary metric.
    quantiles : ``{option: {"q05", "q25", "q50", "q75", "q95"}}`` (from the verdict); without
        it only the dots are drawn.
    order : options top to bottom (default: order of appearance).
    direction : +1 / -1 adds "more / less is better" to the axis label.

    Examples
    --------
    >>> import pandas as pd
    >>> from qunsim.plotting import plot_outcome_strips
    >>> r = pd.DataFrame({"option": ["a", "a", "b", "b"], "final_active": [10, 300, 280, 290],
    ...                   "collapsed": [True, False, False, False]})
    >>> fig = plot_outcome_strips(r, "final_active")  # doctest: +SKIP
    """
    for c in (option, metric):
        if c not in runs.columns:
            raise ValueError(f"column {c!r} not in the runs (columns: {', '.join(map(str, runs.columns))})")
    order = list(order) if order is not None else list(dict.fromkeys(runs[option]))
    fig, (ax,) = _axes(ax, figsize=(9.0, max(2.6, 0.9 * len(order) + 1.6)))
    ax.grid(axis="y", visible=False)
    scale = 100.0 if _is_percent(metric) else 1.0
    for i, o in enumerate(order):
        sub = runs[runs[option] == o]
        v = sub[metric].to_numpy(dtype=float) * scale
        y = i + _JITTER[np.arange(len(v)) % len(_JITTER)]
        bad = sub[collapsed].to_numpy(dtype=bool) if collapsed and collapsed in sub else np.zeros(len(v), bool)
        ax.plot(v[~bad], y[~bad], "o", ms=5, color=OKABE_ITO["blue"], alpha=0.55, linestyle="none")
        if bad.any():
            ax.plot(v[bad], y[bad], "X", ms=7, color=OKABE_ITO["vermillion"], alpha=0.85, linestyle="none")
        q = (quantiles or {}).get(o)
        keys = ("q05", "q25", "q50", "q75", "q95")
        if q and all(q.get(k) is not None and np.isfinite(q[k]) for k in keys):
            ax.plot([q["q05"] * scale, q["q95"] * scale], [i - 0.32, i - 0.32], color="#333333", lw=1.2)
            ax.add_patch(_box(q["q25"] * scale, q["q75"] * scale, i - 0.32))
            ax.plot([q["q50"] * scale] * 2, [i - 0.42, i - 0.22], color="#000000", lw=2.4)
    ax.set_yticks(range(len(order)), [str(o) for o in order])
    ax.set_ylim(len(order) - 0.45, -0.6)
    xl = metric_label(metric)
    if direction:
        xl += "  — higher is better →" if direction > 0 else "  — ← lower is better"
    ax.set_xlabel(xl)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="none", color=OKABE_ITO["blue"], label="a run")]
    if collapsed and collapsed in runs and runs[collapsed].any():
        handles.append(Line2D([], [], marker="X", ls="none", color=OKABE_ITO["vermillion"], label="a collapsed run"))
    if quantiles:
        handles.append(Line2D([], [], color="#000000", lw=2.4, label="median; box 25–75%; line 5–95%"))
    ax.legend(handles=handles, frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.16 - 0.02 * len(order)),
              ncol=3, fontsize=9.5)
    n = runs.groupby(option).size()
    rep = f"{n.min()}" if n.min() == n.max() else f"{n.min()}–{n.max()}"
    _title(ax, title or f"{metric_label(metric, unit=False)}: every run", f"{rep} runs per option")
    return _finish(fig)


def _box(lo: float, hi: float, y: float):
    from matplotlib.patches import Rectangle

    return Rectangle((lo, y - 0.07), hi - lo, 0.14, facecolor="#DDDDDD", edgecolor="#333333", lw=1.0)


def plot_main_effects(effects: list[dict], metrics: Sequence[str], *, directions: dict | None = None,
                      names: dict | None = None, ax: Any = None, title: str | None = None) -> Figure:
    """Lever main effects: each lever value minus the lever's reference value, paired over
    the other levers, the uncertainties and the replicates (``verdict["main_effects"]``),
    with its interval; one panel per metric. ``names`` maps lever values to display names
    (e.g. strategy labels).

    Examples
    --------
    >>> from qunsim.plotting import plot_main_effects
    >>> eff = [{"lever": "gate", "value": "strict", "reference": "open", "n_pairs": 20,
    ...         "metrics": {"final_active": {"mean": 40.0, "low": 10.0, "high": 70.0}}}]
    >>> fig = plot_main_effects(eff, ["final_active"])  # doctest: +SKIP
    """
    if not effects:
        raise ValueError("no lever effect to draw (every lever has a single value)")
    metrics = list(metrics)
    fig, axs = _axes(ax, n=len(metrics), figsize=(9.0, 1.2 + len(metrics) * (0.5 * len(effects) + 1.5)),
                     sharex=False)
    nm = names or {}

    def lab(e):
        v, r = nm.get(str(e["value"]), _fmt(e["value"])), nm.get(str(e["reference"]), _fmt(e["reference"]))
        return f"{v}\n  − {r}" if len(v) + len(r) > 40 else f"{_short(e['lever'])}: {v} − {r}"

    labels = [lab(e) for e in effects]
    for a, m in zip(axs, metrics, strict=True):
        a.grid(axis="y", visible=False)
        scale = 100.0 if _is_percent(m) else 1.0
        for i, e in enumerate(effects):
            r = e["metrics"].get(m) or {}
            mean, lo, hi = (r.get(k) for k in ("mean", "low", "high"))
            if mean is None:
                continue
            d = (directions or {}).get(m, 0)
            good = d * mean > 0 and lo is not None and hi is not None and d * lo > 0 and d * hi > 0
            bad = d * mean < 0 and lo is not None and hi is not None and d * lo < 0 and d * hi < 0
            color = OKABE_ITO["bluish_green"] if good else OKABE_ITO["vermillion"] if bad else "#777777"
            if lo is not None and hi is not None:
                a.plot([lo * scale, hi * scale], [i, i], color=color, lw=4, solid_capstyle="butt")
            a.plot([mean * scale], [i], "D", ms=8, color=color)
        a.axvline(0, color="#333333", lw=1)
        a.set_yticks(range(len(effects)), labels)
        a.set_ylim(len(effects) - 0.5, -0.5)
        from qunsim.registry import get as _metric

        unit = "percentage points" if _is_percent(m) else _metric(m).unit
        a.text(0.0, 1.02, f"{metric_label(m, unit=False)}" + (f" ({unit})" if unit else ""),
               transform=a.transAxes, fontsize=11, fontweight="bold", va="bottom")
    n = sorted({e.get("n_pairs", 0) for e in effects})
    fig.subplots_adjust(hspace=0.9, top=1.0 - 1.1 / fig.get_figheight())
    fig.text(0.01, 1.0 - 0.25 / fig.get_figheight(), title or "Lever effects (paired differences)",
             fontsize=14, fontweight="bold", ha="left", va="top")
    fig.text(0.01, 1.0 - 0.6 / fig.get_figheight(),
             f"diamond: mean paired difference over {n[0] if len(n) == 1 else f'{n[0]}–{n[-1]}'} pairs; "
             "bar: 95% CI; green / red: clearly better / worse", fontsize=10.5, color="#555555", ha="left", va="top")
    return _finish(fig)


def plot_interactions(table: pd.DataFrame | list, lever: str, uncertainty: str, metric: str, *,
                      names: dict | None = None, order: Sequence | None = None, ax: Axes | None = None,
                      title: str | None = None) -> Figure:
    """Lever x uncertainty: the metric's mean over replicates (and the other axes) against the
    uncertainty, one line per lever value (``verdict["interactions"][i]["table"]``). Lines
    that cross mean the best option depends on the uncertainty. ``names`` maps lever values to
    display names; ``order`` gives the lever values' order (and colours).

    Examples
    --------
    >>> from qunsim.plotting import plot_interactions
    >>> t = [{"lever_value": "a", "uncertainty_value": 0.1, "mean": 5.0},
    ...      {"lever_value": "a", "uncertainty_value": 0.3, "mean": 2.0},
    ...      {"lever_value": "b", "uncertainty_value": 0.1, "mean": 4.0},
    ...      {"lever_value": "b", "uncertainty_value": 0.3, "mean": 3.5}]
    >>> fig = plot_interactions(t, "gate", "community.chatter_share", "final_active")  # doctest: +SKIP
    """
    t = pd.DataFrame(table)
    fig, (ax,) = _axes(ax)
    xs = list(dict.fromkeys(t["uncertainty_value"]))
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
    if numeric:
        xs = sorted(xs)
    pos = {x: (x if numeric else i) for i, x in enumerate(xs)}
    scale = 100.0 if _is_percent(metric) else 1.0
    levels = list(dict.fromkeys(t["lever_value"]))
    if order is not None:
        levels = [x for x in order if x in levels] + [x for x in levels if x not in order]
    for lv, c in zip(levels, _cycle_colors(len(levels)), strict=True):
        sub = t[t["lever_value"] == lv].copy()
        sub["_x"] = sub["uncertainty_value"].map(pos)
        sub = sub.sort_values("_x")
        lab = str((names or {}).get(str(lv), lv))
        ax.plot(sub["_x"], sub["mean"] * scale, marker="o", color=c, label=lab)
    if not numeric:
        ax.set_xticks(range(len(xs)), [_fmt(x) for x in xs])
    ax.set_xlabel(metric_label(uncertainty))
    ax.set_ylabel(metric_label(metric))
    _legend_outside(ax)
    _title(ax, title or f"{metric_label(metric, unit=False)}: {_short(lever)} × {_short(uncertainty)}",
           "mean over replicates (and the other axes) per lever value; crossing lines = the answer depends on it")
    return _finish(fig)


def plot_option_timeseries(bands: pd.DataFrame, metric: str, *, option: str = "option",
                           order: Sequence[str] | None = None, ax: Axes | None = None,
                           title: str | None = None) -> Figure:
    """One metric over time per option: the median run (line) and the 5–95% spread of the
    replicates (band), from :func:`qunsim.stats.band` with quantiles per option.

    Parameters
    ----------
    bands : columns ``option, step, q05, q50, q95`` (and ``n``).

    Examples
    --------
    >>> import pandas as pd
    >>> from qunsim.plotting import plot_option_timeseries
    >>> b = pd.DataFrame({"option": ["a", "a"], "step": [0, 1], "q05": [1, 2], "q50": [2, 3], "q95": [3, 4]})
    >>> fig = plot_option_timeseries(b, "active")  # doctest: +SKIP
    """
    need = [c for c in (option, "step", "q05", "q50", "q95") if c not in bands.columns]
    if need:
        raise ValueError(f"plot_option_timeseries needs the column(s) {', '.join(need)}")
    fig, (ax,) = _axes(ax)
    order = list(order) if order is not None else list(dict.fromkeys(bands[option]))
    scale = 100.0 if _is_percent(metric) else 1.0
    for o, c in zip(order, _cycle_colors(len(order)), strict=True):
        b = bands[bands[option] == o].sort_values("step")
        ax.plot(b["step"], b["q50"] * scale, color=c, label=str(o))
        ax.fill_between(b["step"], b["q05"] * scale, b["q95"] * scale, color=c, alpha=0.18, linewidth=0)
    ax.set_xlabel(_DAY)
    ax.set_ylabel(metric_label(metric))
    ax.set_ylim(bottom=min(0.0, float(bands["q05"].min()) * scale))
    _legend_outside(ax)
    n = bands.groupby(option)["n"].max() if "n" in bands else None
    note = "line: median run; band: 5–95% of the runs"
    if n is not None and len(n):
        note += f" ({int(n.min())}{'' if n.min() == n.max() else f'–{int(n.max())}'} runs per option)"
    _title(ax, title or f"{metric_label(metric, unit=False)} over time, by option", note)
    return _finish(fig)
