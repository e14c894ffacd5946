"""Monetization policies (变现): the ladder, sponsored ads, membership fees, profit sharing.

Four built-ins, each a :class:`~qunsim.policies.base.MonetizationPolicy` named by its key in
a ``[monetization.<key>]`` table:

``ladder``  变现阶梯
    Rungs 免费分流 free → 低消转化 low → 中消提升 mid → 高消激发 high → 利益分享 profit
    sharing. Each rung has a price, a delivered value, a minimum trust, a cadence and a
    channel: ``broadcast`` (a hard sell posted in the group: one low-value offer message per
    group, read by every reader, who is annoyed by it) or ``private`` (one-to-one offers to
    eligible members; each offer costs operator capacity under a daily budget; never adds a
    message to the group).
``ads``  广告
    Sponsored posts: low-value messages of kind ``MSG_AD``; revenue per impression scaled
    by the audience's precision (the readers' interest in the community's topic).
``membership_fee``  会员费
    A recurring fee. A member whose willingness to pay is below the fee (or whose trust is
    below ``min_trust``) does not renew and is removed with leave reason ``forced``.
``profit_sharing``  利益分享
    A commission per successful referral to members of at least a given tier; it multiplies
    their referral effort (:meth:`ProfitSharing.referral_boost`). Commissions are a cost:
    the time series reports ``commission_paid`` and ``net_revenue``.

Every hook is vectorized over members; the only Python loops run over rungs.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from qunsim.kernels.context import MSG_AD, MSG_OFFER, Messages
from qunsim.kernels.trust import trust_value
from qunsim.policies._compiled import (
    active_groups,
    ad_impressions,
    ad_reach,
    broadcast_audience,
    ladder_candidates_all,
)
from qunsim.policies.base import MonetizationPolicy, PolicyParams, register
from qunsim.state import LeaveReason, Role, Tier

__all__ = ["Rung", "Ladder", "Ads", "MembershipFee", "ProfitSharing", "DEFAULT_RUNGS",
           "purchase_evidence"]

TierName = Literal["member", "fan", "partner", "shareholder"]
_TIERS = {t.name.lower(): int(t) for t in Tier}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_NO_IDS = np.empty(0, np.int64)


def _trust(st, idx: np.ndarray) -> np.ndarray:
    """Trust of members ``idx`` only (``st.trust`` would compute it for the whole population)."""
    return trust_value(st.trust_r[idx], st.trust_s[idx])


def purchase_evidence(price: float | np.ndarray, value: float | np.ndarray) -> np.ndarray:
    """Signed trust evidence of a purchase, in [-1, 1]: ``(value - price) / max(value, price)``.

    Positive when the delivered value exceeds the price, negative when overpriced, 0 when
    both are 0.

    >>> purchase_evidence(np.array([10.0, 100.0, 0.0, 0.0]), np.array([20.0, 50.0, 5.0, 0.0])).tolist()
    [0.5, -0.5, 1.0, 0.0]
    """
    price = np.asarray(price, dtype=np.float64)
    value = np.asarray(value, dtype=np.float64)
    top = np.maximum(price, value)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(top > 0, (value - price) / np.where(top > 0, top, 1.0), 0.0)


# --------------------------------------------------------------------------------- ladder


class Rung(PolicyParams):
    """One rung of the ladder.

    name : identifier (``revenue_rung_<name>``, ``offers_rung_<name>``, ``purchases_rung_<name>``)
    price : what a purchase costs (currency units, >= 0; 0 = free content)
    value : value the product delivers (same units); value < price is overpriced
    min_trust : offered only to members with trust >= this (trust gate), in [0, 1]
    cadence : days between offers (broadcast: to the group; private: to the same member)
    channel : ``broadcast`` (hard sell in the group) or ``private`` (one-to-one)
    conversion : chance that an offered member who can afford the price buys, in [0, 1]
    tier : the tier a purchase lifts the member to (never lowers it)
    commitment : extra churn damping added on purchase (besides the sunk cost of the price)
    start : first day the rung is offered
    """

    name: str
    price: float = Field(ge=0)
    value: float = Field(default=0.0, ge=0)
    min_trust: float = Field(default=0.0, ge=0, le=1)
    cadence: int = Field(default=7, ge=1)
    channel: Literal["broadcast", "private"] = "private"
    conversion: float = Field(default=0.2, ge=0, le=1)
    tier: TierName = "member"
    commitment: float = Field(default=0.0, ge=0)
    start: int = Field(default=1, ge=0)

    @field_validator("name")
    @classmethod
    def _ident(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"must be a lowercase identifier (letters, digits, _), got {v!r}")
        return v


DEFAULT_RUNGS: list[dict] = [
    dict(name="free", price=0.0, value=10.0, min_trust=0.0, cadence=7, channel="broadcast",
         conversion=0.5, tier="member"),
    dict(name="low", price=9.9, value=30.0, min_trust=0.55, cadence=7, channel="private",
         conversion=0.3, tier="fan"),
    dict(name="mid", price=99.0, value=150.0, min_trust=0.65, cadence=14, channel="private",
         conversion=0.2, tier="fan"),
    dict(name="high", price=299.0, value=400.0, min_trust=0.75, cadence=30, channel="private",
         conversion=0.15, tier="partner"),
    dict(name="profit_sharing", price=499.0, value=800.0, min_trust=0.85, cadence=30,
         channel="private", conversion=0.1, tier="shareholder"),
]


@register
class Ladder(MonetizationPolicy):
    """The monetization ladder (变现阶梯): rungs offered by broadcast or privately.

    **Offers.** A ``broadcast`` rung posts one offer message (kind ``MSG_OFFER``, quality
    ``offer_quality``, operator-authored) in every group with active members on its cadence
    days (``start``, ``start + cadence``, ...). The offer is pinned: every member of the group
    who reads anything that day sees it. If the rung is paid, each of them is annoyed:
    ``annoyance`` negative trust evidence, and that day's utility falls by
    ``annoyance_cost * need * 2 (1 - trust)``: a share of the reader's daily need (experts,
    whose time is dear, lose most), doubled for a reader with no trust and vanishing for one
    with full trust (selling before trust is built breeds resentment). A
    ``private`` rung offers one-to-one to eligible members, at most once per ``cadence`` days
    to the same member, each offer costing ``offer_cost`` of the operator's daily
    ``capacity`` (shared by private rungs, highest rung first, random members when the budget
    is short). Private offers add no message and annoy no one.

    **Eligibility.** An active member who has not bought the rung, whose trust is at least the
    rung's ``min_trust`` and — if ``gradual`` — who has taken the rung below it.

    **Purchase.** An offered, eligible member buys with probability ``conversion`` if their
    willingness to pay, scaled by trust as ``wtp * (2 trust) ** trust_wtp``, reaches the price
    (trust raises what members will pay; ``trust_wtp = 0`` switches that off). A purchase adds
    the price to revenue (``revenue_rung_<name>``) and to the member's ``spend`` (sunk cost,
    damping churn), lifts the member's tier, adds the rung's ``commitment``, and gives trust
    evidence ``evidence * d`` with ``d = (value - price) / max(value, price)``: positive if the
    product is worth its price, negative if overpriced; the same ``d`` times ``delight`` is
    added to that day's utility.

    Config (rungs as an array of tables)::

        [monetization.ladder]
        capacity = 20
        [[monetization.ladder.rungs]]
        name = "low"
        price = 9.9
        value = 30
        min_trust = 0.55
        channel = "private"

    Examples
    --------
    >>> import qunsim as qs
    >>> m = qs.CommunityModel(rng=1, **{"community.n_seed": 60, "community.n_prospects": 300,
    ...                                "monetization.ladder": {}})
    >>> m.run_for(10)
    >>> ts = m.timeseries()
    >>> bool((ts["revenue"] >= 0).all()), "revenue_rung_low" in ts
    (True, True)
    """

    key = "ladder"

    class Params(PolicyParams):
        rungs: list[Rung] = Field(default_factory=lambda: [Rung(**r) for r in DEFAULT_RUNGS],
                                  min_length=1)
        gradual: bool = True  # a rung is offered only to members who took the rung below
        capacity: float = Field(default=20.0, ge=0)  # operator capacity a day for private offers
        offer_cost: float = Field(default=1.0, gt=0)  # capacity one private offer costs
        annoyance: float = Field(default=0.5, ge=0)  # negative trust evidence per paid broadcast
        annoyance_cost: float = Field(default=0.5, ge=0)  # utility lost per paid broadcast, x need x 2(1-trust)
        offer_quality: float = Field(default=0.05, ge=0, le=1)  # quality of an offer message
        evidence: float = Field(default=2.0, ge=0)  # trust evidence per unit of (value - price)/max
        delight: float = Field(default=2.0, ge=0)  # utility per unit of (value - price)/max
        trust_wtp: float = Field(default=1.0, ge=0)  # effective wtp = wtp * (2 trust) ** trust_wtp

        @model_validator(mode="after")
        def _unique_names(self):
            names = [r.name for r in self.rungs]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"rung names must be unique, repeated: {dup}")
            return self

    def setup(self, model) -> None:
        n, R = model.state.n, len(self.params.rungs)
        self.level = np.full(n, -1, dtype=np.int8)  # highest rung taken, -1 none
        self.bought = np.zeros((R, n), dtype=bool)
        self.last_offer = np.full((R, n), -(10**6), dtype=np.int32)
        self._price = np.array([r.price for r in self.params.rungs])
        self._tier = np.array([_TIERS[r.tier] for r in self.params.rungs], dtype=np.int8)
        rungs, gradual = self.params.rungs, self.params.gradual
        self._cadence = np.array([r.cadence for r in rungs], dtype=np.int64)
        self._min_trust = np.array([float(r.min_trust) for r in rungs], dtype=np.float64)
        self._evidence = [float(purchase_evidence(r.price, r.value)) for r in rungs]
        self._need = np.array([r - 1 if (gradual and r > 0) else -1 for r in range(len(rungs))], dtype=np.int64)
        self._broadcast_today: list[tuple[int, np.ndarray]] = []
        self._offers = np.zeros(R, dtype=np.int64)
        self._purchases = np.zeros(R, dtype=np.int64)
        self._log: list[tuple[np.ndarray, ...]] = []
        self.total_offers = np.zeros(R, dtype=np.int64)
        self.total_purchases = np.zeros(R, dtype=np.int64)

    # -- helpers ------------------------------------------------------------------------
    def _due(self, rung: Rung, t: int) -> bool:
        return t >= rung.start and (t - rung.start) % rung.cadence == 0

    def _eligible(self, model, r: int, cand: np.ndarray) -> np.ndarray:
        """Mask over ``cand`` (active population indices) eligible for rung ``r``."""
        rung = self.params.rungs[r]
        st = model.state
        ok = ~self.bought[r, cand] & (_trust(st, cand) >= rung.min_trust)
        if self.params.gradual and r > 0:
            ok &= self.level[cand] >= r - 1
        return ok

    def _buy(self, model, ctx, r: int, offered: np.ndarray, rng) -> None:
        """Offered members (eligible) decide; purchases take effect."""
        self._offers[r] += len(offered)
        if not len(offered):
            return
        p, rung, st = self.params, self.params.rungs[r], model.state
        trust = _trust(st, offered).astype(np.float64)
        eff_wtp = st.wtp[offered].astype(np.float64) * (2.0 * trust) ** p.trust_wtp
        buy = (eff_wtp >= rung.price) & (rng.random(len(offered)) < rung.conversion)
        who = offered[buy]
        self._purchases[r] += len(who)
        ctx.add_revenue(f"rung_{rung.name}", rung.price * len(who))
        if not len(who):
            return
        self.bought[r, who] = True
        self.level[who] = np.maximum(self.level[who], r)
        st.spend[who] += np.float32(rung.price)
        st.tier[who] = np.maximum(st.tier[who], self._tier[r])
        if rung.commitment:
            st.commitment[who] += np.float32(rung.commitment)
        d = self._evidence[r]  # == float(purchase_evidence(rung.price, rung.value))
        if d >= 0:
            ctx.pos[who] += p.evidence * d
        else:
            ctx.neg[who] += -p.evidence * d
        ctx.utility[who] += p.delight * d
        self._log.append((np.full(len(who), ctx.step, np.int32), who.astype(np.int64),
                          np.full(len(who), r, np.int16), trust[buy]))

    # -- hooks ----------------------------------------------------------------------------
    def on_messages(self, model, ctx, rng) -> None:
        self._broadcast_today = []
        self._offers[:] = 0
        self._purchases[:] = 0
        t = ctx.step
        st = model.state
        groups = None
        for r, rung in enumerate(self.params.rungs):
            if rung.channel != "broadcast" or not self._due(rung, t):
                continue
            if groups is None:
                groups = active_groups(st.status, st.group).astype(np.int32)
            if not len(groups):
                return
            k = len(groups)
            offer = Messages(np.full(k, -1, np.int64), groups.copy(),
                             np.full(k, self.params.offer_quality, np.float32), np.zeros(k, np.float32),
                             np.zeros(k, bool), np.full(k, MSG_OFFER, np.int8))
            ctx.messages = ctx.messages.concat(offer)
            self._broadcast_today.append((r, groups))

    def after_reading(self, model, ctx, rng) -> None:
        p, st, t = self.params, model.state, ctx.step
        ids = ctx.extra.get("ids")
        if ids is None or not len(ids):
            self._close_day(ctx)
            return
        # broadcast: every member of an offered group who reads today sees the offer
        if self._broadcast_today:
            for r, groups in self._broadcast_today:
                rung = p.rungs[r]
                seen = broadcast_audience(np.asarray(ids, np.int64), np.asarray(ctx.read_k), st.group, groups,
                                          int(ctx.n_groups))
                if rung.price > 0:
                    ctx.neg[seen] += p.annoyance
                    # resentment: selling to members who do not trust yet hurts most
                    resent = 2.0 * (1.0 - _trust(st, seen).astype(np.float64))
                    ctx.utility[seen] -= p.annoyance_cost * st.need[seen] * resent
                self._buy(model, ctx, r, seen[self._eligible(model, r, seen)], rng)
        # private: highest rung first, under the daily capacity budget
        budget = int(np.floor(p.capacity / p.offer_cost + 1e-9))
        used = 0
        # every private rung's candidates in one pass: what a rung's offers and purchases change
        # (its own offer days and purchases; the level of members who held the rung below it)
        # leaves the candidates of the rungs under it as they were. A gradual rung whose rung
        # below nobody holds (above the highest level held, ``top0``) has none: not scanned
        # (no draw, nothing recorded); a purchase today cannot change that for a lower rung
        # (its buyer already held the rung below it)
        R = len(p.rungs)
        top0 = int(self.level.max()) if len(self.level) else -1
        due = np.array([r.channel == "private" and t >= r.start and self._need[x] <= top0
                        for x, r in enumerate(p.rungs)])
        ptr, allc = ladder_candidates_all(
            np.asarray(ids, np.int64), self.last_offer, int(t), self._cadence, self.bought, st.trust_r, st.trust_s,
            self._min_trust, self.level, self._need, due) if due.any() else (np.zeros(R + 1, np.int64), _NO_IDS)
        for r in range(R - 1, -1, -1):
            rung = p.rungs[r]
            if not due[r]:
                continue
            # == ids[(t - last_offer[r, ids]) >= cadence], then those self._eligible keeps
            cand = allc[ptr[r]:ptr[r + 1]]  # == ladder_candidates(ids, last_offer[r], t, cadence, ...)
            room = budget - used
            if room <= 0:
                cand = cand[:0]
            elif len(cand) > room:
                cand = rng.choice(cand, room, replace=False)
            used += len(cand)
            self.last_offer[r, cand] = t
            self._buy(model, ctx, r, cand, rng)
        ctx.operator_capacity_used += used * p.offer_cost
        self._close_day(ctx)

    def _close_day(self, ctx) -> None:
        for rung in self.params.rungs:  # every rung has a revenue column, 0 on quiet days
            ctx.add_revenue(f"rung_{rung.name}", 0.0)
        self.total_offers += self._offers
        self.total_purchases += self._purchases

    def metrics(self, model, ctx) -> dict:
        out = {}
        for r, rung in enumerate(self.params.rungs):
            out[f"offers_rung_{rung.name}"] = int(self._offers[r]) if ctx is not None else 0
            out[f"purchases_rung_{rung.name}"] = int(self._purchases[r]) if ctx is not None else 0
        self._offers[:] = 0  # a day without readers (empty community) reports zeros
        self._purchases[:] = 0
        return out

    def purchases(self) -> pd.DataFrame:
        """Every purchase so far: step, member_id, rung, price, trust (at the offer)."""
        names = [r.name for r in self.params.rungs]
        if self._log:
            step, who, r, tr = (np.concatenate(c) for c in zip(*self._log, strict=True))
        else:
            step, who, r, tr = (np.empty(0, np.int32), np.empty(0, np.int64),
                                np.empty(0, np.int16), np.empty(0))
        return pd.DataFrame({"step": step, "member_id": who,
                             "rung": pd.Categorical([names[i] for i in r], categories=names),
                             "price": self._price[r] if len(r) else np.empty(0), "trust": tr})


# --------------------------------------------------------------------------------- ads


@register
class Ads(MonetizationPolicy):
    """Sponsored ads (广告): low-value ad posts sold per impression.

    Each day every group with active members gets ``Poisson(per_day)`` ad messages (kind
    ``MSG_AD``, quality ``quality``, no warmth); they are read like any message and count in
    the group's volume (more overload, less attention for real posts). Impressions are the
    expected ads a reader reads: ``k * A / V`` in an uncurated group (random order), and only
    what is left after the better posts in a curated one (ads sort last). Revenue is
    ``rate`` per impression times the reader's interest in the topic — the audience's
    precision: a well-targeted community earns more per impression. Each impression is
    ``annoyance`` negative trust evidence.

    Config::

        [monetization.ads]
        per_day = 2
        rate = 0.05

    Time-series columns: ``revenue_ads``, ``ad_impressions``, ``ad_precision``.
    """

    key = "ads"
    primary = "per_day"

    class Params(PolicyParams):
        per_day: float = Field(default=1.0, ge=0, le=1_000)  # ad posts per group per day (Poisson mean)
        rate: float = Field(default=0.05, ge=0)  # revenue per impression at precision 1
        quality: float = Field(default=0.02, ge=0, le=1)
        annoyance: float = Field(default=0.05, ge=0)  # negative trust evidence per impression
        start: int = Field(default=1, ge=0)

    def setup(self, model) -> None:
        self._ads = np.zeros(0, np.int64)
        self._imp = 0.0
        self._prec = 0.0

    def on_messages(self, model, ctx, rng) -> None:
        self._ads = np.zeros(ctx.n_groups, np.int64)
        if ctx.step < self.params.start or self.params.per_day <= 0:
            return
        st = model.state
        groups = active_groups(st.status, st.group).astype(np.int32)
        if not len(groups):
            return
        k = rng.poisson(self.params.per_day, len(groups))
        g = np.repeat(groups, k)
        m = len(g)
        if not m:
            return
        self._ads = np.bincount(g, minlength=ctx.n_groups).astype(np.int64)
        ctx.messages = ctx.messages.concat(Messages(
            np.full(m, -1, np.int64), g, np.full(m, self.params.quality, np.float32),
            np.zeros(m, np.float32), np.zeros(m, bool), np.full(m, MSG_AD, np.int8)))

    def after_reading(self, model, ctx, rng) -> None:
        self._imp = self._prec = 0.0
        ids = ctx.extra.get("ids")
        if ids is None or not len(ids) or not self._ads.any():
            ctx.add_revenue("ads", 0.0)
            return
        st = model.state
        if type(ctx.neg) is np.ndarray and ctx.neg.dtype == np.float64:  # one compiled pass
            reach, total = ad_reach(np.asarray(ids, np.int64), st.group, self._ads, ctx.group_volume,
                                    np.asarray(ctx.read_k, np.float64), np.asarray(ctx.curated, np.bool_), st.interest,
                                    ctx.neg, float(self.params.annoyance))
            ctx.add_revenue("ads", self.params.rate * float(reach))
            self._imp = float(total)
            self._prec = float(reach / self._imp) if self._imp > 0 else 0.0
            return
        imp = ad_impressions(np.asarray(ids, np.int64), st.group, self._ads, ctx.group_volume,
                             np.asarray(ctx.read_k, np.float64), np.asarray(ctx.curated, np.bool_))
        interest = st.interest[ids].astype(np.float64)
        reach = (imp * interest).sum()
        ctx.add_revenue("ads", self.params.rate * float(reach))
        ctx.neg[ids] += self.params.annoyance * imp
        self._imp = float(imp.sum())
        self._prec = float(reach / self._imp) if self._imp > 0 else 0.0

    def metrics(self, model, ctx) -> dict:
        out = {"ad_impressions": self._imp if ctx is not None else 0.0,
               "ad_precision": self._prec if ctx is not None else 0.0}
        self._imp = self._prec = 0.0
        self._ads = np.zeros(0, np.int64)
        return out


# --------------------------------------------------------------------------------- fee


@register
class MembershipFee(MonetizationPolicy):
    """A recurring membership fee (会员费), e.g. monthly.

    Each member is billed every ``period`` days from their join day (first bill at
    ``join + period``; with ``bill_at_join`` also on the join day). A member renews when their
    willingness to pay reaches the fee and their trust reaches ``min_trust``: the fee goes to
    revenue (``revenue_membership_fee``) and to the member's spend (sunk cost). A member who
    does not renew is **removed by the operator with leave reason ``forced``** (the operator
    ends the membership; the member does not count as an unhappy leaver, so spreads no word
    of mouth). Roles in ``exempt`` (default the owner and moderators) are never billed.

    Config::

        [monetization.membership_fee]
        fee = 30
        period = 30

    Time-series columns: ``revenue_membership_fee``, ``fee_billed``, ``fee_lapsed``.
    """

    key = "membership_fee"
    primary = "fee"

    class Params(PolicyParams):
        fee: float = Field(default=30.0, ge=0)
        period: int = Field(default=30, ge=1)
        min_trust: float = Field(default=0.0, ge=0, le=1)
        bill_at_join: bool = False
        exempt: list[Literal["owner", "expert", "contributor", "regular", "chatter", "spammer",
                             "moderator"]] = Field(default_factory=lambda: ["owner", "moderator"])

    def setup(self, model) -> None:
        self._exempt = np.zeros(len(Role), dtype=bool)
        for name in self.params.exempt:
            self._exempt[Role[name.upper()]] = True
        self._billed = self._lapsed = 0

    def on_step_end(self, model, ctx, rng) -> None:
        p, st, t = self.params, model.state, ctx.step
        ids = st.active_ids()
        ids = ids[~self._exempt[st.role[ids]]]
        age = t - st.join_step[ids].astype(np.int64)
        due = (age % p.period == 0) & ((age > 0) | p.bill_at_join)
        billed = ids[due]
        pays = (st.wtp[billed] >= p.fee) & (_trust(st, billed) >= p.min_trust)
        payers, lapsed = billed[pays], billed[~pays]
        ctx.add_revenue("membership_fee", p.fee * len(payers))
        st.spend[payers] += np.float32(p.fee)
        model.remove_members(lapsed, LeaveReason.FORCED)
        self._billed, self._lapsed = len(billed), len(lapsed)

    def metrics(self, model, ctx) -> dict:
        out = {"fee_billed": self._billed if ctx is not None else 0,
               "fee_lapsed": self._lapsed if ctx is not None else 0}
        self._billed = self._lapsed = 0
        return out


# --------------------------------------------------------------------------------- profit sharing


@register
class ProfitSharing(MonetizationPolicy):
    """Profit sharing (利益分享): commissions for successful referrals (裂变).

    Active members of tier ``min_tier`` or above (partners and shareholders by default,
    reached through the ladder) invite ``boost`` times as many prospects a day as others
    (:meth:`referral_boost`), and earn ``commission`` for every referred prospect who joins
    (from the model's record of today's successful referrals). Each commission is also
    ``trust_per_commission`` positive trust evidence for the partner. Commissions are a cost:
    the time series reports ``commission_paid``, ``commission_cumulative``, ``net_revenue``
    (all of today's revenue minus commissions) and ``net_revenue_cumulative``.

    Config::

        [monetization.profit_sharing]
        commission = 20
        boost = 3
    """

    key = "profit_sharing"
    primary = "commission"

    class Params(PolicyParams):
        commission: float = Field(default=20.0, ge=0)
        boost: float = Field(default=3.0, ge=0)
        min_tier: TierName = "partner"
        trust_per_commission: float = Field(default=0.5, ge=0)

    def setup(self, model) -> None:
        self._min = _TIERS[self.params.min_tier]
        self._paid = 0.0
        self.commission_cumulative = 0.0
        self.net_cumulative = 0.0

    def referral_boost(self, model, inviters: np.ndarray) -> np.ndarray:
        """Referral-rate multiplier for each inviter: ``boost`` for partners, else 1."""
        return np.where(model.state.tier[inviters] >= self._min, self.params.boost, 1.0)

    def on_messages(self, model, ctx, rng) -> None:
        # today's arrivals are done; tiers are still those of the moment of inviting
        joined, inviter = getattr(model, "_last_referrals", (np.empty(0, np.int64),) * 2)
        inviter = np.asarray(inviter, dtype=np.int64)
        inviter = inviter[inviter >= 0]
        earners = inviter[model.state.tier[inviter] >= self._min]
        self._paid = self.params.commission * len(earners)
        if len(earners):
            np.add.at(ctx.pos, earners, self.params.trust_per_commission)

    def metrics(self, model, ctx) -> dict:
        paid = self._paid if ctx is not None else 0.0
        gross = float(sum(ctx.revenue.values())) if ctx is not None else 0.0
        self.commission_cumulative += paid
        self.net_cumulative += gross - paid
        self._paid = 0.0
        return {"commission_paid": paid, "commission_cumulative": self.commission_cumulative,
                "net_revenue": gross - paid, "net_revenue_cumulative": self.net_cumulative}
