"""The social graph over time, for Gephi's timeline: a dynamic GEXF of a run.

A :class:`GraphRecorder` watches a :class:`~qunsim.CommunityModel` from outside the engine:
it is called at the end of every day and takes a snapshot every ``every`` days (and when it
is attached). :meth:`GraphRecorder.graph` turns the snapshots into a dynamic
``networkx.Graph`` and :meth:`GraphRecorder.write_gexf` writes it:

* **members** (everyone who ever joined) with their spell ``(join_step, end)``: ``end`` is the
  day they left, or the last day of the run for those still there; static attributes
  ``initial_role``, ``join_step``, ``leave_step`` (-1 if still there), ``leave_reason`` and
  ``entry_path``; dynamic attributes ``role`` (a regular who turned chatter changes colour)
  and ``trust`` (rounded to ``precision`` decimals) as ``[(value, start, end), ...]``;
* **ties** between members, with their spell (from the day both ends were members and the
  tie existed, to the day the first of them left), the static attribute ``formed`` (the day
  the tie entered the graph; 0 for ties that existed before the community) and the dynamic
  attribute ``strength`` (tie weight in [0, 1]).

Days are integers; every interval is inclusive at both ends (a value recorded on day t holds
until the day before it next changed). New ties join the model's graph in weekly batches,
so ``formed`` is the day of the batch that added the tie, at most a week after the reply
that made it; a value is seen at the recorder's resolution (``every`` days).

Examples
--------
>>> import networkx as nx, qunsim as qs
>>> m = qs.CommunityModel(rng=4, **{"community.n_seed": 40, "community.n_prospects": 300})
>>> rec = m.record_graph(every=5)
>>> m.run_for(20)
>>> g = m.graph_history()
>>> g.graph["mode"], all(s <= e for _, d in g.nodes(data=True) for s, e in d["spells"])
('dynamic', True)
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from qunsim.state import ROLE_ORDER, EntryPath, LeaveReason, Status

__all__ = ["GraphRecorder"]


class GraphRecorder:
    """Snapshots of members' role and trust and of ties' strength, every ``every`` days.

    Parameters
    ----------
    every : int
        days between snapshots (>= 1). A snapshot at 1,000 members costs about a millisecond;
        memory grows only with the values that change.
    precision : int
        decimals kept for trust and tie strength (changes smaller than that are not recorded).

    Notes
    -----
    Attach with ``model.record_graph(every)`` (or :meth:`attach`), which snapshots the model
    at once and then at the end of each day whose number is a multiple of ``every``.
    """

    def __init__(self, every: int = 7, precision: int = 2):
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be an integer number of days >= 1, got {every!r}")
        if isinstance(precision, bool) or not isinstance(precision, (int, np.integer)) or precision < 0:
            raise ValueError(f"precision must be an integer >= 0, got {precision!r}")
        self.every = int(every)
        self.precision = int(precision)
        self.model = None
        self.days: list[int] = []
        # member attribute changes: per member, [(value, day), ...] in day order
        self._role: dict[int, list[tuple[int, int]]] = {}
        self._trust: dict[int, list[tuple[float, int]]] = {}
        self._cur_role = np.empty(0, np.int16)
        self._cur_trust = np.empty(0, np.float64)
        # every tie key ever seen (members and prospects) and the day it was first seen
        self._known = np.empty(0, np.int64)
        self._formed = np.empty(0, np.int64)
        # ties between members: key -> first day seen among members; strength changes
        self._tie_start: dict[int, int] = {}
        self._strength: dict[int, list[tuple[float, int]]] = {}
        self._cur_w: dict[int, float] = {}

    # ------------------------------------------------------------------ recording
    def attach(self, model) -> GraphRecorder:
        """Start recording ``model``: take a snapshot now, then every ``every`` days."""
        if self.model is not None:
            raise ValueError("this recorder is already attached to a model")
        self.model = model
        n = model.state.n
        self._cur_role = np.full(n, -1, np.int16)
        self._cur_trust = np.full(n, np.nan)
        self.snapshot()
        model.day_hooks.append(self)
        return self

    def __call__(self, model) -> None:
        """The end-of-day hook: snapshot on days that are multiples of ``every``."""
        if int(model.steps) % self.every == 0:
            self.snapshot()

    def snapshot(self) -> None:
        """Record the model as it is now (its current day)."""
        m = self.model
        st, g = m.state, m.social
        t = int(m.steps)
        if self.days and self.days[-1] == t:
            return
        self.days.append(t)
        act = np.flatnonzero(st.status == Status.ACTIVE)
        role = st.role[act].astype(np.int16)
        trust = np.round(st.trust[act].astype(np.float64), self.precision)
        changed = act[(self._cur_role[act] != role)]
        for i, r in zip(changed.tolist(), st.role[changed].tolist(), strict=True):
            self._role.setdefault(i, []).append((int(r), t))
        self._cur_role[act] = role
        tchanged = act[~(self._cur_trust[act] == trust)]
        tv = np.round(st.trust[tchanged].astype(np.float64), self.precision)
        for i, v in zip(tchanged.tolist(), tv.tolist(), strict=True):
            self._trust.setdefault(i, []).append((float(v), t))
        self._cur_trust[act] = trust

        keys = np.asarray(g.keys, dtype=np.int64)
        new = np.setdiff1d(keys, self._known, assume_unique=True)
        if len(new):
            allk = np.concatenate([self._known, new])
            allf = np.concatenate([self._formed, np.full(len(new), t, np.int64)])
            order = np.argsort(allk, kind="stable")
            self._known, self._formed = allk[order], allf[order]
        n = st.n
        u = keys // n
        v = keys - u * n
        alive = st.status == Status.ACTIVE
        both = alive[u] & alive[v]
        mk = keys[both]
        w = np.round(np.asarray(g.weight, dtype=np.float64)[both], self.precision)
        for k, x in zip(mk.tolist(), w.tolist(), strict=True):
            if k not in self._tie_start:
                self._tie_start[k] = t
            if self._cur_w.get(k) != x:
                self._cur_w[k] = x
                self._strength.setdefault(k, []).append((x, t))

    # ------------------------------------------------------------------ output
    def graph(self) -> nx.Graph:
        """The recorded history as a dynamic ``networkx.Graph`` (``graph["mode"] == "dynamic"``)."""
        if self.model is None:
            raise ValueError("the recorder has not been attached to a model")
        m = self.model
        st = m.state
        last = int(m.steps)
        labels = m._labels
        name = (lambda i: labels[i]) if labels is not None else (lambda i: i)
        G = nx.Graph(mode="dynamic", name=str(m.config.community.name),
                     first_day=self.days[0], last_day=last, every=self.every)
        ends: dict[int, int] = {}
        joined = np.flatnonzero(st.join_step >= 0)
        for i in joined.tolist():
            start = int(st.join_step[i])
            left = int(st.leave_step[i]) if st.status[i] != Status.ACTIVE else -1
            end = max(start, left if left >= 0 else last)
            ends[i] = end
            data = {
                "spells": [(start, end)],
                "initial_role": ROLE_ORDER[st.initial_role[i]],
                "join_step": start,
                "leave_step": left,
                "leave_reason": LeaveReason(st.leave_reason[i]).name.lower(),
                "entry_path": EntryPath(st.entry_path[i]).name.lower(),
            }
            role = _spans(self._role.get(i, []), end)
            if role:
                data["role"] = [(ROLE_ORDER[r], s, e) for r, s, e in role]
            trust = _spans(self._trust.get(i, []), end)
            if trust:
                data["trust"] = trust
            G.add_node(name(i), **data)
        n = st.n
        for k in self._tie_start:
            a, b = divmod(k, n)
            if a not in ends or b not in ends:
                continue
            pos = np.searchsorted(self._known, k)
            formed = int(self._formed[pos])
            start = max(formed, int(st.join_step[a]), int(st.join_step[b]))
            end = min(ends[a], ends[b])
            if end < start:
                continue
            G.add_edge(name(a), name(b), spells=[(start, end)], formed=formed,
                       strength=_spans(self._strength[k], end))
        return G

    def write_gexf(self, path: str | Path) -> Path:
        """Write :meth:`graph` as a dynamic GEXF file (open it in Gephi, then its timeline)."""
        path = Path(path)
        g = self.graph()
        # graph-level data is not part of GEXF; keep mode only
        out = nx.Graph(g)
        out.graph = {"mode": "dynamic"}
        tmp = path.with_name(path.name + ".tmp")
        nx.write_gexf(out, tmp)
        tmp.replace(path)
        return path


def _spans(changes: list[tuple], end: int) -> list[tuple]:
    """``[(value, day), ...]`` -> ``[(value, start, end), ...]`` (inclusive), cut at ``end``."""
    out = []
    for j, (value, start) in enumerate(changes):
        if start > end:
            break
        stop = changes[j + 1][1] - 1 if j + 1 < len(changes) else end
        out.append((value, start, min(stop, end)))
    return out
