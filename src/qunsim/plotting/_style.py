"""Shared figure style: palettes, fonts (CJK), axes, labels and number formats, saving."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


__all__ = ['OKABE_ITO', 'ROLE_COLORS', 'TRUST_COLORS', 'REASON_COLORS', 'FIGURE_FORMATS', 'save_figure', 'metric_label']


#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}


#: One fixed colour per role, in every figure.
ROLE_COLORS = {
    "owner": OKABE_ITO["black"],
    "expert": OKABE_ITO["blue"],
    "contributor": OKABE_ITO["bluish_green"],
    "regular": OKABE_ITO["sky_blue"],
    "chatter": OKABE_ITO["orange"],
    "spammer": OKABE_ITO["vermillion"],
    "moderator": OKABE_ITO["reddish_purple"],
}


#: Trust levels none → weak → strong (无关系 → 弱关系 → 强关系): light to dark.
TRUST_COLORS = {"none": "#D9D9D9", "weak": "#7FB2D9", "strong": "#08306B"}


#: Leave reasons.
REASON_COLORS = {
    "dissatisfied": OKABE_ITO["blue"],
    "contagion": OKABE_ITO["orange"],
    "inactive": "#999999",
    "banned": OKABE_ITO["vermillion"],
    "forced": OKABE_ITO["reddish_purple"],
}


_PHASE_COLORS = {
    "introduction": "#F2F2F2",
    "growth": "#E5F2E9",
    "maturity": "#FFFFFF",
    "decline": "#FBEBDD",
    "death": "#E8E8E8",
}


#: File formats written by :func:`plot_run_dir` and :func:`plot_sweep_dir`.
FIGURE_FORMATS = ("png", "svg")


_DAY = "day"


_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+")


_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "PingFang SC",
              "Microsoft YaHei", "SimHei", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Heiti SC",
              "Arial Unicode MS", "Droid Sans Fallback")


@functools.lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    """An installed font with Chinese glyphs, if any."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in _CJK_FONTS if f in names), None)


def _finish(fig: Figure) -> Figure:
    """Make Chinese text (from labels such as 杀鸡取卵) render: use a CJK font when one is
    installed, else drop the characters rather than draw empty boxes."""
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    font = _cjk_font()
    for ax in fig.axes:  # category tick labels are drawn from the formatter, not kept as Text
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            labels = fmt.seq if isinstance(fmt, FixedFormatter) else None
            if isinstance(fmt, FuncFormatter) and isinstance(fmt.func, functools.partial) \
                    and fmt.func.args and isinstance(fmt.func.args[0], dict):
                labels = fmt.func.args[0]  # set_ticks(ticks, labels) keeps {tick: label}
            if not labels or not any(_CJK.search(str(x)) for x in
                                     (labels.values() if isinstance(labels, dict) else labels)):
                continue
            if font:
                for t in axis.get_ticklabels():
                    t.set_fontfamily([font, "DejaVu Sans"])
            elif isinstance(labels, dict):
                for k in labels:
                    labels[k] = _strip_cjk(str(labels[k]))
            else:
                fmt.seq = [_strip_cjk(str(x)) for x in labels]
    for t in fig.findobj(Text):
        txt = t.get_text()
        if not txt or not _CJK.search(txt):
            continue
        if font:
            t.set_fontfamily([font, "DejaVu Sans"])
        else:
            t.set_text(_strip_cjk(txt))
    return fig


def _strip_cjk(txt: str) -> str:
    """'Direct hard sell (杀鸡取卵)' -> 'Direct hard sell'.

    >>> _strip_cjk("Direct hard sell (杀鸡取卵)")
    'Direct hard sell'
    """
    clean = re.sub(r"\s*[(（]\s*[)）]", "", _CJK.sub("", txt))
    return re.sub(r"\s{2,}", " ", clean).strip()


def _rc() -> dict:
    return {
        "font.size": 12,
        "axes.titlesize": 14,
        "axes.titleweight": "bold",
        "axes.labelsize": 12,
        "legend.fontsize": 10.5,
        "xtick.labelsize": 11,
        "ytick.labelsize": 11,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#E6E6E6",
        "grid.linewidth": 0.8,
        "lines.linewidth": 2.0,
        "figure.dpi": 100,
        "savefig.bbox": "tight",
    }


def _axes(ax: Any, n: int = 1, figsize: tuple[float, float] = (9.0, 5.0), sharex: bool = True,
          **kw: Any) -> tuple[Figure, list[Axes]]:
    """Create ``n`` stacked axes, or validate the ones passed."""
    import matplotlib.pyplot as plt

    if ax is None:
        with plt.rc_context(_rc()):
            fig, axs = plt.subplots(n, 1, figsize=figsize, sharex=sharex, squeeze=False, **kw)
        axes = list(axs[:, 0])
    else:
        axes = [ax] if not isinstance(ax, (list, tuple, np.ndarray)) else list(np.ravel(ax))
        if len(axes) != n:
            raise ValueError(f"this figure has {n} panel(s); pass {'an Axes' if n == 1 else f'{n} Axes'} as ax, got {len(axes)}")
        fig = axes[0].figure
    for a in axes:
        _style_axes(a)
    return fig, axes


def _style_axes(ax: Axes) -> None:
    r = _rc()
    ax.grid(True, color=r["grid.color"], linewidth=r["grid.linewidth"])
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=r["xtick.labelsize"])


def _title(ax: Axes, text: str, sub: str | None = None) -> None:
    ax.set_title(text, fontsize=14, fontweight="bold", loc="left")
    if sub:
        ax.text(0.0, 1.0, sub, transform=ax.transAxes, fontsize=10.5, color="#555555",
                va="bottom", ha="left")
        ax.set_title(text + "\n", fontsize=14, fontweight="bold", loc="left")


def _legend_right(ax: Axes, handles: Sequence[Any] | None = None, labels: Sequence[str] | None = None, *,
                  extra: Sequence[Any] = (), reverse: bool = False, **kw: Any) -> None:
    """The figures' legend: right of the plot, top-aligned, without a frame.

    ``handles`` (default: the axes' own, with their ``labels``) are followed by the ``extra``
    proxies (e.g. shaded phases and policy periods); ``reverse`` lists them bottom-up, as a
    stack is drawn. Other keywords go to ``Axes.legend``.
    """
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    handles = list(handles) + list(extra)
    labels = [h.get_label() for h in handles] if labels is None else \
        list(labels) + [p.get_label() for p in extra]
    if reverse:
        handles, labels = handles[::-1], labels[::-1]
    ax.legend(handles, labels, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0), **kw)


def _legend_outside(ax: Axes) -> None:
    """Legend right of the plot for short labels, below it for long ones."""
    h, labels = ax.get_legend_handles_labels()
    if not h:
        return
    if max(len(lab) for lab in labels) <= 28:
        _legend_right(ax, h, labels)
    else:
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.14), ncol=1)


def _runs_note(nruns: int, ci: float | None = None, then: str | None = None) -> str:
    """Subtitle of a figure that averages ``nruns`` runs (with a ``ci`` band), then ``then``.

    >>> _runs_note(1), _runs_note(3), _runs_note(3, 0.95)
    ('one run', 'mean of 3 runs', 'mean of 3 runs, band = 95% CI of the mean')
    >>> _runs_note(1, then="joins up"), _runs_note(4, then="joins up")
    ('joins up', 'mean of 4 runs; joins up')
    """
    mean = f"mean of {nruns} runs" + ("" if ci is None else f", band = {ci:.0%} CI of the mean")
    if then is None:
        return mean if nruns > 1 else "one run"
    return f"{mean}; {then}" if nruns > 1 else then


def _cycle_colors(n: int) -> list[str]:
    order = ["blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue", "black", "yellow"]
    return [OKABE_ITO[order[i % len(order)]] for i in range(n)]


def _short(key: str) -> str:
    if key == "base":  # a sweep axis over whole scenario files
        return "scenario"
    return metric_label(key, unit=False) if "." in key else key.replace("_", " ")


def _num(v: float) -> str:
    """Three significant digits, without exponents for everyday magnitudes.

    >>> _num(2370.4), _num(0.01234), _num(-585.2)
    ('2,370', '0.0123', '-585')
    """
    if not np.isfinite(v):
        return "–"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.3g}"
    return str(v)


def _timeseries(data: Any) -> pd.DataFrame:
    """A time-series frame with a ``run_id`` column from any supported input."""
    if isinstance(data, pd.DataFrame):
        ts = data
    elif hasattr(data, "timeseries") and isinstance(data.timeseries, pd.DataFrame):
        ts = data.timeseries
    elif isinstance(data, (list, tuple)) and data:
        parts = []
        for i, d in enumerate(data):
            one = _timeseries(d)
            parts.append(one.assign(run_id=i) if one["run_id"].nunique() == 1 else one)
        return pd.concat(parts, ignore_index=True)
    else:
        raise TypeError("expected a RunResult, a time-series DataFrame, results with a .timeseries "
                        f"frame, or a non-empty list of those; got {type(data).__name__}")
    if "step" not in ts.columns:
        raise ValueError(f"the time-series frame has no 'step' column (columns: {', '.join(map(str, ts.columns[:12]))})")
    if "run_id" not in ts.columns:
        # stacked replicates without run ids (e.g. compare_strategies' time series)
        keys = [c for c in ("strategy", "point", "replicate", "seed") if c in ts.columns]
        if keys and ts["step"].duplicated().any():
            ts = ts.assign(run_id=ts.groupby(keys, sort=False).ngroup())
        else:
            ts = ts.assign(run_id=0)
    return ts


def _need(ts: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in ts.columns]
    if missing:
        raise ValueError(f"{what} needs the time-series column(s) {', '.join(missing)}, which this "
                         "result does not have (was it kept by the sweep's `keep` setting?)")


def save_figure(fig: Figure, path: str | Path, formats: Sequence[str] = FIGURE_FORMATS,
                dpi: int = 110) -> list[Path]:
    """Save ``fig`` as ``path`` with each suffix in ``formats`` (png, svg, pdf).

    Returns
    -------
    list of Path
        The files written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for f in formats:
        if f not in ("png", "svg", "pdf"):
            raise ValueError(f"figure format must be png, svg or pdf, got {f!r}")
        p = path.with_suffix(f".{f}")
        fig.savefig(p, dpi=dpi if f == "png" else None, bbox_inches="tight",
                    metadata={"Date": None} if f in ("svg", "pdf") else None)
        out.append(p)
    return out


def _close(fig: Figure) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


#: Label and unit of a metric: read from the metric registry (:mod:`qunsim.registry`).
def metric_label(name: str, unit: bool = True) -> str:
    """Human label of a metric or dotted config key, with its unit.

    >>> metric_label("churn_rate")
    'Churn rate (% of members / day)'
    >>> metric_label("activity.spam_moderation.precision")
    'spam moderation: precision'
    """
    from qunsim import registry

    if name in ("base", "strategy"):
        return "scenario" if name == "base" else "strategy"
    if name not in registry.METRICS and "." in name:
        parts = name.split(".")
        head = parts[-2].replace("_", " ") if len(parts) >= 2 else ""
        return f"{head}: {parts[-1].replace('_', ' ')}" if head else parts[-1]
    return registry.label(name, unit)


def _is_percent(name: str) -> bool:
    """Shares drawn on a 0-100 % axis: the registry's ``pct`` format."""
    from qunsim import registry

    return registry.get(name).format == "pct"


class _Percent:
    """``name in _PERCENT``: the metrics drawn as percentages (from the registry)."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _is_percent(name)


_PERCENT = _Percent()


class _Labels:
    """``_LABELS.get(name)`` -> (label, unit) from the registry (for older callers)."""

    def get(self, name: str, default=None):
        from qunsim import registry

        if name in registry.METRICS:
            m = registry.METRICS[name]
            return (m.label, m.unit)
        return default

    def __contains__(self, name: object) -> bool:
        from qunsim import registry

        return name in registry.METRICS


_LABELS = _Labels()


def _mean_ci(values: np.ndarray, ci: float = 0.95) -> tuple[float, float, float, int]:
    """``(mean, low, high, n)`` of :func:`qunsim.stats.mean_ci` (interval = mean when n < 2)."""
    from qunsim.stats import mean_ci

    r = mean_ci(values, ci)
    return r["mean"], r["low"], r["high"], r["n"]
