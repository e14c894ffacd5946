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
from qunsim.kernels.reading import GroupIndex
from qunsim.metrics import (
    MetricsCollector,
    active_by_role,
    expert_retention,
    low_quality_share,
    metcalfe_value,
    trust_counts,
    value_density,
)
from qunsim.network import (
    SocialGraph,
    bfs_ball,
    build_graph,
    from_networkx,
    gather_neighbors,
    read_edgelist,
)
from qunsim.policies import build_policies
from qunsim.state import ROLE_ORDER, EntryPath, LeaveReason, MemberState, Role, Status, Tier

__all__ = ["CommunityModel"]

_UNIT_ATTRS = ("quality", "warmth", "taste", "threshold")
_POS_ATTRS = ("post_rate", "attention", "need", "wtp")
_UNHAPPY = (LeaveReason.DISSATISFIED, LeaveReason.CONTAGION)


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


class CommunityModel(mesa.Model):
    """An online community (社群) as a Mesa model over numpy arrays.

    Parameters
    ----------
    config : Config, path to a TOML scenario, dict, or None for the defaults.
    rng : int seed or ``np.random.Generator`` — the model's only randomness source.
    graph : optional ``nx.Graph`` spanning members and prospects. Node attributes ``role``
        (name or :class:`Role`) and ``member`` (bool: an initial member) are used when present.
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
        self._agent_views = bool(cfg.run.agent_views)
        self._unhappy_today: list[np.ndarray] = []
        self._leaves_today = np.zeros(len(LeaveReason), dtype=np.int64)
        self._joins_today = 0
        self._labels: list | None = None
        self._build_population(graph)
        self.policies = build_policies(cfg.to_dict())
        for fam in self.policies.values():
            for pol in fam:
                pol.setup(self)
        self._yesterday_q = np.zeros(self.n_groups)
        self._yesterday_chat = np.zeros(self.n_groups)
        self.cumulative = {"revenue": 0.0}
        self.day_hooks: list = []  # called with the model at the end of each day (recorders)
        self.datacollector = TimeseriesCollector()  # every time-series column, for mesa.batch_run
        self._record(ctx=None, rr=None, msgs_role=None, msgs_spam=None, readers=None)
        self.datacollector.collect(self)
        self._reset_day_counters()

    def _reset_day_counters(self) -> None:
        # departures made between steps (an operator's remove_members) count in the next row
        self._leaves_today[:] = 0
        self._joins_today = 0
        self._unhappy_today = []

    # ------------------------------------------------------------------ construction
    def _build_population(self, graph: nx.Graph | None) -> None:
        cfg, rng = self.config, self.rng
        com = cfg.community
        user_roles = user_members = None
        if graph is not None:
            if not isinstance(graph, nx.Graph):
                raise ConfigError(f"invalid graph: expected a networkx.Graph, got {type(graph).__name__}")
            g, labels = from_networkx(graph, cfg.network.initial_tie)
            self._labels = labels
            user_roles = [graph.nodes[v].get("role") for v in labels]
            user_members = [graph.nodes[v].get("member") for v in labels]
        elif cfg.network.kind == "edgelist":
            if not cfg.network.path:
                raise ConfigError(f"invalid config ({cfg.source}): `network.path` is required when `network.kind` = 'edgelist'")
            n, u, v, w, labels = read_edgelist(cfg.network.path)
            g = SocialGraph.from_edges(n, u, v, cfg.network.initial_tie if w is None else w)
            self._labels = labels
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
            seeds = np.flatnonzero(np.array([bool(m) for m in user_members]))
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
        st.interest[:] = draw_dist(0.5, 0.2, n, True, rng)
        # seed users (种子用户) are invited for their interest in the topic
        st.interest[seeds] = draw_dist(0.75, 0.12, len(seeds), True, rng)
        self.leaders = np.flatnonzero(st.role == Role.OWNER)
        self.n_groups = max(com.n_groups, int(np.ceil(len(seeds) / com.group_cap)))
        self._join(seeds, EntryPath.SEED, seed_round=True)

    def _draw_roles(self, n: int, user_roles) -> np.ndarray:
        com = self.config.community
        rng = self.rng
        if user_roles is not None and all(r is not None for r in user_roles):
            out = np.empty(n, dtype=np.int8)
            for i, r in enumerate(user_roles):
                try:
                    out[i] = Role[r.upper()] if isinstance(r, str) else Role(int(r))
                except (KeyError, ValueError):
                    raise ConfigError(f"invalid graph: node role {r!r} is not one of {list(ROLE_NAMES)}") from None
            return out
        comp = com.composition
        core = 1.0 - com.chatter_share - com.spammer_share
        tot = comp.expert + comp.contributor + comp.regular
        probs = np.array([0.0, core * comp.expert / tot, core * comp.contributor / tot,
                          core * comp.regular / tot, com.chatter_share, com.spammer_share, 0.0])
        probs = probs / probs.sum()
        return rng.choice(len(Role), size=n, p=probs).astype(np.int8)

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
                self.social.merge_pending()
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
        """Simulate one day: arrivals, posting, policies, reading, replies, trust, churn.

        The day's metrics row is appended to the time series (``timeseries()``) and to
        ``datacollector``; ``running`` turns False when no member is left. Use ``run_for(n)``
        to simulate ``n`` days.
        """
        st, p, rng = self.state, self.p, self.rng
        t = self.steps
        active0 = int(self.metrics.latest("active", 0))  # active at the end of yesterday

        # 1. arrivals (gates may record revenue in the day's context)
        ctx = K.StepContext(step=t, n=st.n, n_groups=self.n_groups)
        self.ctx = ctx
        self._arrivals(t)
        ids = st.active_ids()
        if self.n_groups > ctx.n_groups:  # arrivals opened new groups
            ctx.n_groups = self.n_groups
            ctx.curated = np.zeros(self.n_groups, dtype=bool)
            ctx.overload_relief = np.zeros(self.n_groups)
        if len(ids) == 0:
            self._finish_day(ctx, None, None, None, None, active0)
            return

        # 2. posting
        g = st.group[ids]
        newcomer = ((t - st.join_step[ids]) <= p.newcomer_days) & (st.entry_path[ids] != EntryPath.SEED)
        mu = K.posting_rates(ids, st.role[ids], st.post_rate[ids], g, newcomer,
                             st.replies_yesterday[ids], self._yesterday_q, self._yesterday_chat,
                             answer_base=p.answer_base, answer_halfsat=p.answer_halfsat,
                             chatter_contagion=p.chatter_contagion, reply_reward=p.reply_reward)
        counts = np.zeros(st.n, dtype=np.int64)
        counts[ids] = rng.poisson(mu)
        ctx.post_counts = counts
        for pol in self.policies["activity"]:
            pol.on_posting(self, ctx, rng)
        counts = ctx.post_counts
        posters = ids[counts[ids] > 0]
        ctx.messages = K.make_messages(posters, counts[posters], st.group[posters], st.quality[posters],
                                       st.warmth[posters], st.role[posters] == Role.SPAMMER,
                                       p.message_noise, rng)
        # 3. activity and monetization policies on messages
        for pol in self.policies["activity"] + self.policies["monetization"]:
            pol.on_messages(self, ctx, rng)
        msgs = ctx.messages
        for pol in self.policies["activity"]:
            if pol.curates:
                ctx.curated[:] = True

        # 4. reading
        gi = GroupIndex.build(msgs, self.n_groups, ctx.curated)
        rr = K.read(gi, g, st.attention[ids], st.taste[ids], st.interest[ids], ctx.curated,
                    ctx.overload_relief, spam_penalty=p.spam_penalty, read_cost=p.read_cost,
                    overload_cost=p.overload_cost)
        ctx.read_k = rr.k
        ctx.read_value = rr.value
        ctx.spam_read = rr.spam
        ctx.group_volume = gi.count
        ctx.extra["ids"] = ids

        # 5. replies and ties
        reader, author = K.draw_replies(gi, msgs, ids, g, rr.k, ctx.curated, p.reply_prob, rng)
        replies = np.bincount(author, minlength=st.n)
        self.social.strengthen(reader, author, p.tie_increment,
                               new_tie_uniforms=rng.random(len(reader)), new_tie_prob=p.tie_formation)
        if p.tie_decay > 0:
            self.social.weight *= np.float32(1.0 - p.tie_decay)

        for pol in self.policies["activity"] + self.policies["monetization"]:
            pol.after_reading(self, ctx, rng)

        # 6. trust
        u = rr.utility + p.recognition * replies[ids] + ctx.utility[ids]
        st.utility[ids] = u
        tenure = (t - st.join_step[ids]).astype(np.float64)
        need = st.need[ids] * (1.0 + p.habituation * tenure / 365.0)
        surplus = K.churn.relative_surplus(u, need)
        pos = np.maximum(surplus, 0.0) + 0.1 * np.minimum(replies[ids], 5) + ctx.pos[ids]
        neg = np.maximum(-surplus, 0.0) + p.spam_distrust * rr.spam + ctx.neg[ids]
        r_new, s_new = K.update_trust(st.trust_r[ids], st.trust_s[ids], pos, neg, p.trust_memory)
        st.trust_r[ids] = r_new
        st.trust_s[ids] = s_new

        # 8. satisfaction and churn
        S = K.update_satisfaction(st.satisfaction[ids], surplus, p.satisfaction_memory)
        st.satisfaction[ids] = S
        trust = (r_new + 1.0) / (r_new + s_new + 2.0)
        # commitment: sunk cost (diminishing: log of the amount paid), tier, strong ties
        # (bond-based attachment), trust in the community, doubled for members tied to a leader
        # (identity-based attachment), and what policies added
        damping = (1.0 + p.commit_sunk * np.log1p(st.spend[ids]) + p.commit_tier * st.tier[ids]
                   + p.commit_ties * st.strong_ties[ids]
                   + p.commit_identity * trust * (0.5 + 0.5 * st.leader_tie[ids]) + st.commitment[ids])
        pl = K.leave_probability(S, damping, base=p.hazard_base, maximum=p.hazard_max,
                                 slope=p.hazard_slope, midpoint=p.hazard_midpoint)
        pl[(tenure < p.grace_days) | (st.need[ids] <= 0)] = 0.0
        dissatisfied = rng.random(len(ids)) < pl
        contagious = np.zeros(len(ids), dtype=bool)
        if p.contagion:
            gone = (st.status == Status.LEFT) | (st.status == Status.BANNED)
            if p.contagion_window > 0:
                gone &= st.leave_step > t - p.contagion_window
            gone = gone.astype(np.float32)
            ever = (st.join_step >= 0).astype(np.float32)
            adj = self._adjacency()
            left_n = (adj @ gone)[ids]
            mem_n = (adj @ ever)[ids]
            contagious = K.contagion_mask(left_n, mem_n, st.threshold[ids]) & (st.threshold[ids] < 1.0)
        self.remove_members(ids[contagious], LeaveReason.CONTAGION)
        self.remove_members(ids[dissatisfied & ~contagious], LeaveReason.DISSATISFIED)

        # chatter contagion among regulars ("one starts, others follow")
        if p.chatter_conversion > 0:
            reg = ids[(st.role[ids] == Role.REGULAR) & (st.status[ids] == Status.ACTIVE)]
            if len(reg):
                # only those whose uniform falls under the largest possible probability
                # (share = 1) can convert: the neighbourhood share is computed for them alone
                u = rng.random(len(reg))
                maybe = (st.taste[reg] < 0.5) & (u < p.chatter_conversion * (1.0 - st.taste[reg]))
                reg, u = reg[maybe], u[maybe]
                act = st.status == Status.ACTIVE
                share = self._neighbor_share(reg, act & (st.role == Role.CHATTER), act)
                conv = reg[K.chatter_conversion(st.taste[reg], share, p.chatter_conversion, u)]
                if len(conv):
                    ch = self.config.roles["chatter"]
                    st.role[conv] = Role.CHATTER
                    st.post_rate[conv] = np.maximum(st.post_rate[conv], ch.post_rate.mean)
                    st.quality[conv] = np.minimum(st.quality[conv], ch.quality.mean)
                    st.warmth[conv] = np.maximum(st.warmth[conv], ch.warmth.mean)

        for fam in ("gate", "activity", "monetization"):
            for pol in self.policies[fam]:
                pol.on_step_end(self, ctx, rng)

        # bookkeeping for tomorrow
        st.posts[ids] += counts[ids].astype(np.int32)
        st.posts_yesterday[ids] = np.minimum(counts[ids], 32767)
        st.replies_yesterday[:] = 0
        st.replies_yesterday[ids] = np.minimum(replies[ids], 32767)
        st.last_post[posters] = t
        self._yesterday_stats(msgs)
        self._finish_day(ctx, rr, msgs, ids, replies, active0)

    def _adjacency(self):
        """The unweighted adjacency as a scipy CSR, rebuilt only when ties were merged."""
        if getattr(self, "_adj_for", None) is not self.social.indices:
            self._adj = self.social.adjacency()
            self._adj_for = self.social.indices
        return self._adj

    def _neighbor_share(self, nodes: np.ndarray, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        src, nbr = gather_neighbors(self.social.indptr, self.social.indices, nodes)
        pos = np.searchsorted(nodes, src) if len(nodes) else src
        num = np.bincount(pos, weights=numerator[nbr], minlength=len(nodes))
        den = np.bincount(pos, weights=denominator[nbr], minlength=len(nodes))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.maximum(den, 1), 0.0)

    def _yesterday_stats(self, msgs: K.Messages) -> None:
        st, G = self.state, self.n_groups
        if len(msgs):
            a = msgs.author
            valid = a >= 0
            ar = np.full(len(a), -1, dtype=np.int64)
            ar[valid] = st.role[a[valid]]
            newcomer = np.zeros(len(a), dtype=bool)
            newcomer[valid] = (self.steps - st.join_step[a[valid]]) <= self.p.newcomer_days
            # questions come from regulars and from newcomers other than experts: experts
            # answer, they do not ask (an all-expert group falls silent)
            asking = valid & ((ar == Role.REGULAR) | (newcomer & (ar != Role.EXPERT))) & ~msgs.spam
            q = np.bincount(msgs.group[asking], minlength=G).astype(np.float64)
            chat = np.bincount(msgs.group[ar == Role.CHATTER], minlength=G).astype(np.float64)
            tot = np.bincount(msgs.group, minlength=G).astype(np.float64)
        else:
            q = chat = tot = np.zeros(G)
        act = st.status == Status.ACTIVE
        answerers = np.bincount(st.group[act & ((st.role == Role.EXPERT) | (st.role == Role.CONTRIBUTOR))],
                                minlength=G).astype(np.float64)
        self._yesterday_q = q[:G] / np.maximum(answerers[:G], 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            self._yesterday_chat = np.where(tot > 0, chat / np.maximum(tot, 1), 0.0)[:G]

    def _arrivals(self, t: int) -> None:
        st, p, rng = self.state, self.p, self.rng
        st.heard *= np.float32(p.wom_memory)
        ramp = min(1.0, t / p.inflow_ramp) if p.inflow_ramp > 0 else 1.0
        rate = p.inflow * ramp * 0.5 ** ((t - 1) / p.inflow_halflife)
        exposed = K.exposure_candidates(st.status, rate, rng)
        act = st.status == Status.ACTIVE
        trust = st.trust
        can_invite = act & (trust >= p.referral_trust) & (st.role != Role.SPAMMER)
        inviters = np.flatnonzero(can_invite)
        boost = np.ones(len(inviters))
        for pol in self.policies["monetization"]:
            f = getattr(pol, "referral_boost", None)
            if f is not None:
                boost *= f(self, inviters)
        invites = rng.poisson(p.referral_rate * boost) if len(inviters) else np.empty(0, np.int64)
        referred, inviter = K.referral_candidates(inviters, invites, self.social.indptr,
                                                  self.social.indices, st.status, rng)
        cand = np.concatenate([referred, exposed])
        is_ref = np.concatenate([np.ones(len(referred), bool), np.zeros(len(exposed), bool)])
        inv = np.concatenate([inviter, np.full(len(exposed), -1)])
        if not len(cand):
            self._last_referrals = (np.empty(0, np.int64), np.empty(0, np.int64))
            return
        cand, first = np.unique(cand, return_index=True)  # one decision per person per day
        is_ref, inv = is_ref[first], inv[first]
        pa = K.accept_probability(st.interest[cand], st.heard[cand], is_ref,
                                  accept=p.accept, wom_weight=p.wom_weight)
        ok = rng.random(len(cand)) < pa
        cand, is_ref, inv = cand[ok], is_ref[ok], inv[ok]
        for gate in self.policies["gate"]:
            if not len(cand):
                break
            keep = np.asarray(gate.admit(self, cand, is_ref, rng), dtype=bool)
            cand, is_ref, inv = cand[keep], is_ref[keep], inv[keep]
        path = np.where(is_ref, EntryPath.REFERRAL, EntryPath.EXPOSURE).astype(np.int8)
        self._join(cand, path)
        self._last_referrals = (cand[is_ref], inv[is_ref])
        for gate in self.policies["gate"]:
            gate.on_join(self, cand, rng)

    def _finish_day(self, ctx, rr, msgs, ids, replies, active0) -> None:
        st, p = self.state, self.p
        unhappy = np.concatenate(self._unhappy_today) if self._unhappy_today else np.empty(0, np.int64)
        K.spread_word_of_mouth(st.heard, unhappy, self.social.indptr, self.social.indices,
                               p.wom_reach, self.rng)
        # new ties join the graph in bulk (an O(E) insertion): weekly, or sooner if many wait
        if self.social.pending > max(0.05 * self.social.n_edges, 1000) or (
                self.steps % 7 == 0 and self.social.pending):
            self.social.merge_pending()
        self._update_strong_ties()
        msgs_role = msgs_spam = None
        if msgs is not None and len(msgs):
            a = msgs.author
            msgs_role = np.where(a >= 0, st.role[np.maximum(a, 0)], -1)
            msgs_spam = msgs.spam
        self._record(ctx, rr, msgs_role, msgs_spam, ids, active0=active0)
        self.datacollector.collect(self)
        for hook in self.day_hooks:
            hook(self)
        self._reset_day_counters()
        if not (st.status == Status.ACTIVE).any():
            self.running = False

    def _update_strong_ties(self) -> None:
        st, g = self.state, self.social
        k = g.keys[g.weight >= self.p.strong_tie]
        u = k // g.n
        v = k - u * g.n
        act = st.status == Status.ACTIVE
        s = act[u] & act[v]
        st.strong_ties[:] = np.minimum(np.bincount(u[s], minlength=st.n) + np.bincount(v[s], minlength=st.n), 32767)
        self._n_strong = int(s.sum())

    # ------------------------------------------------------------------ metrics
    def trust_level_array(self) -> np.ndarray:
        """Trust level of every person in the population (0 none, 1 weak, 2 strong), int8[n].

        See :class:`~qunsim.TrustLevel`; the thresholds are ``dynamics.trust_weak``,
        ``dynamics.trust_strong`` and ``dynamics.strong_evidence``.
        """
        p, st = self.p, self.state
        return K.trust_levels(st.trust_r, st.trust_s, p.trust_weak, p.trust_strong, p.strong_evidence)

    def _record(self, ctx, rr, msgs_role, msgs_spam, readers, active0: int | None = None) -> None:
        st = self.state
        act = st.status == Status.ACTIVE
        n_act = int(act.sum())
        row: dict[str, Any] = {"step": int(self.steps), "active": n_act}
        for name, c in active_by_role(st.role, st.status).items():
            row[f"active_{name}"] = c
        row["joins"] = int(self._joins_today) if ctx is not None else 0
        leaves = self._leaves_today if ctx is not None else np.zeros(len(LeaveReason), np.int64)
        row["leaves"] = int(leaves.sum())
        for r in LeaveReason:
            if r != LeaveReason.NONE:
                row[f"leaves_{r.name.lower()}"] = int(leaves[r])
        a0 = active0 if active0 is not None else n_act
        row["churn_rate"] = float(row["leaves"] / a0) if a0 else 0.0
        m = len(msgs_role) if msgs_role is not None else 0
        row["messages"] = m
        for r in Role:
            row[f"messages_{r.name.lower()}"] = int((msgs_role == r).sum()) if m else 0
        row["removed_messages"] = int(ctx.removed) if ctx is not None else 0
        row["low_quality_share"] = low_quality_share(msgs_role, msgs_spam) if m else 0.0
        if rr is not None:
            row["value_density"] = value_density(rr.value, rr.k)
            # information value alone (iota * omega * q): does the knowledge get buried?
            row["info_density"] = value_density(rr.info, rr.k)
            row["overload"] = float(rr.buried.mean()) if len(rr.buried) else 0.0
            row["utility_mean"] = float(rr.utility.mean()) if len(rr.utility) else 0.0
        else:
            row["value_density"] = row["info_density"] = row["overload"] = row["utility_mean"] = 0.0
        row["expert_retention"] = expert_retention(st.initial_role, st.status, st.join_step)
        # Gresham: leaving of the top vs bottom quality quartile among today's members
        if readers is not None and len(readers):
            q = st.quality[readers]
            core = np.isin(st.initial_role[readers], (Role.EXPERT, Role.CONTRIBUTOR, Role.REGULAR, Role.CHATTER))
            qc = q[core]
            if len(qc) >= 4:
                lo, hi = np.quantile(qc, [0.25, 0.75])
                left = st.status[readers] != Status.ACTIVE
                top = core & (q >= hi)
                bot = core & (q <= lo)
                g = self.metrics.gresham_update(float((left & top).sum()), float(top.sum()),
                                                float((left & bot).sum()), float(bot.sum()))
            else:
                g = self.metrics.gresham_update(0, 0, 0, 0)
        else:
            g = self.metrics.gresham_update(0, 0, 0, 0) if ctx is not None else 1.0
        row["gresham_index"] = g
        aid = np.flatnonzero(act)
        r_a, s_a = st.trust_r[aid], st.trust_s[aid]
        tr = (r_a + 1.0) / (r_a + s_a + 2.0)
        row["trust_mean"] = float(tr.mean()) if n_act else 0.0
        lv = K.trust_levels(r_a, s_a, self.p.trust_weak, self.p.trust_strong, self.p.strong_evidence)
        row.update(trust_counts(lv, np.ones(len(aid), dtype=bool)))
        row["satisfaction_mean"] = float(st.satisfaction[act].mean()) if n_act else 0.0
        n_strong = getattr(self, "_n_strong", 0)
        row["strong_ties"] = n_strong
        pairs, strong = metcalfe_value(n_act, n_strong)
        row["metcalfe_pairs"] = pairs
        row["n_groups"] = int(np.count_nonzero(np.bincount(st.group[aid]))) if n_act else 0
        rev = sum(ctx.revenue.values()) if ctx is not None else 0.0
        self.cumulative["revenue"] = self.cumulative.get("revenue", 0.0) + rev
        row["revenue"] = float(rev)
        row["revenue_cumulative"] = float(self.cumulative["revenue"])
        if ctx is not None:
            for k, v in ctx.revenue.items():
                row[f"revenue_{k}"] = float(v)
        row["operator_capacity_used"] = float(ctx.operator_capacity_used) if ctx is not None else 0.0
        for tier in Tier:
            row[f"tier_{tier.name.lower()}"] = int((act & (st.tier == tier)).sum())
        for pol in sum(self.policies.values(), []) if hasattr(self, "policies") else []:
            f = getattr(pol, "metrics", None)
            if f is not None:
                row.update(f(self, ctx))
        self.metrics.append(row)

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
