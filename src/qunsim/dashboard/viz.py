"""The dashboard on Mesa's own visualization (``mesa.visualization.SolaraViz``).

:func:`app` returns the page: Mesa's controls (play / step / reset, play and render
intervals), one control per lever (:data:`~qunsim.dashboard.levers.LEVERS`, as Mesa
``model_params``: *Reset* rebuilds the model with them), and six live panels. In a notebook,
put ``app()`` as the last expression of a cell; ``qunsim dashboard`` serves the same page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import matplotlib.colors
import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz

from qunsim.config import Config, load_config
from qunsim.dashboard.levers import CompareModel, DashboardModel, model_params
from qunsim.state import ROLE_ORDER, Role, Status

__all__ = ["app", "viz_kwargs", "PANELS", "GrowingLayout", "Page"]

_ROLES = ("owner", "expert", "contributor", "regular", "chatter", "spammer", "moderator")
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


def _fig(w: float = 6.2, h: float = 4.0) -> Figure:
    fig = Figure(figsize=(w, h), dpi=_DPI)
    fig.subplots_adjust(left=0.12, right=0.9, top=0.9, bottom=0.13)
    return fig


# ---------------------------------------------------------------------------------- panels
# Time series are Vega-Lite specs built by hand (no schema validation on every frame) and
# drawn by the browser: a frame costs the server a few small dicts, not a rendered image.
_MAX_POINTS = 400  # per series and frame (longer runs are thinned, the last day always kept)
_W, _H = 430, 250


def _wide(model, cols: dict[str, str]) -> tuple[list[dict], list[str]]:
    """Rows ``{"day": t, "<label> · <run>": value, ...}`` for each run; the column names."""
    rows: dict[int, dict] = {}
    names: list[str] = []
    for run, m in _runs(model).items():
        n = len(m.metrics.rows)
        idx = np.unique(np.r_[np.linspace(0, n - 1, min(n, _MAX_POINTS)).astype(int), n - 1])
        for key, label in cols.items():
            name = f"{label} · {run}" if run else label
            y = _series(m, key)
            if key.startswith("cum:"):
                y = np.cumsum(_series(m, key[4:]))
            names.append(name)
            for i in idx.tolist():
                rows.setdefault(i, {"day": i})[name] = round(float(y[i]), 4)
    return [rows[k] for k in sorted(rows)], names


def _line_spec(model, title: str, cols: dict[str, str], colors: dict[str, str], ytitle: str,
               ydomain: tuple | None = None) -> dict:
    data, names = _wide(model, cols)
    y: dict[str, Any] = {"field": "value", "type": "quantitative", "title": ytitle}
    if ydomain is not None:
        y["scale"] = {"domain": list(ydomain)}
    enc: dict[str, Any] = {
        "x": {"field": "day", "type": "quantitative", "title": "day"},
        "y": y,
        "color": {"field": "what", "type": "nominal", "title": None,
                  "scale": {"domain": list(colors), "range": list(colors.values())}},
        "tooltip": [{"field": "day"}, {"field": "series"}, {"field": "value", "format": ".3~f"}],
    }
    transform = [{"fold": names, "as": ["series", "value"]},
                 {"calculate": "split(datum.series, ' · ')[0]", "as": "what"}]
    if isinstance(model, CompareModel):
        transform.append({"calculate": "split(datum.series, ' · ')[1]", "as": "run"})
        enc["strokeDash"] = {"field": "run", "type": "nominal", "title": "run",
                             "scale": {"domain": ["A", "B"], "range": [[1, 0], [5, 3]]}}
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "title": title, "width": _W, "height": _H, "data": {"values": data},
            "transform": transform, "mark": {"type": "line", "strokeWidth": 1.6},
            "encoding": enc, "config": {"legend": {"orient": "bottom", "columns": 4}}}


def _vega(spec: dict):
    return solara.widgets.VegaLite.element(spec=spec)


def active_panel(model):
    """Active members by role (B dashed in compare mode)."""
    model.drawing()  # the first panel of a frame (see levers._Paced)
    col = _colors()
    present = [r for r in _ROLES if any(_series(m, f"active_{r}").any() for m in _runs(model).values())]
    cols = {"active": "all", **{f"active_{r}": r for r in present}}
    colors = {"all": "#444444", **{r: col[r] for r in present}}
    return _vega(_line_spec(model, "Active members by role", cols, colors, "members"))


def gresham_panel(model):
    """Gresham's law: low-quality share of messages and expert retention (both in [0, 1])."""
    cols = {"low_quality_share": "low-quality share", "expert_retention": "expert retention"}
    colors = {"low-quality share": "#D55E00", "expert retention": "#0072B2"}
    return _vega(_line_spec(model, "Gresham: bad money vs good", cols, colors, "share", (0, 1)))


def value_panel(model):
    """Value density (mean value per message read) against overload (share of posts buried)."""
    spec = _line_spec(model, "Value vs overload", {"value_density": "value density", "overload": "overload"},
                      {"value density": "#009E73", "overload": "#CC79A7"}, "")
    enc = spec.pop("encoding")
    mark = spec.pop("mark")
    layers = []
    for what, title in (("value density", "value per message read"), ("overload", "overload")):
        e = {**enc, "y": {**enc["y"], "title": title}}
        layers.append({"transform": [{"filter": f"datum.what === '{what}'"}], "mark": mark, "encoding": e})
    spec["layer"] = layers
    spec["resolve"] = {"scale": {"y": "independent"}}
    return _vega(spec)


def trust_panel(model):
    """Active members by trust level: none, weak, strong."""
    from qunsim.plotting import TRUST_COLORS

    cols = {"trust_none": "none", "trust_weak": "weak", "trust_strong": "strong"}
    colors = {"none": "#999999", "weak": TRUST_COLORS["weak"], "strong": TRUST_COLORS["strong"]}
    return _vega(_line_spec(model, "Trust levels", cols, colors, "members"))


def revenue_panel(model):
    """Cumulative revenue by source: each ladder rung, fees, ads (whatever the runs earn)."""
    palette = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000"]
    keys = sorted({k for m in _runs(model).values() for r in m.metrics.rows for k in r
                   if k.startswith("revenue_") and k != "revenue_cumulative"
                   and any(x.get(k, 0) for x in m.metrics.rows)})
    labels = {f"cum:{k}": k.removeprefix("revenue_").removeprefix("rung_") for k in keys}
    if not labels:
        labels = {"revenue_cumulative": "total"}
    colors = {lab: palette[j % len(palette)] for j, lab in enumerate(labels.values())}
    title = "Revenue by rung (cumulative)" + ("" if keys else ": none yet (turn the ladder or a fee on)")
    return _vega(_line_spec(model, title, labels, colors, "revenue"))


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
            peers = nb[st.role[nb] != Role.OWNER]  # everyone knows the soul figure: place by peers
            if len(peers):
                nb = peers
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


def _segments(pos: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of many segments as one polyline broken by NaNs (one path: fast to draw)."""
    xy = np.full((len(u), 3, 2), np.nan)
    xy[:, 0], xy[:, 1] = pos[u], pos[v]
    return xy[:, :, 0].ravel(), xy[:, :, 1].ravel()


def draw_graph(ax, m, pos: np.ndarray, title: str) -> None:
    """Active members (colour = role, size = trust) and the ties between them.

    Ties are drawn as two polylines: weak ones thin and light, strong ones (at least
    ``dynamics.strong_tie``) darker.
    """
    st, g = m.state, m.social
    col = _colors()
    act = st.status == Status.ACTIVE
    u, v = g.endpoints()
    both = act[u] & act[v]
    w = np.asarray(g.weight)
    strong = w >= m.p.strong_tie
    for sel, lw, alpha in ((both & ~strong, 0.3, 0.25), (both & strong, 0.9, 0.5)):
        if sel.any():
            x, y = _segments(pos, u[sel], v[sel])
            ax.plot(x, y, color="#777777", lw=lw, alpha=alpha, zorder=1, solid_capstyle="butt",
                    antialiased=lw > 0.5)
    ids = np.flatnonzero(act)
    rgb = np.array([matplotlib.colors.to_rgb(col[r]) for r in ROLE_ORDER])
    ax.scatter(pos[ids, 0], pos[ids, 1], s=3 + 36 * st.trust[ids] ** 2, c=rgb[st.role[ids]],
               linewidths=0, zorder=2)
    ax.text(0.5, 0.99, f"{title}: {len(ids)} active, day {m.steps}", transform=ax.transAxes,
            ha="center", va="top", fontsize=9)
    ax.set_xlim(-1.25, 1.25)
    ax.set_ylim(-1.25, 1.3)
    ax.set_aspect("equal")
    ax.set_axis_off()


GRAPH_EVERY: int | None = None  # days between graph redraws; None: by community size


def graph_period(model) -> int:
    """Days between two redraws of the social graph.

    The graph is the one panel drawn on the server; a large community redraws it less often
    so the charts stay fluid: every day up to 300 active members, then one day more per 300
    (every 4th day at 1,000). ``app(graph_every=...)`` / ``--graph-every`` fix it.
    """
    if GRAPH_EVERY is not None:
        return max(1, int(GRAPH_EVERY))
    active = max(int(m.metrics.latest("active", 0)) for m in _runs(model).values())
    return max(1, int(np.ceil(active / 300)))


def graph_figure(model) -> tuple[Figure, tuple]:
    """The social-graph figure and its key; redrawn only when the key (day bucket) changes."""
    runs = _runs(model)
    first = next(iter(runs.values()))
    every = graph_period(model)
    key = (id(first), first.steps // every if first.steps else -1, every)
    cached = getattr(model, "_graph_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1], key
    layout = _layout_of(model)
    for m in runs.values():
        pos = layout.update(m)
    k = len(runs)
    fig = Figure(figsize=(6.2, 4.6 if k == 1 else 3.4), dpi=_DPI)
    for j, (run, m) in enumerate(runs.items()):
        ax = fig.add_axes((j / k, 0.07, 1 / k, 0.93))
        draw_graph(ax, m, pos, f"Social graph {run}".strip())
    col = _colors()
    present = {ROLE_ORDER[r] for m in runs.values() for r in np.unique(m.state.role[m.state.status == Status.ACTIVE])}
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="o", color=col[r], label=r) for r in _ROLES if r in present]
    fig.legend(handles=handles, fontsize=7, loc="lower center", ncol=len(handles) or 1, frameon=False)
    model._graph_cache = (key, fig)
    return fig, key


def graph_panel(model):
    """The social graph of the active members: coloured by role, sized by trust."""
    fig, key = graph_figure(model)
    return solara.FigureMatplotlib(fig, dependencies=[key], format="png", dpi=_DPI)


def levers_panel(model):
    """The levers of the run(s) on screen (what the controls were at the last Reset)."""
    from html import escape

    from qunsim.dashboard.levers import LEVERS

    runs = _runs(model)
    head = "".join(f"<th>{escape(r or 'value')}</th>" for r in runs)
    body = []
    for lv in LEVERS:
        vals = []
        for m in runs.values():
            v = m.levers[lv.name]
            vals.append(("on" if v else "off") if lv.kind == "bool" else (f"{v:g}" if v else "off"))
        body.append(f"<tr><td>{escape(lv.label)}</td>" + "".join(f"<td>{x}</td>" for x in vals) + "</tr>")
    first = next(iter(runs.values()))
    active = ", ".join(f"{escape(r or 'now')} {m.metrics.latest('active', 0)}" for r, m in runs.items())
    html = (f"<div class='qunsim-levers'><p><b>Day {first.steps}</b>, seed {first.seed}; active members: "
            f"{active}</p><table><tr><th>lever</th>{head}</tr>{''.join(body)}</table></div>")
    model.drawn()  # the last panel of a frame
    return solara.HTML(tag="div", unsafe_innerHTML=html)


PANELS = (active_panel, gresham_panel, value_panel, trust_panel, revenue_panel, graph_panel, levers_panel)


# ---------------------------------------------------------------------------------- the page
def app(scenario: Config | str | Path | dict | None = None, *, compare: bool = False,
        seed: int = 0, n_prospects: int | None = None, play_interval: int = 50,
        render_interval: int = 1, graph_every: int | None = None, **levers: Any):
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
    graph_every : int, optional
        days between redraws of the social graph (default: by community size, see
        :func:`graph_period`).
    **levers
        starting values of the levers (e.g. ``moderation=0.9``); in compare mode they set
        both runs, and ``b_``-prefixed ones set run B only (``b_moderation=0.9``).

    Returns
    -------
    solara element
        display it in a notebook (last expression of a cell), or serve it (``qunsim dashboard``).
    """
    global GRAPH_EVERY
    GRAPH_EVERY = graph_every
    return SolaraViz(**viz_kwargs(scenario, compare=compare, seed=seed, n_prospects=n_prospects,
                                  play_interval=play_interval, render_interval=render_interval,
                                  **levers))


def viz_kwargs(scenario: Config | str | Path | dict | None = None, *, compare: bool = False,
               seed: int = 0, n_prospects: int | None = None, play_interval: int = 50,
               render_interval: int = 1, **levers: Any) -> dict[str, Any]:
    """The arguments :func:`app` gives ``SolaraViz``: the first model, controls and panels."""
    cfg = load_config(scenario)
    params = model_params(cfg, compare=compare, seed=seed, n_prospects=n_prospects)
    if compare:  # a lever given for A only sets B too: B differs where b_* says so
        levers = {**{f"b_{k}": v for k, v in levers.items() if not k.startswith("b_")}, **levers}
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
    global GRAPH_EVERY
    npros = os.environ.get("QUNSIM_DASHBOARD_PROSPECTS")
    every = os.environ.get("QUNSIM_DASHBOARD_GRAPH_EVERY")
    GRAPH_EVERY = int(every) if every else None
    return viz_kwargs(os.environ.get("QUNSIM_DASHBOARD_SCENARIO") or None,
                      compare=os.environ.get("QUNSIM_DASHBOARD_COMPARE", "") == "1",
                      seed=int(os.environ.get("QUNSIM_DASHBOARD_SEED", "0")),
                      n_prospects=int(npros) if npros else None,
                      play_interval=int(os.environ.get("QUNSIM_DASHBOARD_INTERVAL", "50")),
                      render_interval=int(os.environ.get("QUNSIM_DASHBOARD_RENDER", "1")),
                      **json.loads(os.environ.get("QUNSIM_DASHBOARD_LEVERS") or "{}"))


@solara.component
def Page():
    """Solara's entry point for ``solara run qunsim.dashboard.viz`` (what ``qunsim dashboard`` runs)."""
    kwargs = solara.use_memo(_env_kwargs, [])
    return SolaraViz(**kwargs)
