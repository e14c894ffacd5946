"""The fused day: when no policy takes part in the day, the stages run as compiled calls
with no Python between them (``CommunityModel.step`` picks this orchestration; see
docs/model.md).

The stages are the same kernels the staged day calls one by one from Python with the policy
hooks between them (one physics, two orchestrations), drawing from the model's generator in
the same order, so both give the same trajectory bit for bit:

1. :func:`arrival_candidates` — word of mouth fades, people reached by content/ads and by
   members' invitations (one decision per person per day). Python takes numpy's ``exp`` of
   their word-of-mouth exponent (compiled code's ``exp`` differs in the last bit on some
   machines).
2. :func:`join_day` (days with candidates) — the chance to accept from that ``exp``
   (:func:`accept_from_exp`, the value of ``accept_probability``), the acceptance draws,
   places in groups
   (:func:`choice_without_replacement`, numpy's ``Generator.choice`` draw for draw),
   activation, leader ties, neighbour counts. Python creates the joiners' Mesa agent views.
3. :func:`members_day_packed` (:func:`members_stages` with packed arguments) — posting, the
   day's messages, reading, replies and ties, trust, satisfaction and churn (the departures),
   chatter conversion, bookkeeping, word of mouth and, unless queued ties are merged today,
   the record (:func:`~qunsim.kernels.record.record_day`); new ties are priced from
   :func:`tie_strengths` (numpy's ``power``, made once). Python queues the new ties, removes
   the departed members' agent views, and on merge days merges the ties
   (:func:`merge_and_update`) and then records.

The generator is handed to compiled code as a small tuple of addresses
(:func:`generator_handle`) instead of the ``np.random.Generator`` object: numba's own
conversion of a Generator argument costs ~8–13 µs a call (three ``ctypes.cast`` calls), the
handle ~0.4 µs; inside, :func:`generator_from` rebuilds numba's Generator over the same
bit generator, so the draws are numpy's. With ``NUMBA_DISABLE_JIT=1`` the handle is the
Generator itself.
"""

from __future__ import annotations

import ctypes

import numpy as np
from numba import config, types
from numba.core import cgutils
from numba.extending import intrinsic

from qunsim._jit import njit
from qunsim.kernels.arrivals import _referrals, _tell_ties, accept_probability, inviters
from qunsim.kernels.churn import members_day
from qunsim.kernels.neighbours import (
    chatter_candidates,
    count_strong_pair,
    departures_update,
    joins_update,
    recount_strong,
)
from qunsim.kernels.posting import _SEED, _make_messages, posting_rate
from qunsim.kernels.reading import _group_index, _read, _reply_targets
from qunsim.kernels.record import record_day
from qunsim.kernels.ties import (
    _new_tie_candidates,
    _pair_keys,
    _radix_order,
    _strengthen_csr,
    _unique_first_counts,
)

__all__ = ["generator_handle", "generator_from", "arrival_candidates", "accept_chance", "accept_from_exp", "join_day", "members_stages", "numpy_sum",
           "choice_without_replacement", "members_day_packed", "PARAMS", "tie_strengths", "TIE_COUNTS_PRICED",
           "participation_rate", "merge_ties", "merge_and_update", "added_ties_update", "join_members",
           "referral_candidates", "exposure", "word_of_mouth",
           "message_noise_draws"]

_ACTIVE, _LEFT, _BANNED = 1, 2, 3
_OWNER, _REGULAR, _CHATTER = 0, 3, 4
_CONTAGION, _DISSATISFIED = 2, 1

if config.DISABLE_JIT:
    def generator_from(handle):
        """The generator a handle stands for (plain Python: the handle is the Generator)."""
        return handle

    def generator_handle(rng: np.random.Generator):
        """Plain Python: the Generator itself."""
        return rng
else:
    @intrinsic
    def generator_from(typingctx, handle):
        """numba's Generator over the bit generator whose addresses ``handle`` holds
        (:func:`generator_handle`): the same state, the same draws."""
        gen_t = types.NumPyRandomGeneratorType("generator")
        bit_t = types.NumPyRandomBitGeneratorType("bit_generator")

        def codegen(context, builder, sig, args):
            vals = cgutils.unpack_tuple(builder, args[0])
            bg = cgutils.create_struct_proxy(bit_t)(context, builder)
            bg.parent = cgutils.get_null_value(bg.parent.type)
            for name, v in zip(("state_address", "state", "fnptr_next_uint64", "fnptr_next_uint32",
                                "fnptr_next_double", "bit_generator"), vals, strict=True):
                setattr(bg, name, v)
            g = cgutils.create_struct_proxy(gen_t)(context, builder)
            g.bit_generator = bg._getvalue()
            g.meminfo = cgutils.get_null_value(g.meminfo.type)  # borrowed: the model owns it
            g.parent = cgutils.get_null_value(g.parent.type)
            return g._getvalue()

        return gen_t(handle), codegen

    def generator_handle(rng: np.random.Generator) -> tuple:
        """The addresses of ``rng``'s bit generator (state, next_uint64, next_uint32,
        next_double), for :func:`generator_from`. Valid while ``rng`` lives: the caller
        keeps it."""
        ct = rng.bit_generator.ctypes

        def addr(f):
            return ctypes.cast(f, ctypes.c_void_p).value

        return (int(ct.state_address), int(ct.state.value), addr(ct.next_uint64), addr(ct.next_uint32),
                addr(ct.next_double), int(ct.bit_generator.value))


@njit
def _block(a, lo, n):
    """numpy's pairwise summation of a block of at most 128 values: eight running sums."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r = np.empty(8)
    for j in range(8):
        r[j] = a[lo + j]
    i = 8
    while i < n - (n % 8):
        for j in range(8):
            r[j] += a[lo + i + j]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit
def _pairwise(a, lo, n):
    """numpy's pairwise summation of ``a[lo:lo + n]`` (``pairwise_sum`` of its add loop: blocks
    of 128, halves split at a multiple of 8), without recursion (an explicit stack: numba's
    cache does not keep recursive functions)."""
    if n <= 128:
        return _block(a, lo, n)
    los = np.empty(64, np.int64)
    ns = np.empty(64, np.int64)
    state = np.zeros(64, np.int64)  # 0 new, 1 left half pending, 2 right half pending
    acc = np.empty(64)
    top = 0
    los[0], ns[0] = lo, n
    while True:
        m = ns[top]
        if m > 128 and state[top] == 0:
            n2 = m // 2
            n2 -= n2 % 8
            state[top] = 1
            top += 1
            los[top], ns[top], state[top] = los[top - 1], n2, 0
            continue
        v = _block(a, los[top], m)
        top -= 1
        while True:  # hand the sum to the parent
            if top < 0:
                return v
            if state[top] == 1:
                acc[top] = v
                state[top] = 2
                m2 = ns[top]
                n2 = m2 // 2
                n2 -= n2 % 8
                top += 1
                los[top], ns[top], state[top] = los[top - 1] + n2, m2 - n2, 0
                break
            v = acc[top] + v
            top -= 1


@njit
def numpy_sum(a):
    """``np.sum`` of a contiguous float64 vector, bit for bit (numpy's pairwise summation)."""
    return _pairwise(a, 0, len(a))


# ------------------------------------------------------------------------------ posting rates
@njit
def participation_rate(ids, post_rate, propensity, first_post_step, entry_path, join_step, t, newcomer_days,
                       first_post_rate, first_replied, return_step, welcome_rate, follow_up_rate):
    """Today's base posting rates, float32[n] (both orchestrations): ``post_rate *
    propensity``; a newcomer (not a seed member) who has not posted yet, in their first
    ``newcomer_days``, posts at least ``first_post_rate`` a day; and one who has posted once and
    not again, in the ``newcomer_days`` after that first post, posts at least ``follow_up_rate`` a
    day (they follow up on their question, reply or not), and at least ``welcome_rate`` if the
    first post got a reply (the reply invites an answer back, lurker or not)."""
    n = len(post_rate)
    rate = np.empty(n, np.float32)
    for i in range(n):
        rate[i] = post_rate[i] * propensity[i]
    if first_post_rate > 0 or welcome_rate > 0 or follow_up_rate > 0:
        floor = np.float32(first_post_rate)
        back = np.float32(welcome_rate)
        follow = np.float32(follow_up_rate)
        for i in ids:
            if entry_path[i] == 1:
                continue
            fp = first_post_step[i]
            if fp < 0:
                if t - join_step[i] <= newcomer_days:
                    rate[i] = max(rate[i], floor)
            elif return_step[i] < 0 and fp < t and t - fp <= newcomer_days:
                rate[i] = max(rate[i], max(back, follow) if first_replied[i] else follow)
    return rate


# ------------------------------------------------------------------------------ arrivals
@njit
def message_noise_draws(rng, m, message_noise):
    """Stage *messages*: the noise of the day's ``m`` messages' quality and warmth, each
    ``Normal(0, message_noise)`` drawn from ``rng`` (all qualities, then all warmths); two
    empty arrays when there is no noise or no message."""
    if message_noise <= 0 or m <= 0:
        return np.empty(0), np.empty(0)
    nq = np.empty(m)
    nw = np.empty(m)
    for j in range(m):
        nq[j] = rng.normal(0.0, message_noise)
    for j in range(m):
        nw[j] = rng.normal(0.0, message_noise)
    return nq, nw


@njit
def exposure(rng, heard, wom_memory, status, rate):
    """Stage *arrivals*, first step: word of mouth fades (``heard *= wom_memory``, float32)
    and ``Poisson(rate)`` people are reached by content/ads, drawn uniformly over the
    population from ``rng``; returns those of them who are prospects (in draw order)."""
    mem = np.float32(wom_memory)
    for i in range(len(heard)):
        heard[i] *= mem
    n = len(status)
    m = rng.poisson(rate) if rate > 0 else 0
    exposed = np.empty(0, np.int64)
    if m > 0 and n > 0:
        who = np.empty(m, np.int64)
        for x in range(m):
            who[x] = rng.integers(0, n)
        exposed = who[status[who] == 0]
    return exposed


@njit
def word_of_mouth(rng, leavers, heard, indptr, indices, wom_reach):
    """Stage *word of mouth*: each unhappy leaver tells up to ``floor(wom_reach)`` of their
    ties (one uniform per telling, :func:`~qunsim.kernels.arrivals._tell_ties`), and
    ``Poisson`` of the rest of everyone's reach tell people drawn from the whole population
    (``heard += 1``, float32)."""
    n_unhappy = len(leavers)
    if n_unhappy == 0 or wom_reach <= 0:
        return
    k_max = np.int64(np.floor(wom_reach))
    rest = np.empty(n_unhappy)
    total = 0
    for x in range(n_unhappy):
        i = leavers[x]
        ko = min(indptr[i + 1] - indptr[i], k_max)
        total += ko
        rest[x] = max(wom_reach - ko, 0.0)
    u = np.empty(total)
    for x in range(total):
        u[x] = rng.random()
    _tell_ties(heard, leavers, indptr, indices, k_max, u)
    n_online = rng.poisson(numpy_sum(rest))
    one = np.float32(1.0)
    n = len(heard)
    for _ in range(n_online):
        heard[rng.integers(0, n)] += one


@njit
def referral_candidates(rng, exposed, inv_ids, lam, indptr, indices, status):
    """The day's candidates from the people reached by content/ads (``exposed``) and the
    inviters ``inv_ids``, who send ``Poisson(lam[j])`` invitations each to random neighbours
    (one uniform per invitation, :func:`~qunsim.kernels.arrivals._referrals`), drawing from
    ``rng``: one candidate per person, an invitation first. Returns ``(candidates ascending,
    invited, inviter or -1)``."""
    referred = np.empty(0, np.int64)
    inviter = np.empty(0, np.int64)
    if len(inv_ids):
        invites = np.empty(len(inv_ids), np.int64)
        for j in range(len(inv_ids)):
            invites[j] = rng.poisson(lam[j])
        total = 0
        for j in range(len(inv_ids)):
            if indptr[inv_ids[j] + 1] > indptr[inv_ids[j]]:
                total += invites[j]
        u = np.empty(total)
        for x in range(total):
            u[x] = rng.random()
        referred, inviter = _referrals(inv_ids, invites, indptr, indices, status, u)
    k = len(referred) + len(exposed)
    cand = np.empty(k, np.int64)
    cand[:len(referred)] = referred
    cand[len(referred):] = exposed
    order = np.argsort(cand, kind="mergesort")  # stable: the first occurrence of each person first
    out = np.empty(k, np.int64)
    is_ref = np.empty(k, np.bool_)
    inv = np.empty(k, np.int64)
    c = 0
    for x in range(k):
        j = order[x]
        if c > 0 and cand[j] == out[c - 1]:
            continue
        out[c] = cand[j]
        is_ref[c] = j < len(referred)
        inv[c] = inviter[j] if j < len(referred) else -1
        c += 1
    return out[:c], is_ref[:c], inv[:c]


@njit
def arrival_candidates(h, heard, wom_memory, status, role, trust_r, trust_s, referral_trust, rate, lam,
                       indptr, indices, wom_weight=0.0):
    """Stage *arrivals* up to the decisions: word of mouth fades (``heard *= wom_memory``),
    ``Poisson(rate)`` people are reached by content/ads (uniform over the population, the
    prospects kept), members whose trust reaches ``referral_trust`` send ``Poisson(lam)``
    invitations each to random neighbours. Returns the candidates (ascending, one per
    person: a referral first), whether each was invited, by whom (-1 for exposure), and
    the exponent of their word-of-mouth factor, ``heard * float32(-wom_weight)`` (float32,
    as numpy computes it for float32 ``heard``: the caller takes numpy's ``exp`` of it, see
    :func:`accept_from_exp`)."""
    rng = generator_from(h)
    exposed = exposure(rng, heard, wom_memory, status, rate)
    inv_ids = inviters(status, role, trust_r, trust_s, referral_trust)
    out, is_ref, inv = referral_candidates(rng, exposed, inv_ids, np.full(len(inv_ids), lam), indptr, indices,
                                           status)
    c = len(out)
    ex = np.empty(c, np.float32)
    w = np.float32(-wom_weight)
    for x in range(c):
        ex[x] = np.float32(heard[out[x]] * w)
    return out, is_ref, inv, ex


@njit
def accept_from_exp(cand, referred, interest, ex, accept):
    """:func:`accept_chance` given ``ex = exp(-wom_weight * heard[cand])`` (numpy's float32
    ``exp`` of :func:`arrival_candidates`' exponent): ``accept * (0.25 + 0.75 iota) * ex``,
    ×1.5 if invited, capped to [0, 1], each step in float32 as numpy's in-place float32
    operations with Python-float operands compute it (for float32 ``interest``)."""
    p = np.empty(len(cand), np.float32)
    a = np.float32(accept)
    for x in range(len(cand)):
        v = np.float32(interest[cand[x]]) * np.float32(0.75)
        v = v + np.float32(0.25)
        v = v * a
        v = v * ex[x]
        if referred[x]:
            v = v * np.float32(1.5)
        if v < 0:  # np.maximum / np.minimum (a NaN stays NaN)
            v = np.float32(0.0)
        if v > 1:
            v = np.float32(1.0)
        p[x] = v
    return p


def accept_chance(interest, heard, cand, referred, accept, wom_weight):
    """:func:`~qunsim.kernels.arrivals.accept_probability` of the candidates ``cand`` bit for
    bit (numpy, for its ``exp``), with fewer temporaries: ``accept * (0.25 + 0.75 iota) *
    exp(-w * heard)``, ×1.5 if invited, capped to [0, 1], in place on the gathered values.

    >>> import numpy as np
    >>> accept_chance(np.ones(3, np.float32), np.array([0, 1, 0], np.float32), np.array([0, 1]),
    ...               np.array([False, True]), 0.5, np.log(2)).tolist()
    [0.5, 0.375]
    """
    if type(accept) is not float or type(wom_weight) is not float or interest.dtype != heard.dtype:
        # numpy scalars or mixed dtypes promote differently in place: the plain formula
        return accept_probability(interest[cand], heard[cand], referred, accept=accept, wom_weight=wom_weight)
    p = interest[cand]
    p *= 0.75
    p += 0.25
    p *= accept
    e = heard[cand]
    e *= -wom_weight
    np.exp(e, out=e)
    p *= e
    p[referred] *= 1.5
    np.maximum(p, 0.0, out=p)
    np.minimum(p, 1.0, out=p)
    return p


@njit
def choice_without_replacement(rng, a, k):
    """``rng.choice(a, k, replace=False)`` of numpy's Generator, draw for draw: a tail shuffle
    of the indices for a large population and sample, else Floyd's algorithm and a shuffle."""
    pop = len(a)
    if pop > 10000 and k > pop // 50:
        idx = np.arange(pop)
        for i in range(pop - 1, max(pop - k, 1) - 1, -1):
            j = rng.integers(0, i + 1)
            idx[i], idx[j] = idx[j], idx[i]
        return a[idx[pop - k:]]
    idx = np.empty(k, np.int64)
    seen = np.zeros(pop, np.bool_)
    for j in range(pop - k, pop):
        v = rng.integers(0, j + 1)
        if seen[v]:
            v = j
        seen[v] = True
        idx[j - pop + k] = v
    for i in range(k - 1, 0, -1):
        j = rng.integers(0, i + 1)
        idx[i], idx[j] = idx[j], idx[i]
    return a[idx]


@njit
def join_day(h, cand, is_ref, inv, pa, from_exp, interest, accept, t, status, group, join_step, entry_path,
             satisfaction, role, leaders, leader, leader_tie, n_groups, cap, leader_tie_share, pyramid, indptr,
             indices, keys, rowptr, weight, strong, member_n, strong_ties):
    """Stage *arrivals*, the joining (``CommunityModel._admit_and_join`` and ``_join`` with no
    gate): each candidate joins with probability ``pa`` (one uniform each), is dealt a free
    place in a group that has members (``Generator.choice`` without replacement over the
    places; new groups of ``cap`` places open when all are full), becomes active, and
    ties to a live leader with probability ``leader_tie_share`` (the first one in a pyramid,
    else one at random); neighbour and strong-tie counts follow.

    ``pa`` is each candidate's chance to join, or (``from_exp`` true) ``exp(-wom_weight *
    heard[cand])`` from which :func:`accept_from_exp` makes the chance with ``interest`` and
    ``accept`` (one compiled call instead of two on the fused day).

    Returns ``(joined, referred_joined, their_inviters, n_groups, tie_keys)``: the new
    members (ascending), those of them who were invited and by whom, the number of groups
    now, and the keys of the leader ties to queue (``SocialGraph.add_ties``: distinct,
    ascending).
    """
    rng = generator_from(h)
    if from_exp:
        ok = _accept_draws(rng, accept_from_exp(cand, is_ref, interest, pa, accept))
    else:
        ok = _accept_draws(rng, pa)
    ids = cand[ok]
    ref = is_ref[ok]
    inv_ok = inv[ok]
    n_new, tk = join_members(rng, ids, ref, t, status, group, join_step, entry_path, satisfaction, role, leaders,
                             leader, leader_tie, n_groups, cap, leader_tie_share, pyramid, indptr, indices, keys,
                             rowptr, weight, strong, member_n, strong_ties)
    return ids, ids[ref], inv_ok[ref], n_new, tk


@njit
def _accept_draws(rng, pa):
    """One uniform each: ``rng.random() < pa[x]`` (bool[len(pa)])."""
    ok = np.empty(len(pa), np.bool_)
    for x in range(len(pa)):
        ok[x] = rng.random() < pa[x]
    return ok


@njit
def join_members(rng, ids, ref, t, status, group, join_step, entry_path, satisfaction, role, leaders, leader,
                 leader_tie, n_groups, cap, leader_tie_share, pyramid, indptr, indices, keys, rowptr, weight, strong,
                 member_n, strong_ties):
    """The joining of ``ids`` (ascending; ``ref``: invited), ``CommunityModel._join``, drawing
    from the generator ``rng``: a free place in a group that has members
    (``Generator.choice`` without replacement over the places; new groups of ``cap`` places
    open when all are full), activation, a tie to a live leader with probability
    ``leader_tie_share`` (the first one in a pyramid, else one at random), neighbour and
    strong-tie counts. :func:`join_day` calls it after its acceptance draws, the staged day
    after the gates' ``admit`` hooks (:func:`~qunsim.kernels.staged.join_segment`).

    Returns ``(n_groups, tie_keys)``: the number of groups now and the keys of the leader
    ties to queue (``SocialGraph.add_ties``: distinct, ascending).
    """
    k = len(ids)
    e = np.empty(0, np.int64)
    if k == 0:
        return n_groups, e
    # places in groups
    counts = np.zeros(n_groups, np.int64)
    for i in range(len(status)):
        if status[i] == _ACTIVE:
            counts[group[i]] += 1
    room = np.empty(n_groups, np.int64)
    used = 0
    for g in range(n_groups):
        room[g] = max(cap - counts[g], 0)
        if counts[g] > 0:
            used += room[g]
    if used >= k:
        for g in range(n_groups):
            if counts[g] == 0:
                room[g] = 0
    total = 0
    for g in range(n_groups):
        total += room[g]
    need = k - total
    n_new = n_groups
    if need > 0:
        extra = np.int64(np.ceil(need / cap))
        n_new = n_groups + extra
        r2 = np.empty(n_new, np.int64)
        r2[:n_groups] = room
        r2[n_groups:] = cap
        room = r2
        total += extra * cap
    slots = np.empty(total, np.int64)
    c = 0
    for g in range(n_new):
        for _ in range(room[g]):
            slots[c] = g
            c += 1
    given = choice_without_replacement(rng, slots, k) if total > k else slots[:k]
    for x in range(k):
        i = ids[x]
        group[i] = given[x]
        status[i] = _ACTIVE
        join_step[i] = t
        entry_path[i] = 3 if ref[x] else 2  # EntryPath.REFERRAL / EXPOSURE
        satisfaction[i] = 0.0
    # a tie to a leader (soul figure / ring leader)
    n_live = 0
    for i in leaders:
        if status[i] == _ACTIVE:
            n_live += 1
    n_cand = 0
    for i in ids:
        if role[i] != _OWNER:
            n_cand += 1
    tied, lead = e, e
    if n_live and n_cand and leader_tie_share > 0:
        live = np.empty(n_live, np.int64)
        c = 0
        for i in leaders:
            if status[i] == _ACTIVE:
                live[c] = i
                c += 1
        take = np.empty(n_cand, np.bool_)
        n_tied = 0
        c = 0
        for i in ids:
            if role[i] != _OWNER:
                take[c] = rng.random() < leader_tie_share
                n_tied += take[c]
                c += 1
        tied = np.empty(n_tied, np.int64)
        c = 0
        x = 0
        for i in ids:
            if role[i] != _OWNER:
                if take[x]:
                    tied[c] = i
                    c += 1
                x += 1
        lead = np.empty(n_tied, np.int64)
        for x in range(n_tied):
            lead[x] = live[0] if pyramid else live[rng.integers(0, n_live)]
        for x in range(n_tied):
            leader[tied[x]] = lead[x]
            leader_tie[tied[x]] = True
    joins_update(ids, indptr, indices, keys, rowptr, weight, status, strong, member_n, strong_ties)
    n_pop = np.int64(len(status))
    m = 0
    tk = np.empty(len(tied), np.int64)
    for x in range(len(tied)):
        if tied[x] != lead[x]:
            tk[m] = min(tied[x], lead[x]) * n_pop + max(tied[x], lead[x])
            m += 1
    tk = np.unique(tk[:m])
    return n_new, tk


# ------------------------------------------------------------------------------ departures
@njit
def _depart(ids, reason, t, status, leave_step, leave_reason, leaves_today, indptr, indices, keys, rowptr,
            weight, strong, left_n, strong_ties, role, leader, leader_tie, trust_s, leader_loss):
    """``CommunityModel.remove_members`` of active members ``ids`` (ascending) for ``reason``:
    status, leave step and reason, the day's leave count, neighbour and strong-tie counts,
    and trust lost by those tied to a departing leader."""
    if len(ids) == 0:
        return
    for i in ids:
        status[i] = _BANNED if reason == 4 else _LEFT
        leave_step[i] = t
        leave_reason[i] = reason
    leaves_today[reason] += len(ids)
    departures_update(ids, indptr, indices, keys, rowptr, weight, status, strong, left_n, strong_ties)
    n_lead = 0
    for i in ids:
        if role[i] == _OWNER:
            n_lead += 1
    if n_lead:
        gone = np.empty(n_lead, np.int64)
        c = 0
        for i in ids:
            if role[i] == _OWNER:
                gone[c] = i
                c += 1
        loss = np.float32(leader_loss)
        for x in range(len(leader)):
            lx = leader[x]
            if lx < 0:
                continue
            for g in gone:
                if lx == g:
                    trust_s[x] += loss
                    leader_tie[x] = False
                    leader[x] = -1
                    break


@njit
def _feedback_one(i, rec, t, first_post_step, return_step, first_replied, propensity, commitment, welcome_boost,
                  welcome_commitment):
    """``CommunityModel._newcomer_feedback`` for one member ``i`` who posted today and
    received ``rec`` replies: a first post is recorded, and a reply on one's first posting day
    is a welcome (``first_replied``; ``propensity *= 1 + welcome_boost``, ``commitment +=
    welcome_commitment``); a later posting day is the newcomer's return."""
    fp = first_post_step[i]
    if fp < 0:
        first_post_step[i] = t
        if rec > 0:
            first_replied[i] = True
            if welcome_boost > 0:
                propensity[i] *= np.float32(1.0 + welcome_boost)
            if welcome_commitment > 0:
                commitment[i] += np.float32(welcome_commitment)
    elif fp < t and return_step[i] < 0:
        return_step[i] = t


@njit
def _newcomer_feedback(ids, counts, received, t, first_post_step, return_step, first_replied, propensity,
                       commitment, welcome_boost, welcome_commitment):
    """:func:`_feedback_one` for today's posters among ``ids`` (``counts[i] > 0``)."""
    for i in ids:
        if counts[i] > 0:
            _feedback_one(i, received[i], t, first_post_step, return_step, first_replied, propensity, commitment,
                          welcome_boost, welcome_commitment)


@njit
def _close_members(ids, counts, received, t, first_post_step, return_step, first_replied, propensity, commitment,
                   welcome_boost, welcome_commitment, posts, posts_yesterday, replies_yesterday, last_post):
    """Stage *bookkeeping* in one pass over ``ids``: :func:`_newcomer_feedback` then
    :func:`~qunsim.kernels.record.end_of_day` (posts, yesterday's posts and replies received,
    last post), member by member: the two touch different arrays and read only ``counts``
    and ``received``, so this is the same as one after the other."""
    replies_yesterday[:] = 0
    for i in ids:
        c = counts[i]
        rec = received[i]
        if c > 0:
            _feedback_one(i, rec, t, first_post_step, return_step, first_replied, propensity, commitment,
                          welcome_boost, welcome_commitment)
            last_post[i] = t
        posts[i] += c
        posts_yesterday[i] = min(c, 32767)
        replies_yesterday[i] = min(rec, 32767)


@njit
def _draw_post_counts(rng, ids, n, role, rate, group, join_step, entry_path, replies_yesterday, qpa, chat, t,
                      newcomer_days, answer_base, answer_halfsat, chatter_contagion, reply_reward):
    """Stage *posting*: ``counts[i] ~ Poisson(mu_i)`` (int64[n], 0 outside ``ids``), ``mu_i``
    as :func:`~qunsim.kernels.posting._posting_means` computes it, drawn member by member as
    it is computed (no array of means)."""
    counts = np.zeros(n, np.int64)
    for j in range(len(ids)):
        i = ids[j]
        newcomer = (t - join_step[i]) <= newcomer_days and entry_path[i] != _SEED
        g = group[i]
        counts[i] = rng.poisson(posting_rate(role[i], rate[i], qpa[g], chat[g], newcomer, replies_yesterday[i],
                                             answer_base, answer_halfsat, chatter_contagion, reply_reward))
    return counts


# ------------------------------------------------------------------------------ the members' day
@njit
def members_stages(h, t, n_groups, yesterday_q, yesterday_chat, unhappy_before, leaves_today,
                   # member state
                   status, role, initial_role, group, join_step, entry_path, leave_step, leave_reason,
                   quality, warmth, post_rate, propensity, propensity_on, attention, taste, interest, need,
                   threshold, trust_r, trust_s, satisfaction, utility, spend, tier, commitment, heard, posts,
                   posts_yesterday, replies_yesterday, last_post, leader_tie, strong_ties, left_n, member_n,
                   first_post_step, first_replied, return_step, leader,
                   # graph
                   indptr, indices, keys, rowptr, weight,
                   # dynamics
                   newcomer_days, answer_base, answer_halfsat, chatter_contagion, reply_reward, message_noise,
                   spam_penalty, read_cost, overload_cost, reply_prob, tie_increment, tie_formation, strong_tie,
                   tie_decay, recognition, habituation, spam_distrust, trust_memory, satisfaction_memory,
                   commit_sunk, commit_tier, commit_ties, commit_identity, hazard_base, hazard_max, hazard_slope,
                   hazard_midpoint, grace_days, contagion, leader_loss, chatter_conversion, chatter_post_rate,
                   chatter_quality, chatter_warmth, welcome_boost, welcome_commitment, wom_reach, first_post_rate,
                   welcome_rate, follow_up_rate,
                   # the record (kernels.record.record_day)
                   pending, n_edges, data, r, gh, gn, tier_weak, tier_strong, strong_evidence, joins, active0,
                   revenue_before, window, min_exposure, min_events, z):
    """Stages *posting* to *word of mouth* of a day no policy takes part in (in place on the
    state and graph arrays), drawing from the generator ``h`` in the staged day's order.

    Then, unless queued ties are to be merged into the graph first (``pending`` queued
    before today, weekly or when more than ``max(0.05 n_edges, 1000)`` wait), stage
    *record*: :func:`~qunsim.kernels.record.record_day` writes row ``r`` of ``data``.

    Returns ``(recorded, q, chat, ids, author, mgroup, spam, k, value, info, buried,
    read_utility, new_keys, new_counts, contagious, dissatisfied)``: whether the row was
    written and tomorrow's group statistics if so; today's members; the day's messages and
    reading (for the record); the new ties (keys, replies between the pair today) to queue
    with strength ``1 - (1 - tie_increment) ** count``; the departures by contagion and by
    dissatisfaction (ascending).
    """
    rng = generator_from(h)
    n = len(status)
    ids = np.empty(n, np.int64)  # today's members, in one branch-free pass
    n_ids = 0
    for i in range(n):
        ids[n_ids] = i
        n_ids += status[i] == _ACTIVE
    ids = ids[:n_ids]
    e_i = np.empty(0, np.int64)
    e_f = np.empty(0)
    author, mgroup, spam = e_i, np.empty(0, np.int32), np.empty(0, np.bool_)
    k, value, info, buried, read_u = e_f, e_f, e_f, e_f, e_f
    new_keys, new_counts, conta_ids, diss_ids = e_i, e_i, e_i, e_i
    if n_ids > 0:
        # posting: Poisson(mu_i) posts, member by member
        if propensity_on:
            rate = participation_rate(ids, post_rate, propensity, first_post_step, entry_path, join_step, t,
                                      newcomer_days, first_post_rate, first_replied, return_step, welcome_rate,
                                      follow_up_rate)
        else:
            rate = post_rate
        counts = _draw_post_counts(rng, ids, n, role, rate, group, join_step, entry_path, replies_yesterday,
                                   yesterday_q, yesterday_chat, t, newcomer_days, answer_base, answer_halfsat,
                                   chatter_contagion, reply_reward)
        # the day's messages: all quality noises, then all warmth noises
        posters = np.empty(n_ids, np.int64)
        n_posters = 0
        m = 0
        for i in ids:
            ci = counts[i]
            posters[n_posters] = i
            n_posters += ci > 0
            m += ci
        posters = posters[:n_posters]
        nq, nw = message_noise_draws(rng, m, message_noise)
        author, mgroup, mq, mw, spam = _make_messages(posters, posters, counts, group, quality, warmth, True,
                                                      role, nq, nw)
        # reading and replies (no group is curated on a day without policies)
        order, start, count, cq, cw, cs, cr = _group_index(mgroup, n_groups, mq, mw, spam)
        curated = np.zeros(n_groups, np.bool_)
        relief = np.zeros(n_groups)
        want = reply_prob > 0 and n_ids > 0 and len(author) > 0
        k, value, info, sp_read, overflow, buried, read_u, W = _read(
            ids, ids, group, attention, taste, interest, start, count, cq, cw, cs, cr, curated, relief,
            spam_penalty, read_cost, overload_cost, want)
        if want:
            R = np.empty(n_ids, np.int64)
            for j in range(n_ids):
                R[j] = rng.poisson(reply_prob * W[j])
            total = 0
            for j in range(n_ids):
                total += R[j]
            u = np.empty(total)
            for x in range(total):
                u[x] = rng.random()
            reader, target, received = _reply_targets(ids, ids, group, k, R, u, start, count, cr, curated,
                                                      author[order], n)
        else:
            reader, target, received = e_i, e_i, np.zeros(n, np.int64)
        # ties: one uniform per reply pair, then strengthening and new ties
        tie_u = np.empty(len(reader))
        for x in range(len(reader)):
            tie_u[x] = rng.random()
        if len(reader) > 0 and tie_increment > 0:
            miss = _strengthen_csr(keys, rowptr, weight, np.int64(n), reader, target, tie_increment,
                                   np.float32(strong_tie), status, strong_ties, indptr, indices)
            if len(miss) and tie_formation < 1.0 and len(miss) < 2**27:
                # only about tie_formation of the missing pairs become ties: a hash table of
                # the candidates instead of sorting every missing pair (same keys and counts)
                ck, cc = _new_tie_candidates(reader, target, miss, tie_u, tie_formation, np.int64(n))
                srt = np.argsort(ck)
                new_keys = ck[srt]
                new_counts = cc[srt]
            elif len(miss):
                pk = _pair_keys(reader, target, miss, np.int64(n))
                # any sorting order gives the same distinct keys, first positions and counts;
                # the radix sort is the faster above a few hundred keys
                srt = _radix_order(pk) if len(pk) > 256 else np.argsort(pk)
                uk, first, cnt = _unique_first_counts(pk, srt)
                n_new = 0
                for x in range(len(uk)):
                    if tie_formation >= 1.0 or tie_u[miss[first[x]]] < tie_formation:
                        n_new += 1
                new_keys = np.empty(n_new, np.int64)
                new_counts = np.empty(n_new, np.int64)
                c = 0
                for x in range(len(uk)):
                    if tie_formation >= 1.0 or tie_u[miss[first[x]]] < tie_formation:
                        new_keys[c] = uk[x]
                        new_counts[c] = cnt[x]
                        c += 1
        if tie_decay > 0:
            keep = np.float32(1.0 - tie_decay)
            for e in range(len(weight)):
                weight[e] *= keep
            recount_strong(keys, weight, np.int64(n), status, np.float32(strong_tie), strong_ties)
        # trust, satisfaction and churn
        uni = np.empty(n_ids)
        for j in range(n_ids):
            uni[j] = rng.random()
        zeros = np.zeros(n)
        conta, diss = members_day(ids, t, read_u, sp_read, received, zeros, zeros, zeros, join_step, need,
                                  trust_r, trust_s, satisfaction, utility, spend, tier, strong_ties, leader_tie,
                                  commitment, threshold, left_n, member_n, recognition, habituation,
                                  spam_distrust, trust_memory, satisfaction_memory, commit_sunk, commit_tier,
                                  commit_ties, commit_identity, hazard_base, hazard_max, hazard_slope,
                                  hazard_midpoint, grace_days, contagion, uni)
        conta_ids = ids[conta]
        diss_ids = ids[diss]
        st32 = np.float32(strong_tie)
        _depart(conta_ids, _CONTAGION, t, status, leave_step, leave_reason, leaves_today, indptr, indices, keys,
                rowptr, weight, st32, left_n, strong_ties, role, leader, leader_tie, trust_s, leader_loss)
        _depart(diss_ids, _DISSATISFIED, t, status, leave_step, leave_reason, leaves_today, indptr, indices,
                keys, rowptr, weight, st32, left_n, strong_ties, role, leader, leader_tie, trust_s, leader_loss)
        # chatter conversion
        if chatter_conversion > 0:
            convert_chatters(rng, ids, role, status, taste, indptr, indices, chatter_conversion, post_rate, quality,
                             warmth, propensity, propensity_on, chatter_post_rate, chatter_quality, chatter_warmth)
        # bookkeeping
        _close_members(ids, counts, received, t, first_post_step, return_step, first_replied, propensity, commitment,
                       welcome_boost, welcome_commitment, posts, posts_yesterday, replies_yesterday,
                       last_post)
    # word of mouth: unhappy leavers tell their ties, then people online
    n_unhappy = len(unhappy_before) + len(conta_ids) + len(diss_ids)
    if n_unhappy > 0 and wom_reach > 0:
        leavers = np.empty(n_unhappy, np.int64)
        leavers[:len(unhappy_before)] = unhappy_before
        leavers[len(unhappy_before):len(unhappy_before) + len(conta_ids)] = conta_ids
        leavers[len(unhappy_before) + len(conta_ids):] = diss_ids
        word_of_mouth(rng, leavers, heard, indptr, indices, wom_reach)
    q, chat = yesterday_q, yesterday_chat
    queued = pending + len(new_keys)
    recorded = not (queued > max(0.05 * n_edges, 1000) or (t % 7 == 0 and queued > 0))
    if recorded:
        q, chat = record_day(data, r, gh, gn, False, status, role, initial_role, tier, trust_r, trust_s,
                             satisfaction, group, join_step, strong_ties, n_groups, tier_weak, tier_strong,
                             strong_evidence, author, mgroup, spam, t, newcomer_days, ids, quality, k, value, info,
                             buried, read_u, joins, leaves_today, active0, 0, 0.0, revenue_before, 0.0, window,
                             min_exposure, min_events, z)
    return (recorded, q, chat, ids, author, mgroup, spam, k, value, info, buried, read_u, new_keys, new_counts,
            conta_ids, diss_ids)


#: the dynamics :func:`members_day_packed` reads from its parameter vector, in order
PARAMS = ("newcomer_days", "answer_base", "answer_halfsat", "chatter_contagion", "reply_reward", "message_noise",
          "spam_penalty", "read_cost", "overload_cost", "reply_prob", "tie_increment", "tie_formation",
          "strong_tie", "tie_decay", "recognition", "habituation", "spam_distrust", "trust_memory",
          "satisfaction_memory", "commit_sunk", "commit_tier", "commit_ties", "commit_identity", "hazard_base",
          "hazard_max", "hazard_slope", "hazard_midpoint", "grace_days", "contagion", "leader_loss",
          "chatter_conversion", "chatter_post_rate", "chatter_quality", "chatter_warmth", "welcome_boost",
          "welcome_commitment", "wom_reach", "trust_weak", "trust_strong", "strong_evidence",
          "gresham_min_exposure", "gresham_min_events", "z95", "first_post_rate", "welcome_rate",
          "follow_up_rate")


@njit
def members_day_packed(h, t, n_groups, yesterday_q, yesterday_chat, unhappy_before, leaves_today,
                       status, role, initial_role, group, join_step, entry_path, leave_step, leave_reason,
                       quality, warmth, post_rate, propensity, propensity_on, attention, taste, interest, need,
                       threshold, trust_r, trust_s, satisfaction, utility, spend, tier, commitment, heard, posts,
                       posts_yesterday, replies_yesterday, last_post, leader_tie, strong_ties, left_n, member_n,
                       first_post_step, first_replied, return_step, leader, indptr, indices, keys, rowptr, weight,
                       P, data, r, gh, gn, joins, active0, revenue_before, window, pending, n_edges, tie_w):
    """:func:`members_stages` with its parameters in one vector ``P`` (:data:`PARAMS`) and its
    results in a few arrays (each argument and each returned array costs the call ~0.1 and
    ~0.45 µs). Tomorrow's group statistics are written into ``yesterday_q`` and
    ``yesterday_chat`` (in place) when the row is recorded.

    ``tie_w`` float32[K]: a new tie's strength by its count of replies today, ``1 - (1 -
    tie_increment) ** count`` computed by numpy (:func:`tie_strengths`; numpy's ``power`` of
    an array, whose last bit compiled code would not reproduce).

    Returns ``(recorded, reading, messages, new_ties, new_strengths, departed, n_contagious,
    n_unpriced)``: ``reading`` float64[6, n_ids] = (ids, k, value, info, buried, utility) of
    today's members; ``messages`` int64[3, m] = (author, group, spam) (both empty when the
    row is recorded: only an unrecorded day's record needs them); ``new_ties`` int64[2,
    n_new] = (key, count) and their strengths float32[n_new] from ``tie_w`` (NaN for the
    ``n_unpriced`` ties with a count >= K, for the caller to compute); ``departed`` the
    departures by contagion (the first ``n_contagious``) then by dissatisfaction.
    """
    out = members_stages(
        h, t, n_groups, yesterday_q, yesterday_chat, unhappy_before, leaves_today, status, role, initial_role,
        group, join_step, entry_path, leave_step, leave_reason, quality, warmth, post_rate, propensity,
        propensity_on, attention, taste, interest, need, threshold, trust_r, trust_s, satisfaction, utility, spend,
        tier, commitment, heard, posts, posts_yesterday, replies_yesterday, last_post, leader_tie, strong_ties,
        left_n, member_n, first_post_step, first_replied, return_step, leader, indptr, indices, keys, rowptr,
        weight, np.int64(P[0]), P[1], P[2], P[3], P[4], P[5], P[6], P[7], P[8], P[9], P[10], P[11], P[12], P[13],
        P[14], P[15], P[16], P[17], P[18], P[19], P[20], P[21], P[22], P[23], P[24], P[25], P[26], P[27],
        P[28] != 0.0, P[29], P[30], np.float32(P[31]), np.float32(P[32]), np.float32(P[33]), P[34], P[35], P[36],
        P[43], P[44], P[45], pending, n_edges, data, r, gh, gn, P[37], P[38], P[39], joins, active0, revenue_before, window,
        P[40], P[41], P[42])
    (recorded, q, chat, ids, author, mgroup, spam, k, value, info, buried, read_u, new_keys, new_counts, conta,
     diss) = out
    if recorded:
        yesterday_q[:] = q
        yesterday_chat[:] = chat
    n_ids = 0 if recorded else len(ids)  # Python records from these only when the kernel did not
    reading = np.empty((6, n_ids))
    for j in range(n_ids):
        reading[0, j] = ids[j]
        reading[1, j] = k[j]
        reading[2, j] = value[j]
        reading[3, j] = info[j]
        reading[4, j] = buried[j]
        reading[5, j] = read_u[j]
    m = 0 if recorded else len(author)
    msgs = np.empty((3, m), np.int64)
    for j in range(m):
        msgs[0, j] = author[j]
        msgs[1, j] = mgroup[j]
        msgs[2, j] = 1 if spam[j] else 0
    ties = np.empty((2, len(new_keys)), np.int64)
    strength = np.empty(len(new_keys), np.float32)
    n_unpriced = 0
    for x in range(len(new_keys)):
        ties[0, x] = new_keys[x]
        c = new_counts[x]
        ties[1, x] = c
        if 0 <= c < len(tie_w):
            strength[x] = tie_w[c]
        else:
            strength[x] = np.nan
            n_unpriced += 1
    departed = np.empty(len(conta) + len(diss), np.int64)
    departed[:len(conta)] = conta
    departed[len(conta):] = diss
    return recorded, reading, msgs, ties, strength, departed, len(conta), n_unpriced


#: replies between a pair in a day up to which :func:`tie_strengths` prices a new tie
TIE_COUNTS_PRICED = 64


def tie_strengths(tie_increment: float) -> np.ndarray:
    """A new tie's strength by its count of replies (0 to :data:`TIE_COUNTS_PRICED` - 1),
    float32: ``1 - (1 - inc) ** count`` exactly as the staged day computes it for an array of
    counts (numpy's ``power`` of an int64 array, then ``1 - w`` in float64, then float32:
    numpy's array ``power`` gives the same value for a count wherever it sits in the array).

    >>> tie_strengths(0.5)[:4].tolist()
    [0.0, 0.5, 0.75, 0.875]
    """
    w = np.power(1.0 - tie_increment, np.arange(TIE_COUNTS_PRICED, dtype=np.int64))
    return np.subtract(1.0, w, out=w).astype(np.float32)


# ------------------------------------------------------------------------------ tie merge
@njit
def merge_ties(keys, weight, indptr, indices, pk, pw, n):
    """``SocialGraph.merge_pending`` in one compiled pass: queued ties ``pk`` (keys, with
    strengths ``pw``; duplicates keep the strongest) are merged into the sorted ``keys`` /
    ``weight`` (a tie that exists is raised to the queued strength if stronger) and into the
    CSR adjacency, each row's new entries appended after its old ones (the ties where the row
    is the smaller endpoint, by the other endpoint, then those where it is the larger).

    Returns ``(keys, weight, indptr, indices, n_added)`` (new arrays when ties were added,
    else the inputs, ``weight`` updated in place).
    """
    uk, uw = _distinct_queued(pk, pw)
    add, n_add = _raise_existing(keys, weight, uk, uw, n, False, keys, np.float32(0.0), keys)
    if n_add == 0:
        return keys, weight, indptr, indices, 0
    nk, nw, nptr, nind = _insert_ties(keys, weight, indptr, indices, uk, uw, add, n_add, n)
    return nk, nw, nptr, nind, n_add


@njit
def _distinct_queued(pk, pw):
    """The queued ties' distinct keys in ascending order, each with its strongest queued
    strength: ``(uk, uw)``."""
    order = np.argsort(pk, kind="mergesort")
    uk = np.empty(len(pk), np.int64)
    uw = np.empty(len(pk), np.float32)
    m = 0
    for x in range(len(order)):
        j = order[x]
        if m > 0 and pk[j] == uk[m - 1]:
            if pw[j] > uw[m - 1]:
                uw[m - 1] = pw[j]
            continue
        uk[m] = pk[j]
        uw[m] = pw[j]
        m += 1
    return uk[:m], uw[:m]


@njit
def _raise_existing(keys, weight, uk, uw, n, count, status, strong, strong_ties):
    """Queued ties ``uk``/``uw`` that exist in ``keys``: raised (in place) to the queued
    strength if stronger; with ``count``, one that crosses ``strong`` between two active
    members counts in both members' ``strong_ties`` (saturating at the int16 maximum).
    Returns ``(add, n_add)``: which queued ties are new, and how many."""
    n_old = len(keys)
    add = np.empty(len(uk), np.bool_)
    n_add = 0
    e = 0
    for x in range(len(uk)):
        while e < n_old and keys[e] < uk[x]:
            e += 1
        if e < n_old and keys[e] == uk[x]:
            if uw[x] > weight[e]:
                if count and weight[e] < strong <= uw[x]:
                    u = uk[x] // n
                    v = uk[x] - u * n
                    if status[u] == _ACTIVE and status[v] == _ACTIVE:
                        count_strong_pair(strong_ties, u, v)
                weight[e] = uw[x]
            add[x] = False
        else:
            add[x] = True
            n_add += 1
    return add, n_add


@njit
def _insert_ties(keys, weight, indptr, indices, uk, uw, add, n_add, n):
    """The sorted keys/weights and the CSR adjacency with the new ties ``uk[add]`` inserted
    (see :func:`merge_ties` for the order of a row's entries): ``(keys, weight, indptr,
    indices)``, new arrays."""
    n_old = len(keys)
    m = len(uk)
    nk = np.empty(n_old + n_add, np.int64)
    nw = np.empty(n_old + n_add, np.float32)
    e = 0
    c = 0
    for x in range(m):
        if not add[x]:
            continue
        while e < n_old and keys[e] < uk[x]:
            nk[c] = keys[e]
            nw[c] = weight[e]
            e += 1
            c += 1
        nk[c] = uk[x]
        nw[c] = uw[x]
        c += 1
    while e < n_old:
        nk[c] = keys[e]
        nw[c] = weight[e]
        e += 1
        c += 1
    # CSR: per row, the old entries, then the new (row as smaller endpoint, then as larger)
    extra = np.zeros(n, np.int64)
    for x in range(m):
        if add[x]:
            u = uk[x] // n
            extra[u] += 1
            extra[uk[x] - u * n] += 1
    nptr = np.empty(n + 1, np.int64)
    nptr[0] = 0
    for r in range(n):
        nptr[r + 1] = nptr[r] + (indptr[r + 1] - indptr[r]) + extra[r]
    nind = np.empty(len(indices) + 2 * n_add, np.int32)
    fill = np.empty(n, np.int64)
    for r in range(n):
        lo = indptr[r]
        k0 = nptr[r]
        for q in range(indptr[r + 1] - lo):
            nind[k0 + q] = indices[lo + q]
        fill[r] = k0 + indptr[r + 1] - lo
    for x in range(m):  # the smaller endpoint's rows first, in key order
        if add[x]:
            u = uk[x] // n
            nind[fill[u]] = uk[x] - u * n
            fill[u] += 1
    for x in range(m):  # then the larger endpoint's, in key order
        if add[x]:
            u = uk[x] // n
            v = uk[x] - u * n
            nind[fill[v]] = u
            fill[v] += 1
    return nk, nw, nptr, nind




@njit
def _recount_flags(indptr, indices, status, join_step, leave_step, t, window, left_n, member_n):
    """:func:`~qunsim.kernels.neighbours.recount_neighbours`, the same counts from one flag
    byte per person (bit 0: left within the window, bit 1: ever joined) read per tie instead
    of three arrays."""
    n = len(status)
    flag = np.empty(n, np.uint8)
    for j in range(n):
        s = status[j]
        f = 0
        if (s == _LEFT or s == _BANNED) and (window <= 0 or leave_step[j] > t - window):
            f = 1
        if join_step[j] >= 0:
            f |= 2
        flag[j] = f
    for i in range(n):
        left = 0
        mem = 0
        for e in range(indptr[i], indptr[i + 1]):
            f = flag[indices[e]]
            left += f & 1
            mem += f >> 1
        left_n[i] = left
        member_n[i] = mem


@njit
def _rowptr(keys, n):
    """:func:`qunsim.network.key_rowptr` (row offsets into the sorted keys), int64[n + 1]."""
    rowptr = np.empty(n + 1, np.int64)
    e = 0
    m = len(keys)
    for u in range(n + 1):
        lim = u * n
        while e < m and keys[e] < lim:
            e += 1
        rowptr[u] = e
    return rowptr


@njit
def added_ties_update(uk, uw, add, n, status, join_step, leave_step, t, window, left_n, member_n, strong,
                      strong_ties):
    """The counts a recount would change when the ties ``uk[add]`` (strengths ``uw``) join the
    graph, updated over those ties only (in place): each endpoint's ``member_n`` counts the
    other if it ever joined, its ``left_n`` if it left (LEFT/BANNED) with ``leave_step > t -
    window`` (always when ``window <= 0``), and a tie of strength ``>= strong`` between two
    active members counts in both ``strong_ties`` (saturating at the int16 maximum)."""
    for x in range(len(uk)):
        if not add[x]:
            continue
        u = uk[x] // n
        v = uk[x] - u * n
        if join_step[v] >= 0:
            member_n[u] += 1
        if join_step[u] >= 0:
            member_n[v] += 1
        s = status[v]
        if (s == _LEFT or s == _BANNED) and (window <= 0 or leave_step[v] > t - window):
            left_n[u] += 1
        s = status[u]
        if (s == _LEFT or s == _BANNED) and (window <= 0 or leave_step[u] > t - window):
            left_n[v] += 1
        if uw[x] >= strong and status[u] == _ACTIVE and status[v] == _ACTIVE:
            count_strong_pair(strong_ties, u, v)


@njit
def convert_chatters(rng, ids, role, status, taste, indptr, indices, rate, post_rate, quality, warmth, propensity,
                     propensity_on, chatter_post_rate, chatter_quality, chatter_warmth):
    """Stage *chatter conversion* (both orchestrations): one uniform from ``rng`` for each
    active regular among ``ids`` (in their order; none drawn when there is none), the
    converts of :func:`~qunsim.kernels.neighbours.chatter_candidates` become chatters with at
    least a chatter's posting rate and warmth, at most a chatter's quality and, with
    participation on, a propensity of at least 1 (a chatter posts like one, lurker or not),
    rescaled to the new rate: a convert posts the larger of what they posted before and a
    chatter's rate (a superuser regular who turns chatter does not post eight times as much)."""
    reg = np.empty(len(ids), np.int64)
    n_reg = 0
    for i in ids:
        reg[n_reg] = i
        n_reg += (role[i] == _REGULAR) & (status[i] == _ACTIVE)
    if n_reg == 0:
        return
    reg = reg[:n_reg]
    ureg = np.empty(n_reg)
    for x in range(n_reg):
        ureg[x] = rng.random()
    conv = chatter_candidates(reg, ureg, role, status, taste, indptr, indices, rate)
    cp, cq, cw = np.float32(chatter_post_rate), np.float32(chatter_quality), np.float32(chatter_warmth)
    for i in conv:
        role[i] = _CHATTER
        own = post_rate[i] * propensity[i]  # what they posted a day before
        post_rate[i] = max(post_rate[i], cp)
        quality[i] = min(quality[i], cq)
        warmth[i] = max(warmth[i], cw)
        if propensity_on:
            propensity[i] = max(own / post_rate[i] if post_rate[i] > 0 else np.float32(0.0), np.float32(1.0))


@njit
def _shift_rowptr(rowptr, uk, add, n):
    """The key row offsets (:func:`_rowptr`) after inserting the sorted keys ``uk[add]``:
    each row's offset moves by the number of inserted keys of the rows before it (O(n + added)
    instead of a pass over all keys)."""
    out = np.empty(n + 1, np.int64)
    c = 0
    x = 0
    for u in range(n + 1):
        lim = u * n
        while x < len(uk) and uk[x] < lim:
            if add[x]:
                c += 1
            x += 1
        out[u] = rowptr[u] + c
    return out


@njit
def merge_and_update(keys, weight, indptr, indices, rowptr, pk, pw, n, status, join_step, leave_step, t, window,
                     left_n, member_n, strong, strong_ties, exact):
    """:func:`merge_ties` of the queued ties ``pk``/``pw`` and the key row offsets, with the
    neighbour and strong-tie counts updated over the merged ties only, when that gives the
    arrays of a recount over all ties: ``exact`` says the counts on entry equal a recount of the graph
    before the merge at step ``t`` (the caller has aged out the departures that left the
    window and the thresholds have not changed since the last recount), and no member has as
    many as 32,767 ties (so no strong-tie count ever saturated). Then the ties added
    (:func:`added_ties_update`) and the existing ties the merge raises across ``strong``
    (:func:`_raise_existing`) are counted; otherwise everything is recounted over all ties.

    Returns ``(keys, weight, indptr, indices, rowptr, n_added, updated)``, ``updated`` whether
    the counts were updated rather than recounted.
    """
    uk, uw = _distinct_queued(pk, pw)
    add, n_add = _raise_existing(keys, weight, uk, uw, n, exact, status, strong, strong_ties)
    if n_add:
        keys, weight, indptr, indices = _insert_ties(keys, weight, indptr, indices, uk, uw, add, n_add, n)
        rowptr = _shift_rowptr(rowptr, uk, add, n)
    updated = exact
    if updated:
        for r in range(n):
            if indptr[r + 1] - indptr[r] >= 32767:
                updated = False
                break
    if updated:
        added_ties_update(uk, uw, add, n, status, join_step, leave_step, t, window, left_n, member_n, strong,
                          strong_ties)
    else:
        _recount_flags(indptr, indices, status, join_step, leave_step, t, window, left_n, member_n)
        recount_strong(keys, weight, n, status, strong, strong_ties)
    return keys, weight, indptr, indices, rowptr, n_add, updated
