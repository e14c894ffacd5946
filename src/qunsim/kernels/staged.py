"""Compiled segments of the staged day: the stages between two policy hooks, each one call.

The staged day (``CommunityModel._staged_day``, the orchestration when policies take part)
runs the day's stages with the policies' hooks between them. Between two hooks there is no
reason to go back to Python after every kernel: each function here runs the stages that lie
between two hook points in one compiled call, from the same sub-kernels the fused day
(:mod:`qunsim.kernels.day`) and the stage-by-stage Python use, drawing from the model's
generator (the handle of :func:`~qunsim.kernels.day.generator_handle`) in the same order. The
trajectory is the same bit for bit as stage by stage from Python
(``tests/test_golden_day.py``, ``tests/test_fused_day.py``).

In order of the day:

0. :func:`exposure_and_inviters` and :func:`referral_segment` — stage *arrivals* up to the
   decisions when a policy boosts referrals between the two (profit sharing); without one,
   :func:`~qunsim.kernels.day.arrival_candidates` (the fused day's) does both in one call;
   after the gates' ``admit`` hooks, :func:`join_segment` joins those admitted (without a
   gate, :func:`~qunsim.kernels.day.join_day` decides and joins in one call).
1. :func:`posting_segment` — stage *posting* up to the ``on_posting`` hooks (post counts),
   and, when no policy has an ``on_posting`` hook, the day's messages too.
2. :func:`messages_segment` — the day's messages from the (possibly capped) post counts.
3. :func:`reading_segment` — stage *reading, replies and ties*: the group index, reading,
   the replies, the tie strengthening and the new ties' candidates, tie decay. Python
   computes the new ties' strengths with numpy's ``power`` (compiled code would not match it
   in the last bit on every machine) and queues them.
4. :func:`churn_segment` — stages *trust, satisfaction and churn* (with the departures) and
   *chatter conversion*.
5. :func:`bookkeeping_segment` — stage *bookkeeping* and word of mouth (the first part of
   stage *word of mouth, tie merge and record*).

Each takes the generator handle ``h`` first; with ``NUMBA_DISABLE_JIT=1`` they run as plain
Python (the handle is then the ``np.random.Generator`` itself).
"""

from __future__ import annotations

import numpy as np

from qunsim._jit import njit
from qunsim.kernels.arrivals import inviters
from qunsim.kernels.churn import members_day
from qunsim.kernels.day import (
    _depart,
    _newcomer_feedback,
    convert_chatters,
    exposure,
    generator_from,
    join_members,
    message_noise_draws,
    participation_rate,
    referral_candidates,
    word_of_mouth,
)
from qunsim.kernels.neighbours import recount_strong
from qunsim.kernels.posting import _make_messages, _posting_means
from qunsim.kernels.reading import _curated_order, _group_index, _prefix_sums, _read, _reply_targets
from qunsim.kernels.record import end_of_day
from qunsim.kernels.ties import (
    _new_tie_candidates,
    _pair_keys,
    _radix_order,
    _strengthen_csr,
    _unique_first_counts,
)

__all__ = ["exposure_and_inviters", "referral_segment", "join_segment", "posting_segment", "messages_segment", "reading_segment", "churn_segment", "bookkeeping_segment"]

_ACTIVE = 1
_CONTAGION, _DISSATISFIED = 2, 1


@njit
def exposure_and_inviters(h, heard, wom_memory, status, role, trust_r, trust_s, referral_trust, rate):
    """Stage *arrivals*, first part: word of mouth fades (``heard *= wom_memory``),
    ``Poisson(rate)`` people are reached by content/ads (uniform over the population; the
    prospects among them are returned), and the members who may invite
    (``kernels.arrivals.inviters``). ``(exposed, inviters)``."""
    exposed = exposure(generator_from(h), heard, wom_memory, status, rate)
    return exposed, inviters(status, role, trust_r, trust_s, referral_trust)


@njit
def referral_segment(h, exposed, inv_ids, lam, indptr, indices, status):
    """Stage *arrivals*, second part: inviter ``inv_ids[j]`` sends ``Poisson(lam[j])``
    invitations to random neighbours (one uniform per invitation of inviters with ties);
    the candidates are those reached who are prospects, and ``exposed``, one per person (an
    invitation first). ``(candidates ascending, invited, inviter or -1)``."""
    return referral_candidates(generator_from(h), exposed, inv_ids, lam, indptr, indices, status)


@njit
def join_segment(h, ids, ref, t, status, group, join_step, entry_path, satisfaction, role, leaders, leader,
                 leader_tie, n_groups, cap, leader_tie_share, pyramid, indptr, indices, keys, rowptr, weight, strong,
                 member_n, strong_ties):
    """Stage *arrivals*, the joining of the admitted candidates ``ids`` (ascending; ``ref``:
    invited), ``CommunityModel._join``: :func:`~qunsim.kernels.day.join_members` (the same
    steps as :func:`~qunsim.kernels.day.join_day` after its acceptance draws) with the
    model's generator. Returns ``(n_groups, tie_keys)``."""
    return join_members(generator_from(h), ids, ref, t, status, group, join_step, entry_path, satisfaction, role,
                        leaders, leader, leader_tie, n_groups, cap, leader_tie_share, pyramid, indptr, indices, keys,
                        rowptr, weight, strong, member_n, strong_ties)


@njit
def _messages(rng, ids, counts, group, quality, warmth, role, message_noise):
    """The day's messages of today's posters among ``ids`` (ascending): all quality noises,
    then all warmth noises (``messages_from_counts``). ``(author, group, quality, warmth,
    spam, kind)``."""
    n_posters = 0
    m = 0
    for i in ids:
        if counts[i] > 0:
            n_posters += 1
            m += counts[i]
    posters = np.empty(n_posters, np.int64)
    c = 0
    for i in ids:
        if counts[i] > 0:
            posters[c] = i
            c += 1
    nq, nw = message_noise_draws(rng, m, message_noise)
    author, mgroup, mq, mw, spam = _make_messages(posters, posters, counts, group, quality, warmth, True, role,
                                                  nq, nw)
    kind = np.zeros(len(author), np.int8)  # MSG_POST
    return author, mgroup, mq, mw, spam, kind


@njit
def posting_segment(h, ids, role, post_rate, propensity, propensity_on, first_post_step, group, join_step,
                    entry_path, replies_yesterday, qpa, chat, t, newcomer_days, answer_base, answer_halfsat,
                    chatter_contagion, reply_reward, first_post_rate, quality, warmth, message_noise,
                    with_messages, first_replied, return_step, welcome_rate, follow_up_rate):
    """Stage *posting*: each of today's members ``ids`` posts ``Poisson(mu_i)`` times
    (``kernels.posting.draw_posts``, the rate ``participation_rate`` when ``propensity_on``);
    with ``with_messages`` (no ``on_posting`` hook today) also the day's messages
    (:func:`messages_segment`).

    Returns ``(counts int64[n], author, group, quality, warmth, spam, kind)``; the messages
    are empty without ``with_messages``.
    """
    rng = generator_from(h)
    if propensity_on:
        rate = participation_rate(ids, post_rate, propensity, first_post_step, entry_path, join_step, t,
                                  newcomer_days, first_post_rate, first_replied, return_step, welcome_rate,
                                  follow_up_rate)
    else:
        rate = post_rate
    mu = _posting_means(ids, role, rate, group, join_step, entry_path, replies_yesterday, qpa, chat, t,
                        newcomer_days, answer_base, answer_halfsat, chatter_contagion, reply_reward)
    counts = np.zeros(len(role), np.int64)
    for j in range(len(ids)):
        counts[ids[j]] = rng.poisson(mu[j])
    if with_messages:
        author, mgroup, mq, mw, spam, kind = _messages(rng, ids, counts, group, quality, warmth, role,
                                                       message_noise)
    else:
        author, mgroup = np.empty(0, np.int64), np.empty(0, np.int32)
        mq, mw = np.empty(0, np.float32), np.empty(0, np.float32)
        spam, kind = np.empty(0, np.bool_), np.empty(0, np.int8)
    return counts, author, mgroup, mq, mw, spam, kind


@njit
def messages_segment(h, ids, counts, group, quality, warmth, role, message_noise):
    """The day's messages from today's post counts ``counts`` (int64[n], after the
    ``on_posting`` hooks): one message per post carrying the author's quality and warmth
    plus ``N(0, message_noise)`` (clipped to [0, 1]; spam 0). ``(author, group, quality,
    warmth, spam, kind)``."""
    rng = generator_from(h)
    return _messages(rng, ids, counts, group, quality, warmth, role, message_noise)


@njit
def reading_segment(h, m_author, m_group, m_quality, m_warmth, m_spam, n_groups, curated, relief, ids, group,
                    attention, taste, interest, spam_penalty, read_cost, overload_cost, reply_prob, tie_increment,
                    tie_formation, strong_tie, tie_decay, keys, rowptr, weight, n, status, strong_ties, indptr,
                    indices):
    """Stage *reading, replies and ties* (``GroupIndex.build``, ``read_and_reply``,
    ``SocialGraph.strengthen`` and tie decay, in one call).

    The day's messages (``m_*``, ``m_quality`` float32) are ordered by group, best first in
    ``curated`` groups; readers ``ids`` read (``kernels.reading._read``); each makes
    ``Poisson(reply_prob * W)`` replies, one uniform per reply, then one uniform per reply pair
    decides new ties; replies strengthen existing ties (in place on ``weight``, strong-tie
    counts follow); ``tie_decay`` weakens all ties.

    Returns ``(order, start, count, cum_q, cum_w, cum_s, cum_reply, k, value, info, spam,
    overflow, buried, utility, received, new_keys, new_counts)``: the group index, the
    reading result aligned with ``ids``, replies received (int64[n]), and the new ties to
    queue (keys ascending; replies between the pair today) — their strength ``1 - (1 -
    tie_increment) ** count`` is left to numpy.
    """
    rng = generator_from(h)
    any_cur = False
    for g in range(len(curated)):
        if curated[g]:
            any_cur = True
            break
    if any_cur and len(m_group):
        order, start, count = _curated_order(m_group, n_groups, m_quality, curated)
        cq, cw, cs, cr = _prefix_sums(order, m_quality, m_warmth, m_spam)
    else:
        order, start, count, cq, cw, cs, cr = _group_index(m_group, n_groups, m_quality, m_warmth, m_spam)
    want = reply_prob > 0 and len(ids) > 0 and len(m_author) > 0
    k, value, info, sp, ovf, bur, util, W = _read(ids, ids, group, attention, taste, interest, start, count, cq,
                                                  cw, cs, cr, curated, relief, spam_penalty, read_cost,
                                                  overload_cost, want)
    e_i = np.empty(0, np.int64)
    if want:
        R = np.empty(len(ids), np.int64)
        for j in range(len(ids)):
            R[j] = rng.poisson(reply_prob * W[j])
        total = 0
        for j in range(len(ids)):
            total += R[j]
        u = np.empty(total)
        for x in range(total):
            u[x] = rng.random()
        reader, target, received = _reply_targets(ids, ids, group, k, R, u, start, count, cr, curated,
                                                  m_author[order], len(attention))
    else:
        reader, target, received = e_i, e_i, np.zeros(len(attention), np.int64)
    tie_u = np.empty(len(reader))
    for x in range(len(reader)):
        tie_u[x] = rng.random()
    new_keys, new_counts = e_i, e_i
    if len(reader) > 0 and tie_increment > 0:
        miss = _strengthen_csr(keys, rowptr, weight, n, reader, target, tie_increment, np.float32(strong_tie),
                               status, strong_ties, indptr, indices)
        if len(miss):
            if tie_formation < 1.0 and len(miss) < 2**27:  # (kernels.ties.strengthen_ties, the same branches)
                ck, cc = _new_tie_candidates(reader, target, miss, tie_u, tie_formation, n)
                srt = np.argsort(ck)
                new_keys, new_counts = ck[srt], cc[srt]
            else:
                pk = _pair_keys(reader, target, miss, n)
                new_keys, _, new_counts = _unique_first_counts(pk, _radix_order(pk) if len(pk) > 4096
                                                               else np.argsort(pk))
    if tie_decay > 0:
        keep = np.float32(1.0 - tie_decay)
        for e in range(len(weight)):
            weight[e] *= keep
        recount_strong(keys, weight, n, status, np.float32(strong_tie), strong_ties)
    return (order, start, count, cq, cw, cs, cr, k, value, info, sp, ovf, bur, util, received, new_keys,
            new_counts)


@njit
def _active_of(ids, mask, status):
    """``ids[mask]`` still active (``remove_members`` ignores the others)."""
    m = 0
    for j in range(len(ids)):
        if mask[j] and status[ids[j]] == _ACTIVE:
            m += 1
    out = np.empty(m, np.int64)
    m = 0
    for j in range(len(ids)):
        if mask[j] and status[ids[j]] == _ACTIVE:
            out[m] = ids[j]
            m += 1
    return out


@njit
def churn_segment(h, ids, t, read_utility, spam_read, received, extra_utility, extra_pos, extra_neg, status, role,
                  join_step, leave_step, leave_reason, leaves_today, need, trust_r, trust_s, satisfaction, utility,
                  spend, tier, strong_ties, leader_tie, commitment, threshold, left_n, member_n, leader, taste,
                  post_rate, quality, warmth, propensity, propensity_on, indptr, indices, keys, rowptr, weight, P):
    """Stages *trust, satisfaction and churn* and *chatter conversion* for today's members
    ``ids``: one uniform each, ``kernels.churn.members_day``, the departures by contagion then
    by dissatisfaction (``CommunityModel.remove_members`` of those still active: status,
    leave step and reason, ``leaves_today``, neighbour and strong-tie counts, trust lost by
    those tied to a departing leader), then the regulars who turn chatter
    (``kernels.day.convert_chatters``).

    ``P`` float64[26]: recognition, habituation, spam_distrust, trust_memory,
    satisfaction_memory, commit_sunk, commit_tier, commit_ties, commit_identity, hazard_base,
    hazard_max, hazard_slope, hazard_midpoint, grace_days, contagion (0/1), strong_tie,
    leader_loss, chatter_conversion, the chatter role's mean post rate, quality and warmth
    (float32 values), and 5 unused slots. Returns ``(contagious, dissatisfied)``: the ids
    that left, ascending.
    """
    rng = generator_from(h)
    n_ids = len(ids)
    uni = np.empty(n_ids)
    for j in range(n_ids):
        uni[j] = rng.random()
    conta, diss = members_day(ids, t, read_utility, spam_read, received, extra_utility, extra_pos, extra_neg,
                              join_step, need, trust_r, trust_s, satisfaction, utility, spend, tier, strong_ties,
                              leader_tie, commitment, threshold, left_n, member_n, P[0], P[1], P[2], P[3], P[4],
                              P[5], P[6], P[7], P[8], P[9], P[10], P[11], P[12], P[13], P[14] != 0.0, uni)
    strong = np.float32(P[15])
    conta_ids = _active_of(ids, conta, status)
    _depart(conta_ids, _CONTAGION, t, status, leave_step, leave_reason, leaves_today, indptr, indices, keys,
            rowptr, weight, strong, left_n, strong_ties, role, leader, leader_tie, trust_s, P[16])
    diss_ids = _active_of(ids, diss, status)
    _depart(diss_ids, _DISSATISFIED, t, status, leave_step, leave_reason, leaves_today, indptr, indices, keys,
            rowptr, weight, strong, left_n, strong_ties, role, leader, leader_tie, trust_s, P[16])
    if P[17] > 0:
        convert_chatters(rng, ids, role, status, taste, indptr, indices, P[17], post_rate, quality, warmth,
                         propensity, propensity_on, P[18], P[19], P[20])
    return conta_ids, diss_ids


@njit
def bookkeeping_segment(h, ids, counts, received, t, first_post_step, return_step, first_replied, propensity,
                        commitment, welcome_boost, welcome_commitment, posts, posts_yesterday, replies_yesterday,
                        last_post, heard, unhappy, indptr, indices, wom_reach):
    """Stage *bookkeeping* (first posts, returns and welcomes of today's posters; posts,
    yesterday's posts and replies, last post: ``kernels.record.end_of_day``), then word of
    mouth: each unhappy leaver of the day (``unhappy``) tells up to ``floor(wom_reach)`` of its
    ties (one uniform per telling), and ``Poisson`` of the rest reach people drawn from the
    whole population (``kernels.arrivals.spread_word_of_mouth``)."""
    _newcomer_feedback(ids, counts, received, t, first_post_step, return_step, first_replied, propensity,
                       commitment, welcome_boost, welcome_commitment)
    end_of_day(ids, counts, received, posts, posts_yesterday, replies_yesterday, last_post, t)
    word_of_mouth(generator_from(h), unhappy, heard, indptr, indices, wom_reach)
