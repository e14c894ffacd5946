"""The day's messages and the scratch arrays policies may change during a step."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Messages", "StepContext", "MSG_POST", "MSG_OFFER", "MSG_AD", "MSG_EVENT"]

MSG_POST, MSG_OFFER, MSG_AD, MSG_EVENT = 0, 1, 2, 3


@dataclass
class Messages:
    """Struct of arrays, shape ``[m]``: one row per message posted today.

    author : int64 (population index, -1 for operator content), group : int32,
    quality, warmth : float32 in [0, 1], spam : bool, kind : int8 (MSG_*)
    """

    author: np.ndarray
    group: np.ndarray
    quality: np.ndarray
    warmth: np.ndarray
    spam: np.ndarray
    kind: np.ndarray

    @classmethod
    def empty(cls) -> Messages:
        return cls(np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.float32),
                   np.empty(0, np.float32), np.empty(0, bool), np.empty(0, np.int8))

    def __len__(self) -> int:
        return len(self.author)

    def select(self, mask: np.ndarray) -> Messages:
        return Messages(self.author[mask], self.group[mask], self.quality[mask],
                        self.warmth[mask], self.spam[mask], self.kind[mask])

    def concat(self, other: Messages) -> Messages:
        return Messages(*(np.concatenate([getattr(self, f), getattr(other, f)])
                          for f in ("author", "group", "quality", "warmth", "spam", "kind")))


@dataclass
class StepContext:
    """Scratch state of one day, handed to policy hooks.

    ``post_counts`` : int64[n] posts each member makes today (policies may cap it);
    ``messages`` : the day's messages (policies may remove or add);
    ``utility``, ``pos``, ``neg`` : float64[n] extra utility and trust evidence from policies;
    ``curated`` : bool[n_groups] groups whose readers see the best first;
    ``overload_relief`` : float[n_groups] in [0, 1], share of the overload cost lifted;
    ``removed``, ``removed_spam`` : messages removed by moderation today;
    ``revenue`` : dict of revenue by source today; ``operator_capacity_used`` : float;
    ``read_k``, ``read_value``, ``read_utility``, ``spam_read`` : per reader, aligned with
    ``extra["ids"]`` (``extra["received"]``: replies received per member, int64[n]);
    ``group_volume`` : messages per group today. (Lasting commitment from policies goes to
    ``model.state.commitment``.)
    """

    step: int
    n: int
    n_groups: int
    post_counts: np.ndarray | None = None
    messages: Messages = field(default_factory=Messages.empty)
    utility: np.ndarray | None = None
    pos: np.ndarray | None = None
    neg: np.ndarray | None = None
    curated: np.ndarray | None = None
    overload_relief: np.ndarray | None = None
    removed: int = 0
    removed_spam: int = 0
    revenue: dict = field(default_factory=dict)
    operator_capacity_used: float = 0.0
    read_k: np.ndarray | None = None
    read_value: np.ndarray | None = None
    read_utility: np.ndarray | None = None
    spam_read: np.ndarray | None = None
    group_volume: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.n
        if self.utility is None:
            self.utility = np.zeros(n)
        if self.pos is None:
            self.pos = np.zeros(n)
        if self.neg is None:
            self.neg = np.zeros(n)
        if self.curated is None:
            self.curated = np.zeros(self.n_groups, dtype=bool)
        if self.overload_relief is None:
            self.overload_relief = np.zeros(self.n_groups)

    def add_revenue(self, source: str, amount: float) -> None:
        self.revenue[source] = self.revenue.get(source, 0.0) + float(amount)
