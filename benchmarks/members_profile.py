"""Where the fused day's per-member compiled work goes, stage by stage.

The members' compiled call (``qunsim.kernels.day.members_day_packed``) is replaced, for the
timed days, by a Python replica that calls the same compiled kernels one by one in the same
order with the same draws (so the model follows the same trajectory: checked against an
unprofiled model at the end), timing each stage in CPU time. Figures are CPU ns per
member-step (active members at the start of the day), after subtracting the cost of one
Python-to-compiled call with as many arguments (measured on an empty call, per stage).

    python benchmarks/members_profile.py --sizes 300 1000 --days 200
    python benchmarks/members_profile.py --sizes 1000000 --days 3 --warmup 3

The replica is a measuring device, not the model: the fused call itself runs without the
per-stage calls (compare ``whole fused call`` with the sum of the stages).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import build  # noqa: E402

from qunsim.kernels import day as D  # noqa: E402
from qunsim.kernels.arrivals import _tell_ties  # noqa: E402
from qunsim.kernels.churn import members_day  # noqa: E402
from qunsim.kernels.neighbours import chatter_candidates, recount_strong  # noqa: E402
from qunsim.kernels.posting import _make_messages, _posting_means  # noqa: E402
from qunsim.kernels.reading import _group_index, _read, _reply_targets  # noqa: E402
from qunsim.kernels.record import record_day  # noqa: E402
from qunsim.kernels.ties import _new_tie_candidates, _strengthen_csr  # noqa: E402

_ACTIVE, _REGULAR, _CHATTER = 1, 3, 4


@njit(cache=True)
def _active_ids(status):
    n_ids = 0
    for i in range(len(status)):
        if status[i] == _ACTIVE:
            n_ids += 1
    ids = np.empty(n_ids, np.int64)
    c = 0
    for i in range(len(status)):
        if status[i] == _ACTIVE:
            ids[c] = i
            c += 1
    return ids


@njit(cache=True)
def _post_counts(h, ids, mu, n):
    rng = D.generator_from(h)
    counts = np.zeros(n, np.int64)
    for j in range(len(ids)):
        counts[ids[j]] = rng.poisson(mu[j])
    return counts


@njit(cache=True)
def _posters_noise(h, ids, counts, message_noise):
    rng = D.generator_from(h)
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
    nq, nw = np.empty(0), np.empty(0)
    if message_noise > 0 and m > 0:
        nq = np.empty(m)
        nw = np.empty(m)
        for j in range(m):
            nq[j] = rng.normal(0.0, message_noise)
        for j in range(m):
            nw[j] = rng.normal(0.0, message_noise)
    return posters, nq, nw


@njit(cache=True)
def _reply_draws(h, W, reply_prob):
    rng = D.generator_from(h)
    n = len(W)
    R = np.empty(n, np.int64)
    for j in range(n):
        R[j] = rng.poisson(reply_prob * W[j])
    total = 0
    for j in range(n):
        total += R[j]
    u = np.empty(total)
    for x in range(total):
        u[x] = rng.random()
    return R, u


@njit(cache=True)
def _uniforms(h, k):
    rng = D.generator_from(h)
    u = np.empty(k)
    for x in range(k):
        u[x] = rng.random()
    return u


@njit(cache=True)
def _sorted_new(ck, cc):
    srt = np.argsort(ck)
    return ck[srt], cc[srt]


@njit(cache=True)
def _chatter(h, ids, role, status, taste, indptr, indices, chatter_conversion, post_rate, quality, warmth,
             chatter_post_rate, chatter_quality, chatter_warmth, propensity_on, propensity):
    rng = D.generator_from(h)
    n_reg = 0
    for i in ids:
        if role[i] == _REGULAR and status[i] == _ACTIVE:
            n_reg += 1
    if n_reg:
        reg = np.empty(n_reg, np.int64)
        c = 0
        for i in ids:
            if role[i] == _REGULAR and status[i] == _ACTIVE:
                reg[c] = i
                c += 1
        ureg = np.empty(n_reg)
        for x in range(n_reg):
            ureg[x] = rng.random()
        conv = chatter_candidates(reg, ureg, role, status, taste, indptr, indices, chatter_conversion)
        for i in conv:
            role[i] = _CHATTER
            post_rate[i] = max(post_rate[i], chatter_post_rate)
            quality[i] = min(quality[i], chatter_quality)
            warmth[i] = max(warmth[i], chatter_warmth)
            if propensity_on:
                propensity[i] = max(propensity[i], np.float32(1.0))


@njit(cache=True)
def _wom(h, heard, unhappy_before, conta_ids, diss_ids, indptr, indices, wom_reach, n):
    rng = D.generator_from(h)
    n_unhappy = len(unhappy_before) + len(conta_ids) + len(diss_ids)
    if n_unhappy > 0 and wom_reach > 0:
        leavers = np.empty(n_unhappy, np.int64)
        leavers[:len(unhappy_before)] = unhappy_before
        leavers[len(unhappy_before):len(unhappy_before) + len(conta_ids)] = conta_ids
        leavers[len(unhappy_before) + len(conta_ids):] = diss_ids
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
        n_online = rng.poisson(D.numpy_sum(rest))
        one = np.float32(1.0)
        for _ in range(n_online):
            heard[rng.integers(0, n)] += one


@njit(cache=True)
def _null(*args):
    return 0


class Profiler:
    def __init__(self):
        self.acc: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.nargs: dict[str, int] = {}
        self.member_steps = 0
        self.fused_total = 0.0

    def run(self, key, fn, *args):
        c0 = time.process_time()
        out = fn(*args)
        self.acc[key] = self.acc.get(key, 0.0) + time.process_time() - c0
        self.calls[key] = self.calls.get(key, 0) + 1
        self.nargs[key] = max(self.nargs.get(key, 0), len(args))
        return out

    def members_day_packed(self, h, t, n_groups, yesterday_q, yesterday_chat, unhappy_before, leaves_today,
                           status, role, initial_role, group, join_step, entry_path, leave_step, leave_reason,
                           quality, warmth, post_rate, propensity, propensity_on, attention, taste, interest, need,
                           threshold, trust_r, trust_s, satisfaction, utility, spend, tier, commitment, heard,
                           posts, posts_yesterday, replies_yesterday, last_post, leader_tie, strong_ties, left_n,
                           member_n, first_post_step, first_replied, return_step, leader, indptr, indices, keys,
                           rowptr, weight, P, data, r, gh, gn, joins, active0, revenue_before, window, pending,
                           n_edges, tie_w):
        """The replica of :func:`members_stages` (same kernels, same draws, timed one by one)."""
        run = self.run
        (newcomer_days, answer_base, answer_halfsat, chatter_contagion, reply_reward, message_noise, spam_penalty,
         read_cost, overload_cost, reply_prob, tie_increment, tie_formation, strong_tie, tie_decay, recognition,
         habituation, spam_distrust, trust_memory, satisfaction_memory, commit_sunk, commit_tier, commit_ties,
         commit_identity, hazard_base, hazard_max, hazard_slope, hazard_midpoint, grace_days, contagion,
         leader_loss, chatter_conversion, chatter_post_rate, chatter_quality, chatter_warmth, welcome_boost,
         welcome_commitment, wom_reach, trust_weak, trust_strong, strong_evidence, min_exposure, min_events, z,
         first_post_rate) = (float(x) for x in P)
        newcomer_days, contagion = int(newcomer_days), contagion != 0.0
        chatter_post_rate, chatter_quality, chatter_warmth = (np.float32(x) for x in (
            chatter_post_rate, chatter_quality, chatter_warmth))
        n = len(status)
        ids = run("active ids", _active_ids, status)
        self.member_steps += len(ids)
        e_i = np.empty(0, np.int64)
        e_f = np.empty(0)
        author, mgroup, spam = e_i, np.empty(0, np.int32), np.empty(0, np.bool_)
        k = value = info = buried = read_u = e_f
        new_keys = new_counts = conta_ids = diss_ids = e_i
        n_ids = len(ids)
        if n_ids:
            rate = (run("posting rates", D.participation_rate, ids, post_rate, propensity, first_post_step,
                        entry_path, join_step, t, newcomer_days, first_post_rate) if propensity_on else post_rate)
            mu = run("posting means", _posting_means, ids, role, rate, group, join_step, entry_path,
                     replies_yesterday, yesterday_q, yesterday_chat, t, newcomer_days, answer_base, answer_halfsat,
                     chatter_contagion, reply_reward)
            counts = run("posts: Poisson draws", _post_counts, h, ids, mu, n)
            posters, nq, nw = run("messages: posters, normal draws", _posters_noise, h, ids, counts, message_noise)
            author, mgroup, mq, mw, spam = run("messages: make", _make_messages, posters, posters, counts, group,
                                               quality, warmth, True, role, nq, nw)
            order, start, count, cq, cw, cs, cr = run("group index (order, prefix sums)", _group_index, mgroup,
                                                      n_groups, mq, mw, spam)
            curated = np.zeros(n_groups, np.bool_)
            relief = np.zeros(n_groups)
            want = reply_prob > 0 and len(author) > 0
            k, value, info, sp_read, overflow, buried, read_u, W = run(
                "reading", _read, ids, ids, group, attention, taste, interest, start, count, cq, cw, cs, cr,
                curated, relief, spam_penalty, read_cost, overload_cost, want)
            if want:
                R, u = run("replies: Poisson + uniform draws", _reply_draws, h, W, reply_prob)
                am = author[order]
                reader, target, received = run("replies: targets", _reply_targets, ids, ids, group, k, R, u,
                                               start, count, cr, curated, am, n)
            else:
                reader, target, received = e_i, e_i, np.zeros(n, np.int64)
            tie_u = run("ties: uniform draws", _uniforms, h, len(reader))
            if len(reader) > 0 and tie_increment > 0:
                miss = run("ties: strengthen (CSR scan)", _strengthen_csr, keys, rowptr, weight, np.int64(n),
                           reader, target, tie_increment, np.float32(strong_tie), status, strong_ties, indptr,
                           indices)
                if len(miss) and tie_formation < 1.0:
                    ck, cc = run("ties: new-tie candidates", _new_tie_candidates, reader, target, miss, tie_u,
                                 tie_formation, np.int64(n))
                    new_keys, new_counts = run("ties: sort new", _sorted_new, ck, cc)
                elif len(miss):
                    raise NotImplementedError("tie_formation >= 1 is not profiled")
            if tie_decay > 0:
                weight *= np.float32(1.0 - tie_decay)
                recount_strong(keys, weight, np.int64(n), status, np.float32(strong_tie), strong_ties)
            uni = run("churn: uniform draws", _uniforms, h, n_ids)
            zeros = np.zeros(n)
            conta, diss = run("trust, satisfaction, churn", members_day, ids, t, read_u, sp_read, received,
                              zeros, zeros, zeros, join_step, need, trust_r, trust_s, satisfaction, utility, spend,
                              tier, strong_ties, leader_tie, commitment, threshold, left_n, member_n, recognition,
                              habituation, spam_distrust, trust_memory, satisfaction_memory, commit_sunk,
                              commit_tier, commit_ties, commit_identity, hazard_base, hazard_max, hazard_slope,
                              hazard_midpoint, grace_days, contagion, uni)
            conta_ids, diss_ids = ids[conta], ids[diss]
            st32 = np.float32(strong_tie)
            for gone, reason in ((conta_ids, D._CONTAGION), (diss_ids, D._DISSATISFIED)):
                run("departures", D._depart, gone, reason, t, status, leave_step, leave_reason, leaves_today,
                    indptr, indices, keys, rowptr, weight, st32, left_n, strong_ties, role, leader, leader_tie,
                    trust_s, leader_loss)
            if chatter_conversion > 0:
                run("chatter conversion", _chatter, h, ids, role, status, taste, indptr, indices, chatter_conversion,
                    post_rate, quality, warmth, chatter_post_rate, chatter_quality, chatter_warmth, propensity_on,
                    propensity)
            run("bookkeeping", D._close_members, ids, counts, received, t, first_post_step, return_step,
                first_replied, propensity, commitment, welcome_boost, welcome_commitment, posts, posts_yesterday,
                replies_yesterday, last_post)
        run("word of mouth", _wom, h, heard, unhappy_before, conta_ids, diss_ids, indptr, indices, wom_reach,
            np.int64(n))
        queued = pending + len(new_keys)
        recorded = not (queued > max(0.05 * n_edges, 1000) or (t % 7 == 0 and queued > 0))
        if recorded:
            q, chat = run("record", record_day, data, r, gh, gn, False, status, role, initial_role, tier, trust_r,
                          trust_s, satisfaction, group, join_step, strong_ties, n_groups, trust_weak, trust_strong,
                          strong_evidence, author, mgroup, spam, t, newcomer_days, ids, quality, k, value, info,
                          buried, read_u, joins, leaves_today, active0, 0, 0.0, revenue_before, 0.0, window,
                          min_exposure, min_events, z)
            yesterday_q[:] = q
            yesterday_chat[:] = chat
        n_r = 0 if recorded else len(ids)
        reading = np.empty((6, n_r))
        if n_r:
            reading[:] = ids, k, value, info, buried, read_u
        msgs = np.empty((3, 0 if recorded else len(author)), np.int64)
        if msgs.shape[1]:
            msgs[:] = author, mgroup, spam
        ties = np.array([new_keys, new_counts], np.int64).reshape(2, len(new_keys))
        priced = (new_counts >= 0) & (new_counts < len(tie_w))
        strength = np.full(len(new_keys), np.nan, np.float32)
        strength[priced] = tie_w[new_counts[priced]]
        departed = np.concatenate([conta_ids, diss_ids])
        return recorded, reading, msgs, ties, strength, departed, len(conta_ids), int((~priced).sum())


def call_overhead(nargs: int, reps: int = 20000) -> float:
    """CPU seconds of one Python call of a compiled function with ``nargs`` array arguments."""
    a = np.zeros(3)
    args = (a,) * nargs
    _null(*args)
    best = float("inf")
    for _ in range(3):
        c0 = time.process_time()
        for _ in range(reps):
            _null(*args)
        best = min(best, (time.process_time() - c0) / reps)
    return best


def profile_size(n: int, days: int, warmup: int, check: bool = True) -> dict:
    prof = Profiler()
    model = build(n, agent_views=n <= 10_000)
    twin = build(n, agent_views=n <= 10_000) if check else None
    for _ in range(warmup):
        model.step()
        if twin is not None:
            twin.step()
    # the fused call itself, on the twin (same trajectory), for comparison
    orig = D.members_day_packed
    fused_cpu = [0.0]

    def timed_fused(*a):
        c0 = time.process_time()
        try:
            return orig(*a)
        finally:
            fused_cpu[0] += time.process_time() - c0
    D.members_day_packed = prof.members_day_packed
    c0 = time.process_time()
    try:
        for _ in range(days):
            model.step()
    finally:
        D.members_day_packed = orig
    replica_day = time.process_time() - c0
    twin_day = None
    if twin is not None:
        D.members_day_packed = timed_fused
        c0 = time.process_time()
        try:
            for _ in range(days):
                twin.step()
        finally:
            D.members_day_packed = orig
        twin_day = time.process_time() - c0
        same = model.timeseries().equals(twin.timeseries())
        assert same, "the replica left the model's trajectory"
    ms = prof.member_steps
    out = {}
    for key, v in prof.acc.items():
        over = call_overhead(prof.nargs[key]) * prof.calls[key]
        out[key] = round(1e9 * max(v - over, 0.0) / ms, 1)
    res = {"size": n, "days": days, "members_per_day": round(ms / days, 1),
           "stages_ns_per_member_step": out, "sum_of_stages": round(sum(out.values()), 1),
           "replica_day_ns_per_member_step": round(1e9 * replica_day / ms, 1)}
    if twin is not None:
        res["whole_fused_call_ns_per_member_step"] = round(1e9 * fused_cpu[0] / ms, 1)
        res["whole_day_ns_per_member_step"] = round(1e9 * twin_day / ms, 1)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 1000])
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from qunsim.kernels import warm_up

    warm_up()
    profile_size(200, 30, 3, check=False)  # compiles (or loads) the replica's own kernels
    for n in args.sizes:
        res = profile_size(n, args.days, args.warmup)
        if args.json:
            print(json.dumps(res))
            continue
        print(f"size {n:,}: {res['members_per_day']} members a day over {args.days} days")
        for k, v in sorted(res["stages_ns_per_member_step"].items(), key=lambda kv: -kv[1]):
            print(f"  {k:40s} {v:8.1f} ns")
        print(f"  {'sum of stages':40s} {res['sum_of_stages']:8.1f} ns")
        for k in ("whole_fused_call_ns_per_member_step", "whole_day_ns_per_member_step"):
            if k in res:
                print(f"  {k:40s} {res[k]:8.1f} ns")


if __name__ == "__main__":
    main()
