"""Mesa agents as views onto :class:`~qunsim.state.MemberState`.

A :class:`Member` holds only its population index; each attribute is a descriptor that
reads and writes the model's arrays, so ``member.trust_r = 3`` changes the array the
kernels use. The hot loop never touches these objects.
"""

from __future__ import annotations

import mesa
import numpy as np

from qunsim.kernels.trust import trust_value
from qunsim.state import LeaveReason, Role, Status, TrustLevel

__all__ = ["Member", "Role", "Status", "TrustLevel", "LeaveReason"]


class ArrayAttribute:
    """Descriptor: ``obj.<name>`` is ``obj.model.state.<name>[obj.index]``."""

    def __init__(self, kind=None):
        self.kind = kind

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        v = getattr(obj.model.state, self.name)[obj.index]
        if self.kind is not None:
            return self.kind(int(v))
        return v.item() if isinstance(v, np.generic) else v

    def __set__(self, obj, value):
        getattr(obj.model.state, self.name)[obj.index] = value


class Member(mesa.Agent):
    """One active member, viewed through the model's arrays.

    Examples
    --------
    >>> import qunsim as qs
    >>> model = qs.CommunityModel(rng=1, **{"community.n_seed": 20, "community.n_prospects": 50})
    >>> m = next(iter(model.agents))
    >>> m.status
    <Status.ACTIVE: 1>
    >>> m.trust_r = 8.0
    >>> float(model.state.trust_r[m.index])
    8.0
    """

    role = ArrayAttribute(Role)
    initial_role = ArrayAttribute(Role)
    status = ArrayAttribute(Status)
    leave_reason = ArrayAttribute(LeaveReason)
    group = ArrayAttribute()
    join_step = ArrayAttribute()
    quality = ArrayAttribute()
    warmth = ArrayAttribute()
    post_rate = ArrayAttribute()
    attention = ArrayAttribute()
    taste = ArrayAttribute()
    need = ArrayAttribute()
    wtp = ArrayAttribute()
    threshold = ArrayAttribute()
    interest = ArrayAttribute()
    trust_r = ArrayAttribute()
    trust_s = ArrayAttribute()
    satisfaction = ArrayAttribute()
    spend = ArrayAttribute()
    tier = ArrayAttribute()
    posts = ArrayAttribute()
    strong_ties = ArrayAttribute()

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = int(index)

    @property
    def trust(self) -> float:
        st = self.model.state
        return float(trust_value(float(st.trust_r[self.index]), float(st.trust_s[self.index])))

    @property
    def trust_level(self) -> TrustLevel:
        return TrustLevel(int(self.model.trust_level_array()[self.index]))

    def step(self) -> None:
        """Members do not act one by one: the model's kernels move everyone at once."""

    def __repr__(self) -> str:
        return f"Member(index={self.index}, role={self.role.name}, status={self.status.name})"
