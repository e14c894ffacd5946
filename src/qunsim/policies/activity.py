"""Activity policies: what operators do to messages and members day to day.

Built-ins (config key → class): ``spam_moderation`` → :class:`SpamModeration`,
``chatter_moderation`` → :class:`ChatterModeration`, ``rate_limit`` → :class:`RateLimit`,
``curation`` → :class:`Curation`, ``events`` → :class:`ExpertEvents`, ``care`` →
:class:`PrivateCare`, ``group_cap`` → :class:`GroupCap`, ``dissolve`` → :class:`Dissolve`. Each reports its own counts in the
time series (see ``metrics``). Every hook is vectorized over members and messages.
See docs/policies_activity.md.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from qunsim.kernels.context import MSG_EVENT, MSG_POST, Messages
from qunsim.kernels.reading import GroupIndex, filtered_index, read_utilities
from qunsim.policies._compiled import (
    active_groups,
    capped_counts,
    care_candidates,
    filter_gain,
    generator_handle,
    group_counts,
    over_limit,
    personal_filter,
    role_mask,
    warned_spammers,
)
from qunsim.policies.base import ActivityPolicy, PolicyParams, register
from qunsim.policies.gates import check_role_names, role_codes
from qunsim.state import LeaveReason, Role

__all__ = [
    "SpamModeration",
    "ChatterModeration",
    "RateLimit",
    "Curation",
    "ExpertEvents",
    "PrivateCare",
    "GroupCap",
    "Dissolve",
]


class _Daily:
    """Mixin: per-day counters reported by ``metrics`` (zero on days the policy did nothing)."""

    _names: tuple[str, ...] = ()

    def _reset(self, step: int) -> None:
        if getattr(self, "_day", None) != step:
            self._day = step
            self._counts = dict.fromkeys(self._names, 0)

    def _add(self, ctx, name: str, value) -> None:
        self._reset(ctx.step)
        self._counts[name] += value

    def metrics(self, model, ctx) -> dict:
        if ctx is None or getattr(self, "_day", None) != ctx.step:
            return dict.fromkeys(self._names, 0)
        return dict(self._counts)


@register
class SpamModeration(_Daily, ActivityPolicy):
    """Spam moderation (反广告): catch spam before members read it; warn, then ban.

    Each spam message is caught with probability ``precision`` (the moderator's detection
    rate) and removed before anyone reads it; each legitimate post is removed by mistake with
    probability ``false_positive``. Every caught spam message is an offence (a strike). The
    first ``warnings`` offences are warnings: a warned spammer is deterred, keeping each spam
    post only with probability ``(1 - deterrence) ** w`` (``w`` warnings received so far). A
    member whose offences reach ``warnings + ban_after`` is banned (status BANNED, leave
    reason ``banned``). ``warnings = 0`` bans at ``ban_after`` strikes with no deterrence.

    Metrics: ``spam_caught`` (messages removed as spam today), ``spam_deterred`` (spam posts
    not made because of warnings).

    Config::

        [activity.spam_moderation]
        precision = 0.9
        warnings = 1
        deterrence = 0.5
        ban_after = 3
    """

    key = "spam_moderation"
    primary = "precision"
    _names = ("spam_caught", "spam_deterred")

    class Params(PolicyParams):
        precision: float = Field(default=0.9, ge=0, le=1)
        false_positive: float = Field(default=0.0, ge=0, le=1)
        ban_after: int = Field(default=3, ge=1, le=10_000)  # strikes are counted in int16
        warnings: int = Field(default=0, ge=0, le=10_000)
        deterrence: float = Field(default=0.5, ge=0, le=1)

    def on_posting(self, model, ctx, rng):
        p = self.params
        if p.warnings == 0 or p.deterrence == 0:
            return
        st, c = model.state, ctx.post_counts
        if type(c) is np.ndarray and c.shape == st.offences.shape:  # one compiled pass
            warned = warned_spammers(st.offences, st.role, c)
        else:
            warned = np.flatnonzero((st.offences > 0) & (st.role == Role.SPAMMER) & (c > 0))
        if not len(warned):
            return
        w = np.minimum(st.offences[warned], p.warnings).astype(np.float64)
        kept = rng.binomial(c[warned], (1.0 - p.deterrence) ** w)
        self._add(ctx, "spam_deterred", int((c[warned] - kept).sum()))
        c[warned] = kept

    def on_messages(self, model, ctx, rng):
        msgs = ctx.messages
        if not len(msgs):
            return
        p = self.params
        u = rng.random(len(msgs))
        posts = msgs.kind == MSG_POST
        caught = posts & msgs.spam & (u < p.precision)
        wrong = posts & ~msgs.spam & (u < p.false_positive)
        remove = caught | wrong
        if not remove.any():
            return
        authors = msgs.author[caught]
        np.add.at(model.state.offences, authors, 1)
        ctx.removed += int(remove.sum())
        ctx.removed_spam += int(caught.sum())
        self._add(ctx, "spam_caught", int(caught.sum()))
        ctx.messages = msgs.select(~remove)

    def on_step_end(self, model, ctx, rng):
        st = model.state
        ban = over_limit(st.status, st.offences, int(self.params.warnings + self.params.ban_after))
        if len(ban):
            model.remove_members(ban, reason=LeaveReason.BANNED)


def _offtopic(msgs: Messages, max_quality: float) -> np.ndarray:
    """Member posts (not spam) whose information value is below ``max_quality``."""
    return (msgs.kind == MSG_POST) & ~msgs.spam & (msgs.quality < max_quality)


@register
class ChatterModeration(_Daily, ActivityPolicy):
    """Chatter / off-topic moderation (灌水治理), community-level or personalised (Ren & Kraut).

    A post is off-topic chatter when it is not spam and its information value (quality) is
    below ``max_quality``. The moderator (or filter) catches each such post with probability
    ``precision``, and flags an on-topic post by mistake with probability ``false_positive``.

    * ``mode = "community"``: caught posts are removed for everyone before anyone reads them.
      Authors feel it: each removed post gives its author ``author_penalty`` negative trust
      evidence and costs ``author_cost`` utility (being moderated is unpleasant), and removed
      chatter no longer feeds chatter contagion. Each removal costs ``operator_cost`` of
      operator capacity.
    * ``mode = "personal"``: nothing is removed. Each reader (an ``adoption`` share of them)
      has a filter hiding the flagged posts from their own feed, and keeps it on only when it
      helps them (a reader who enjoys chatter switches it off): the reader's utility becomes
      that of reading the filtered feed (fewer messages, less overload). Authors are
      unaffected and messages per day are unchanged.

    Metrics: ``chatter_removed`` (community), ``chatter_filtered`` (flagged posts hidden from
    filtering readers' feeds), ``chatter_filter_users`` (readers whose filter helped today).

    Config::

        [activity.chatter_moderation]
        mode = "community"
        precision = 0.8
        max_quality = 0.2
    """

    key = "chatter_moderation"
    primary = "mode"
    _names = ("chatter_removed", "chatter_filtered", "chatter_filter_users")

    class Params(PolicyParams):
        mode: Literal["community", "personal"] = "community"
        precision: float = Field(default=0.8, ge=0, le=1)
        max_quality: float = Field(default=0.2, ge=0, le=1)
        false_positive: float = Field(default=0.0, ge=0, le=1)
        author_penalty: float = Field(default=0.5, ge=0)
        author_cost: float = Field(default=0.3, ge=0)
        operator_cost: float = Field(default=0.0, ge=0)
        adoption: float = Field(default=1.0, ge=0, le=1)

    def _flag(self, msgs: Messages, rng) -> np.ndarray:
        p = self.params
        u = rng.random(len(msgs))
        off = _offtopic(msgs, p.max_quality)
        on = (msgs.kind == MSG_POST) & ~msgs.spam & ~off
        return (off & (u < p.precision)) | (on & (u < p.false_positive))

    def on_messages(self, model, ctx, rng):
        if self.params.mode != "community" or not len(ctx.messages):
            return
        p, msgs = self.params, ctx.messages
        flag = self._flag(msgs, rng)
        n = int(flag.sum())
        if not n:
            return
        hit = np.bincount(msgs.author[flag], minlength=ctx.n).astype(np.float64)
        ctx.neg += p.author_penalty * hit
        ctx.utility -= p.author_cost * hit
        ctx.removed += n
        ctx.operator_capacity_used += p.operator_cost * n
        self._add(ctx, "chatter_removed", n)
        ctx.messages = msgs.select(~flag)

    def after_reading(self, model, ctx, rng):
        if self.params.mode != "personal" or not len(ctx.messages):
            return
        st, dp, msgs = model.state, model.p, ctx.messages
        ids = ctx.extra["ids"]
        gi = ctx.extra.get("group_index")
        h = generator_handle(model, rng)
        if h is not None and gi is not None and isinstance(msgs.quality, np.ndarray):
            # the same steps in one compiled pass (flags, filtered index, utilities, gain)
            p = self.params
            users, hidden = personal_filter(
                h, msgs.kind, msgs.spam, msgs.quality, msgs.warmth, msgs.group, msgs.quality.dtype.type(p.max_quality),
                float(p.precision), float(p.false_positive), gi.order, len(gi.count), np.asarray(ids, np.int64),
                st.group, st.attention, st.taste, st.interest, np.asarray(ctx.curated, np.bool_),
                np.asarray(ctx.overload_relief, np.float64), float(dp.spam_penalty), float(dp.read_cost),
                float(dp.overload_cost), ctx.read_utility, float(p.adoption), ctx.utility, int(ctx.n_groups))
            if users >= 0:
                self._add(ctx, "chatter_filtered", int(hidden))
                self._add(ctx, "chatter_filter_users", int(users))
            return
        flag = self._flag(msgs, rng)
        if not flag.any():
            return
        # the model's own reading rule over the filtered feed (utility only, no replies); the
        # filtered index keeps the day's reading order (no second sort)
        gi = ctx.extra.get("group_index")
        gi = filtered_index(gi, msgs, flag) if gi is not None else GroupIndex.build(
            msgs.select(~flag), ctx.n_groups, ctx.curated)
        filt = read_utilities(np.asarray(ids, np.int64), st.group, st.attention, st.taste, st.interest,
                              gi.start, gi.count, gi.cum_q, gi.cum_w, gi.cum_s, gi.cum_reply,
                              np.asarray(ctx.curated, np.bool_), np.asarray(ctx.overload_relief, np.float64),
                              float(dp.spam_penalty), float(dp.read_cost), float(dp.overload_cost))
        # against the unfiltered utility of the model's own reading
        users, hidden = filter_gain(np.asarray(ids, np.int64), filt, ctx.read_utility, rng.random(len(ids)),
                                    float(self.params.adoption), ctx.utility, st.group, msgs.group, flag,
                                    int(ctx.n_groups))
        self._add(ctx, "chatter_filtered", int(hidden))
        self._add(ctx, "chatter_filter_users", int(users))


@register
class RateLimit(_Daily, ActivityPolicy):
    """Per-member rate limit (发言限制): at most ``cap`` posts a member a day.

    Posts over the cap are not made (the member is told to slow down). Roles in ``exempt``
    are not limited (none by default: the cap holds for every member).

    Metric: ``posts_capped`` (posts cut today).

    Config::

        [activity.rate_limit]
        cap = 5
    """

    key = "rate_limit"
    primary = "cap"
    _names = ("posts_capped",)

    class Params(PolicyParams):
        cap: int = Field(default=5, ge=0)
        exempt: list[str] = Field(default_factory=list)

        _roles = field_validator("exempt")(lambda cls, v: check_role_names(v))

    def setup(self, model):
        self._exempt = role_codes(self.params.exempt)

    def on_posting(self, model, ctx, rng):
        limited, cut = capped_counts(np.asarray(ctx.post_counts, np.int64), int(self.params.cap),
                                     role_mask(np.asarray(self._exempt, np.int64)), model.state.role)
        self._add(ctx, "posts_capped", int(cut))
        ctx.post_counts = limited


@register
class Curation(_Daily, ActivityPolicy):
    """Curation (沉淀内容 / 置顶): digests and pinned posts, so readers see the best first.

    Readers in every group read messages in order of quality, best first, instead of at
    random; the digest also relieves a share ``overload_relief`` of the overload cost (the
    valuable posts are no longer buried). Curating costs ``operator_cost`` of operator
    capacity per group with messages per day.

    Metric: ``curated_groups``.

    Config::

        [activity.curation]
        overload_relief = 0.5
        operator_cost = 0.5
    """

    key = "curation"
    primary = "overload_relief"
    curates = True
    _names = ("curated_groups",)

    class Params(PolicyParams):
        overload_relief: float = Field(default=0.5, ge=0, le=1)
        operator_cost: float = Field(default=0.5, ge=0)

    def on_messages(self, model, ctx, rng):
        ctx.overload_relief[:] = np.maximum(ctx.overload_relief, self.params.overload_relief)
        busy = int((np.bincount(ctx.messages.group, minlength=ctx.n_groups) > 0).sum())
        ctx.operator_capacity_used += self.params.operator_cost * busy
        self._add(ctx, "curated_groups", busy)


@register
class ExpertEvents(_Daily, ActivityPolicy):
    """Scheduled expert events (微课 / 沙龙): every ``every`` days, in every group.

    An expert of the group hosts (a random active expert; the owner if the group has none;
    otherwise the operator) and posts ``messages`` high-quality messages (quality around
    ``quality``) that every member of the group can read. The event is announced
    ``lead_time`` days ahead (one announcement message in each group); the share attending is
    ``attendance * (L + 1) / (L + 1 + notice_halfsat)`` with ``L`` the lead time — short
    notice, fewer attend. Attendees get ``value`` extra utility and ``evidence`` positive trust
    evidence; the host gains ``expert_commitment`` commitment (recognition as 大咖). Each
    event costs ``operator_cost`` capacity per group.

    Metrics: ``event_attendees``, ``event_groups``.

    Config::

        [activity.events]
        every = 7
        lead_time = 2
        attendance = 0.6
    """

    key = "events"
    primary = "every"
    _names = ("event_attendees", "event_groups")

    class Params(PolicyParams):
        every: int = Field(default=7, ge=1)
        lead_time: int = Field(default=2, ge=0)
        attendance: float = Field(default=0.6, ge=0, le=1)
        notice_halfsat: float = Field(default=1.0, gt=0)
        messages: int = Field(default=6, ge=0)
        quality: float = Field(default=0.9, ge=0, le=1)
        value: float = Field(default=2.0, ge=0)
        evidence: float = Field(default=1.0, ge=0)
        expert_commitment: float = Field(default=0.2, ge=0)
        operator_cost: float = Field(default=1.0, ge=0)

    def is_event_day(self, t: int) -> bool:
        return t >= 1 and t % self.params.every == 0

    def attend_probability(self) -> float:
        """Share of members attending, given the announcement lead time.

        >>> ExpertEvents({"attendance": 0.6, "lead_time": 2}).attend_probability()
        0.45
        """
        p = self.params
        L = p.lead_time
        return round(p.attendance * (L + 1) / (L + 1 + p.notice_halfsat), 12)

    def _hosts(self, model, groups: np.ndarray, rng) -> np.ndarray:
        """One host per group: a random active expert, else an owner, else -1 (operator)."""
        st = model.state
        host = np.full(model.n_groups, -1, dtype=np.int64)
        act = st.active_mask()
        for role in (Role.OWNER, Role.EXPERT):  # experts overwrite owners where both exist
            cand = np.flatnonzero(act & (st.role == role))
            if len(cand):
                cand = cand[rng.permutation(len(cand))]
                gs, first = np.unique(st.group[cand], return_index=True)
                host[gs] = cand[first]
        return host[groups]

    def on_messages(self, model, ctx, rng):
        p, t = self.params, ctx.step
        announce = p.lead_time > 0 and t >= 1 and (t + p.lead_time) % p.every == 0
        if not announce and not (self.is_event_day(t) and p.messages > 0):
            return  # nothing to post today
        groups = active_groups(model.state.status, model.state.group)  # == flatnonzero(group_sizes() > 0)
        if not len(groups):
            return
        dp = model.p
        parts = []
        if announce:
            k = len(groups)
            parts.append(Messages(np.full(k, -1, np.int64), groups.astype(np.int32),
                                  np.full(k, 0.2, np.float32), np.full(k, 0.5, np.float32),
                                  np.zeros(k, bool), np.full(k, MSG_EVENT, np.int8)))
        if self.is_event_day(t) and p.messages > 0:
            host = self._hosts(model, groups, rng)
            self._today_hosts = host[host >= 0]
            m = p.messages * len(groups)
            q = np.clip(p.quality + rng.normal(0, dp.message_noise, m), 0, 1).astype(np.float32)
            parts.append(Messages(np.repeat(host, p.messages), np.repeat(groups, p.messages).astype(np.int32),
                                  q, np.full(m, 0.5, np.float32), np.zeros(m, bool),
                                  np.full(m, MSG_EVENT, np.int8)))
            ctx.operator_capacity_used += p.operator_cost * len(groups)
            self._add(ctx, "event_groups", len(groups))
        for part in parts:
            ctx.messages = ctx.messages.concat(part)

    def after_reading(self, model, ctx, rng):
        if not self.is_event_day(ctx.step):
            return
        st, p = model.state, self.params
        ids = ctx.extra["ids"]
        att = ids[rng.random(len(ids)) < self.attend_probability()]
        ctx.utility[att] += p.value
        ctx.pos[att] += p.evidence
        hosts = getattr(self, "_today_hosts", np.empty(0, np.int64))
        if len(hosts):
            st.commitment[hosts] += np.float32(p.expert_commitment)
        self._today_hosts = np.empty(0, np.int64)
        self._add(ctx, "event_attendees", len(att))


@register
class PrivateCare(_Daily, ActivityPolicy):
    """Private care of at-risk members (私信关怀), under an operator capacity budget.

    Each day the operator contacts, one to one, the members most at risk — the lowest
    satisfaction among those below ``threshold`` — up to ``capacity / cost`` contacts, skipping
    anyone cared for in the last ``cooldown`` days. A contact gives ``evidence`` positive
    trust evidence and raises satisfaction by ``boost`` (before today's update). Care is
    private: it never adds a message to any group. Capacity spent is recorded in
    ``operator_capacity_used``.

    Metric: ``care_contacts``.

    Config::

        [activity.care]
        capacity = 5.0
        threshold = 0.0
    """

    key = "care"
    primary = "capacity"
    _names = ("care_contacts",)

    class Params(PolicyParams):
        capacity: float = Field(default=5.0, ge=0)
        cost: float = Field(default=1.0, gt=0)
        threshold: float = 0.0
        evidence: float = Field(default=2.0, ge=0)
        boost: float = Field(default=0.5, ge=0)
        cooldown: int = Field(default=7, ge=0)

    def setup(self, model):
        self._last = np.full(model.state.n, -(10**9), dtype=np.int64)

    def after_reading(self, model, ctx, rng):
        p, st, t = self.params, model.state, ctx.step
        budget = int(np.floor(p.capacity / p.cost + 1e-9))
        if budget <= 0:
            return
        ids = ctx.extra["ids"]
        cand = care_candidates(np.asarray(ids, np.int64), st.satisfaction, st.need, self._last, st.role, int(t),
                               st.satisfaction.dtype.type(p.threshold), int(max(p.cooldown, 1)))
        if len(cand) > budget:  # the lowest satisfaction (gathered for the candidates only)
            cand = cand[np.argpartition(st.satisfaction[ids[cand]], budget - 1)[:budget]]
        who = ids[cand]
        if not len(who):
            return
        ctx.pos[who] += p.evidence
        st.satisfaction[who] += np.float32(p.boost)
        self._last[who] = t
        ctx.operator_capacity_used += p.cost * len(who)
        self._add(ctx, "care_contacts", len(who))


@register
class GroupCap(_Daily, ActivityPolicy):
    """Group size cap (500人上限) with splitting, and merging of small groups.

    At the end of each day a group over ``cap`` active members is split at random into
    ``ceil(size / cap)`` equal parts (new groups open); groups smaller than ``merge_below``
    are merged: two or more are pooled into as few groups as the cap allows, and a single
    small group joins the smallest other group with room for it. ``merge_below = 0`` never
    merges.

    Metrics: ``groups_split``, ``groups_merged`` (groups emptied by merging).

    Config::

        [activity.group_cap]
        cap = 500
        merge_below = 30
    """

    key = "group_cap"
    primary = "cap"
    _names = ("groups_split", "groups_merged")

    class Params(PolicyParams):
        cap: int = Field(default=500, ge=2)
        merge_below: int = Field(default=30, ge=0)

    def on_step_end(self, model, ctx, rng):
        st = model.state
        sizes = group_counts(st.status, st.group, int(model.n_groups))  # == model.group_sizes()
        if self._split(model, ctx, rng, sizes):
            sizes = group_counts(st.status, st.group, int(model.n_groups))
        if self.params.merge_below > 0:
            self._merge(model, ctx, rng, sizes)

    def _split(self, model, ctx, rng, sizes) -> bool:
        """Split the groups over the cap; True when some were split."""
        cap, st = self.params.cap, model.state
        over = sizes > cap
        if not over.any():
            return False
        parts = np.where(over, -(-sizes // cap), 1)
        base = model.n_groups + np.cumsum(parts - 1) - (parts - 1)  # first new index per group
        sel = np.flatnonzero(st.active_mask() & over[np.maximum(st.group, 0)] & (st.group >= 0))
        order = np.lexsort((rng.random(len(sel)), st.group[sel]))
        sel = sel[order]
        gs = st.group[sel].astype(np.int64)
        first = np.searchsorted(gs, gs, side="left")
        rank = np.arange(len(sel)) - first
        part = rank * parts[gs] // sizes[gs]
        move = part > 0
        model.set_groups(sel[move], (base[gs] + part - 1)[move])
        self._add(ctx, "groups_split", int(over.sum()))
        return True

    def _merge(self, model, ctx, rng, sizes):
        p, st = self.params, model.state
        small = (sizes > 0) & (sizes < p.merge_below)
        n_small = int(small.sum())
        if n_small == 0:
            return
        act = st.active_mask()
        if n_small >= 2:
            total = int(sizes[small].sum())
            k = -(-total // p.cap)
            targets = np.flatnonzero(small)
            if k >= n_small:
                return
            targets = targets[np.argsort(-sizes[targets], kind="stable")][:k]
            sel = np.flatnonzero(act & small[np.maximum(st.group, 0)] & (st.group >= 0))
            # members of the largest small groups first, so they stay where they are
            gsel = st.group[sel]
            sel = sel[np.lexsort((sel, gsel, -sizes[gsel]))]
            per = -(-total // k)
            new = targets[np.arange(len(sel)) // per]
            moved = int(n_small - k)
        else:
            g0 = int(np.flatnonzero(small)[0])
            room = (sizes > 0) & (np.arange(len(sizes)) != g0) & (sizes + sizes[g0] <= p.cap)
            if not room.any():
                return
            cand = np.flatnonzero(room)
            target = cand[np.argmin(sizes[cand])]
            sel = np.flatnonzero(act & (st.group == g0))
            new = np.full(len(sel), target)
            moved = 1
        model.set_groups(sel, new)
        self._add(ctx, "groups_merged", moved)


@register
class Dissolve(ActivityPolicy):
    """Dissolution (解散): the operator closes the community; every member leaves.

    On the first day it is on, at the end of the day, every remaining member leaves with reason
    ``dissolved``. Meant to be scheduled: ``when`` its goal is reached, or at a ``start`` day
    (unscheduled, it dissolves the community on day 1).

    Metric: ``dissolved_members`` (members who left by dissolution that day).

    Config::

        [activity.dissolve]
        when = { metric = "revenue_cumulative", above = 20000 }
    """

    key = "dissolve"

    def setup(self, model):
        self._day, self._n = -1, 0

    def on_step_end(self, model, ctx, rng):
        ids = model.state.active_ids()
        self._day, self._n = ctx.step, len(ids)
        model.remove_members(ids, LeaveReason.DISSOLVED)

    def metrics(self, model, ctx) -> dict:
        n = self._n if (ctx is not None and ctx.step == self._day) else 0
        return {"dissolved_members": n}
