"""Entry gates (门槛). Gates combine: a candidate joins only if every gate admits it.

Every gate sees the day's candidates (prospects who were exposed or invited and would
accept) in config order; a later gate only sees those the earlier ones admitted. Gates that
remove members later (the activity requirement) act in ``on_step_end``. Strict entry with
lenient exit (严进宽出) is several strict admission gates and no activity requirement; the
opposite (宽进严出) is an open door with an activity requirement. See docs/policies_gates.md.

Each gate reports how many candidates it turned away today as ``gate_<key>_rejected`` in
the time series.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from qunsim.policies.base import Gate, PolicyParams, register
from qunsim.state import LeaveReason, Role

__all__ = [
    "InterestGate",
    "IdentityGate",
    "FeeGate",
    "ProcessGate",
    "ActivityRequirement",
    "role_codes",
]

_ROLE_NAMES = tuple(r.name.lower() for r in Role)


def role_codes(names) -> np.ndarray:
    """Role names -> int8 codes of :class:`~qunsim.state.Role`.

    >>> role_codes(["chatter", "spammer"]).tolist()
    [4, 5]
    """
    return np.array([Role[n.upper()] for n in names], dtype=np.int8)


def check_role_names(v: list[str]) -> list[str]:
    """Pydantic validator body: every name must be a role (error names the bad ones)."""
    bad = [n for n in v if not isinstance(n, str) or n.lower() not in _ROLE_NAMES]
    if bad:
        raise ValueError(f"unknown role(s) {bad}; expected some of {list(_ROLE_NAMES)}")
    return [n.lower() for n in v]


class _CountingGate(Gate):
    """Keeps today's rejections for the ``gate_<key>_rejected`` metric."""

    def __init__(self, params=None):
        super().__init__(params)
        self._day = -1
        self._rejected = 0

    def _count(self, model, n_rejected: int) -> None:
        step = model.ctx.step if getattr(model, "ctx", None) is not None else -1
        if step != self._day:
            self._day, self._rejected = step, 0
        self._rejected += int(n_rejected)

    def metrics(self, model, ctx) -> dict:
        n = self._rejected if (ctx is not None and ctx.step == self._day) else 0
        return {f"gate_{self.key}_rejected": n}


@register
class InterestGate(_CountingGate):
    """Interest match: admit candidates whose interest in the topic reaches ``threshold``.

    The gate sees a candidate's true interest with probability ``precision`` and a uniform
    random guess otherwise (imperfect targeting/screening of interest). ``precision = 1``
    admits exactly those with ``interest >= threshold``; ``precision = 0`` admits a random
    ``1 - threshold`` share.

    Config::

        [gate.interest]
        precision = 0.8
        threshold = 0.5
    """

    key = "interest"
    primary = "threshold"

    class Params(PolicyParams):
        precision: float = Field(default=0.8, ge=0, le=1)
        threshold: float = Field(default=0.5, ge=0, le=1)

    def admit(self, model, candidates, referred, rng):
        p = self.params
        true_i = model.state.interest[candidates]
        seen = np.where(rng.random(len(candidates)) < p.precision, true_i,
                        rng.random(len(candidates)))
        ok = seen >= p.threshold
        self._count(model, len(ok) - int(ok.sum()))
        return ok


@register
class IdentityGate(_CountingGate):
    """Identity / role filter (身份门槛, e.g. "professionals only"): admit only given roles.

    A candidate whose role is in ``roles`` is admitted (except a ``false_reject`` share turned
    away by mistake); a candidate of any other role is recognised and turned away with
    probability ``precision`` (the screener's accuracy), and slips through otherwise.
    ``precision = 1`` admits nobody outside ``roles``.

    Config::

        [gate.identity]
        roles = ["expert", "contributor"]
        precision = 0.9

    Examples
    --------
    >>> import qunsim as qs
    >>> m = qs.CommunityModel(rng=1, **{"community.n_seed": 40, "community.n_prospects": 400,
    ...                                 "gate.identity": {"roles": ["expert"], "precision": 1.0}})
    >>> m.run_for(20)
    >>> newcomers = (m.state.join_step > 0)
    >>> bool((m.state.initial_role[newcomers] == qs.Role.EXPERT).all())
    True
    """

    key = "identity"
    primary = "roles"

    class Params(PolicyParams):
        roles: list[str] = Field(default_factory=lambda: ["expert", "contributor"], min_length=1)
        precision: float = Field(default=0.9, ge=0, le=1)
        false_reject: float = Field(default=0.0, ge=0, le=1)

        _roles = field_validator("roles")(lambda cls, v: check_role_names(v))

    def setup(self, model):
        self._allowed = role_codes(self.params.roles)

    def admit(self, model, candidates, referred, rng):
        p = self.params
        inside = np.isin(model.state.initial_role[candidates], self._allowed)
        u = rng.random(len(candidates))
        ok = np.where(inside, u >= p.false_reject, u >= p.precision)
        self._count(model, len(ok) - int(ok.sum()))
        return ok


@register
class FeeGate(_CountingGate):
    """Entry fee (付费门槛): pay ``price`` to join.

    Candidates whose willingness to pay (``state.wtp``) is below ``price`` stay out. Those who
    join pay it: the fee is revenue (``revenue_entry_fee`` in the time series) and a sunk cost
    added to ``state.spend``, which damps leaving through ``dynamics.commit_sunk`` (sunk-cost
    commitment). Seed members are invited and do not pay. ``price = 0`` is an open door.

    Config::

        [gate.fee]
        price = 99.0
    """

    key = "fee"
    primary = "price"

    class Params(PolicyParams):
        price: float = Field(default=50.0, ge=0)

    def admit(self, model, candidates, referred, rng):
        ok = model.state.wtp[candidates] >= self.params.price
        self._count(model, len(ok) - int(ok.sum()))
        return ok

    def on_join(self, model, joined, rng):
        price = self.params.price
        if price <= 0 or not len(joined):
            return
        model.state.spend[joined] += np.float32(price)
        model.ctx.add_revenue("entry_fee", price * len(joined))

    def metrics(self, model, ctx) -> dict:
        out = super().metrics(model, ctx)
        out["revenue_entry_fee"] = float(ctx.revenue.get("entry_fee", 0.0)) if ctx is not None else 0.0
        return out


@register
class ProcessGate(_CountingGate):
    """Entry process (流程门槛): application, referral-only, screening.

    * ``referral_only``: only candidates invited by a member may join (no strangers from
      content/ads channels).
    * screening: a candidate whose role is in ``screen_roles`` (chatters and spammers by
      default) is caught with probability ``precision``; ``precision = 1`` admits none of them.
      ``false_reject`` is the share of other candidates turned away by mistake.
    * patience: the process (forms, waiting for approval) loses a ``dropout`` share of the
      candidates, whatever their role — the impatient give up.

    An application process is ``precision > 0`` with some ``dropout``; ``precision = 0,
    dropout = 0, referral_only = true`` is a pure referral-only community.

    Config::

        [gate.process]
        referral_only = false
        precision = 0.7
        dropout = 0.2
    """

    key = "process"
    primary = "precision"

    class Params(PolicyParams):
        referral_only: bool = False
        precision: float = Field(default=0.7, ge=0, le=1)
        screen_roles: list[str] = Field(default_factory=lambda: ["chatter", "spammer"])
        false_reject: float = Field(default=0.0, ge=0, le=1)
        dropout: float = Field(default=0.2, ge=0, le=1)

        _roles = field_validator("screen_roles")(lambda cls, v: check_role_names(v))

    def setup(self, model):
        self._screened = role_codes(self.params.screen_roles)

    def admit(self, model, candidates, referred, rng):
        p = self.params
        n = len(candidates)
        ok = np.ones(n, dtype=bool)
        if p.referral_only:
            ok &= np.asarray(referred, dtype=bool)
        ok &= rng.random(n) >= p.dropout
        flagged = np.isin(model.state.initial_role[candidates], self._screened)
        u = rng.random(n)
        ok &= np.where(flagged, u >= p.precision, u >= p.false_reject)
        self._count(model, n - int(ok.sum()))
        return ok


@register
class ActivityRequirement(Gate):
    """Activity requirement (活跃门槛): post within ``days`` days or be removed.

    ``window = "first"``: a newcomer must post at least once in the first ``days`` days of
    membership (the joining day counts as day 1); ``window = "rolling"``: every member must
    post in every ``days``-day window (removed after ``days`` silent days in a row). Members
    who fail are removed at the end of the day with leave reason ``inactive``. Roles in
    ``exempt`` (owner and moderators by default) are never removed.

    Config::

        [gate.activity_requirement]
        days = 14
        window = "first"
    """

    key = "activity_requirement"
    primary = "days"

    class Params(PolicyParams):
        days: int = Field(default=14, ge=1)
        window: Literal["first", "rolling"] = "first"
        exempt: list[str] = Field(default_factory=lambda: ["owner", "moderator"])

        _roles = field_validator("exempt")(lambda cls, v: check_role_names(v))

    def setup(self, model):
        self._exempt = role_codes(self.params.exempt)
        self._removed_day, self._removed = -1, 0

    def on_step_end(self, model, ctx, rng):
        from qunsim.policies._compiled import inactive_members, role_mask

        st, t, K = model.state, ctx.step, self.params.days
        counts = ctx.post_counts if ctx.post_counts is not None else np.empty(0, np.int64)
        fail = inactive_members(st.status, st.role, role_mask(np.asarray(self._exempt, np.int64)), st.posts,
                                counts, st.join_step, st.last_post, int(t), int(K),
                                self.params.window != "first")
        self._removed_day, self._removed = t, len(fail)
        if len(fail):
            model.remove_members(fail, reason=LeaveReason.INACTIVE)

    def metrics(self, model, ctx) -> dict:
        n = self._removed if (ctx is not None and ctx.step == self._removed_day) else 0
        return {"gate_activity_requirement_removed": n}
