"""Activity policies: what operators do to messages and members day to day."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from qunsim.kernels.context import MSG_POST
from qunsim.policies.base import ActivityPolicy, PolicyParams, register
from qunsim.state import LeaveReason

__all__ = ["SpamModeration"]


@register
class SpamModeration(ActivityPolicy):
    """Spam moderation: catch spam before members read it; ban repeat offenders.

    Each spam message is caught with probability ``precision`` (the moderator's detection
    rate) and removed before anyone reads it; each legitimate post is removed by mistake with
    probability ``false_positive``. A member whose caught spam reaches ``ban_after`` is banned
    (status BANNED, leave reason ``banned``).

    Config::

        [activity.spam_moderation]
        precision = 0.9
        ban_after = 3
    """

    key = "spam_moderation"
    primary = "precision"

    class Params(PolicyParams):
        precision: float = Field(default=0.9, ge=0, le=1)
        false_positive: float = Field(default=0.0, ge=0, le=1)
        ban_after: int = Field(default=3, ge=1)

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
        ctx.messages = msgs.select(~remove)

    def on_step_end(self, model, ctx, rng):
        st = model.state
        ban = st.active_mask() & (st.offences >= self.params.ban_after)
        if ban.any():
            model.remove_members(np.flatnonzero(ban), reason=LeaveReason.BANNED)
