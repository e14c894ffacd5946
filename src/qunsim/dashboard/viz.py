"""The dashboard on Mesa's own visualization (``mesa.visualization.SolaraViz``).

:func:`app` returns the page: Mesa's controls (play / step / reset, play and render
intervals), one control per lever (:data:`~qunsim.dashboard.levers.LEVERS`, as Mesa
``model_params``: *Reset* rebuilds the model with them), and six live panels. In a notebook,
put ``app()`` as the last expression of a cell; ``qunsim dashboard`` serves the same page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import solara
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz

from qunsim.config import Config, load_config
from qunsim.dashboard.levers import CompareModel, DashboardModel, model_params
from qunsim.state import ROLE_ORDER, Status

__all__ = ["app", "viz_kwargs", "PANELS", "GrowingLayout", "Page"]

_ROLES = ("owner", "expert", "contributor", "regular", "chatter", "spammer", "moderator")
_STYLE = {"A": "-", "B": "--"}
_DPI = 80


def _colors() -> dict[str, str]:
    from qunsim.plotting import ROLE_COLORS

    return ROLE_COLORS


def _runs(model) -> dict[str, DashboardModel]:
    return model.runs if isinstance(model, CompareModel) else {"": model}


def _series(m, key: str) -> np.ndarray:
    return np.array([r.get(key, 0.0) for r in m.metrics.rows], dtype=float)


def _days(m) -> np.ndarray:
    return np.array([r["step"] for r in m.metrics.rows], dtype=float)


def _fig(w: float = 5.2, h: float = 3.0) -> Figure:
    return Figure(figsize=(w, h), dpi=_DPI, layout="constrained")


def _label(run: str, text: str) -> str:
    return f"{text} ({run})" if run else text


def _show(fig: Figure):
    return solara.FigureMatplotlib(fig, format="png", dpi=_DPI)


# ---------------------------------------------------------------------------------- panels
def active_panel(model):
    """Active members by role (one line per role present; B dashed in compare mode)."""
    fig = _fig()
    ax = fig.add_subplot()
    col = _colors()
    for run, m in _runs(model).items():
        t = _days(m)
        for r in _ROLES:
            y = _series(m, f"active_{r}")
            if y.any():
                ax.plot(t, y, _STYLE.get(run, "-"), color=col[r], lw=1.4,
                        label=r if run in ("", "A") else None)
        ax.plot(t, _series(m, "active"), _STYLE.get(run, "-"), color="#444444", lw=2,
                label=_label(run, "all"))
    ax.set(title="Active members by role", xlabel="day", ylabel="members")
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    return _show(fig)


def gresham_panel(model):
    """Gresham's law: low-quality share of messages and expert retention (both in [0, 1])."""
    fig = _fig()
    ax = fig.add_subplot()
    for run, m in _runs(model).items():
        t = _days(m)
        ax.plot(t, _series(m, "low_quality_share"), _STYLE.get(run, "-"), color="#D55E00",
                label=_label(run, "low-quality share"))
        ax.plot(t, _series(m, "expert_retention"), _STYLE.get(run, "-"), color="#0072B2",
                label=_label(run, "expert retention"))
    ax.set(title="Gresham: bad money vs good", xlabel="day", ylim=(-0.02, 1.02))
    ax.legend(fontsize=7, loc="best")
    return _show(fig)


def value_panel(model):
    """Value density (mean value per message read) against overload (share of posts buried)."""
    fig = _fig()
    ax = fig.add_subplot()
    ax2 = ax.twinx()
    for run, m in _runs(model).items():
        t = _days(m)
        ax.plot(t, _series(m, "value_density"), _STYLE.get(run, "-"), color="#009E73",
                label=_label(run, "value density"))
        ax2.plot(t, _series(m, "overload"), _STYLE.get(run, "-"), color="#CC79A7",
                 label=_label(run, "overload"))
    ax.set(title="Value vs overload", xlabel="day", ylabel="value per message read")
    ax2.set_ylabel("overload")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left")
    return _show(fig)


def trust_panel(model):
    """Active members by trust level: none, weak, strong."""
    from qunsim.plotting import TRUST_COLORS

    fig = _fig()
    ax = fig.add_subplot()
    for run, m in _runs(model).items():
        t = _days(m)
        for lv in ("none", "weak", "strong"):
            ax.plot(t, _series(m, f"trust_{lv}"), _STYLE.get(run, "-"),
                    color=TRUST_COLORS[lv] if lv != "none" else "#999999", lw=1.6,
                    label=_label(run, lv))
    ax.set(title="Trust levels", xlabel="day", ylabel="members")
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    return _show(fig)


def revenue_panel(model):
    """Cumulative revenue by source: each ladder rung, fees, ads (whatever the run earns)."""
    fig = _fig()
    ax = fig.add_subplot()
    palette = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442"]
    any_rev = False
    for run, m in _runs(model).items():
        t = _days(m)
        keys = sorted({k for r in m.metrics.rows for k in r
                       if k.startswith("revenue_") and k != "revenue_cumulative"})
        for j, k in enumerate(keys):
            y = np.cumsum(_series(m, k))
            if y[-1] > 0:
                any_rev = True
                ax.plot(t, y, _STYLE.get(run, "-"), color=palette[j % len(palette)],
                        label=_label(run, k.removeprefix("revenue_").removeprefix("rung_")))
    ax.set(title="Revenue by rung (cumulative)", xlabel="day", ylabel="revenue")
    if any_rev:
        ax.legend(fontsize=7, loc="upper left")
    else:
        ax.text(0.5, 0.5, "no revenue yet\n(turn the ladder or a fee on)", ha="center",
                va="center", transform=ax.transAxes, color="#777777")
    return _show(fig)


class GrowingLayout:
    """Node positions placed once, when a member first appears: never recomputed per frame.

    The seed members are laid out by a spring layout when the panel is first drawn; every
    later member is placed near the members it is tied to (or at random in the disc if it
    has none), and stays there. The layout has its own generator: drawing never touches the
    model's randomness.
    """

    def __init__(self, n: int, seed: int = 0):
        self.pos = np.full((n, 2), np.nan)
        self._rng = np.random.default_rng(seed)

    def update(self, model) -> np.ndarray:
        """Place members who have none yet; return the positions, float64[n, 2]."""
        import networkx as nx

        st, g = model.state, model.social
        todo = np.flatnonzero((st.join_step >= 0) & np.isnan(self.pos[:, 0]))
        if not len(todo):
            return self.pos
        if np.isnan(self.pos[:, 0]).all():  # first call: spring layout of who is there
            u, v = g.endpoints()
            keep = np.isin(u, todo) & np.isin(v, todo)
            h = nx.Graph()
            h.add_nodes_from(todo.tolist())
            h.add_edges_from(zip(u[keep].tolist(), v[keep].tolist(), strict=True))
            p = nx.spring_layout(h, seed=int(self._rng.integers(2**31)), iterations=40)
            for i, xy in p.items():
                self.pos[i] = xy
            return self.pos
        indptr, indices = g.indptr, g.indices
        for i in todo.tolist():
            nb = indices[indptr[i]:indptr[i + 1]]
            nb = nb[~np.isnan(self.pos[nb, 0])]
            if len(nb):
                centre = self.pos[nb].mean(axis=0)
                self.pos[i] = centre + self._rng.normal(0.0, 0.06, 2)
            else:
                a, r = self._rng.uniform(0, 2 * np.pi), np.sqrt(self._rng.uniform()) * 1.1
                self.pos[i] = (r * np.cos(a), r * np.sin(a))
        return self.pos


def _layout_of(model) -> GrowingLayout:
    first = next(iter(_runs(model).values()))
    holder = model if isinstance(model, CompareModel) else first
    if getattr(holder, "layout", None) is None or len(holder.layout.pos) != first.state.n:
        holder.layout = GrowingLayout(first.state.n)
    return holder.layout


def draw_graph(ax, m, pos: np.ndarray, title: str) -> None:
    """Active members (colour = role, size = trust) and the ties between them."""
    st, g = m.state, m.social
    col = _colors()
    act = st.status == Status.ACTIVE
    u, v = g.endpoints()
    both = act[u] & act[v]
    if both.any():
        w = np.asarray(g.weight)[both]
        segs = np.stack([pos[u[both]], pos[v[both]]], axis=1)
        ax.add_collection(LineCollection(segs, colors="#888888", linewidths=0.3 + 1.2 * w,
                                         alpha=0.35, zorder=1))
    ids = np.flatnonzero(act)
    colors = [col[ROLE_ORDER[r]] for r in st.role[ids]]
    ax.scatter(pos[ids, 0], pos[ids, 1], s=4 + 40 * st.trust[ids] ** 2, c=colors,
               linewidths=0, zorder=2)
    ax.set_title(f"{title}: {len(ids)} active, day {m.steps}", fontsize=9)
    ax.set_xlim(-1.25, 1.25)
    ax.set_ylim(-1.25, 1.25)
    ax.set_aspect("equal")
    ax.set_axis_off()


def graph_panel(model):
    """The social graph of the active members: coloured by role, sized by trust."""
    runs = _runs(model)
    layout = _layout_of(model)
    for m in runs.values():
        pos = layout.update(m)
    fig = _fig(5.2 * (1 if len(runs) == 1 else 1.6), 4.2)
    for j, (run, m) in enumerate(runs.items()):
        ax = fig.add_subplot(1, len(runs), j + 1)
        draw_graph(ax, m, pos, f"Social graph {run}".strip())
    col = _colors()
    present = {ROLE_ORDER[r] for m in runs.values() for r in np.unique(m.state.role[m.state.status == Status.ACTIVE])}
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="o", color=col[r], label=r) for r in _ROLES if r in present]
    fig.legend(handles=handles, fontsize=7, loc="lower center", ncol=len(handles) or 1, frameon=False)
    return _show(fig)


PANELS = (active_panel, gresham_panel, value_panel, trust_panel, revenue_panel, graph_panel)


# ---------------------------------------------------------------------------------- the page
def app(scenario: Config | str | Path | dict | None = None, *, compare: bool = False,
        seed: int = 0, n_prospects: int | None = None, play_interval: int = 50,
        render_interval: int = 1, **levers: Any):
    """The dashboard page: Mesa's ``SolaraViz`` over a :class:`DashboardModel`.

    Parameters
    ----------
    scenario : Config, path, dict or None
        the community (default: the built-in defaults).
    compare : bool
        two lever settings side by side on the same seed (:class:`CompareModel`): a second
        set of controls ("B: ...") sets run B; every panel shows both (B dashed).
    seed : int
        the first run's seed (a control too).
    n_prospects : int, optional
        people outside who could join (a smaller population starts faster).
    play_interval : int
        milliseconds between frames when playing.
    render_interval : int
        days per frame.
    **levers
        starting values of the levers (e.g. ``moderation=0.9``); in compare mode,
        ``b_``-prefixed ones set run B.

    Returns
    -------
    solara element
        display it in a notebook (last expression of a cell), or serve it (``qunsim dashboard``).
    """
    return SolaraViz(**viz_kwargs(scenario, compare=compare, seed=seed, n_prospects=n_prospects,
                                  play_interval=play_interval, render_interval=render_interval,
                                  **levers))


def viz_kwargs(scenario: Config | str | Path | dict | None = None, *, compare: bool = False,
               seed: int = 0, n_prospects: int | None = None, play_interval: int = 50,
               render_interval: int = 1, **levers: Any) -> dict[str, Any]:
    """The arguments :func:`app` gives ``SolaraViz``: the first model, controls and panels."""
    cfg = load_config(scenario)
    params = model_params(cfg, compare=compare, seed=seed, n_prospects=n_prospects)
    for k, v in levers.items():
        if k not in params or k in ("config", "n_prospects"):
            from qunsim.hints import did_you_mean

            names = [p for p in params if p not in ("config", "n_prospects")]
            raise ValueError(f"unknown lever {k!r}; expected one of {names}{did_you_mean(k, names)}")
        params[k] = {**params[k], "value": v}
    kwargs = {k: (p["value"] if isinstance(p, dict) and "type" in p else p) for k, p in params.items()}
    model = (CompareModel if compare else DashboardModel)(**kwargs)
    name = f"qunsim: {cfg.community.name}" + (" (compare A vs B)" if compare else "")
    return dict(model=model, components=list(PANELS), model_params=params, name=name,
                play_interval=play_interval, render_interval=render_interval)


def _env_kwargs() -> dict[str, Any]:
    """The options ``qunsim dashboard`` passes to the served page (environment variables)."""
    npros = os.environ.get("QUNSIM_DASHBOARD_PROSPECTS")
    return viz_kwargs(os.environ.get("QUNSIM_DASHBOARD_SCENARIO") or None,
                      compare=os.environ.get("QUNSIM_DASHBOARD_COMPARE", "") == "1",
                      seed=int(os.environ.get("QUNSIM_DASHBOARD_SEED", "0")),
                      n_prospects=int(npros) if npros else None,
                      play_interval=int(os.environ.get("QUNSIM_DASHBOARD_INTERVAL", "50")))


@solara.component
def Page():
    """Solara's entry point for ``solara run qunsim.dashboard.viz`` (what ``qunsim dashboard`` runs)."""
    kwargs = solara.use_memo(_env_kwargs, [])
    return SolaraViz(**kwargs)
