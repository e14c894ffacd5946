"""Member state: a struct of arrays over the whole population (members and prospects).

The population is fixed when the model is built: everyone on the social graph is a row.
Prospects are rows with ``status == PROSPECT``; joining and leaving change the status, never
the shape. Every array has shape ``[n]`` (``n`` = population size) unless stated.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np

__all__ = [
    "Role",
    "Status",
    "TrustLevel",
    "LeaveReason",
    "EntryPath",
    "MemberState",
    "ROLE_ORDER",
]


class Role(IntEnum):
    OWNER = 0
    EXPERT = 1
    CONTRIBUTOR = 2
    REGULAR = 3
    CHATTER = 4
    SPAMMER = 5
    MODERATOR = 6


ROLE_ORDER = tuple(r.name.lower() for r in Role)


class Status(IntEnum):
    PROSPECT = 0
    ACTIVE = 1
    LEFT = 2
    BANNED = 3


class TrustLevel(IntEnum):
    NONE = 0  # 无关系
    WEAK = 1  # 弱关系
    STRONG = 2  # 强关系


class LeaveReason(IntEnum):
    NONE = 0
    DISSATISFIED = 1
    CONTAGION = 2
    INACTIVE = 3
    BANNED = 4
    FORCED = 5
    DISSOLVED = 6  # the community was dissolved (activity.dissolve)


class EntryPath(IntEnum):
    NONE = 0
    SEED = 1
    EXPOSURE = 2  # content/ads channels
    REFERRAL = 3  # invited by a member (裂变)


class Tier(IntEnum):
    MEMBER = 0  # free
    FAN = 1  # 粉丝: bought a low/mid rung
    PARTNER = 2  # 合伙人
    SHAREHOLDER = 3  # 股东


@dataclass
class MemberState:
    """Struct of arrays. Shapes ``[n]``; dtypes chosen to keep a row under 150 bytes.

    Attributes
    ----------
    role, initial_role : int8[n]        Role (chatter conversion changes ``role`` only)
    status : int8[n]                    Status
    group : int32[n]                    group index, -1 outside
    join_step, leave_step : int32[n]    -1 if not happened
    leave_reason : int8[n]              LeaveReason
    entry_path : int8[n]                EntryPath
    tier : int8[n]                      Tier (monetization ladder)
    offences : int16[n]                 caught spam messages / moderation strikes
    quality, warmth, post_rate, attention, taste, need, wtp, threshold : float32[n]
    interest : float32[n]               fit with the community's topic, [0, 1]
    trust_r, trust_s : float32[n]       Beta evidence (positive, negative)
    satisfaction : float32[n]           EWMA of relative surplus (u - need) / need
    utility : float32[n]                yesterday's net utility
    spend : float32[n]                  currency paid so far (sunk cost)
    commitment : float32[n]             extra commitment from policies (e.g. events)
    heard : float32[n]                  negative word of mouth heard (prospects)
    posts : int32[n]                    posts made in total
    posts_yesterday : int16[n]
    replies_yesterday : int16[n]        replies received yesterday
    last_post : int32[n]                step of last post, -1 never
    leader_tie : bool[n]                tied to a leader (owner / ring leader)
    strong_ties : int16[n]              strong ties to active members (kept up to date by the model)
    left_neighbors : int32[n]           neighbours who left within the contagion window (derived)
    member_neighbors : int32[n]         neighbours who ever joined (derived)
    propensity : float32[n]             posting propensity multiplier (1 = the role's rate)
    first_post_step : int32[n]          day of one's first post, -1 never posted
    first_replied : bool[n]             one's first posting day got a reply
    return_step : int32[n]              first posting day after the first one, -1 none
    """

    role: np.ndarray
    initial_role: np.ndarray
    status: np.ndarray
    group: np.ndarray
    join_step: np.ndarray
    leave_step: np.ndarray
    leave_reason: np.ndarray
    entry_path: np.ndarray
    tier: np.ndarray
    offences: np.ndarray
    quality: np.ndarray
    warmth: np.ndarray
    post_rate: np.ndarray
    attention: np.ndarray
    taste: np.ndarray
    need: np.ndarray
    wtp: np.ndarray
    threshold: np.ndarray
    interest: np.ndarray
    trust_r: np.ndarray
    trust_s: np.ndarray
    satisfaction: np.ndarray
    utility: np.ndarray
    spend: np.ndarray
    commitment: np.ndarray
    heard: np.ndarray
    posts: np.ndarray
    posts_yesterday: np.ndarray
    replies_yesterday: np.ndarray
    last_post: np.ndarray
    leader_tie: np.ndarray
    strong_ties: np.ndarray
    left_neighbors: np.ndarray
    member_neighbors: np.ndarray
    propensity: np.ndarray
    first_post_step: np.ndarray
    first_replied: np.ndarray
    return_step: np.ndarray

    @classmethod
    def empty(cls, n: int) -> MemberState:
        f4 = lambda: np.zeros(n, dtype=np.float32)  # noqa: E731
        return cls(
            role=np.full(n, Role.REGULAR, dtype=np.int8),
            initial_role=np.full(n, Role.REGULAR, dtype=np.int8),
            status=np.full(n, Status.PROSPECT, dtype=np.int8),
            group=np.full(n, -1, dtype=np.int32),
            join_step=np.full(n, -1, dtype=np.int32),
            leave_step=np.full(n, -1, dtype=np.int32),
            leave_reason=np.zeros(n, dtype=np.int8),
            entry_path=np.zeros(n, dtype=np.int8),
            tier=np.zeros(n, dtype=np.int8),
            offences=np.zeros(n, dtype=np.int16),
            quality=f4(), warmth=f4(), post_rate=f4(), attention=f4(), taste=f4(),
            need=f4(), wtp=f4(), threshold=f4(), interest=f4(),
            trust_r=f4(), trust_s=f4(), satisfaction=f4(), utility=f4(), spend=f4(),
            commitment=f4(), heard=f4(),
            posts=np.zeros(n, dtype=np.int32),
            posts_yesterday=np.zeros(n, dtype=np.int16),
            replies_yesterday=np.zeros(n, dtype=np.int16),
            last_post=np.full(n, -1, dtype=np.int32),
            leader_tie=np.zeros(n, dtype=bool),
            strong_ties=np.zeros(n, dtype=np.int16),
            left_neighbors=np.zeros(n, dtype=np.int32),
            member_neighbors=np.zeros(n, dtype=np.int32),
            propensity=np.ones(n, dtype=np.float32),
            first_post_step=np.full(n, -1, dtype=np.int32),
            first_replied=np.zeros(n, dtype=bool),
            return_step=np.full(n, -1, dtype=np.int32),
        )

    @property
    def n(self) -> int:
        return len(self.status)

    @property
    def trust(self) -> np.ndarray:
        """Trust = (r + 1) / (r + s + 2) (:func:`qunsim.kernels.trust.trust_value`), float64[n]."""
        from qunsim.kernels.trust import trust_value

        return trust_value(self.trust_r, self.trust_s)

    def active_mask(self) -> np.ndarray:
        return self.status == Status.ACTIVE

    def active_ids(self) -> np.ndarray:
        return np.flatnonzero(self.status == Status.ACTIVE)

    def ever_joined_mask(self) -> np.ndarray:
        return self.join_step >= 0

    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self))

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
