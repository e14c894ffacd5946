"""Figures for strategy reviews: matplotlib, imported lazily.

Every figure function returns the :class:`matplotlib.figure.Figure` it drew on and takes an
optional ``ax`` (an Axes, or a sequence of Axes for multi-panel figures) so that figures can
be composed. Colours come from one colour-blind-safe palette (Okabe & Ito 2008) with a fixed
colour per role across every figure; trust levels use a light-to-dark ramp that reads in grey
scale too.

Inputs are the library's own results:

* a :class:`~qunsim.RunResult` (from :func:`~qunsim.simulate` or :func:`~qunsim.load_run`),
* a time-series frame (one run, or several runs stacked with a ``run_id`` column, the tidy
  layout of a sweep's ``timeseries``), or a list of RunResults treated as replicates,
* a member table (survival curves), a sweep summary frame (policy comparison, heatmap),
* a NetworkX graph from :meth:`~qunsim.CommunityModel.graph` (network snapshot).

Across replicates, a line is the mean over runs and the band is the ``ci`` confidence
interval of that mean (Student t), so bands narrow as replicates are added.

``plot_run_dir`` and ``plot_sweep_dir`` draw the standard figures of a result directory
(``qunsim plot``) in PNG and SVG.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qunsim.policies import schedule as _policies
from qunsim.state import ROLE_ORDER

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "OKABE_ITO",
    "ROLE_COLORS",
    "TRUST_COLORS",
    "REASON_COLORS",
    "FIGURE_FORMATS",
    "replicate_band",
    "kaplan_meier",
    "member_durations",
    "plot_active_by_role",
    "plot_timeseries",
    "plot_survival",
    "plot_gresham",
    "plot_value_overload",
    "plot_trust_levels",
    "plot_leaves_by_reason",
    "plot_funnel",
    "plot_revenue_by_rung",
    "plot_monetization",
    "plot_policy_comparison",
    "plot_heatmap",
    "plot_network",
    "save_figure",
    "plot_run_dir",
    "plot_sweep_dir",
]

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

#: Label and unit of known metrics (time-series columns and summary statistics).
_LABELS: dict[str, tuple[str, str]] = {
    "active": ("Active members", "members"),
    "joins": ("Joins", "members / day"),
    "leaves": ("Leaves", "members / day"),
    "churn_rate": ("Churn rate", "share of members / day"),
    "messages": ("Messages", "messages / day"),
    "removed_messages": ("Removed messages", "messages / day"),
    "low_quality_share": ("Low-quality share", "% of messages"),
    "value_density": ("Value density", "value / message read"),
    "overload": ("Overload", "% of messages unread"),
    "utility_mean": ("Mean net utility", "value / member / day"),
    "expert_retention": ("Expert retention", "% of experts ever joined"),
    "gresham_index": ("Gresham index", "hazard ratio, top / bottom quality quartile"),
    "trust_mean": ("Mean trust", "0–1"),
    "satisfaction_mean": ("Mean satisfaction", "relative surplus"),
    "strong_ties": ("Strong ties", "ties"),
    "metcalfe_pairs": ("Possible connections", "pairs"),
    "revenue": ("Revenue", "currency / day"),
    "revenue_cumulative": ("Cumulative revenue", "currency"),
    "operator_capacity_used": ("Operator capacity used", "share of capacity"),
    # summary statistics
    "final_active": ("Active members at the end", "members"),
    "peak_active": ("Peak active members", "members"),
    "total_joined": ("Members ever joined", "members"),
    "total_left": ("Members who left", "members"),
    "mean_churn_rate": ("Mean churn rate", "share of members / day"),
    "final_expert_retention": ("Expert retention at the end", "share of experts ever joined"),
    "mean_low_quality_share": ("Mean low-quality share", "share of messages"),
    "final_low_quality_share": ("Low-quality share at the end", "share of messages"),
    "mean_value_density": ("Mean value density", "value / message read"),
    "final_gresham_index": ("Gresham index at the end", "hazard ratio"),
    "mean_gresham_index": ("Mean Gresham index", "hazard ratio"),
    "final_trust_mean": ("Mean trust at the end", "0–1"),
    "final_strong_ties": ("Strong ties at the end", "ties"),
    "messages_per_day": ("Messages per day", "messages / day"),
    "survival_ratio": ("Survival ratio", "final / initial active"),
    "revenue_total": ("Total revenue", "currency"),
    "revenue_per_member": ("Revenue per member", "currency / member"),
    "member_days": ("Member-days", "member-days"),
}

_PERCENT = {"low_quality_share", "expert_retention", "overload"}


def metric_label(name: str, unit: bool = True) -> str:
    """Human label of a metric or dotted config key, with its unit.

    >>> metric_label("churn_rate")
    'Churn rate (share of members / day)'
    >>> metric_label("activity.spam_moderation.precision")
    'spam moderation: precision'
    """
    if name == "base":
        return "scenario"
    if name in _LABELS:
        lab, u = _LABELS[name]
        return f"{lab} ({u})" if unit and u else lab
    if "." in name:
        parts = name.split(".")
        head = parts[-2].replace("_", " ") if len(parts) >= 2 else ""
        return f"{head}: {parts[-1].replace('_', ' ')}" if head else parts[-1]
    for prefix, lab, u in (("active_", "Active", "members"), ("messages_", "Messages by", "messages / day"),
                           ("leaves_", "Leaves:", "members / day"), ("revenue_", "Revenue:", "currency / day"),
                           ("left_", "Left:", "members"), ("tier_", "Tier", "members")):
        if name.startswith(prefix):
            s = f"{lab} {name[len(prefix):].replace('_', ' ')}"
            return f"{s} ({u})" if unit else s
    s = name.replace("_", " ")
    return s[:1].upper() + s[1:]


# --------------------------------------------------------------------------- data helpers


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


def replicate_band(data: Any, column: str, ci: float = 0.95, x: str = "step") -> pd.DataFrame:
    """Mean of ``column`` over runs at each ``x``, with a Student-t confidence interval.

    Parameters
    ----------
    data : RunResult, DataFrame or list
        Time series; several runs are told apart by ``run_id``.
    column : str
        The metric.
    ci : float
        Confidence level of the interval for the mean, in (0, 1).
    x : str
        The time column.

    Returns
    -------
    DataFrame
        Columns ``x, mean, lower, upper, n`` (``n`` runs at that step). With one run the
        interval collapses to the mean.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.DataFrame({"run_id": [0, 1, 0, 1], "step": [0, 0, 1, 1], "active": [10, 10, 8, 12]})
    >>> b = replicate_band(ts, "active")
    >>> b["mean"].tolist(), b["n"].tolist()
    ([10.0, 10.0], [2, 2])
    >>> round(float(b["upper"].iloc[1] - b["mean"].iloc[1]), 2)   # t(0.975, 1) * 2.83 / sqrt(2)
    25.41
    """
    from scipy import stats

    if not 0 < ci < 1:
        raise ValueError(f"ci must be a confidence level in (0, 1), got {ci}")
    ts = _timeseries(data)
    _need(ts, [column], "replicate_band")
    g = ts.groupby(x)[column]
    out = pd.DataFrame({"mean": g.mean().astype(float), "sd": g.std(ddof=1), "n": g.count()})
    half = np.zeros(len(out))
    multi = out["n"].to_numpy() > 1
    if multi.any():
        n = out["n"].to_numpy()[multi]
        half[multi] = stats.t.ppf(0.5 + ci / 2, n - 1) * out["sd"].to_numpy()[multi] / np.sqrt(n)
    half = np.nan_to_num(half)
    out["lower"] = out["mean"] - half
    out["upper"] = out["mean"] + half
    return out.reset_index()[[x, "mean", "lower", "upper", "n"]]


def _mean_ci(values: np.ndarray, ci: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and Student-t interval of a sample (interval = mean when n < 2)."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(v.mean())
    if n < 2:
        return m, m, m, n
    h = float(stats.t.ppf(0.5 + ci / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return m, m - h, m + h, n


def kaplan_meier(durations: Sequence[float], observed: Sequence[bool], ci: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier estimate of the survival function, with Greenwood log-log intervals.

    Parameters
    ----------
    durations : array of float
        Time from entry to the event or to censoring (days).
    observed : array of bool
        True if the event (leaving) was observed, False if censored (still a member).
    ci : float
        Confidence level of the pointwise interval.

    Returns
    -------
    DataFrame
        One row per distinct time with an event or censoring: ``time, at_risk, events,
        censored, survival, lower, upper``. ``survival`` is S(t) just after ``time``;
        members censored at ``time`` count as at risk at ``time``.

    Examples
    --------
    >>> km = kaplan_meier([1, 2, 2, 3], [True, True, False, True])
    >>> km[["time", "at_risk", "events", "survival"]].to_string(index=False)
    ' time  at_risk  events  survival\\n  1.0        4       1      0.75\\n  2.0        3       1      0.50\\n  3.0        1       1      0.00'
    """
    from scipy import stats

    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if d.shape != e.shape:
        raise ValueError(f"durations and observed must have the same length, got {d.shape} and {e.shape}")
    if len(d) and (not np.all(np.isfinite(d)) or d.min() < 0):
        raise ValueError("durations must be finite and >= 0")
    times = np.unique(d)
    at_risk = np.array([(d >= t).sum() for t in times], dtype=np.int64)
    events = np.array([((d == t) & e).sum() for t in times], dtype=np.int64)
    censored = np.array([((d == t) & ~e).sum() for t in times], dtype=np.int64)
    surv = np.cumprod(1.0 - events / np.maximum(at_risk, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0)
        var = np.cumsum(terms)  # Greenwood: Var(log S) sum
        z = stats.norm.ppf(0.5 + ci / 2)
        loglog = np.log(-np.log(surv))
        se = np.sqrt(var) / np.abs(np.log(surv))
        lower = np.exp(-np.exp(loglog + z * se))
        upper = np.exp(-np.exp(loglog - z * se))
    ok = (surv > 0) & (surv < 1)
    lower = np.where(ok, lower, surv)
    upper = np.where(ok, upper, surv)
    return pd.DataFrame({"time": times, "at_risk": at_risk, "events": events, "censored": censored,
                         "survival": surv, "lower": lower, "upper": upper})


def member_durations(members: pd.DataFrame, end_step: int | None = None,
                     events: Sequence[str] = ("left", "banned")) -> pd.DataFrame:
    """Membership duration and whether it ended, per member ever joined.

    Parameters
    ----------
    members : DataFrame
        A member table (``join_step``, ``leave_step``, ``status``). An ``end_step`` column,
        if present, gives each row's observation end (pooled tables of several runs).
    end_step : int, optional
        The last observed day; defaults to the latest join or leave day in the table.
    events : sequence of str
        Statuses that count as the event (leaving).

    Returns
    -------
    DataFrame
        The members who joined, with ``duration`` (days) and ``observed`` (bool) added.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"join_step": [0, 0, 5], "leave_step": [3, -1, 9],
    ...                   "status": ["left", "active", "banned"]})
    >>> member_durations(m, end_step=10)[["duration", "observed"]].values.tolist()
    [[3, True], [10, False], [4, True]]
    """
    need = [c for c in ("join_step", "leave_step", "status") if c not in members.columns]
    if need:
        raise ValueError(f"the member table lacks column(s) {', '.join(need)}")
    m = members[members["join_step"] >= 0].copy()
    ended = m["status"].astype(str).isin(list(events)).to_numpy() & (m["leave_step"].to_numpy() >= 0)
    if "end_step" in m.columns:
        end = m["end_step"].to_numpy()
    else:
        if end_step is None:
            end_step = int(max(m["join_step"].max(), m["leave_step"].max())) if len(m) else 0
        end = np.full(len(m), int(end_step))
    stop = np.where(ended, m["leave_step"].to_numpy(), end)
    m["duration"] = np.maximum(stop - m["join_step"].to_numpy(), 0)
    m["observed"] = ended
    return m


# --------------------------------------------------------------------------- figure helpers


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


def _runs_note(ts: pd.DataFrame, ci: float) -> str:
    n = ts["run_id"].nunique()
    return f"mean of {n} runs, band = {ci:.0%} CI of the mean" if n > 1 else "one run"


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


def _roles_present(ts: pd.DataFrame, prefix: str, roles: Sequence[str] | None) -> list[str]:
    cand = roles or ROLE_ORDER
    return [r for r in cand if f"{prefix}{r}" in ts.columns and ts[f"{prefix}{r}"].max() > 0]


# --------------------------------------------------------------------------- time series


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
    fig, (ax,) = _axes(ax)
    proxies = _shade_phases(ax, ts) if phases else []
    proxies += _policies.shade_policy_periods(ax, ts)  # scheduled policies' periods
    if total:
        _band_plot(ax, ts, "active", "#777777", "all members", ci, linestyle="--", linewidth=1.6)
    for r in present:
        _band_plot(ax, ts, f"active_{r}", ROLE_COLORS.get(r, "#444444"), r, ci)
    ax.set_xlabel(_DAY)
    ax.set_ylabel("active members")
    ax.set_ylim(bottom=0)
    h, labels = ax.get_legend_handles_labels()
    ax.legend(h + proxies, labels + [p.get_label() for p in proxies], loc="upper left",
              bbox_to_anchor=(1.0, 1.0), frameon=False)
    _title(ax, title or "Active members by role", _runs_note(ts, ci))
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
    fig, (ax,) = _axes(ax)
    _policies.shade_policy_periods(ax, ts)  # scheduled policies' periods
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
        note = _runs_note(ts, ci)
    else:
        per = ts.groupby(by)["run_id"].nunique()
        rng_ = f"{per.min()}" if per.min() == per.max() else f"{per.min()}–{per.max()}"
        note = f"mean of {rng_} runs per line, band = {ci:.0%} CI of the mean"
    _title(ax, title or f"{lab} over time" + (f" by {_short(by)}" if by else ""), note)
    return _finish(fig)


def _legend_outside(ax: Axes) -> None:
    """Legend right of the plot for short labels, below it for long ones."""
    h, labels = ax.get_legend_handles_labels()
    if not h:
        return
    if max(len(lab) for lab in labels) <= 28:
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.14), ncol=1)


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
    fig, (top, bot) = _axes(ax, 2, figsize=(9.0, 6.5), gridspec_kw={"height_ratios": [3, 2]})
    for a in (top, bot):  # scheduled policies' periods
        _policies.shade_policy_periods(a, ts)
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
    top.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
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
    _title(top, title or "Bad money vs good: message quality and who stays", _runs_note(ts, ci))
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
    fig, (top, mid, bot) = _axes(ax, 3, figsize=(9.0, 8.0))
    for a in (top, mid, bot):  # scheduled policies' periods
        _policies.shade_policy_periods(a, ts)
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
    _title(top, title or "Is reading worth it? Value per message, overload and volume", _runs_note(ts, ci))
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
    h, lab = ax.get_legend_handles_labels()
    ax.legend(h[::-1], lab[::-1], frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              title="trust level")
    note = f"mean of {ts['run_id'].nunique()} runs" if ts["run_id"].nunique() > 1 else "one run"
    _title(ax, title or "Members' trust in the community, by level", note)
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
    note = (f"mean of {nruns} runs; " if nruns > 1 else "") + "joins up, leaves down"
    _title(ax, title or "Who joins, who leaves, and why", note)
    return _finish(fig)


# --------------------------------------------------------------------------- survival


def _cohort_labels(m: pd.DataFrame, cohort_days: int | None) -> pd.Series:
    js = m["join_step"].to_numpy()
    seed = (m["entry_path"].astype(str).to_numpy() == "seed") if "entry_path" in m.columns else js == 0
    later = js[~seed]
    if cohort_days is None:
        span = int(later.max()) if len(later) else 1
        cohort_days = max(1, int(math.ceil(span / 4 / 10.0) * 10)) if span > 10 else max(span, 1)
    lab = np.empty(len(m), dtype=object)
    lab[seed] = "seed members"
    k = (np.maximum(js[~seed], 1) - 1) // cohort_days
    last = int(later.max()) if len(later) else 0
    lab[~seed] = [f"joined days {int(a * cohort_days + 1)}–{min(int((a + 1) * cohort_days), last)}" for a in k]
    return pd.Series(lab, index=m.index)


def plot_survival(data: Any, *, by: str = "role", end_step: int | None = None, ci: float = 0.95,
                  bands: bool | None = None, cohort_days: int | None = None, min_members: int = 5,
                  ax: Axes | None = None, title: str | None = None) -> Figure:
    """Kaplan–Meier curves of membership duration, by role or by entry cohort.

    Members who are still active at the end are censored. A tick on a curve marks a
    censoring time; the band is the Greenwood log-log interval.

    Parameters
    ----------
    data : RunResult, member DataFrame, or list of RunResults (pooled)
    by : {"role", "cohort", "entry_path"}
        ``role`` groups by the role members joined with (``initial_role``); ``cohort`` by
        join period (seed members, then periods of ``cohort_days``); ``entry_path`` by how
        they came (seed / exposure / referral).
    end_step : int, optional
        Last observed day (taken from the time series of a RunResult).
    ci : float
        Confidence level of the bands.
    bands : bool, optional
        Draw the confidence bands (default: when at most three curves are drawn, where
        overlapping bands are still readable).
    cohort_days : int, optional
        Cohort length in days (default: about four cohorts after the seed).
    min_members : int
        Groups with fewer members are left out (noted in the subtitle).
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import qunsim as qs
    >>> from qunsim.plotting import plot_survival
    >>> fig = plot_survival(qs.simulate(rng=1, steps=60), by="cohort")  # doctest: +SKIP
    """
    members = _members(data, end_step)
    m = member_durations(members, end_step=end_step)
    if by == "role":
        key = "initial_role" if "initial_role" in m.columns else "role"
        m["_g"] = m[key].astype(str)
        order = [r for r in ROLE_ORDER if r in set(m["_g"])]
        colors = {r: ROLE_COLORS[r] for r in order}
        subject = "by the role they joined as"
    elif by == "cohort":
        m["_g"] = _cohort_labels(m, cohort_days)
        later = sorted({g for g in m["_g"] if g != "seed members"}, key=lambda s: int(s.split()[2].split("–")[0]))
        order = (["seed members"] if (m["_g"] == "seed members").any() else []) + later
        import matplotlib

        cmap = matplotlib.colormaps["viridis"]
        colors = {g: cmap(0.85 * i / max(len(order) - 1, 1)) for i, g in enumerate(order)}
        subject = "by when they joined"
    elif by == "entry_path":
        if "entry_path" not in m.columns:
            raise ValueError("the member table has no entry_path column")
        m["_g"] = m["entry_path"].astype(str)
        order = [p for p in ("seed", "exposure", "referral") if p in set(m["_g"])]
        colors = dict(zip(order, (OKABE_ITO["black"], OKABE_ITO["sky_blue"], OKABE_ITO["vermillion"]), strict=False))
        subject = "by how they came"
    else:
        raise ValueError(f"by must be 'role', 'cohort' or 'entry_path', got {by!r}")
    fig, (ax,) = _axes(ax)
    small = [f"{g} ({(m['_g'] == g).sum()})" for g in order if (m["_g"] == g).sum() < min_members]
    order = [g for g in order if (m["_g"] == g).sum() >= min_members]
    if bands is None:
        bands = len(order) <= 3
    drawn = 0
    for g in order:
        sub = m[m["_g"] == g]
        km = kaplan_meier(sub["duration"].to_numpy(), sub["observed"].to_numpy(), ci=ci)
        x = np.r_[0.0, km["time"].to_numpy()]
        y = np.r_[1.0, km["survival"].to_numpy()] * 100
        tmax = float(sub["duration"].max())
        if x[-1] < tmax:
            x, y = np.r_[x, tmax], np.r_[y, y[-1]]
        ax.step(x, y, where="post", color=colors[g], label=f"{g} (n={len(sub)})", gid=f"km:{g}")
        if bands:
            lo = np.r_[1.0, km["lower"].to_numpy()] * 100
            hi = np.r_[1.0, km["upper"].to_numpy()] * 100
            if len(lo) < len(x):
                lo, hi = np.r_[lo, lo[-1]], np.r_[hi, hi[-1]]
            ax.fill_between(x, lo, hi, step="post", color=colors[g], alpha=0.12, linewidth=0)
        cens = km[km["censored"] > 0]
        if len(cens) and len(cens) <= 40:
            s_at = np.interp(cens["time"].to_numpy(), km["time"].to_numpy(), km["survival"].to_numpy()) * 100
            ax.plot(cens["time"], s_at, linestyle="none", marker="|", markersize=7, color=colors[g])
        drawn += 1
    if not drawn:
        raise ValueError(f"no group has at least min_members={min_members} members: nothing to draw")
    ax.set_ylim(0, 102)
    ax.set_xlim(left=0)
    ax.set_xlabel("days since joining")
    ax.set_ylabel("% still members")
    ax.legend(frameon=False, loc="best")
    nruns = m["run_id"].nunique() if "run_id" in m.columns else 1
    sub_note = (f"pooled over {nruns} runs; " if nruns > 1 else "") + \
        "Kaplan–Meier; members still active are censored (ticks)"
    if bands:
        sub_note += f"; bands: {ci:.0%} CI"
    if small:
        sub_note += f"; left out (< {min_members} members): " + ", ".join(small)
    _title(ax, title or f"How long members stay, {subject}", sub_note)
    return _finish(fig)


def _members(data: Any, end_step: int | None = None) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "members") and isinstance(data.members, pd.DataFrame):
        m = data.members
        ts = getattr(data, "timeseries", None)
        if end_step is None and isinstance(ts, pd.DataFrame) and len(ts) and "end_step" not in m.columns:
            m = m.assign(end_step=int(ts["step"].max()))
        return m
    if isinstance(data, (list, tuple)) and data:
        parts = [_members(d, end_step).assign(run_id=i) for i, d in enumerate(data)]
        return pd.concat(parts, ignore_index=True)
    raise TypeError(f"expected a RunResult, a member DataFrame or a list of RunResults; got {type(data).__name__}")


# --------------------------------------------------------------------------- monetization


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
    note = (f"mean of {nruns} runs; " if nruns > 1 else "") + f"total {total:,.0f}"
    _title(ax, title or "Where the money comes from: cumulative revenue by source", note)
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


# --------------------------------------------------------------------------- sweep level


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


# --------------------------------------------------------------------------- network


def plot_network(graph: Any, *, max_nodes: int = 1500, min_weight: float | None = None, seed: int = 0,
                 layout: dict | None = None, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Snapshot of the active members' social graph: colour = role, size = trust.

    Parameters
    ----------
    graph : networkx.Graph or CommunityModel
        A graph from :meth:`CommunityModel.graph` (nodes carry ``role``, ``status``,
        ``trust``); only active members are drawn.
    max_nodes : int
        Larger communities are refused: a hairball shows nothing.
    min_weight : float, optional
        Draw (and lay out by) ties at least this strong. Default: all ties, or only strong
        ties (weight >= 0.5) when there are more than five ties per member.
    seed : int
        Seed of the spring layout (its own generator; no global state).
    layout : dict, optional
        Node positions, if already computed.
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import qunsim as qs
    >>> from qunsim.plotting import plot_network
    >>> m = qs.CommunityModel(qs.load_config().override({"community.n_seed": 60}), rng=3)
    >>> fig = plot_network(m.graph())  # doctest: +SKIP
    """
    import networkx as nx
    from matplotlib.lines import Line2D

    g = graph.graph() if hasattr(graph, "graph") and callable(graph.graph) else graph
    if not isinstance(g, nx.Graph):
        raise TypeError(f"expected a networkx Graph or a CommunityModel, got {type(graph).__name__}")
    nodes = [n for n, d in g.nodes(data=True) if d.get("status", "active") == "active"]
    if not nodes:
        raise ValueError("no active member in the graph: nothing to draw")
    if len(nodes) > max_nodes:
        raise ValueError(f"{len(nodes)} active members is more than max_nodes={max_nodes}: a drawing this "
                         "dense shows nothing; draw a sample or a single group, or raise max_nodes")
    h = g.subgraph(nodes)
    n_all = h.number_of_edges()
    if min_weight is None and n_all > 5 * len(nodes):
        min_weight = 0.5
    if min_weight is not None:
        h = nx.Graph(h)
        h.remove_edges_from([(u, v) for u, v, w in h.edges(data="weight", default=0.0) if (w or 0.0) < min_weight])
    if layout is not None:
        pos = layout
    else:
        pos = nx.spring_layout(h, seed=seed, weight="weight", k=2.0 / math.sqrt(max(len(nodes), 1)),
                               iterations=80)
        # isolated members and small components drift far out; pull them to the rim
        xy0 = np.array([pos[n] for n in nodes])
        c = np.median(xy0, axis=0)
        r = np.linalg.norm(xy0 - c, axis=1)
        rim = np.percentile(r, 90) * 1.15 if len(r) > 10 else (r.max() if len(r) else 1.0)
        far = r > rim
        if far.any() and rim > 0:
            xy0[far] = c + (xy0[far] - c) * (rim / r[far])[:, None]
            pos = {n: xy0[i] for i, n in enumerate(nodes)}
    fig, (ax,) = _axes(ax, figsize=(8.5, 8.0))
    ax.grid(False)
    ax.set_axis_off()
    edges = list(h.edges(data="weight", default=0.2))
    if edges:
        from matplotlib.collections import LineCollection

        segs = [(pos[u], pos[v]) for u, v, _ in edges]
        w = np.array([0.2 if ww is None else ww for _, _, ww in edges], dtype=float)
        lc = LineCollection(segs, colors=[(0.5, 0.5, 0.5, 0.08 + 0.5 * min(max(x, 0), 1)) for x in w],
                            linewidths=0.4 + 1.6 * np.clip(w, 0, 1), zorder=1)
        ax.add_collection(lc)
    roles = np.array([h.nodes[n].get("role", "regular") for n in nodes])
    trust = np.array([float(h.nodes[n].get("trust", 0.5)) for n in nodes])
    xy = np.array([pos[n] for n in nodes])
    size = 12 + 150 * trust
    order = np.argsort([ROLE_ORDER.index(r) if r in ROLE_ORDER else 99 for r in roles])[::-1]
    ax.scatter(xy[order, 0], xy[order, 1], s=size[order], c=[ROLE_COLORS.get(r, "#444444") for r in roles[order]],
               edgecolors="white", linewidths=0.5, zorder=2, gid="members")
    present = [r for r in ROLE_ORDER if r in set(roles)]
    handles = [Line2D([], [], marker="o", linestyle="none", color=ROLE_COLORS[r], markersize=8,
                      label=f"{r} ({int((roles == r).sum())})") for r in present]
    handles += [Line2D([], [], marker="o", linestyle="none", color="#888888", markersize=math.sqrt(12 + 150 * t),
                       label=f"trust {t:g}") for t in (0.2, 0.5, 0.9)]
    ax.legend(handles=handles, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    _title(ax, title or "Who is connected to whom",
           f"{len(nodes)} active members; " + (f"{h.number_of_edges()} of {n_all} ties (strength >= {min_weight:g})"
                                               if min_weight is not None else f"{n_all} ties")
           + "; colour = role, size = trust")
    return _finish(fig)


# --------------------------------------------------------------------------- output


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

    For every headline metric: a comparison across design points (mean and CI over
    replicates) when the design has one axis or names strategies, and a heatmap over the
    first two axes when it has two or more. Over time: active members for each design
    point (up to eight, with replicate bands), and the active-by-role, Gresham and trust
    figures pooled over the replicates of the first design point.

    Parameters
    ----------
    sweep_dir : path
    out_dir : path, optional
        Default ``sweep_dir/figures``.
    formats : sequence of str
    metrics : sequence of str, optional
        Summary metrics to compare (default: :data:`HEADLINE_METRICS` present in the sweep).

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


#: Summary metrics shown in sweep comparisons and reports, with the direction that is better.
HEADLINE_METRICS: dict[str, bool] = {
    "final_active": True,
    "survival_ratio": True,
    "mean_churn_rate": False,
    "final_expert_retention": True,
    "mean_low_quality_share": False,
    "mean_gresham_index": False,
    "final_trust_mean": True,
    "revenue_total": True,
    "revenue_per_member": True,
}


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


def sweep_figures(sw: SweepView, metrics: Sequence[str] | None = None) -> list[tuple[str, Any]]:
    """The standard figures of a sweep as ``(name, make)`` pairs (``make()`` -> Figure)."""
    s = sw.summary
    mets = [m for m in (metrics or HEADLINE_METRICS) if m in s.columns and pd.api.types.is_numeric_dtype(s[m])]
    mets = [m for m in mets if not (m.startswith("revenue") and float(s[m].abs().sum()) == 0)]
    figs: list[tuple[str, Any]] = []
    npoints = len(sw.points)
    ts = sw.timeseries
    if ts is not None and 1 < npoints <= 8:
        figs.append(("active_by_point", lambda: plot_timeseries(
            ts, "active", by="point_label", title="Active members over time, by design point")))
    if ts is not None and 1 < npoints <= 8 and "revenue_cumulative" in ts.columns \
            and float(ts["revenue_cumulative"].abs().sum()) > 0:
        figs.append(("revenue_by_point", lambda: plot_timeseries(
            ts, "revenue_cumulative", by="point_label", title="Cumulative revenue, by design point")))
    if ts is not None:
        first = sw.points[0]
        sub = ts[ts["point_label"] == first]
        where = f" ({first})" if npoints > 1 else ""
        cols = set(ts.columns)
        # only the figures whose series the sweep kept (its `keep.timeseries`)
        if _roles_present(ts, "active_", None):
            figs.append(("active_by_role", lambda: plot_active_by_role(sub, title=f"Active members by role{where}")))
        if {"low_quality_share", "expert_retention", "gresham_index"} <= cols:
            figs.append(("gresham", lambda: plot_gresham(sub, title=f"Bad money vs good{where}")))
        if {"trust_none", "trust_weak", "trust_strong"} <= cols:
            figs.append(("trust_levels", lambda: plot_trust_levels(sub, title=f"Trust levels{where}")))
    if npoints > 1 and len(sw.axes) <= 1:
        for m in mets:
            figs.append((f"compare_{m}", lambda m=m: plot_policy_comparison(
                s, m, by="point_label", higher_is_better=HEADLINE_METRICS.get(m), sort=False,
                ylabel=_axes_title(sw.axes))))
    if len(sw.axes) >= 2 and 1 < npoints <= 12:  # a few points: also their intervals, for key metrics
        key = [m for m in ("final_active", "mean_churn_rate", "revenue_total") if m in mets] or mets[:2]
        for m in key:
            figs.append((f"compare_{m}", lambda m=m: plot_policy_comparison(
                s, m, by="point_label", higher_is_better=HEADLINE_METRICS.get(m), sort=False,
                ylabel=_axes_title(sw.axes))))
    if len(sw.axes) >= 2:
        x, y = sw.axes[0], sw.axes[1]
        for m in mets:
            figs.append((f"heatmap_{m}", lambda m=m: plot_heatmap(
                s, x, y, m, center=1.0 if "gresham" in m else None, log="gresham" in m
                and bool((s[m] > 0).all()))))
    return figs
