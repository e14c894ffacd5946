"""Monetization figures: the funnel over tiers, revenue by rung and source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

from qunsim.plotting._style import (  # noqa: F401
    _DAY,
    OKABE_ITO,
    _axes,
    _cycle_colors,
    _finish,
    _need,
    _rc,
    _runs_note,
    _timeseries,
    _title,
)
from qunsim.plotting.members import _members  # noqa: F401

__all__ = ['plot_funnel', 'plot_revenue_by_rung', 'plot_monetization']


_TIERS = ("member", "fan", "partner", "shareholder")


def plot_funnel(data: Any, *, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Monetization funnel (粉丝 → 合伙人 → 股东): members ever joined and how many reached
    each tier, with the conversion from the previous step.

    Parameters
    ----------
    data : RunResult, member DataFrame (``tier`` column), or list of RunResults (pooled)
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from qunsim.plotting import plot_funnel
    >>> m = pd.DataFrame({"join_step": [0, 0, 0, 0], "tier": ["member", "fan", "fan", "partner"]})
    >>> fig = plot_funnel(m)  # doctest: +SKIP
    """
    members = _members(data)
    if "tier" not in members.columns:
        raise ValueError("the member table has no tier column: no funnel to draw")
    m = members[members["join_step"] >= 0] if "join_step" in members.columns else members
    rank = m["tier"].astype(str).map({t: i for i, t in enumerate(_TIERS)})
    if rank.isna().any():
        bad = sorted(set(m["tier"].astype(str)[rank.isna()]))
        raise ValueError(f"unknown tier(s) {bad}; expected {list(_TIERS)}")
    counts = np.array([(rank >= i).sum() for i in range(len(_TIERS))], dtype=float)
    nruns = m["run_id"].nunique() if "run_id" in m.columns else 1
    counts /= nruns
    labels = ["joined", "fan", "partner", "shareholder"]
    fig, (ax,) = _axes(ax, figsize=(8.0, 4.5))
    ax.grid(False)
    colors = ["#BBBBBB", OKABE_ITO["sky_blue"], OKABE_ITO["blue"], "#08306B"]
    y = np.arange(len(labels))[::-1]
    ax.barh(y, counts, color=colors, height=0.7)
    top = counts[0] if counts[0] > 0 else 1
    for i in range(len(labels)):
        txt = f"{counts[i]:,.0f}" if nruns == 1 else f"{counts[i]:,.1f}"
        if i > 0:
            prev = counts[i - 1]
            txt += f"  ({counts[i] / prev:.0%} of previous)" if prev > 0 else ""
        ax.text(counts[i] + top * 0.01, y[i], txt, va="center", fontsize=11)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, top * 1.45)
    ax.set_xlabel("members" + (f" (mean of {nruns} runs)" if nruns > 1 else ""))
    _title(ax, title or "Monetization funnel: how far members climb the ladder",
           "members who reached each tier (at least), out of all who ever joined")
    return _finish(fig)


def plot_revenue_by_rung(data: Any, *, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Cumulative revenue by source (ladder rung, ads, fees, ...) over time, stacked.

    Parameters
    ----------
    data : RunResult, DataFrame or list
        Time series with ``revenue_<source>`` columns (or only ``revenue``); several runs are
        averaged.
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import qunsim as qs
    >>> from qunsim.plotting import plot_revenue_by_rung
    >>> fig = plot_revenue_by_rung(qs.simulate(rng=1, steps=30))  # doctest: +SKIP
    """
    ts = _timeseries(data)
    _need(ts, ["revenue"], "plot_revenue_by_rung")
    sources = [c for c in ts.columns if c.startswith("revenue_") and c != "revenue_cumulative"
               and pd.api.types.is_numeric_dtype(ts[c])]
    sources = [c for c in sources if ts[c].abs().sum() > 0]
    nruns = ts["run_id"].nunique()
    per = ts.sort_values("step").groupby("step")[sources or ["revenue"]].mean()
    cum = per.cumsum()
    fig, (ax,) = _axes(ax)
    x = cum.index.to_numpy()
    if sources:
        colors = _cycle_colors(len(sources))
        ax.stackplot(x, cum.to_numpy().T, labels=[s[len("revenue_"):].replace("_", " ") for s in sources],
                     colors=colors, alpha=0.85, linewidth=0)
        ax.plot(x, cum.sum(axis=1), color="#000000", linewidth=1.2, label="total")
    else:
        ax.plot(x, cum["revenue"], color=OKABE_ITO["blue"], label="total")
    total = float(cum.sum(axis=1).iloc[-1]) if len(cum) else 0.0
    if total == 0:
        ax.text(0.5, 0.5, "no revenue: this scenario has no monetization policy that earned",
                transform=ax.transAxes, ha="center", va="center", color="#555555")
    ax.set_ylim(bottom=0)
    ax.set_xlim(x.min(), x.max())
    ax.set_xlabel(_DAY)
    ax.set_ylabel("cumulative revenue (currency)")
    h, lab = ax.get_legend_handles_labels()
    if h and total > 0:
        ax.legend(h[::-1], lab[::-1], frameon=False, loc="upper left")
    _title(ax, title or "Where the money comes from: cumulative revenue by source",
           _runs_note(nruns, then=f"total {total:,.0f}"))
    return _finish(fig)


def plot_monetization(run: Any, *, ax: Any = None, title: str | None = None) -> Figure:
    """Funnel (left) and cumulative revenue by rung (right) of a run or of pooled runs.

    Parameters
    ----------
    run : RunResult or list of RunResults
    ax : sequence of two Axes, optional
    title : str, optional
        Figure title (default states the subject).

    Returns
    -------
    Figure

    Examples
    --------
    >>> import qunsim as qs
    >>> from qunsim.plotting import plot_monetization
    >>> fig = plot_monetization(qs.simulate(rng=1, steps=30))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    if ax is None:
        with plt.rc_context(_rc()):
            fig, axs = plt.subplots(1, 2, figsize=(15.0, 5.0), gridspec_kw={"width_ratios": [1, 1.25]})
    else:
        axs = list(np.ravel(ax)) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        if len(axs) != 2:
            raise ValueError(f"plot_monetization has 2 panels; pass 2 Axes as ax, got {len(axs)}")
        fig = axs[0].figure
    plot_funnel(run, ax=axs[0], title="Funnel")
    plot_revenue_by_rung(run, ax=axs[1], title="Cumulative revenue by source")
    fig.suptitle(title or "Monetization: conversion and revenue", fontsize=15, fontweight="bold",
                 x=0.01, ha="left")
    fig.tight_layout()
    return _finish(fig)
