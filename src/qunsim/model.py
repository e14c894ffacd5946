"""CommunityModel: a mesa.Model wiring state, graph, policies and kernels into a daily step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
import pandas as pd

from qunsim import kernels as K
from qunsim.agents import Member
from qunsim.config import ROLE_NAMES, Config, ConfigError, load_config
from qunsim.datacollector import TimeseriesCollector
from qunsim.kernels import day as day_kernels
from qunsim.kernels import staged as segments
from qunsim.kernels.context import Messages
from qunsim.kernels.neighbours import (
    age_out,
    chatter_candidates,
    departures_update,
    joins_update,
    recount_neighbours,
    recount_strong,
)
from qunsim.kernels.reading import GroupIndex, ReadResult
from qunsim.kernels.record import Z95
from qunsim.metrics import GRESHAM_MIN_EVENTS, GRESHAM_MIN_EXPOSURE, MetricsCollector
from qunsim.network import bfs_ball, build_graph, from_networkx
from qunsim.policies import build_policies
from qunsim.policies.schedule import _ScheduledMixin
from qunsim.registry import MODEL_REPORTERS  # noqa: F401  (the Mesa reporters: the metric registry's)
from qunsim.state import (
    ROLE_ORDER,
    EntryPath,
    LeaveReason,
    MemberState,
    Role,
    Status,
    Tier,
)

__all__ = ["CommunityModel"]

_UNIT_ATTRS = ("quality", "warmth", "taste", "threshold")
_POS_ATTRS = ("post_rate", "attention", "need", "wtp")
_UNHAPPY = (LeaveReason.DISSATISFIED, LeaveReason.CONTAGION)


_NO_IDS = np.empty(0, np.int64)
_NO_READING = ReadResult(*(np.empty(0) for _ in range(7)))
_NO_MESSAGES = Messages.empty()



def _noop_hooks() -> dict[str, set]:
    from qunsim.policies.base import FAMILIES

    names = ("on_posting", "on_messages", "after_reading", "on_step_end")
    return {name: {vars(base)[name] for base in FAMILIES.values() if name in vars(base)} for name in names}


_NOOP_HOOKS = _noop_hooks()


def _takes_part(pol, name: str) -> bool:
    """False when ``pol``'s hook ``name`` is its family base class's no-op (not overridden
    by its class nor set on the instance)."""
    if name in getattr(pol, "__dict__", ()):
        return True
    return getattr(type(pol), name, None) not in _NOOP_HOOKS[name]


def _dynamic_curates(pol) -> bool:
    """``curates`` is a property or set on the instance (it may change from day to day)."""
    return isinstance(getattr(type(pol), "curates", None), property) or "curates" in getattr(pol, "__dict__", ())


def _is_vector(x, dtype, n: int) -> bool:
    """``x`` is a 1-d numpy array of ``dtype`` and length ``n`` (what a compiled segment takes)."""
    return type(x) is np.ndarray and x.dtype == dtype and x.ndim == 1 and len(x) == n


_MESSAGE_DTYPES = (("author", np.int64), ("group", np.int32), ("quality", np.float32), ("warmth", np.float32),
                   ("spam", np.bool_))


def _standard_messages(msgs) -> bool:
    """The day's messages hold the arrays the reading segment takes (the engine's and the
    built-in policies' dtypes, 1-d, of one length)."""
    if type(msgs) is not Messages:
        return False
    m = len(msgs.author) if type(msgs.author) is np.ndarray else -1
    return all(_is_vector(getattr(msgs, f), dt, m) for f, dt in _MESSAGE_DTYPES)


def draw_dist(mean: float, sd: float, n: int, unit: bool, rng: np.random.Generator) -> np.ndarray:
    """Beta (unit interval) or Gamma (positive) draws with the given mean and sd."""
    if n == 0:
        return np.empty(0, np.float32)
    if sd <= 0 or mean <= 0 or (unit and mean >= 1):
        return np.full(n, mean, dtype=np.float32)
    if unit:
        kappa = mean * (1 - mean) / sd**2 - 1.0
        return rng.beta(mean * kappa, (1 - mean) * kappa, n).astype(np.float32)
    shape = (mean / sd) ** 2
    return rng.gamma(shape, sd**2 / mean, n).astype(np.float32)


# roles whose posting propensity stays 1 (they post at their role's rate)
_NO_PROPENSITY = (Role.OWNER, Role.MODERATOR, Role.SPAMMER, Role.EXPERT, Role.CHATTER)


def _capped_lognormal_mean(sd: float, cap: float) -> float:
    """E[min(X, cap)] for X lognormal with mean 1 and log-sd ``sd`` (``cap`` <= 0: no cap)."""
    if sd <= 0:
        return min(1.0, cap) if cap > 0 else 1.0
    if cap <= 0:
        return 1.0
    from math import erf, log, sqrt

    def phi(z: float) -> float:
        return 0.5 * (1.0 + erf(z / sqrt(2.0)))

    mu = -0.5 * sd * sd
    lc = log(cap)
    return phi((lc - mu - sd * sd) / sd) + cap * (1.0 - phi((lc - mu) / sd))


def _propensity_scale(lurker_share: float, lurker_rate: float, sd: float, cap: float) -> float:
    """The scale ``s`` with ``(1 - L) E[min(s X, cap)] + L s r = 1`` (``X`` lognormal, mean 1).

    Without a cap ``s = 1 / (1 - L + L r)``. With one the left side rises with ``s`` (bisection);
    when even ``s -> inf`` cannot reach 1 (``(1 - L) cap < 1`` and no lurker rate) every
    poster gets the cap and the mean stays below 1.
    """
    L, r = lurker_share, lurker_rate
    base = (1.0 - L) + L * r
    if base <= 0:
        return 1.0
    if cap <= 0:
        return 1.0 / base

    def mean(s: float) -> float:
        return (1.0 - L) * s * _capped_lognormal_mean(sd, cap / s) + L * r * s

    lo, hi = 0.0, 1.0 / base
    while mean(hi) < 1.0 and hi < 1e9:
        lo, hi = hi, hi * 2.0
    if mean(hi) < 1.0:
        return hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if mean(mid) < 1.0 else (lo, mid)
    return 0.5 * (lo + hi)


def draw_propensity(n: int, lurker_share: float, lurker_rate: float, sd: float,
                    rng: np.random.Generator, cap: float = 0.0) -> np.ndarray:
    """Posting propensities with mean 1: a lurker share at ``lurker_rate`` (relative to the
    mean), the rest lognormal with log-sd ``sd``; no propensity exceeds ``cap`` (``cap`` <= 0:
    no cap), so a superuser posts at most ``cap`` times their role's rate.

    The lurkers are drawn first (one uniform each), then the posters' lognormal; all are
    scaled so the expected mean over all ``n`` is 1 with the cap taken into account
    (:func:`_propensity_scale`).

    >>> x = draw_propensity(100_000, 0.6, 0.0, 1.5, np.random.default_rng(0))
    >>> round(float((x == 0).mean()), 2), round(float(x.mean()), 1)
    (0.6, 1.0)
    >>> y = draw_propensity(200_000, 0.8, 0.0, 2.0, np.random.default_rng(1), cap=15.0)
    >>> round(float(y.mean()), 2), float(y.max())
    (1.0, 15.0)
    """
    lurk = rng.random(n) < lurker_share
    x = np.exp(rng.normal(-0.5 * sd * sd, sd, n)) if sd > 0 else np.ones(n)
    scale = _propensity_scale(lurker_share, lurker_rate, sd, cap)
    out = np.where(lurk, lurker_rate, x) * scale
    if cap > 0:
        out = np.minimum(out, cap)
    return out.astype(np.float32)


def _as_member_flag(x: Any, node: Any, source: str) -> bool | None:
    """A node's ``member`` attribute as True/False (None when absent); GraphML and GEXF give
    booleans, numbers or strings."""
    if x is None or (isinstance(x, str) and not x.strip()):
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, float, np.integer, np.floating)) and x in (0, 1):
        return bool(x)
    if isinstance(x, str) and x.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return x.strip().lower() in ("true", "1", "yes")
    raise ConfigError(f"invalid graph ({source}): node {node!r} attribute `member` must be true or "
                      f"false, got {x!r}")


class CommunityModel(mesa.Model):
    """An online community (社群) as a Mesa model over numpy arrays.

    Parameters
    ----------
    config : Config, path to a TOML scenario, dict, or None for the defaults.
    rng : int seed or ``np.random.Generator`` — the model's only randomness source.
    graph : optional ``nx.Graph`` spanning members and prospects (see docs/community_graph.md).
        Node attributes ``role`` (name or :class:`Role`), ``member`` (bool: an initial member)
        and any per-member attribute (``quality``, ``warmth``, ``taste``, ``threshold``,
        ``interest``, ``post_rate``, ``attention``, ``need``, ``wtp``) are used where present;
        the rest is drawn from the config. Edge ``weight`` is the tie strength.
    **overrides : dotted config keys, e.g. ``**{"community.chatter_share": 0.3}``.

    Examples
    --------
    >>> import qunsim as qs
    >>> model = qs.CommunityModel(rng=3, **{"community.n_seed": 50, "community.n_prospects": 500})
    >>> model.run_for(30)
    >>> len(model.agents) == int((model.state.status == qs.Status.ACTIVE).sum())
    True
    >>> model.timeseries()["step"].iloc[-1]
    np.int64(30)
    """

    def __init__(self, config: Config | str | Path | dict | None = None, *, rng: Any = None,
                 graph: nx.Graph | None = None, **overrides: Any):
        """Build the population, the social graph and the policies; record day 0.

        Parameters
        ----------
        config : Config, str, Path, dict or None
            the scenario (a TOML path is loaded and validated); None uses the defaults.
        rng : int, numpy.random.Generator or None
            the model's only randomness source; an int seed is recorded as ``model.seed``.
        graph : networkx.Graph, optional
            the population's social graph (members and prospects) instead of the config's.
        **overrides
            dotted config keys applied after loading, e.g. ``**{"gate.fee": 99}``.

        Raises
        ------
        ConfigError
            the config, an override, the graph or ``rng`` is invalid (one paragraph).
        """
        cfg = load_config(config)
        if overrides:
            cfg = cfg.override(overrides)
        if isinstance(rng, (bool, float)) or (rng is not None and not isinstance(
                rng, (int, np.integer, np.random.Generator, np.random.SeedSequence))):
            raise ConfigError(f"invalid rng: expected an int seed or numpy Generator, got {rng!r}")
        super().__init__(rng=rng)
        self.config = cfg
        self.seed = int(rng) if isinstance(rng, (int, np.integer)) else None
        self.p = cfg.dynamics
        self.metrics = MetricsCollector()
        self._views: dict[int, Member] = {}
        self._gen_cache = None  # (bit generator, its handle for compiled code)
        #: run the day fused in compiled code when no policy takes part (False: always stage by
        #: stage from Python; same trajectory, for debugging)
        self.fused = True
        #: the staged day runs the stages between two hooks as one compiled call each
        #: (qunsim.kernels.staged; False: every stage from Python, the same trajectory)
        self._staged_segments = True
        self._fused_cache = None  # (dynamics, config, the fused day's parameters)
        self._agent_views = bool(cfg.run.agent_views)
        self._unhappy_today: list[np.ndarray] = []
        self._leaves_today = np.zeros(len(LeaveReason), dtype=np.int64)
        self._joins_today = 0
        self._active0 = 0
        self._gone: dict[int, np.ndarray] = {}  # departures still in the contagion window, by step
        self._labels: list | None = None
        self.policies: dict[str, list] = {"gate": [], "activity": [], "monetization": []}
        self._build_population(graph)
        self._recount_neighbours()
        # (dynamics id, strong_tie, contagion_window) of the last recount; None: the first
        # merge recounts (also after loading a checkpoint written before this attribute)
        self._count_basis: tuple | None = None
        # posting propensity differs from 1 only with the participation keys or a graph that sets it
        self._propensity_on = bool(self.p.lurker_share > 0 or self.p.propensity_sd > 0
                                   or self.p.welcome_boost > 0 or self.p.first_post_rate > 0
                                   or self.p.welcome_rate > 0 or self.p.follow_up_rate > 0
                                   or np.any(self.state.propensity != 1))
        self.policies = build_policies(cfg)  # imports user classes (plug-ins), if any
        for fam in self.policies.values():
            for pol in fam:
                pol.setup(self)
        self._yesterday_q = np.zeros(self.n_groups)
        self._yesterday_chat = np.zeros(self.n_groups)
        self.cumulative = {"revenue": 0.0}
        self.day_hooks: list = []  # called with the model at the end of each day (recorders)
        self.datacollector = TimeseriesCollector(self)  # every time-series column, for mesa.batch_run
        self._index_policies()
        self._record(ctx=None, rr=None, readers=None)
        self.datacollector.collect(self)
        self._reset_day_counters()

    def _index_policies(self) -> None:
        """Which policies take part in which hook, in family order. Rebuilt only when the
        policy lists change (checked every day by the policies' identities); a policy takes
        part in a hook unless it keeps its family's no-op (scheduled wrappers override every
        hook, so they always take part). ``curates`` may change from day to day (a scheduled
        curating policy), so ``_curates`` is re-read every day."""
        pol = self.policies
        key = tuple(id(x) for fam in pol.values() for x in fam) + tuple(len(fam) for fam in pol.values())
        idx = getattr(self, "_hook_order", None)
        if idx is None or idx.get(" key") != key:
            act_mon = pol["activity"] + pol["monetization"]
            order = {"on_posting": pol["activity"], "on_messages": act_mon, "after_reading": act_mon,
                     "on_step_end": pol["gate"] + pol["activity"] + pol["monetization"]}
            entries = {name: [(x, getattr(x, name)) for x in lst if _takes_part(x, name)]
                       for name, lst in order.items()}
            entries["gate"] = [(x, x) for x in pol["gate"]]
            entries["boosts"] = [(x, f) for x, f in ((x, getattr(x, "referral_boost", None)) for x in pol["monetization"])
                                 if f is not None]
            idx = {name: [h for _, h in lst] for name, lst in entries.items()}
            # kept with the key: the objects whose ids make it stay alive while it is in use
            idx[" key"], idx[" policies"] = key, [x for fam in pol.values() for x in fam]
            idx[" begin_day"] = [x.begin_day for fam in pol.values() for x in fam if hasattr(x, "begin_day")]
            idx[" curating"] = [x for x in pol["activity"] if x.curates or _dynamic_curates(x)]
            idx[" entries"] = entries
            idx[" scheduled"] = [x for fam in pol.values() for x in fam if isinstance(x, _ScheduledMixin)]
            idx[" today"] = idx  # the hooks taking part today (_stage_open_day)
            self._hook_order = idx
            self._referral_boosts = idx["boosts"]
            self._metric_policies = [x for fam in pol.values() for x in fam
                                     if getattr(x, "metrics", None) is not None]
        self._curates = any(x.curates for x in idx[" curating"])

    def _reset_day_counters(self) -> None:
        # departures made between steps (an operator's remove_members) count in the next row
        self._leaves_today.fill(0)
        self._joins_today = 0
        self._unhappy_today = []

    # ------------------------------------------------------------------ construction
    def _build_population(self, graph: nx.Graph | None) -> None:
        cfg, rng = self.config, self.rng
        com = cfg.community
        user_roles = user_members = None
        self._node_attrs: dict[str, np.ndarray] = {}
        self.graph_info: dict | None = None
        if graph is None and cfg.network.kind in ("file", "edgelist"):
            graph = self._graph_from_config()
        if graph is not None:
            g, labels, user_roles, user_members = self._user_graph(graph)
        else:
            g = build_graph(cfg.network, com.n_seed + com.n_prospects, rng)
        n = g.n
        if n == 0:
            raise ConfigError(f"invalid config ({cfg.source}): the population is empty")
        st = MemberState.empty(n)
        self.state, self.social = st, g
        self.leader = np.full(n, -1, dtype=np.int32)

        # roles
        role = self._draw_roles(n, user_roles)
        # initial members
        if user_members is not None and any(m is not None for m in user_members):
            seeds = np.flatnonzero(np.array([m is True for m in user_members]))
            if len(seeds) == 0:
                raise ConfigError("invalid graph: node attribute `member` marks no initial member")
        else:
            n_seed = min(com.n_seed, n)
            owners = np.flatnonzero(role == Role.OWNER)
            root = int(owners[0]) if len(owners) else int(rng.integers(n))
            seeds = bfs_ball(g, root, n_seed, rng)
        # owners / leaders live among the seeds
        if user_roles is None or all(r is None for r in user_roles):
            role[role == Role.OWNER] = Role.REGULAR
            n_lead = 1 if com.structure == "pyramid" else min(com.n_leaders, len(seeds))
            leaders = seeds[:1] if n_lead == 1 else np.concatenate(
                [seeds[:1], rng.choice(seeds[1:], n_lead - 1, replace=False)]) if len(seeds) > 1 else seeds[:1]
            role[leaders] = Role.OWNER
            others = np.setdiff1d(seeds, leaders)
            n_mod = min(com.moderators, len(others))
            if n_mod:
                role[rng.choice(others, n_mod, replace=False)] = Role.MODERATOR
        st.role[:] = role
        st.initial_role[:] = role
        self._draw_attributes()
        self._draw_propensity(seeds)
        st.interest[:] = draw_dist(0.5, 0.2, n, True, rng)
        # seed users (种子用户) are invited for their interest in the topic
        st.interest[seeds] = draw_dist(0.75, 0.12, len(seeds), True, rng)
        self._apply_node_attributes()
        self.leaders = np.flatnonzero(st.role == Role.OWNER)
        self.n_groups = max(com.n_groups, int(np.ceil(len(seeds) / com.group_cap)))
        self._join(seeds, EntryPath.SEED, seed_round=True)
        if self.p.founder_commitment > 0:  # invited personally by the owner (Kraut & Resnick 2012)
            st.commitment[seeds] += np.float32(self.p.founder_commitment)

    def _draw_roles(self, n: int, user_roles) -> np.ndarray:
        com = self.config.community
        rng = self.rng
        if user_roles is not None and all(r is not None for r in user_roles):
            return self._given_roles(user_roles, np.empty(n, dtype=np.int8))
        comp = com.composition
        core = 1.0 - com.chatter_share - com.spammer_share
        tot = comp.expert + comp.contributor + comp.regular
        probs = np.array([0.0, core * comp.expert / tot, core * comp.contributor / tot,
                          core * comp.regular / tot, com.chatter_share, com.spammer_share, 0.0])
        probs = probs / probs.sum()
        drawn = rng.choice(len(Role), size=n, p=probs).astype(np.int8)
        if user_roles is not None and any(r is not None for r in user_roles):
            # some nodes name their role: those keep it, the others are drawn
            drawn = self._given_roles(user_roles, drawn)
        return drawn

    # ------------------------------------------------------------------ a user's graph
    def _graph_from_config(self) -> nx.Graph:
        """``network.kind = "file"`` (or ``"edgelist"``): the graph file named by ``network.path``."""
        from qunsim.network import read_graph

        cfg = self.config
        if not cfg.network.path:
            raise ConfigError(f"invalid config ({cfg.source}): `network.path` is required when "
                              f"`network.kind` = {cfg.network.kind!r}")
        g = read_graph(cfg.network.path)
        g.graph["qunsim_source"] = str(cfg.network.path)
        return g

    def _user_graph(self, graph: nx.Graph):
        """Convert a user's graph; validate and keep its node attributes (set after drawing)."""
        from qunsim.network import graph_fingerprint, node_attributes

        if not isinstance(graph, nx.Graph):
            raise ConfigError(f"invalid graph: expected a networkx.Graph, got {type(graph).__name__}")
        source = str(graph.graph.get("qunsim_source", "graph"))
        g, labels = from_networkx(graph, self.config.network.initial_tie, source=source)
        self._labels = labels
        self._graph_source = source
        self._node_attrs = node_attributes(graph, labels, source)
        user_roles = [graph.nodes[v].get("role") for v in labels]
        user_members = [_as_member_flag(graph.nodes[v].get("member"), v, source) for v in labels]
        self.graph_info = {"source": source, **graph_fingerprint(graph)}
        return g, labels, user_roles, user_members

    def _given_roles(self, user_roles: list, out: np.ndarray) -> np.ndarray:
        src = getattr(self, "_graph_source", "graph")
        for i, r in enumerate(user_roles):
            if r is None or (isinstance(r, str) and not r.strip()):
                continue
            try:
                out[i] = Role[r.strip().upper()] if isinstance(r, str) else Role(int(r))
            except (KeyError, ValueError, TypeError):
                node = self._labels[i] if self._labels is not None else i
                raise ConfigError(f"invalid graph ({src}): node {node!r} role {r!r} is not one of "
                                  f"{list(ROLE_NAMES)}") from None
        return out

    def _apply_node_attributes(self) -> None:
        """Per-member attributes the user's graph sets (NaN = not set: keep the drawn value)."""
        st = self.state
        for name, vals in self._node_attrs.items():
            given = ~np.isnan(vals)
            arr = getattr(st, name, None)
            if arr is not None:
                arr[given] = vals[given].astype(arr.dtype)

    def _draw_attributes(self, ids: np.ndarray | None = None) -> None:
        st, rng = self.state, self.rng
        role = st.role if ids is None else st.role[ids]
        base = np.arange(st.n) if ids is None else ids
        for r in Role:
            sel = base[role == r]
            if not len(sel):
                continue
            rp = self.config.roles[r.name.lower()]
            for attr in _UNIT_ATTRS + _POS_ATTRS:
                d = rp[attr] if isinstance(rp, dict) else getattr(rp, attr)
                mean, sd = (d["mean"], d["sd"]) if isinstance(d, dict) else (d.mean, d.sd)
                getattr(st, attr)[sel] = draw_dist(mean, sd, len(sel), attr in _UNIT_ATTRS, rng)

    # ------------------------------------------------------------------ participation
    def _draw_propensity(self, seeds: np.ndarray) -> None:
        """Posting propensity (a multiplier on ``post_rate``), heavy-tailed within roles.

        A share ``lurker_share`` of the members who can lurk (contributors and regulars:
        not the owner, moderators, spammers, experts or chatters; not the seed members either
        unless ``seed_members_lurk``) are lurkers with propensity ``lurker_rate``; the others draw
        a lognormal with log-sd ``propensity_sd``. Both are scaled so that the mean propensity
        over these members is 1: the expected volume of content stays what the role rates
        say, only who writes it changes. With both knobs at 0 nothing is drawn (all 1).

        The seed members, whom the owner invited to found the community, do not lurk: with a
        lurker majority among them a community's launch would turn on whether one of its fifty
        founders happens to be a superuser. With ``founder_floor`` = 1 they post at their role's
        rate; below 1 each founder's propensity is ``founder_floor + (1 - founder_floor) * y``,
        ``y`` a lognormal with the posters' log-sd and cap and mean 1 (no lurkers), drawn after
        the members' (so the members' draws do not change with it): every founder posts at least
        the floor, a few are superusers, and their mean is still 1.

        With ``chatter_propensity_sd`` > 0 the chatters (灌水), who never lurk, draw a lognormal
        with that log-sd, capped at ``propensity_max`` and of mean 1, after everyone else's
        draws: their volume is what their role says, but a few of them write most of it. The
        founding chatters follow the founders' rule (unless ``seed_members_lurk``): at
        ``founder_floor`` 1 they chat at their role's rate, below it at least the floor, the rest
        from the chatters' tail. A knowledge community founds with two or three chatters, and
        with the tail among them its launch would turn on their draws: the sum of three
        lognormals of mean 1 and log-sd 1 is below 3 nearly two times in three.
        """
        p, st, rng = self.p, self.state, self.rng
        if p.lurker_share <= 0 and p.propensity_sd <= 0 and p.chatter_propensity_sd <= 0:
            return
        founding = np.zeros(len(st.role), bool)  # the founders, unless they lurk like anyone
        if not p.seed_members_lurk:
            founding[seeds] = True

        def at_floor(ids: np.ndarray, sd: float) -> None:
            # the founders do not lurk, but some of them are the superusers: each posts at least
            # founder_floor x their role's rate, and the rest of their volume (mean 1 - floor) is
            # drawn heavy-tailed, so the founders' expected volume is what their roles say
            if len(ids) and p.founder_floor < 1:
                y = draw_propensity(len(ids), 0.0, 0.0, sd, rng, p.propensity_max)
                st.propensity[ids] = (p.founder_floor + (1 - p.founder_floor) * y).astype(np.float32)

        # experts (大咖) answer at their role's rate (its Gamma sd is their heterogeneity: a
        # lurking expert would leave a small community without answers) and chatters (灌水)
        # are by definition those who post a lot: neither lurks
        can = np.flatnonzero(~np.isin(st.role, _NO_PROPENSITY) & ~founding)
        if len(can) and (p.lurker_share > 0 or p.propensity_sd > 0):
            x = draw_propensity(len(can), p.lurker_share, p.lurker_rate, p.propensity_sd, rng, p.propensity_max)
            st.propensity[can] = x
        if not p.seed_members_lurk:
            at_floor(np.asarray(seeds)[~np.isin(st.role[seeds], _NO_PROPENSITY)], p.propensity_sd)
        if p.chatter_propensity_sd > 0:
            chat = st.role == Role.CHATTER
            c = np.flatnonzero(chat & ~founding)
            st.propensity[c] = draw_propensity(len(c), 0.0, 0.0, p.chatter_propensity_sd, rng, p.propensity_max)
            at_floor(np.flatnonzero(chat & founding), p.chatter_propensity_sd)

    def _participation_rate(self, ids: np.ndarray) -> np.ndarray:
        """Today's base posting rates (population-wide): ``post_rate * propensity``; a
        newcomer who has not posted yet, in their first ``newcomer_days`` (not a seed member),
        posts at least ``first_post_rate`` a day: their first question or introduction, which even
        a lurker makes now and then (Joyce & Kraut 2006's newcomers all posted once); and one whose
        first post got a reply posts at least ``welcome_rate`` a day until they post again, for
        ``newcomer_days`` after it: the reply invites an answer back; and with ``follow_up_rate``
        one who has posted once posts at least that a day until they post again, for the same
        days, reply or not: they follow up on their question.
        :func:`~qunsim.kernels.day.participation_rate` computes it; the fused day calls it too."""
        st, p = self.state, self.p
        return day_kernels.participation_rate(ids, st.post_rate, st.propensity, st.first_post_step, st.entry_path,
                                              st.join_step, self.steps, int(p.newcomer_days),
                                              float(p.first_post_rate), st.first_replied, st.return_step,
                                              float(p.welcome_rate), float(p.follow_up_rate))

    def _newcomer_feedback(self, posters: np.ndarray, replies: np.ndarray, t: int) -> None:
        """Record first posts and returns; a reply on one's first posting day is a welcome:
        propensity *= 1 + ``welcome_boost`` and commitment += ``welcome_commitment``
        (Joyce & Kraut 2006: newcomers whose first post got a reply came back more often)."""
        st, p = self.state, self.p
        if not len(posters):
            return
        fp = st.first_post_step[posters]
        first = posters[fp < 0]
        again = posters[(fp >= 0) & (fp < t)]
        again = again[st.return_step[again] < 0]
        st.return_step[again] = t
        st.first_post_step[first] = t
        welcomed = first[replies[first] > 0]
        st.first_replied[welcomed] = True
        if p.welcome_boost > 0:
            st.propensity[welcomed] *= np.float32(1.0 + p.welcome_boost)
        if p.welcome_commitment > 0:
            st.commitment[welcomed] += np.float32(p.welcome_commitment)

    # ------------------------------------------------------------------ membership
    def _assign_groups(self, ids: np.ndarray) -> None:
        st, cap = self.state, self.config.community.group_cap
        counts = np.bincount(st.group[st.status == Status.ACTIVE], minlength=self.n_groups)
        room = np.maximum(cap - counts, 0)
        # newcomers go to groups that have members; empty groups (e.g. emptied by a merge)
        # are used only when the others are full
        in_use = room * (counts > 0)
        if in_use.sum() >= len(ids):
            room = in_use
        need = len(ids) - int(room.sum())
        if need > 0:
            extra = int(np.ceil(need / cap))
            self.n_groups += extra
            room = np.concatenate([room, np.full(extra, cap)])
            self._yesterday_q = np.concatenate([self._yesterday_q, np.zeros(extra)])
            self._yesterday_chat = np.concatenate([self._yesterday_chat, np.zeros(extra)])
        slots = np.repeat(np.arange(len(room)), room)
        st.group[ids] = self.rng.choice(slots, len(ids), replace=False) if len(slots) > len(ids) else slots[:len(ids)]

    def set_groups(self, ids: np.ndarray, groups: np.ndarray) -> None:
        """Move members ``ids`` to ``groups`` (indices may exceed today's count: new groups open).

        For policies that split, merge or rebalance groups.

        Parameters
        ----------
        ids : array of int
            population indices of the members to move.
        groups : array of int
            their new groups (>= 0), one per member.

        Raises
        ------
        ValueError
            a group index is negative.
        """
        ids = np.asarray(ids, dtype=np.int64)
        groups = np.asarray(groups, dtype=np.int32)
        if len(groups) and groups.min() < 0:
            raise ValueError("group indices must be >= 0")
        new_n = max(self.n_groups, int(groups.max()) + 1 if len(groups) else 0)
        if new_n > self.n_groups:
            extra = new_n - self.n_groups
            self._yesterday_q = np.concatenate([self._yesterday_q, np.zeros(extra)])
            self._yesterday_chat = np.concatenate([self._yesterday_chat, np.zeros(extra)])
            self.n_groups = new_n
        self.state.group[ids] = groups

    def group_sizes(self) -> np.ndarray:
        """Active members per group.

        Returns
        -------
        numpy.ndarray
            int64[n_groups]: the number of active members of each group.
        """
        st = self.state
        return np.bincount(st.group[st.status == Status.ACTIVE], minlength=self.n_groups)

    def _join(self, ids: np.ndarray, path: EntryPath | np.ndarray, seed_round: bool = False) -> None:
        if len(ids) == 0:
            return
        st, t = self.state, self.steps
        ids = np.asarray(ids, dtype=np.int64)
        self._assign_groups(ids)
        st.status[ids] = Status.ACTIVE
        st.join_step[ids] = t
        st.entry_path[ids] = path
        st.satisfaction[ids] = 0.0
        # a tie to a leader (soul figure / ring leader)
        com = self.config.community
        live = self.leaders[st.status[self.leaders] == Status.ACTIVE]
        cand = ids[st.role[ids] != Role.OWNER]
        if len(live) and len(cand) and com.leader_tie_share > 0:
            tied = cand[self.rng.random(len(cand)) < com.leader_tie_share]
            if com.structure == "pyramid":
                lead = np.full(len(tied), live[0])
            else:
                lead = live[self.rng.integers(0, len(live), len(tied))]
            self.leader[tied] = lead
            st.leader_tie[tied] = True
            self.social.add_ties(tied, lead, self.config.dynamics.strong_tie)
            if seed_round:
                self.social.merge_pending()  # neighbour counts are recounted after construction
        joins_update(ids, self.social.indptr, self.social.indices, self.social.keys, self.social.rowptr,
                     self.social.weight, st.status, np.float32(self.p.strong_tie), st.member_neighbors,
                     st.strong_ties)
        if self._agent_views:
            for i in ids.tolist():
                self._views[i] = Member(self, i)
        self._joins_today += len(ids)

    def remove_members(self, ids, reason: LeaveReason | str = LeaveReason.FORCED) -> None:
        """Remove active members now (operator-forced departures by default).

        Leaving is irreversible. Members tied to a departing leader lose trust
        (``dynamics.leader_loss``). Departures made between steps count in the next day's row.

        Parameters
        ----------
        ids : array of int
            population indices; those not active are ignored.
        reason : LeaveReason or str
            why they leave: a :class:`LeaveReason` or its name ("forced", "banned", ...).

        Raises
        ------
        ValueError
            an unknown reason, or an index outside the population.
        """
        if isinstance(reason, str):
            try:
                reason = LeaveReason[reason.upper()]
            except KeyError:
                raise ValueError(f"unknown leave reason {reason!r}; expected one of "
                                 f"{[r.name.lower() for r in LeaveReason if r]}") from None
        if len(ids) == 0:
            return
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        if len(ids) and (ids.min() < 0 or ids.max() >= self.state.n):
            raise ValueError(f"member ids must be in [0, {self.state.n}), got {ids.min()}..{ids.max()}")
        st = self.state
        ids = ids[st.status[ids] == Status.ACTIVE]
        if not len(ids):
            return
        st.status[ids] = Status.BANNED if reason == LeaveReason.BANNED else Status.LEFT
        st.leave_step[ids] = self.steps
        st.leave_reason[ids] = reason
        self._leaves_today[reason] += len(ids)
        g = self.social
        departures_update(ids, g.indptr, g.indices, g.keys, g.rowptr, g.weight, st.status,
                          np.float32(self.p.strong_tie), st.left_neighbors, st.strong_ties)
        t = int(self.steps)
        self._gone[t] = np.concatenate([self._gone[t], ids]) if t in self._gone else ids
        lead_gone = ids[st.role[ids] == Role.OWNER]
        if len(lead_gone):
            orphans = np.flatnonzero(np.isin(self.leader, lead_gone))
            st.trust_s[orphans] += self.config.dynamics.leader_loss
            st.leader_tie[orphans] = False
            self.leader[orphans] = -1
        if reason in _UNHAPPY:
            self._unhappy_today.append(ids)
        for i in ids.tolist():
            v = self._views.pop(i, None)
            if v is not None:
                v.remove()

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """Simulate one day: the stages below in order (docs/model.md describes each).

        The day's metrics row is appended to the time series (``timeseries()``) and to
        ``datacollector``; ``running`` turns False when no member is left. Use ``run_for(n)``
        to simulate ``n`` days.

        Policy hooks run between stages: ``admit``/``on_join`` (gates, in arrivals),
        ``on_posting``, ``on_messages``, ``after_reading``, ``on_step_end``. When no policy
        takes part, the same stage kernels run fused in compiled code
        (:mod:`qunsim.kernels.day`): same draws, same trajectory.
        """
        pol = self.policies
        if self.fused and len(pol) == 3:
            if not (pol["gate"] or pol["activity"] or pol["monetization"]):
                self._fused_day()
                return
            if self._every_policy_off_today():
                self._fused_day_policies_off()
                return
        self._staged_day()

    def _every_policy_off_today(self) -> bool:
        """Every policy is a built-in one on a schedule that is off today (decided now, as the
        staged day's ``begin_day`` would: deciding twice is the same). Such a day has no hook to
        call: it is the day without policies, plus the policies' metrics."""
        self._index_policies()
        idx = self._hook_order
        if len(idx[" scheduled"]) != len(idx[" policies"]) or not all(
                x._base.__module__.startswith("qunsim.policies.") for x in idx[" scheduled"]):
            return False
        for begin_day in idx[" begin_day"]:
            begin_day(self)
        return not any(x.schedule.active for x in idx[" scheduled"])

    def _fused_day_policies_off(self) -> None:
        """The fused day, when every policy is off today (:meth:`_every_policy_off_today`);
        the policies' metrics (they only say they are off: nothing of theirs ran) are set on
        today's row first. ``model.ctx`` then holds the day's step only."""
        ctx = K.StepContext(step=self.steps, n=0, n_groups=0)
        extras: dict = {}
        for pol in self._metric_policies:
            extras.update(pol.metrics(self, ctx))
        mc = self.metrics
        mc.reserve()
        if extras:
            mc.set_extras(mc.n, extras)
        self._curates = False
        self._fused_day()
        self.ctx = ctx

    def _staged_day(self) -> None:
        """The day stage by stage, with the policies' hooks between the stages.

        The stages between two hooks run as one compiled call each
        (:mod:`qunsim.kernels.staged`: posting, reading-replies-ties, trust-churn-conversion,
        bookkeeping-word of mouth) unless ``_staged_segments`` is False or a hook left data
        the compiled call does not take (then the stage methods below run from Python; the
        trajectory is the same either way)."""
        ctx = self._stage_open_day()
        ids = self._stage_arrivals(ctx)
        if len(ids) == 0:
            self._stage_close_day(ctx, None, ids)
            return
        self._stage_posting(ctx, ids)
        self._stage_policies_on_messages(ctx)
        rr = self._stage_reading_replies_ties(ctx, ids)
        self._hooks("after_reading", ctx)
        if not self._segment_churn(ctx, ids, rr):
            self._stage_trust_satisfaction_churn(ctx, ids, rr)
            self._stage_chatter_conversion(ids)
        self._hooks("on_step_end", ctx)
        told = self._segment_bookkeeping(ctx, ids)
        if not told:
            self._stage_bookkeeping(ctx, ids)
        self._stage_close_day(ctx, rr, ids, word_of_mouth=not told)

    # ------------------------------------------------------------------ compiled segments
    def _segment_constants(self) -> np.ndarray:
        """The churn segment's parameter vector (:func:`~qunsim.kernels.staged.churn_segment`),
        read again only when ``model.p`` or ``model.config`` is replaced (kept with the hook
        index, which checkpoints rebuild)."""
        idx = self._hook_order
        cache = idx.get(" segment_constants")
        if cache is not None and cache[0] is self.p and cache[1] is self.config:
            return cache[2]
        p, ch = self.p, self.config.roles["chatter"]
        P = np.array([p.recognition, p.habituation, p.spam_distrust, p.trust_memory, p.satisfaction_memory,
                      p.commit_sunk, p.commit_tier, p.commit_ties, p.commit_identity, p.hazard_base, p.hazard_max,
                      p.hazard_slope, p.hazard_midpoint, p.grace_days, 1.0 if p.contagion else 0.0, p.strong_tie,
                      p.leader_loss, p.chatter_conversion, np.float32(ch.post_rate.mean),
                      np.float32(ch.quality.mean), np.float32(ch.warmth.mean), 0, 0, 0, 0, 0], dtype=np.float64)
        idx[" segment_constants"] = (self.p, self.config, P)
        return P

    def _segments_on(self) -> bool:
        return self._staged_segments and type(self).remove_members is CommunityModel.remove_members

    def _segment_churn(self, ctx: K.StepContext, ids: np.ndarray, rr) -> bool:
        """Stages *trust, satisfaction and churn* and *chatter conversion* in one compiled call
        (:func:`~qunsim.kernels.staged.churn_segment`); False when they must run from Python."""
        received = ctx.extra.get("received")
        if not self._segments_on() or not _is_vector(received, np.int64, self.state.n):
            return False
        st, p, t, g = self.state, self.p, int(self.steps), self.social
        if p.contagion:
            self._age_departures()
        conta, diss = segments.churn_segment(
            self._generator_handle(), ids, t, rr.utility, rr.spam, received, ctx.utility, ctx.pos, ctx.neg,
            st.status, st.role, st.join_step, st.leave_step, st.leave_reason, self._leaves_today, st.need,
            st.trust_r, st.trust_s, st.satisfaction, st.utility, st.spend, st.tier, st.strong_ties, st.leader_tie,
            st.commitment, st.threshold, st.left_neighbors, st.member_neighbors, self.leader, st.taste,
            st.post_rate, st.quality, st.warmth, st.propensity, self._propensity_on, g.indptr, g.indices, g.keys,
            g.rowptr, g.weight, self._segment_constants())
        views = self._views
        for gone in (conta, diss):  # what remove_members records besides the arrays
            if not len(gone):
                continue
            self._gone[t] = np.concatenate([self._gone[t], gone]) if t in self._gone else gone
            self._unhappy_today.append(gone)
            for i in gone.tolist():
                v = views.pop(i, None)
                if v is not None:
                    v.remove()
        return True

    def _segment_bookkeeping(self, ctx: K.StepContext, ids: np.ndarray) -> bool:
        """Stage *bookkeeping* and word of mouth in one compiled call
        (:func:`~qunsim.kernels.staged.bookkeeping_segment`); False when they must run from
        Python."""
        n = self.state.n
        received = ctx.extra.get("received")
        if (not self._segments_on() or not _is_vector(ctx.post_counts, np.int64, n)
                or not _is_vector(received, np.int64, n)):
            return False
        st, p, g = self.state, self.p, self.social
        unhappy = np.concatenate(self._unhappy_today) if self._unhappy_today else _NO_IDS
        segments.bookkeeping_segment(
            self._generator_handle(), ids, ctx.post_counts, received, int(self.steps), st.first_post_step,
            st.return_step, st.first_replied, st.propensity, st.commitment, float(p.welcome_boost),
            float(p.welcome_commitment), st.posts, st.posts_yesterday,
            st.replies_yesterday, st.last_post, st.heard, np.asarray(unhappy, np.int64), g.indptr, g.indices,
            float(p.wom_reach))
        return True

    def _generator_handle(self):
        """The model generator's handle for compiled code (:func:`~qunsim.kernels.day.generator_handle`)."""
        bg = self.rng.bit_generator
        cache = self._gen_cache
        if cache is None or cache[0] is not bg:
            cache = self._gen_cache = (bg, day_kernels.generator_handle(self.rng))
        return cache[1]

    def _fused_day(self) -> None:
        """The day when no policy takes part: the stage kernels fused in compiled calls
        (:mod:`qunsim.kernels.day`), Python only where numpy must compute (joining
        decisions, new ties' strengths) or Mesa is involved (agent views)."""
        st, p, g, t = self.state, self.p, self.social, self.steps
        self.ctx = None
        mc = self.metrics
        self._active0 = int(mc.data[mc.n - 1, 1]) if mc.n else 0  # active at the end of yesterday
        h = self._generator_handle()
        c_members, (wom_memory, referral_trust, referral_rate), c_join, tie_w = self._fused_constants()
        cand, is_ref, inv, ex = day_kernels.arrival_candidates(
            h, st.heard, wom_memory, st.status, st.role, st.trust_r, st.trust_s, referral_trust,
            float(self._inflow_rate(t)), referral_rate, g.indptr, g.indices, float(p.wom_weight))
        self._last_referrals = (_NO_IDS, _NO_IDS)
        if len(cand):
            self._fused_join(h, cand, is_ref, inv, c_join, ex)
        if p.contagion and self._gone and 0 < p.contagion_window and min(self._gone) <= t - p.contagion_window:
            self._age_departures()  # (only on days some departure leaves the window)
        unhappy = np.concatenate(self._unhappy_today) if self._unhappy_today else _NO_IDS
        if mc.n >= len(mc.data) or mc.gn >= len(mc.gresham):
            mc.reserve()
        recorded, reading, msgs, ties, strength, departed, n_conta, n_unpriced = day_kernels.members_day_packed(
            h, t, self.n_groups, self._yesterday_q, self._yesterday_chat, unhappy, self._leaves_today,
            st.status, st.role, st.initial_role, st.group, st.join_step, st.entry_path, st.leave_step,
            st.leave_reason, st.quality, st.warmth, st.post_rate, st.propensity, self._propensity_on,
            st.attention, st.taste, st.interest, st.need, st.threshold, st.trust_r, st.trust_s, st.satisfaction,
            st.utility, st.spend, st.tier, st.commitment, st.heard, st.posts, st.posts_yesterday,
            st.replies_yesterday, st.last_post, st.leader_tie, st.strong_ties, st.left_neighbors,
            st.member_neighbors, st.first_post_step, st.first_replied, st.return_step, self.leader,
            g.indptr, g.indices, g.keys, g.rowptr, g.weight, c_members, mc.data, mc.n, mc.gresham, mc.gn,
            self._joins_today, self._active0, float(self.cumulative.get("revenue", 0.0)), mc.window, g.pending,
            g.n_edges, tie_w)
        if ties.shape[1]:  # queued; their strength by numpy's power (as the staged day)
            g._pending_keys.append(ties[0])
            if n_unpriced:  # counts beyond the table: (1 - inc) ** count, then 1 - that
                far = np.flatnonzero(np.isnan(strength))
                w = np.power(1.0 - float(p.tie_increment), ties[1][far])
                strength[far] = np.subtract(1.0, w, out=w).astype(np.float32)
            g._pending_w.append(strength)
            g._pending_n += ties.shape[1]
        if len(departed):
            for gone in (departed[:n_conta], departed[n_conta:]):
                if len(gone):
                    self._gone[t] = np.concatenate([self._gone[t], gone]) if t in self._gone else gone
            views = self._views
            for i in departed.tolist():
                v = views.pop(i, None)
                if v is not None:
                    v.remove()
        if recorded:  # the row is written: the counters the staged record keeps
            self.cumulative["revenue"] = self.cumulative.get("revenue", 0.0) + 0.0
            mc.gn += 1
            mc.n += 1
        else:  # ties are merged first (weekly, or when many wait), then the row
            self._fused_merge()
            ids = reading[0].astype(np.int64)
            self._record_row(False, msgs[0], msgs[1].astype(np.int32), msgs[2].astype(bool), ids,
                             *(np.ascontiguousarray(reading[x]) for x in range(1, 6)), 0, 0.0, 0.0, None)
        self.datacollector.collect(self)
        for hook in self.day_hooks:
            hook(self)
        self._reset_day_counters()
        if mc.data[mc.n - 1, 1] == 0:
            self.running = False

    def _fused_join(self, h, cand: np.ndarray, is_ref: np.ndarray, inv: np.ndarray, consts: tuple,
                    ex: np.ndarray) -> None:
        """Today's candidates decide and join (:func:`~qunsim.kernels.day.join_day`); their
        chance as the staged day computes it (numpy's ``exp`` of the word-of-mouth exponent
        ``ex``, the rest in compiled float32), their Mesa agent views here."""
        st, p = self.state, self.p
        if (type(p.accept) is float and type(p.wom_weight) is float and st.interest.dtype == np.float32
                and st.heard.dtype == np.float32):  # the chance made in join_day from exp(ex)
            pa, from_exp = np.exp(ex, out=ex), True
        else:  # (other operand types promote differently: numpy's own formula)
            pa, from_exp = day_kernels.accept_chance(st.interest, st.heard, cand, is_ref, p.accept, p.wom_weight), False
        g = self.social
        ids, ref_ids, ref_inv, n_groups, tie_keys = day_kernels.join_day(
            h, cand, is_ref, inv, pa, from_exp, st.interest, float(p.accept), self.steps, st.status, st.group,
            st.join_step, st.entry_path, st.satisfaction, st.role, self.leaders, self.leader, st.leader_tie,
            self.n_groups, consts[0], consts[1], consts[2], g.indptr, g.indices, g.keys, g.rowptr, g.weight,
            consts[3], st.member_neighbors, st.strong_ties)
        self._joined(ids, n_groups, tie_keys)
        self._last_referrals = (ref_ids, ref_inv)

    def _segment_join(self, ids: np.ndarray, is_ref: np.ndarray) -> None:
        """:meth:`_join` of the admitted candidates in one compiled call
        (:func:`~qunsim.kernels.staged.join_segment`); their Mesa agent views here."""
        if len(ids) == 0:
            return
        st, g = self.state, self.social
        cap, share, pyramid, strong = self._fused_constants()[2]
        n_groups, tie_keys = segments.join_segment(
            self._generator_handle(), np.asarray(ids, np.int64), np.asarray(is_ref, np.bool_), self.steps, st.status,
            st.group, st.join_step, st.entry_path, st.satisfaction, st.role, self.leaders, self.leader, st.leader_tie,
            self.n_groups, cap, share, pyramid, g.indptr, g.indices, g.keys, g.rowptr, g.weight, strong,
            st.member_neighbors, st.strong_ties)
        self._joined(ids, n_groups, tie_keys)

    def _joined(self, ids: np.ndarray, n_groups: int, tie_keys: np.ndarray) -> None:
        """After a compiled joining: the groups it opened, the leader ties it made (queued as
        ``SocialGraph.add_ties`` would), the joiners' Mesa agent views, the day's join count."""
        g = self.social
        if n_groups > self.n_groups:
            extra = n_groups - self.n_groups
            self.n_groups = n_groups
            self._yesterday_q = np.concatenate([self._yesterday_q, np.zeros(extra)])
            self._yesterday_chat = np.concatenate([self._yesterday_chat, np.zeros(extra)])
        if len(tie_keys):
            g._pending_keys.append(tie_keys)
            g._pending_w.append(np.full(len(tie_keys), self.p.strong_tie, dtype=np.float32))
            g._pending_n += len(tie_keys)
        if self._agent_views:
            views = self._views
            for i in ids.tolist():
                views[i] = Member(self, i)
        self._joins_today += len(ids)

    def _fused_merge(self) -> None:
        """:meth:`_merge_ties` (the fused day's: the same call)."""
        self._merge_and_count()

    def _merge_and_count(self) -> None:
        """Merge the queued ties in one compiled call (:func:`~qunsim.kernels.day.merge_and_update`:
        the merge, the key row offsets, and the neighbour and strong-tie counts updated over the
        merged ties only, or recounted over all ties when an update could differ from a recount).

        The update equals a recount when the counts on entry equal a recount of the graph as it
        is: the model keeps them so on every join, departure, reply and tie decay, and ages
        departures out of the contagion window here (with contagion off nothing else does);
        ``_count_basis`` records the dynamics (object and thresholds) of the last recount, and
        any change since (a branch's new ``dynamics``) recounts. Code that writes ``status``,
        ``join_step``, ``leave_step`` or tie weights directly must call
        ``_recount_neighbours()`` after it."""
        g, st, p = self.social, self.state, self.p
        if not g.pending:
            return
        w = p.contagion_window
        if w > 0:
            self._age_departures()  # exactly the departures the recount would no longer count
        strong = np.float32(p.strong_tie)
        basis = (id(p), float(strong), int(w))
        pk, pw = np.concatenate(g._pending_keys), np.concatenate(g._pending_w)
        g._pending_keys, g._pending_w, g._pending_n = [], [], 0
        g.keys, g.weight, g.indptr, g.indices, g.rowptr, _, _ = day_kernels.merge_and_update(
            g.keys, g.weight, g.indptr, g.indices, g.rowptr, pk, pw, np.int64(g.n), st.status, st.join_step,
            st.leave_step, self.steps, w, st.left_neighbors, st.member_neighbors, strong, st.strong_ties,
            self._count_basis == basis)
        self._count_basis = basis

    def _inflow_rate(self, t: int) -> float:
        """Expected people reached by content/ads on day ``t`` (ramp up, then halving), less
        those who land on low-quality content and leave (``content_bounce``: times
        ``1 - content_bounce x`` the low-quality share of the days recorded so far, each
        weighted by ``content_memory ** age``; :func:`~qunsim.kernels.content_low_quality`)."""
        p = self.p
        ramp = min(1.0, t / p.inflow_ramp) if p.inflow_ramp > 0 else 1.0
        rate = p.inflow * ramp * 0.5 ** ((t - 1) / p.inflow_halflife)
        if p.content_bounce > 0 and rate > 0:
            rate *= 1.0 - p.content_bounce * self.content_low_quality()
        return rate

    def content_low_quality(self) -> float:
        """The low-quality share of the content a content-channel visitor lands on today: the
        recorded days' messages weighted by ``dynamics.content_memory ** age`` (yesterday's
        at age 0), and of them the share by chatters or spam (0 before any message)."""
        mc = self.metrics
        if mc.n == 0:
            return 0.0
        rows = mc.data[:mc.n]
        return K.content_low_quality(rows[:, mc._index["messages"]], rows[:, mc._index["low_quality_share"]],
                                     float(self.p.content_memory))

    def _fused_constants(self) -> tuple:
        """The parameters the fused day passes to compiled code, read once from the config
        (again only if ``model.p`` or ``model.config`` is replaced): ``(members_stages'
        dynamics, arrivals', joining's, new ties' strengths by count)``."""
        cache = self._fused_cache
        if cache is not None and cache[0] is self.p and cache[1] is self.config:
            return cache[2]
        p, com = self.p, self.config.community
        ch = self.config.roles["chatter"]
        members = (int(p.newcomer_days), float(p.answer_base), float(p.answer_halfsat), float(p.chatter_contagion),
                   float(p.reply_reward), float(p.message_noise), float(p.spam_penalty), float(p.read_cost),
                   float(p.overload_cost), float(p.reply_prob), float(p.tie_increment), float(p.tie_formation),
                   float(p.strong_tie), float(p.tie_decay), float(p.recognition), float(p.habituation),
                   float(p.spam_distrust), float(p.trust_memory), float(p.satisfaction_memory),
                   float(p.commit_sunk), float(p.commit_tier), float(p.commit_ties), float(p.commit_identity),
                   float(p.hazard_base), float(p.hazard_max), float(p.hazard_slope), float(p.hazard_midpoint),
                   float(p.grace_days), bool(p.contagion), float(p.leader_loss), float(p.chatter_conversion),
                   np.float32(ch.post_rate.mean), np.float32(ch.quality.mean), np.float32(ch.warmth.mean),
                   float(p.welcome_boost), float(p.welcome_commitment), float(p.wom_reach))
        members = np.array(members + (float(p.trust_weak), float(p.trust_strong), float(p.strong_evidence),
                                      GRESHAM_MIN_EXPOSURE, float(GRESHAM_MIN_EVENTS), Z95,
                                      float(p.first_post_rate), float(p.welcome_rate),
                                      float(p.follow_up_rate)), dtype=np.float64)
        arrivals = (p.wom_memory, float(p.referral_trust), float(p.referral_rate))
        joining = (int(com.group_cap), float(com.leader_tie_share), com.structure == "pyramid",
                   np.float32(p.strong_tie))
        out = (members, arrivals, joining, day_kernels.tie_strengths(float(p.tie_increment)))
        self._fused_cache = (self.p, self.config, out)
        return out

    def _hooks(self, name: str, ctx: K.StepContext) -> None:
        rng = self.rng
        for hook in self._hook_order[" today"][name]:
            hook(self, ctx, rng)

    def _stage_open_day(self) -> K.StepContext:
        """The day's scratch context (policies write extra utility/evidence into it), and the
        hooks that take part today: a scheduled policy that is off today (its schedule
        decided at the start of the day, ``begin_day``) would only return from each of its
        hooks, so none is called (its ``metrics`` still are: they record that it is off)."""
        self._index_policies()
        idx = self._hook_order
        for begin_day in idx[" begin_day"]:
            begin_day(self)  # scheduled policies switch on/off (policies/schedule.py)
        self._curates = any(x.curates for x in idx[" curating"])
        off = {id(x) for x in idx[" scheduled"] if not x.schedule.active}
        idx[" today"] = {name: [h for x, h in lst if id(x) not in off]
                         for name, lst in idx[" entries"].items()} if off else idx
        self._active0 = int(self.metrics.latest("active", 0))  # active at the end of yesterday
        ctx = K.StepContext(step=self.steps, n=self.state.n, n_groups=self.n_groups)
        self.ctx = ctx
        return ctx

    def _stage_arrivals(self, ctx: K.StepContext) -> np.ndarray:
        """Stage *arrivals*: word of mouth fades, prospects are reached by content/ads and by
        members' invitations, decide to join, pass the gates and join a group.

        Inputs: status, trust, interest, heard, the graph. Outputs: new members (status,
        group, join_step, entry_path, leader ties), ``_last_referrals``. Returns the ids of
        today's members (readers), ascending.
        """
        st, p, rng, t = self.state, self.p, self.rng, self.steps
        if self._staged_segments:  # the same stage in compiled calls (kernels.staged)
            g, h = self.social, self._generator_handle()
            boosts = self._hook_order[" today"]["boosts"]
            ex = None
            if not boosts:  # the fused day's kernel: nothing between the two parts
                cand, is_ref, inv, ex = day_kernels.arrival_candidates(
                    h, st.heard, p.wom_memory, st.status, st.role, st.trust_r, st.trust_s, float(p.referral_trust),
                    float(self._inflow_rate(t)), float(p.referral_rate), g.indptr, g.indices, float(p.wom_weight))
            else:
                exposed, inviters = segments.exposure_and_inviters(
                    h, st.heard, p.wom_memory, st.status, st.role, st.trust_r, st.trust_s, float(p.referral_trust),
                    float(self._inflow_rate(t)))
                lam = p.referral_rate
                if len(inviters):
                    for f in boosts:
                        lam = lam * f(self, inviters)
                lam = np.ascontiguousarray(np.broadcast_to(np.asarray(lam, np.float64), inviters.shape))
                cand, is_ref, inv = segments.referral_segment(h, exposed, inviters, lam, g.indptr, g.indices,
                                                              st.status)
            self._last_referrals = (_NO_IDS, _NO_IDS)
            if len(cand):
                if not self._hook_order[" today"]["gate"] and type(self)._join is CommunityModel._join:
                    # no gate today: the decisions and the joining in the fused day's call
                    if ex is None:  # the word-of-mouth exponent as arrival_candidates computes it
                        ex = st.heard[cand] * np.float32(-p.wom_weight)
                    self._fused_join(h, cand, is_ref, inv, self._fused_constants()[2], ex)
                    if self.n_groups > ctx.n_groups:  # arrivals opened new groups
                        ctx.n_groups = self.n_groups
                        ctx.curated = np.zeros(self.n_groups, dtype=bool)
                        ctx.overload_relief = np.zeros(self.n_groups)
                else:
                    self._admit_and_join(ctx, cand, is_ref, inv)
            return st.active_ids()
        st.heard *= np.float32(p.wom_memory)
        rate = self._inflow_rate(t)
        exposed = K.exposure_candidates(st.status, rate, rng)
        inviters = K.inviters(st.status, st.role, st.trust_r, st.trust_s, float(p.referral_trust))
        if len(inviters):
            lam = p.referral_rate
            for f in self._hook_order[" today"]["boosts"]:
                lam = lam * f(self, inviters)
            invites = rng.poisson(np.broadcast_to(lam, inviters.shape))
            referred, inviter = K.referral_candidates(inviters, invites, self.social.indptr,
                                                      self.social.indices, st.status, rng)
        else:
            referred = inviter = np.empty(0, np.int64)
        self._last_referrals = (np.empty(0, np.int64), np.empty(0, np.int64))
        if len(referred) or len(exposed):
            cand = np.concatenate([referred, exposed])
            is_ref = np.concatenate([np.ones(len(referred), bool), np.zeros(len(exposed), bool)])
            inv = np.concatenate([inviter, np.full(len(exposed), -1)])
            cand, first = np.unique(cand, return_index=True)  # one decision per person per day
            self._admit_and_join(ctx, cand, is_ref[first], inv[first])
        return st.active_ids()

    def _admit_and_join(self, ctx, cand: np.ndarray, is_ref: np.ndarray, inv: np.ndarray) -> None:
        """Today's candidates decide to join (one uniform each), pass the gates and join a
        group; ``ctx`` None on a day without policies."""
        st, p, rng = self.state, self.p, self.rng
        pa = day_kernels.accept_chance(st.interest, st.heard, cand, is_ref, p.accept, p.wom_weight)
        ok = rng.random(len(cand)) < pa
        cand, is_ref, inv = cand[ok], is_ref[ok], inv[ok]
        gates = self._hook_order[" today"]["gate"] if ctx is not None else self.policies["gate"]
        for gate in gates:
            if not len(cand):
                break
            keep = np.asarray(gate.admit(self, cand, is_ref, rng), dtype=bool)
            cand, is_ref, inv = cand[keep], is_ref[keep], inv[keep]
        if ctx is not None and self._staged_segments and type(self)._join is CommunityModel._join and (
                type(self)._assign_groups is CommunityModel._assign_groups):
            self._segment_join(cand, is_ref)
        else:
            path = np.where(is_ref, EntryPath.REFERRAL, EntryPath.EXPOSURE).astype(np.int8)
            self._join(cand, path)
        self._last_referrals = (cand[is_ref], inv[is_ref])
        for gate in gates:
            gate.on_join(self, cand, rng)
        if ctx is not None and self.n_groups > ctx.n_groups:  # arrivals opened new groups
            ctx.n_groups = self.n_groups
            ctx.curated = np.zeros(self.n_groups, dtype=bool)
            ctx.overload_relief = np.zeros(self.n_groups)

    def _stage_posting(self, ctx: K.StepContext, ids: np.ndarray) -> None:
        """Stage *posting*: post counts ``Poisson(mu_i)`` (:func:`~qunsim.kernels.draw_posts`),
        the ``on_posting`` hooks (which may change ``ctx.post_counts``), then the messages.

        Inputs: role, post_rate, group, join_step, entry_path, replies_yesterday, yesterday's
        group statistics. Outputs: ``ctx.post_counts`` int64[n], ``ctx.messages``.
        """
        st, p, rng = self.state, self.p, self.rng
        if self._staged_segments:  # the same stage in compiled calls (kernels.staged)
            h = self._generator_handle()
            alone = not self._hook_order[" today"]["on_posting"]  # no hook: the messages in the same call
            counts, *m = segments.posting_segment(
                h, ids, st.role, st.post_rate, st.propensity, self._propensity_on, st.first_post_step, st.group,
                st.join_step, st.entry_path, st.replies_yesterday, self._yesterday_q, self._yesterday_chat,
                int(self.steps), int(p.newcomer_days), float(p.answer_base), float(p.answer_halfsat),
                float(p.chatter_contagion), float(p.reply_reward), float(p.first_post_rate), st.quality, st.warmth,
                float(p.message_noise), alone, st.first_replied, st.return_step, float(p.welcome_rate),
                float(p.follow_up_rate))
            ctx.post_counts = counts
            if alone:
                ctx.messages = Messages(*m)
                return
            self._hooks("on_posting", ctx)
            if _is_vector(ctx.post_counts, np.int64, st.n):
                ctx.messages = Messages(*segments.messages_segment(h, ids, ctx.post_counts, st.group, st.quality,
                                                                   st.warmth, st.role, float(p.message_noise)))
                return
            counts = ctx.post_counts
            posters = ids[counts[ids] > 0]
            ctx.messages = K.messages_from_counts(posters, counts, st.group, st.quality, st.warmth, st.role,
                                                  p.message_noise, rng)
            return
        # participation inequality: a per-member propensity on the role's rate (all 1 when off)
        rate = self._participation_rate(ids) if self._propensity_on else st.post_rate
        ctx.post_counts = K.draw_posts(ids, st.role, rate, st.group, st.join_step, st.entry_path,
                                       st.replies_yesterday, self._yesterday_q, self._yesterday_chat,
                                       self.steps, p.newcomer_days, p.answer_base, p.answer_halfsat,
                                       p.chatter_contagion, p.reply_reward, rng)
        self._hooks("on_posting", ctx)
        counts = ctx.post_counts
        posters = ids[counts[ids] > 0]
        ctx.messages = K.messages_from_counts(posters, counts, st.group, st.quality, st.warmth, st.role,
                                              p.message_noise, rng)

    def _stage_policies_on_messages(self, ctx: K.StepContext) -> None:
        """Stage *policies on messages*: activity then monetization ``on_messages`` hooks
        (moderation removes, operators add events, offers and ads); curating policies mark
        every group curated."""
        self._hooks("on_messages", ctx)
        if self._curates:
            ctx.curated[:] = True

    def _stage_reading_replies_ties(self, ctx: K.StepContext, ids: np.ndarray) -> K.reading.ReadResult:
        """Stage *reading, replies and ties* (:func:`~qunsim.kernels.read_and_reply`, one
        compiled loop over readers, then :meth:`SocialGraph.strengthen`).

        Inputs: ``ctx.messages``, ``ctx.curated``, ``ctx.overload_relief``, attention, taste,
        interest, group. Outputs: the reading result (also ``ctx.read_k``, ``read_value``,
        ``read_utility``, ``spam_read``, ``group_volume``, ``extra["ids"]``), replies received
        per member (``ctx.extra["received"]``), tie strengths and new ties (queued), strong-tie
        counts of ties that crossed ``strong_tie``.
        """
        st, p, rng = self.state, self.p, self.rng
        msgs = ctx.messages
        if self._staged_segments and _standard_messages(msgs):
            return self._segment_reading(ctx, ids)
        gi = GroupIndex.build(msgs, self.n_groups, ctx.curated)
        rr, reader, author, received = K.read_and_reply(
            gi, msgs, ids, st.group, st.attention, st.taste, st.interest, ctx.curated, ctx.overload_relief,
            spam_penalty=p.spam_penalty, read_cost=p.read_cost, overload_cost=p.overload_cost,
            reply_prob=p.reply_prob, rng=rng)
        ctx.read_k, ctx.read_value, ctx.read_utility, ctx.spam_read = rr.k, rr.value, rr.utility, rr.spam
        ctx.group_volume = gi.count
        ctx.extra["ids"] = ids
        ctx.extra["received"] = received
        ctx.extra["group_index"] = gi
        self.social.strengthen(reader, author, p.tie_increment, new_tie_uniforms=rng.random(len(reader)),
                               new_tie_prob=p.tie_formation, status=st.status, strong=p.strong_tie,
                               strong_ties=st.strong_ties)
        if p.tie_decay > 0:
            self.social.weight *= np.float32(1.0 - p.tie_decay)
            self._recount_strong()
        return rr

    def _segment_reading(self, ctx: K.StepContext, ids: np.ndarray) -> K.reading.ReadResult:
        """Stage *reading, replies and ties* in one compiled call
        (:func:`~qunsim.kernels.staged.reading_segment`); the new ties' strengths by numpy."""
        st, p, g, msgs = self.state, self.p, self.social, ctx.messages
        curated = np.asarray(ctx.curated, np.bool_)
        out = segments.reading_segment(
            self._generator_handle(), msgs.author, msgs.group, msgs.quality, msgs.warmth, msgs.spam,
            int(self.n_groups), curated, np.asarray(ctx.overload_relief, np.float64), ids, st.group, st.attention,
            st.taste, st.interest, float(p.spam_penalty), float(p.read_cost), float(p.overload_cost),
            float(p.reply_prob), float(p.tie_increment), float(p.tie_formation), float(p.strong_tie),
            float(p.tie_decay), g.keys, g.rowptr, g.weight, np.int64(g.n), st.status, st.strong_ties, g.indptr,
            g.indices)
        gi = GroupIndex(*out[:7])
        rr = ReadResult(*out[7:14])
        received, new_keys, new_counts = out[14:]
        if len(new_keys):  # queued (SocialGraph.strengthen): strength 1 - (1 - inc) ** count by numpy
            factor = (1.0 - p.tie_increment) ** new_counts
            g._pending_keys.append(new_keys)
            g._pending_w.append((1.0 - factor).astype(np.float32))
            g._pending_n += len(new_keys)
        ctx.read_k, ctx.read_value, ctx.read_utility, ctx.spam_read = rr.k, rr.value, rr.utility, rr.spam
        ctx.group_volume = gi.count
        ctx.extra["ids"] = ids
        ctx.extra["received"] = received
        ctx.extra["group_index"] = gi
        return rr

    def _stage_trust_satisfaction_churn(self, ctx: K.StepContext, ids: np.ndarray, rr) -> None:
        """Stage *trust, satisfaction and churn* (:func:`~qunsim.kernels.members_day`):
        utility, trust evidence, satisfaction, the leaving hazard and threshold contagion,
        then the departures (:meth:`remove_members`).

        Inputs: the reading result, replies received, ``ctx.utility``/``pos``/``neg``,
        commitment (spend, tier, strong ties, leader ties), left/ever-member neighbour counts.
        Outputs: utility, trust_r, trust_s, satisfaction; departures (contagion first).
        """
        st, p = self.state, self.p
        if p.contagion:
            self._age_departures()
        conta, diss = K.members_day(
            ids, self.steps, rr.utility, rr.spam, ctx.extra["received"], ctx.utility, ctx.pos, ctx.neg,
            st.join_step, st.need, st.trust_r, st.trust_s, st.satisfaction, st.utility, st.spend, st.tier,
            st.strong_ties, st.leader_tie, st.commitment, st.threshold, st.left_neighbors,
            st.member_neighbors, p.recognition, p.habituation, p.spam_distrust, p.trust_memory,
            p.satisfaction_memory, p.commit_sunk, p.commit_tier, p.commit_ties, p.commit_identity,
            p.hazard_base, p.hazard_max, p.hazard_slope, p.hazard_midpoint, p.grace_days,
            bool(p.contagion), self.rng.random(len(ids)))
        self.remove_members(ids[conta], LeaveReason.CONTAGION)
        self.remove_members(ids[diss], LeaveReason.DISSATISFIED)

    def _stage_chatter_conversion(self, ids: np.ndarray) -> None:
        """Stage *chatter conversion* ("one starts, others follow",
        :func:`~qunsim.kernels.neighbours.chatter_candidates`): converted regulars take the
        chatter role and at least the chatter role's mean posting rate and warmth, at most its
        mean quality; with participation on, their propensity is rescaled so that they post
        the larger of their own volume and a chatter's rate."""
        st, p = self.state, self.p
        if p.chatter_conversion <= 0:
            return
        reg = ids[(st.role[ids] == Role.REGULAR) & (st.status[ids] == Status.ACTIVE)]
        if not len(reg):
            return
        conv = chatter_candidates(reg, self.rng.random(len(reg)), st.role, st.status, st.taste,
                                  self.social.indptr, self.social.indices, float(p.chatter_conversion))
        if len(conv):
            ch = self.config.roles["chatter"]
            st.role[conv] = Role.CHATTER
            own = st.post_rate[conv] * st.propensity[conv]  # what they posted a day before
            st.post_rate[conv] = np.maximum(st.post_rate[conv], np.float32(ch.post_rate.mean))
            st.quality[conv] = np.minimum(st.quality[conv], ch.quality.mean)
            st.warmth[conv] = np.maximum(st.warmth[conv], ch.warmth.mean)
            if self._propensity_on:
                # a regular who turns chatter posts like one, lurker or not, and a superuser
                # convert keeps their own volume (not eight times it at a chatter's rate)
                pr = st.post_rate[conv]
                rel = np.divide(own, pr, out=np.zeros_like(own), where=pr > 0)
                st.propensity[conv] = np.maximum(rel, np.float32(1.0))

    def _stage_bookkeeping(self, ctx: K.StepContext, ids: np.ndarray) -> None:
        """Stage *bookkeeping* (:func:`~qunsim.kernels.record.end_of_day`): posts, yesterday's
        posts and replies received, last post step of today's members."""
        st = self.state
        self._newcomer_feedback(ids[ctx.post_counts[ids] > 0], ctx.extra["received"], self.steps)
        K.record.end_of_day(ids, ctx.post_counts, ctx.extra["received"], st.posts, st.posts_yesterday,
                            st.replies_yesterday, st.last_post, self.steps)

    def _stage_close_day(self, ctx: K.StepContext, rr, ids: np.ndarray, word_of_mouth: bool = True) -> None:
        """Stages *word of mouth, tie merge and record*: unhappy leavers tell others (unless
        the bookkeeping segment already did); queued ties are merged (weekly, or when many
        wait); the day's metrics row is recorded and yesterday's group statistics are kept for
        tomorrow's posting."""
        st, p = self.state, self.p
        if word_of_mouth:
            unhappy = np.concatenate(self._unhappy_today) if self._unhappy_today else np.empty(0, np.int64)
            K.spread_word_of_mouth(st.heard, unhappy, self.social.indptr, self.social.indices,
                                   p.wom_reach, self.rng)
        # new ties join the graph in bulk (an O(E) insertion): weekly, or sooner if many wait
        if self.social.pending > max(0.05 * self.social.n_edges, 1000) or (
                self.steps % 7 == 0 and self.social.pending):
            self._merge_ties()
        self._record(ctx, rr, ids)
        self.datacollector.collect(self)
        for hook in self.day_hooks:
            hook(self)
        self._reset_day_counters()
        if self.metrics.latest("active") == 0:
            self.running = False

    # ------------------------------------------------------------------ neighbour bookkeeping
    def _merge_ties(self) -> None:
        """Merge queued ties into the graph and bring what depends on neighbourhoods up to date
        (a merge may also raise the strength of existing ties): :meth:`_merge_and_count`."""
        self._merge_and_count()

    def recount_bookkeeping(self) -> None:
        """Recount every member's neighbour counts (departed and ever-joined neighbours) and
        strong ties from the state arrays and the graph. The model keeps them up to date on
        its own events (joins, :meth:`remove_members`, replies, tie merges and decay); code
        that writes ``state.status``, ``join_step``, ``leave_step`` or tie weights directly
        must call this afterwards, or contagion and commitment read stale counts."""
        self._recount_neighbours()

    def _recount_neighbours(self) -> None:
        st, p = self.state, self.p
        recount_neighbours(self.social.indptr, self.social.indices, st.status, st.join_step, st.leave_step,
                           self.steps, p.contagion_window, st.left_neighbors, st.member_neighbors)
        self._gone = {s: ids for s, ids in self._gone.items()
                      if p.contagion_window <= 0 or s > self.steps - p.contagion_window}
        self._recount_strong()

    def _recount_strong(self) -> None:
        st, g = self.state, self.social
        recount_strong(g.keys, g.weight, np.int64(g.n), st.status, np.float32(self.p.strong_tie), st.strong_ties)

    def _age_departures(self) -> None:
        """Departures older than ``contagion_window`` days stop counting as left neighbours."""
        w = self.p.contagion_window
        if w <= 0:
            return
        for s in [s for s in self._gone if s <= self.steps - w]:
            age_out(self._gone.pop(s), self.social.indptr, self.social.indices, self.state.left_neighbors)

    # ------------------------------------------------------------------ metrics
    def trust_level_array(self) -> np.ndarray:
        """Trust level of every person in the population (0 none, 1 weak, 2 strong), int8[n].

        See :class:`~qunsim.TrustLevel`; the thresholds are ``dynamics.trust_weak``,
        ``dynamics.trust_strong`` and ``dynamics.strong_evidence``.
        """
        p, st = self.p, self.state
        return K.trust_levels(st.trust_r, st.trust_s, p.trust_weak, p.trust_strong, p.strong_evidence)

    def _record(self, ctx, rr, readers) -> None:
        """Stage *record* of the staged day (``ctx`` None: the initial state, day 0)."""
        first = ctx is None
        msgs = _NO_MESSAGES if first else ctx.messages
        if first or rr is None or readers is None:
            readers, rr = _NO_IDS, _NO_READING
        self._record_row(first, msgs.author, msgs.group, msgs.spam, readers, rr.k, rr.value, rr.info, rr.buried,
                         rr.utility, 0 if first else ctx.removed,
                         sum(ctx.revenue.values()) if not first else 0.0,
                         0.0 if first else float(ctx.operator_capacity_used), ctx)

    def _record_row(self, first, author, mgroup, spam, readers, k, value, info, buried, utility, removed, rev,
                    operator_capacity, ctx) -> None:
        """Stage *record*: the day's metrics row, written by one compiled call
        (:func:`~qunsim.kernels.record.record_day`) into the metrics store, then the columns
        policies add (revenue by source, policy metrics); tomorrow's group statistics."""
        st, p, mc = self.state, self.p, self.metrics
        mc.reserve()
        self._yesterday_q, self._yesterday_chat = K.record.record_day(
            mc.data, mc.n, mc.gresham, mc.gn, first, st.status, st.role, st.initial_role, st.tier, st.trust_r,
            st.trust_s, st.satisfaction, st.group, st.join_step, st.strong_ties, self.n_groups, p.trust_weak,
            p.trust_strong, p.strong_evidence, author, mgroup, spam, self.steps, p.newcomer_days,
            readers, st.quality, k, value, info, buried, utility, self._joins_today,
            self._leaves_today, self._active0, removed, float(rev),
            float(self.cumulative.get("revenue", 0.0)), operator_capacity,
            mc.window, GRESHAM_MIN_EXPOSURE, float(GRESHAM_MIN_EVENTS), Z95)
        self.cumulative["revenue"] = self.cumulative.get("revenue", 0.0) + rev
        if not first:
            mc.gn += 1
        extras = None
        if ctx is not None and ctx.revenue:
            extras = {f"revenue_{k}": float(v) for k, v in ctx.revenue.items()}
        for pol in self._metric_policies:
            extras = {} if extras is None else extras
            extras.update(pol.metrics(self, ctx))
        if extras:
            mc.set_extras(mc.n, extras)
        mc.n += 1

    # ------------------------------------------------------------------ outputs
    def timeseries(self) -> pd.DataFrame:
        """The daily metrics.

        Returns
        -------
        pandas.DataFrame
            one row per step (step 0 is the initial state); docs/api.md lists the columns.
        """
        df = self.metrics.frame()
        return df.fillna(0.0) if len(df) else df

    def members_frame(self) -> pd.DataFrame:
        """The member table, for survival curves by role and cohort.

        Returns
        -------
        pandas.DataFrame
            one row per member ever seen (joined at some step); docs/api.md lists the columns.
        """
        st = self.state
        idx = np.flatnonzero(st.join_step >= 0)
        lv = self.trust_level_array()[idx]
        df = pd.DataFrame({
            "member_id": idx,
            "role": pd.Categorical([ROLE_ORDER[r] for r in st.role[idx]], categories=ROLE_ORDER),
            "initial_role": pd.Categorical([ROLE_ORDER[r] for r in st.initial_role[idx]], categories=ROLE_ORDER),
            "status": [Status(s).name.lower() for s in st.status[idx]],
            "group": st.group[idx],
            "join_step": st.join_step[idx],
            "leave_step": st.leave_step[idx],
            "leave_reason": [LeaveReason(r).name.lower() for r in st.leave_reason[idx]],
            "entry_path": [EntryPath(e).name.lower() for e in st.entry_path[idx]],
            "tier": [Tier(x).name.lower() for x in st.tier[idx]],
            "spend": st.spend[idx].astype(np.float64),
            "trust": st.trust[idx].astype(np.float64),
            "trust_level": [("none", "weak", "strong")[x] for x in lv],
            "satisfaction": st.satisfaction[idx].astype(np.float64),
            "posts": st.posts[idx],
            "quality": st.quality[idx].astype(np.float64),
            "need": st.need[idx].astype(np.float64),
            "strong_ties": st.strong_ties[idx],
        })
        if self._labels is not None:
            df.insert(1, "node", [self._labels[i] for i in idx])
        return df

    def graph(self, members_only: bool = False) -> nx.Graph:
        """A NetworkX snapshot of the social graph today.

        Parameters
        ----------
        members_only : bool
            keep only people who ever joined (drop prospects).

        Returns
        -------
        networkx.Graph
            nodes carry ``role``, ``status``, ``trust``, ``trust_level``, ``group`` and
            ``quality``; edges their ``weight``. Node names are the population indices, or the
            labels of the graph or edge list given. For the graph over time see
            :meth:`graph_history`.
        """
        st = self.state
        g = self.social.to_networkx()
        lv = self.trust_level_array()
        tr = st.trust
        attrs = {
            i: {"role": ROLE_ORDER[st.role[i]], "status": Status(st.status[i]).name.lower(),
                "trust": float(tr[i]), "trust_level": ("none", "weak", "strong")[lv[i]],
                "group": int(st.group[i]), "quality": float(st.quality[i])}
            for i in range(st.n)
        }
        nx.set_node_attributes(g, attrs)
        if members_only:
            g = g.subgraph(np.flatnonzero(st.join_step >= 0).tolist()).copy()
        if self._labels is not None:
            g = nx.relabel_nodes(g, {i: self._labels[i] for i in g.nodes})
        return g

    # checkpoints (qunsim/checkpoint.py)
    def save(self, path: str | Path) -> Path:
        """Write a checkpoint of the model to ``path`` (see :mod:`qunsim.checkpoint`)."""
        from qunsim.checkpoint import save
        return save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> CommunityModel:
        """A model read from a checkpoint written by :meth:`save`, ready to run on."""
        from qunsim.checkpoint import load
        return load(path, cls)

    def copy(self) -> CommunityModel:
        """An independent copy (same state, same generator state)."""
        from qunsim.checkpoint import copy
        return copy(self)

    def nbytes(self) -> dict[str, int]:
        """Bytes held by the model state.

        Returns
        -------
        dict
            ``{"members": bytes of the member arrays, "graph": bytes of the graph arrays}``.
        """
        return {"members": self.state.nbytes() + self.leader.nbytes, "graph": self.social.nbytes()}

    # ------------------------------------------------------------------ running, recording
    def run_for(self, duration: int, progress: bool = False) -> None:
        """Simulate ``duration`` days (Mesa's ``run_for``), optionally with a progress bar.

        Parameters
        ----------
        duration : int
            days to simulate.
        progress : bool
            draw a tqdm bar on standard error (only in a terminal or a notebook).
        """
        from qunsim.progress import day_bar, progress_enabled

        if not progress_enabled(progress) or duration <= 0:
            super().run_for(duration)
            return
        with day_bar(int(duration), enabled=True) as bar:
            for _ in range(int(duration)):
                super().run_for(1)
                bar.update(1)
                bar.set_postfix_str(f"active {self.metrics.latest('active', 0)}", refresh=False)

    def run_model(self) -> None:
        """Step until ``running`` is False (no member left). Prefer ``run_for(n)``."""
        super().run_model()

    def record_graph(self, every: int = 7, precision: int = 2):
        """Start recording the social graph every ``every`` days, for :meth:`graph_history`.

        Returns the :class:`~qunsim.graph_history.GraphRecorder` (already holding today's
        snapshot). Call it before running.
        """
        from qunsim.graph_history import GraphRecorder

        self._graph_recorder = GraphRecorder(every, precision).attach(self)
        return self._graph_recorder

    def graph_history(self, path: str | Path | None = None) -> nx.Graph:
        """The social graph over time as a dynamic ``networkx.Graph``; with ``path``, also a GEXF.

        Members carry their join/leave spell, role and trust over time; ties their formation
        day and strength over time (see :mod:`qunsim.graph_history`). Needs
        :meth:`record_graph` to have been called before the days of interest.

        Raises
        ------
        ValueError
            nothing was recorded (``record_graph`` was not called).
        """
        rec = getattr(self, "_graph_recorder", None)
        if rec is None:
            raise ValueError("no graph history was recorded: call model.record_graph(every=7) "
                             "before running (or pass --gexf to `qunsim run`)")
        if path is not None:
            rec.write_gexf(path)
        return rec.graph()
