"""Reading under limited attention, and the utility members draw from it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qunsim.kernels.context import Messages

__all__ = ["GroupIndex", "read", "ReadResult"]


@dataclass
class GroupIndex:
    """Messages ordered by group (and by quality, best first, in curated groups).

    ``order`` : int64[m] permutation of messages; ``start``, ``count`` : int64[G] per group;
    ``cum_q``, ``cum_w``, ``cum_s``, ``cum_reply`` : float64[m + 1] prefix sums in that order.
    """

    order: np.ndarray
    start: np.ndarray
    count: np.ndarray
    cum_q: np.ndarray
    cum_w: np.ndarray
    cum_s: np.ndarray
    cum_reply: np.ndarray

    @classmethod
    def build(cls, msgs: Messages, n_groups: int, curated: np.ndarray) -> GroupIndex:
        g = msgs.group.astype(np.int64)
        if curated.any():
            # best first inside curated groups: sort key group + (1 - q) in [g, g + 1)
            cur = curated[g]
            key = g.astype(np.float64) + np.where(cur, 0.999 * (1.0 - msgs.quality), 0.0)
            order = np.argsort(key, kind="stable")
        elif n_groups <= np.iinfo(np.int16).max:
            order = np.argsort(g.astype(np.int16), kind="stable")  # radix sort: O(m)
        else:
            order = np.argsort(g, kind="stable")
        count = np.bincount(g, minlength=n_groups).astype(np.int64)
        start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        q = msgs.quality[order].astype(np.float64)
        w = msgs.warmth[order].astype(np.float64)
        s = msgs.spam[order].astype(np.float64)
        reply_w = 0.5 * (q + w) * (1.0 - s)

        def cum(x):
            out = np.zeros(len(x) + 1)
            np.cumsum(x, out=out[1:])
            return out

        return cls(order, start, count, cum(q), cum(w), cum(s), cum(reply_w))


@dataclass
class ReadResult:
    """Per reader (aligned with the ``ids`` passed to :func:`read`).

    k : messages read; value : value drawn from them; spam : spam messages read;
    overflow : (V - a)^+ / a; buried : (V - a)^+ / V (share of the group's messages unread);
    utility : value - reading cost - overload cost.
    """

    k: np.ndarray
    value: np.ndarray
    info: np.ndarray
    spam: np.ndarray
    overflow: np.ndarray
    buried: np.ndarray
    utility: np.ndarray


def read(
    gi: GroupIndex,
    group: np.ndarray,
    attention: np.ndarray,
    taste: np.ndarray,
    interest: np.ndarray,
    curated: np.ndarray,
    overload_relief: np.ndarray,
    *,
    spam_penalty: float,
    read_cost: float,
    overload_cost: float,
) -> ReadResult:
    """Each reader reads ``k = min(V_g, a)`` of the ``V_g`` messages of their group.

    Value of a message to reader i: ``iota_i * omega_i * q + (1 - omega_i) * w - s * spam``.
    Uncurated groups are read in random order (expected value ``k`` times the group mean);
    curated groups best first (prefix sums of the quality-sorted messages). Costs:
    ``read_cost * k`` and ``overload_cost * (1 - relief_g) * log(1 + (V - a)^+ / a)``.

    >>> import numpy as np
    >>> from qunsim.kernels.context import Messages
    >>> msgs = Messages(np.array([0, 1, 2]), np.array([0, 0, 0]), np.array([1.0, 0.0, 0.5], np.float32),
    ...                 np.zeros(3, np.float32), np.zeros(3, bool), np.zeros(3, np.int8))
    >>> cur = np.array([True])
    >>> gi = GroupIndex.build(msgs, 1, cur)
    >>> r = read(gi, np.array([0]), np.array([2.0]), np.array([1.0]), np.array([1.0]), cur,
    ...          np.zeros(1), spam_penalty=1, read_cost=0, overload_cost=0)
    >>> float(r.value[0])          # reads the two best: 1.0 + 0.5
    1.5
    """
    # written with in-place operations (fewer 8-byte-per-reader temporaries at 10^6 readers);
    # every value is computed by the same floating-point operations as the plain expressions
    # in the comments, so results are bit-identical
    V = gi.count[group].astype(np.float64)
    a = attention.astype(np.float64)
    np.maximum(a, 1e-9, out=a)
    k = np.minimum(V, a)
    om = taste.astype(np.float64)
    io = interest.astype(np.float64)
    cur = curated[group]
    start = gi.start[group]
    has = V > 0
    # random order: expected sums = k * group means; frac = where(V > 0, k / V, 0)
    frac = np.zeros(len(V))
    np.divide(k, V, out=frac, where=has)
    # group totals once per group, then gathered per reader: sq = frac * tot_q, ...
    end = gi.start + gi.count
    sq = (gi.cum_q[end] - gi.cum_q[gi.start])[group]
    sw = (gi.cum_w[end] - gi.cum_w[gi.start])[group]
    ss = (gi.cum_s[end] - gi.cum_s[gi.start])[group]
    sq *= frac
    sw *= frac
    ss *= frac
    if cur.any():
        kc = np.floor(k[cur]).astype(np.int64)
        s0 = start[cur]
        sq[cur] = gi.cum_q[s0 + kc] - gi.cum_q[s0]
        sw[cur] = gi.cum_w[s0 + kc] - gi.cum_w[s0]
        ss[cur] = gi.cum_s[s0 + kc] - gi.cum_s[s0]
        k[cur] = kc
    # info = io * om * sq
    info = io * om
    info *= sq
    # value = info + (1 - om) * sw - spam_penalty * ss
    value = np.subtract(1.0, om, out=om)
    value *= sw
    value += info
    value -= spam_penalty * ss
    # overflow = max(V - a, 0) / a; buried = where(V > 0, over / V, 0)
    over = V - a
    np.maximum(over, 0.0, out=over)
    overflow = over / a
    buried = np.zeros(len(V))
    np.divide(over, V, out=buried, where=has)
    # utility = value - read_cost * k - overload_cost * (1 - relief) * log1p(overflow)
    relief = overload_relief[group]  # a gathered copy: safe to overwrite
    np.subtract(1.0, relief, out=relief)
    relief *= overload_cost
    cost = relief * np.log1p(overflow)
    utility = value - read_cost * k
    utility -= cost
    return ReadResult(k, value, info, ss, overflow, buried, utility)
