"""A snapshot of the active members' social graph."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from qunsim.state import ROLE_ORDER

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

from qunsim.plotting._style import ROLE_COLORS, _axes, _finish, _legend_right, _title  # noqa: F401

__all__ = ['plot_network']


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
    _legend_right(ax, handles)
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    _title(ax, title or "Who is connected to whom",
           f"{len(nodes)} active members; " + (f"{h.number_of_edges()} of {n_all} ties (strength >= {min_weight:g})"
                                               if min_weight is not None else f"{n_all} ties")
           + "; colour = role, size = trust")
    return _finish(fig)
