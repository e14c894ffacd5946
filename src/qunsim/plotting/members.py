"""Membership survival (Kaplan–Meier curves by role or entry cohort)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qunsim.state import ROLE_ORDER

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

from qunsim.plotting._style import OKABE_ITO, ROLE_COLORS, _axes, _finish, _title  # noqa: F401

__all__ = ['member_durations', 'plot_survival', 'kaplan_meier']


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


def kaplan_meier(durations, observed, ci: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier survival with Greenwood log-log intervals; see :func:`qunsim.stats.kaplan_meier`.

    >>> kaplan_meier([1, 2, 2, 3], [True, True, False, True])["survival"].tolist()
    [0.75, 0.5, 0.0]
    """
    from qunsim.stats import kaplan_meier as km

    return km(durations, observed, ci)
