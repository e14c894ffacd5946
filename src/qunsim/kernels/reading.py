"""Reading under limited attention, the utility members draw from it, and the replies they
write while the group's messages are at hand (compiled)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qunsim._jit import njit
from qunsim.kernels.context import Messages

__all__ = ["GroupIndex", "read", "ReadResult", "read_and_reply", "filtered_index", "read_utilities"]


@njit
def _counting_order(group, n_groups):
    """Stable order of messages by group (a counting sort), with per-group start and count."""
    count = np.zeros(n_groups, np.int64)
    for g in group:
        count[g] += 1
    start = np.empty(n_groups, np.int64)
    acc = 0
    for g in range(n_groups):
        start[g] = acc
        acc += count[g]
    nxt = start.copy()
    order = np.empty(len(group), np.int64)
    for j in range(len(group)):
        g = group[j]
        order[nxt[g]] = j
        nxt[g] += 1
    return order, start, count


@njit
def _prefix_sums(order, quality, warmth, spam):
    """Prefix sums (length m + 1) of quality, warmth, spam and reply weight ``(q + w)/2``
    (0 for spam), in reading order."""
    m = len(order)
    cq = np.zeros(m + 1)
    cw = np.zeros(m + 1)
    cs = np.zeros(m + 1)
    cr = np.zeros(m + 1)
    for jj in range(m):
        j = order[jj]
        q = np.float64(quality[j])
        w = np.float64(warmth[j])
        s = 1.0 if spam[j] else 0.0
        cq[jj + 1] = cq[jj] + q
        cw[jj + 1] = cw[jj] + w
        cs[jj + 1] = cs[jj] + s
        cr[jj + 1] = cr[jj] + 0.5 * (q + w) * (1.0 - s)
    return cq, cw, cs, cr


@njit
def _curated_order(group, n_groups, quality, curated):
    """``np.argsort(g + where(curated[g], 0.999 * (1 - q), 0), kind="stable")`` without a global
    sort: the key lies in [g, g + 1), so the order is the groups' counting order with each
    curated group's span stably sorted by the same float64 key (best quality first). The key
    is computed as numpy computes it: ``0.999 * (1 - q)`` in float32 (``q`` is float32), then
    added to the group index in float64."""
    order, start, count = _counting_order(group, n_groups)
    for g in range(n_groups):
        if not curated[g] or count[g] < 2:
            continue
        s0 = start[g]
        e0 = s0 + count[g]
        seg = order[s0:e0].copy()
        key = np.empty(len(seg))
        for x in range(len(seg)):
            y = np.float32(0.999) * (np.float32(1.0) - np.float32(quality[seg[x]]))
            key[x] = np.float64(g) + np.float64(y)
        o = np.argsort(key, kind="mergesort")
        for x in range(len(seg)):
            order[s0 + x] = seg[o[x]]
    return order, start, count


@njit
def _group_index(group, n_groups, quality, warmth, spam):
    """Counting-sort order and prefix sums in one call (groups read in posting order)."""
    order, start, count = _counting_order(group, n_groups)
    cq, cw, cs, cr = _prefix_sums(order, quality, warmth, spam)
    return order, start, count, cq, cw, cs, cr


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
        g = np.asarray(msgs.group)
        if curated.any() and len(g):
            # best first inside curated groups: sort key group + 0.999 (1 - q) in [g, g + 1)
            if np.asarray(msgs.quality).dtype == np.float32:
                order, start, count = _curated_order(g, int(n_groups), msgs.quality, np.asarray(curated, np.bool_))
            else:  # (the compiled order reproduces numpy's float32 key only)
                order, start, count = _counting_order(g, int(n_groups))
                g64 = g.astype(np.int64)
                key = g64.astype(np.float64) + np.where(curated[g64], 0.999 * (1.0 - msgs.quality), 0.0)
                order = np.argsort(key, kind="stable")
            return cls(order, start, count, *_prefix_sums(order, msgs.quality, msgs.warmth, msgs.spam))
        return cls(*_group_index(g, int(n_groups), msgs.quality, msgs.warmth, msgs.spam))


@njit
def _filtered_index(order, drop, group, n_groups, quality, warmth, spam):
    m = 0
    for jj in range(len(order)):
        if not drop[order[jj]]:
            m += 1
    kept = np.empty(m, np.int64)
    count = np.zeros(n_groups, np.int64)
    x = 0
    for jj in range(len(order)):
        j = order[jj]
        if not drop[j]:
            kept[x] = j
            count[group[j]] += 1
            x += 1
    start = np.empty(n_groups, np.int64)
    acc = 0
    for g in range(n_groups):
        start[g] = acc
        acc += count[g]
    cq, cw, cs, cr = _prefix_sums(kept, quality, warmth, spam)
    return kept, start, count, cq, cw, cs, cr


def filtered_index(gi: GroupIndex, msgs: Messages, drop: np.ndarray) -> GroupIndex:
    """The group index of the messages without those in ``drop`` (bool[m]), derived from
    ``gi`` without sorting again (the kept messages keep their reading order). ``order``
    indexes ``msgs``."""
    return GroupIndex(*_filtered_index(gi.order, np.asarray(drop, np.bool_), msgs.group, len(gi.count),
                                       msgs.quality, msgs.warmth, msgs.spam))


@dataclass
class ReadResult:
    """Per reader (aligned with the ``ids`` passed to :func:`read`).

    k : messages read; value : value drawn from them; info : information value alone;
    spam : spam messages read; overflow : (V - a)^+ / a; buried : (V - a)^+ / V (share of the
    group's messages unread); utility : value - reading cost - overload cost.
    """

    k: np.ndarray
    value: np.ndarray
    info: np.ndarray
    spam: np.ndarray
    overflow: np.ndarray
    buried: np.ndarray
    utility: np.ndarray


@njit
def reply_weight_read(cum_reply, s0, V, k, cur):
    """Reply weight ``W`` a reader of ``k`` messages saw in a group of ``V`` starting at ``s0``:
    the ``floor(k)`` best if curated, else ``k / V`` of the group's total (expected)."""
    if cur:
        return cum_reply[s0 + np.int64(np.floor(k))] - cum_reply[s0]
    frac = k / V if V > 0 else 1.0
    return (cum_reply[s0 + V] - cum_reply[s0]) * frac


@njit
def _group_totals(start, count, cum_q, cum_w, cum_s, cum_reply):
    """Each group's totals of quality, warmth, spam and reply weight (differences of the prefix
    sums over the group's span, float64[G] each): readers of a random-order group read these
    small arrays instead of four prefix sums each at both ends of the group's span."""
    G = len(count)
    tq = np.empty(G)
    tw = np.empty(G)
    ts = np.empty(G)
    tr = np.empty(G)
    for g in range(G):
        s0 = start[g]
        e0 = s0 + count[g]
        tq[g] = cum_q[e0] - cum_q[s0]
        tw[g] = cum_w[e0] - cum_w[s0]
        ts[g] = cum_s[e0] - cum_s[s0]
        tr[g] = cum_reply[e0] - cum_reply[s0]
    return tq, tw, ts, tr


@njit
def _read_one(i, g, attention, taste, interest, start, count, cum_q, cum_w, cum_s, curated, tq, tw, ts,
              overload_relief, spam_penalty, read_cost, overload_cost):
    """One reader ``i`` of group ``g``: ``(k, value, info, spam, overflow, buried, utility)``
    (the rule of :func:`_read`; ``tq``, ``tw``, ``ts`` are the groups' totals)."""
    V = np.float64(count[g])
    a = max(np.float64(attention[i]), 1e-9)
    k = min(V, a)
    om = np.float64(taste[i])
    io = np.float64(interest[i])
    if curated[g]:
        s0 = start[g]
        kc = np.int64(np.floor(k))
        sq = cum_q[s0 + kc] - cum_q[s0]
        sw = cum_w[s0 + kc] - cum_w[s0]
        ss = cum_s[s0 + kc] - cum_s[s0]
        k = np.float64(kc)
    else:
        frac = k / V if V > 0 else 0.0
        sq = tq[g] * frac
        sw = tw[g] * frac
        ss = ts[g] * frac
    inf = io * om * sq
    val = (1.0 - om) * sw + inf - spam_penalty * ss
    over = max(V - a, 0.0)
    ovf = over / a
    buried = over / V if V > 0 else 0.0
    util = val - read_cost * k - (1.0 - overload_relief[g]) * overload_cost * np.log1p(ovf)
    return k, val, inf, ss, ovf, buried, util


@njit
def _read(ids, at, group, attention, taste, interest, start, count, cum_q, cum_w, cum_s, cum_reply,
          curated, overload_relief, spam_penalty, read_cost, overload_cost, want_replies):
    """Reading of readers ``ids`` (attributes at ``at``), and their reply counts.

    Reader i reads ``k = min(V_g, a_i)`` of the ``V_g`` messages of its group: the group's in
    random order (expected sums: ``k / V`` times the group's sums), or the ``floor(k)`` best
    in a curated group (prefix sums of the quality-sorted messages). Value of a message:
    ``iota * omega * q + (1 - omega) * w - spam_penalty * spam``. Utility: value minus
    ``read_cost * k`` minus ``overload_cost * (1 - relief_g) * log(1 + (V - a)^+ / a)``.
    With ``want_replies`` also returns ``W_i``, the reply weight reader i read (expected, in
    random order): it makes ``Poisson(reply_prob * W_i)`` replies.
    """
    n = len(ids)
    k_out = np.empty(n)
    value = np.empty(n)
    info = np.empty(n)
    spam = np.empty(n)
    overflow = np.empty(n)
    buried = np.empty(n)
    utility = np.empty(n)
    W = np.zeros(n if want_replies else 0)
    tq, tw, ts, tr = _group_totals(start, count, cum_q, cum_w, cum_s, cum_reply)
    for j in range(n):
        i = at[j]
        g = group[i]
        k, val, inf, ss, ovf, bur, util = _read_one(i, g, attention, taste, interest, start, count, cum_q,
                                                    cum_w, cum_s, curated, tq, tw, ts, overload_relief,
                                                    spam_penalty, read_cost, overload_cost)
        k_out[j] = k
        value[j] = val
        info[j] = inf
        spam[j] = ss
        overflow[j] = ovf
        buried[j] = bur
        utility[j] = util
        if want_replies:
            if curated[g]:
                W[j] = reply_weight_read(cum_reply, start[g], count[g], k, True)
            else:
                V = np.float64(count[g])
                W[j] = tr[g] * (k / V if V > 0 else 1.0)  # == reply_weight_read(..., False)
    return k_out, value, info, spam, overflow, buried, utility, W


@njit
def read_utilities(ids, group, attention, taste, interest, start, count, cum_q, cum_w, cum_s, cum_reply,
                   curated, overload_relief, spam_penalty, read_cost, overload_cost):
    """Only the reading utility of readers ``ids`` (population arrays), float64[len(ids)]:
    exactly :func:`_read`'s ``utility`` without its other outputs (policies that compare a
    reader's day with another feed, e.g. a personal chatter filter)."""
    out = np.empty(len(ids))
    tq, tw, ts, _ = _group_totals(start, count, cum_q, cum_w, cum_s, cum_reply)
    for j in range(len(ids)):
        i = ids[j]
        out[j] = _read_one(i, group[i], attention, taste, interest, start, count, cum_q, cum_w, cum_s,
                           curated, tq, tw, ts, overload_relief, spam_penalty, read_cost, overload_cost)[6]
    return out


@njit
def _bisect_right(cum, lo, hi, t):
    """First index in ``cum[lo:hi]`` whose value exceeds ``t`` (``hi`` if none); branch-free
    halving (the comparisons of a bisection over random targets are unpredictable)."""
    n = hi - lo
    if n <= 0:
        return lo
    b = lo
    while n > 1:
        half = n >> 1
        b = b + half if cum[b + half] <= t else b
        n -= half
    return b + 1 if cum[b] <= t else b


@njit
def _reply_message(cum_reply, lo, hi, t, guess):
    """``_bisect_right(cum_reply, lo, hi + 1, t) - 1``: the message (position in reading order)
    on whose reply weight the target ``t`` falls. ``guess`` in [0, 1) is where ``t`` would be if
    the weights were equal (the reply's uniform): the search first tries the 16 positions
    around it, which hold the answer nearly always and stay in one or two cache lines, and
    falls back to the whole span (the answer is the same either way: the first position
    whose prefix sum exceeds ``t``)."""
    m = hi + 1 - lo
    if m > 16:
        s = lo + np.int64(guess * m) - 8
        if s < lo:
            s = lo
        if s > hi - 15:
            s = hi - 15
        if (s == lo or cum_reply[s - 1] <= t) and (s + 16 > hi or cum_reply[s + 15] > t):
            return _bisect_right(cum_reply, s, s + 16, t) - 1
    return _bisect_right(cum_reply, lo, hi + 1, t) - 1


@njit
def _reply_targets(ids, at, group, k, R, u, start, count, cum_reply, curated, author, n_pop):
    """Reply pairs ``(reader, author)`` and replies received per member (int64[n_pop]).

    Each of reader i's ``R_i`` replies goes to the message where a uniform falls on the
    cumulative reply weight of the messages it read (the group's in random order, the
    ``floor(k_i)`` best if curated; ``author`` in reading order); ``u`` holds one uniform per reply, reader by reader.
    Self-replies and replies to operator content are dropped.

    Two passes: the first finds every reply's message (searches in the groups' prefix sums),
    the second reads the authors and counts replies received. Split so, the second pass's
    loads (author, counter) do not wait behind the searches and overlap in memory.
    """
    total = 0
    for j in range(len(ids)):
        total += R[j]
    msg = np.empty(total, np.int64)
    reader = np.empty(total, np.int64)
    x = 0
    for j in range(len(ids)):
        if R[j] == 0:
            continue
        g = group[at[j]]
        lo = start[g]
        hi = lo + (np.int64(np.floor(k[j])) if curated[g] else count[g])
        base = cum_reply[lo]
        span = cum_reply[hi] - base
        top = hi - 1 if hi - 1 > lo else lo
        me = ids[j]
        for _ in range(R[j]):
            idx = _reply_message(cum_reply, lo, hi, base + u[x] * span, u[x])
            if idx < lo:
                idx = lo
            if idx > top:
                idx = top
            msg[x] = idx
            reader[x] = me
            x += 1
    target = np.empty(total, np.int64)
    received = np.zeros(n_pop, np.int64)
    pos = 0
    for x in range(total):
        a = author[msg[x]]
        me = reader[x]
        if a >= 0 and a != me:
            reader[pos] = me  # (pos <= x: compacts in place)
            target[pos] = a
            received[a] += 1
            pos += 1
    return reader[:pos], target[:pos], received


def read(gi: GroupIndex, group, attention, taste, interest, curated, overload_relief, *,
         spam_penalty: float, read_cost: float, overload_cost: float) -> ReadResult:
    """Each reader reads ``k = min(V_g, a)`` of the ``V_g`` messages of their group (arrays
    aligned with the readers; see :func:`read_and_reply` for the rule). Draws nothing.

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
    group = np.asarray(group)
    at = np.arange(len(group), dtype=np.int64)
    out = _read(at, at, group, np.asarray(attention), np.asarray(taste), np.asarray(interest),
                gi.start, gi.count, gi.cum_q, gi.cum_w, gi.cum_s, gi.cum_reply,
                np.asarray(curated, np.bool_), np.asarray(overload_relief, np.float64),
                float(spam_penalty), float(read_cost), float(overload_cost), False)
    return ReadResult(*out[:7])



def read_and_reply(gi: GroupIndex, msgs: Messages, ids, group, attention, taste, interest, curated,
                   overload_relief, *, spam_penalty: float, read_cost: float, overload_cost: float,
                   reply_prob: float, rng: np.random.Generator, at=None):
    """Stage *reading and replies*: :func:`read` for readers ``ids`` and the replies they make.

    Attribute arrays are population arrays read at ``at`` (default ``ids``). Returns
    ``(ReadResult, reader, author, received)``: reply pairs (reader, author) and replies
    received per member, int64[len(attention)]. Draws (vector draws from ``rng``): one
    Poisson per reader (reader order), then one uniform per reply.
    """
    ids = np.asarray(ids, np.int64)
    at = ids if at is None else at
    want = bool(reply_prob > 0 and len(ids) and len(msgs))
    curated = np.asarray(curated, np.bool_)
    *res, W = _read(ids, at, group, attention, taste, interest, gi.start, gi.count, gi.cum_q, gi.cum_w,
                    gi.cum_s, gi.cum_reply, curated, np.asarray(overload_relief, np.float64),
                    float(spam_penalty), float(read_cost), float(overload_cost), want)
    rr = ReadResult(*res)
    if not want:
        e = np.empty(0, np.int64)
        return rr, e, e, np.zeros(len(attention), np.int64)
    R = rng.poisson(reply_prob * W)
    u = rng.random(int(R.sum()))
    reader, author, received = _reply_targets(ids, at, group, rr.k, R, u, gi.start, gi.count, gi.cum_reply,
                                              curated, msgs.author[gi.order], len(attention))
    return rr, reader, author, received
