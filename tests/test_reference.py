"""The vectorized kernels against the per-agent reference (benchmarks/reference.py).

(a) Exactly: every kernel and its loop version get the same random inputs and the same
pre-drawn randomness (drawn from a copy of the kernel's generator, in the kernel's order);
results agree to floating-point rounding (float32 state: 1e-6; float64: 1e-9), and discrete
results (masks, reply pairs, candidates) agree exactly.

(b) Statistically: the per-agent Mesa model and ``CommunityModel`` start from the same
population (120 members) and run 50 days over several seeds; the mean paired differences of their
trajectories are within 4 standard errors of zero, and a deliberately changed rule in the
reference is detected by the same test.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qunsim as qs
from qunsim import kernels as K
from qunsim.kernels.churn import relative_surplus
from qunsim.kernels.context import Messages
from qunsim.network import SocialGraph, gather_neighbors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import reference as R  # noqa: E402

SETTINGS = settings(max_examples=30, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def _unit(rng, n, coarse):
    """Values in [0, 1]; ``coarse`` rounds them to make ties and exact 0/1 frequent."""
    x = rng.random(n)
    return np.round(x, 1) if coarse else x


def _messages(rng, m, G, coarse):
    author = rng.integers(-1, 30, m)
    group = rng.integers(0, G, m).astype(np.int32)
    q = _unit(rng, m, coarse).astype(np.float32)
    w = _unit(rng, m, coarse).astype(np.float32)
    spam = rng.random(m) < 0.15
    q[spam] = 0
    w[spam] = 0
    return Messages(author, group, q, w, spam, np.zeros(m, np.int8))


def _as_list(msgs: Messages):
    return [(int(a), int(g), float(q), float(w), bool(s)) for a, g, q, w, s in
            zip(msgs.author, msgs.group, msgs.quality, msgs.warmth, msgs.spam, strict=True)]


def _neighbors(g: SocialGraph):
    return [g.indices[g.indptr[i]:g.indptr[i + 1]].tolist() for i in range(g.n)]


def _random_graph(rng, n, k):
    m = int(n * k / 2)
    return SocialGraph.from_edges(n, rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m))


# ------------------------------------------------------------------ (a) kernels, exactly
@SETTINGS
@given(seed=seeds, n=st.integers(0, 50), G=st.integers(1, 4), coarse=st.booleans())
def test_posting_rates(seed, n, G, coarse):
    rng = np.random.default_rng(seed)
    role = rng.integers(0, 7, n)
    rate = rng.gamma(1.0, 1.0, n)
    group = rng.integers(0, G, n)
    newcomer = rng.random(n) < 0.3
    replies = rng.integers(0, 6, n)
    qpa = np.round(rng.gamma(1, 1, G), 1) if coarse else rng.gamma(1, 1, G)
    chat = _unit(rng, G, coarse)
    kw = dict(answer_base=float(rng.random()), answer_halfsat=0.1 + float(rng.random()),
              chatter_contagion=2 * float(rng.random()), reply_reward=float(rng.choice([0.0, 0.5])))
    mu = K.posting_rates(np.arange(n), role, rate, group, newcomer, replies, qpa, chat, **kw)
    ref = R.ref_posting_rates(role.tolist(), rate.tolist(), group.tolist(), newcomer.tolist(),
                              replies.tolist(), qpa.tolist(), chat.tolist(), **kw)
    np.testing.assert_allclose(mu, ref, rtol=1e-12, atol=0)


@SETTINGS
@given(seed=seeds, n=st.integers(0, 30), noise=st.sampled_from([0.0, 0.1, 0.5]))
def test_make_messages(seed, n, noise):
    rng = np.random.default_rng(seed)
    authors = np.sort(rng.choice(100, n, replace=False))
    counts = rng.integers(0, 4, n)
    group = rng.integers(0, 3, n)
    q, w = rng.random(n).astype(np.float32), rng.random(n).astype(np.float32)
    spam = rng.random(n) < 0.2
    draw = np.random.default_rng(seed + 1)
    twin = copy.deepcopy(draw)
    msgs = K.make_messages(authors, counts, group, q, w, spam, noise, draw)
    m = int(counts.sum())
    nq = twin.normal(0, noise, m).astype(np.float32) if noise > 0 else None
    nw = twin.normal(0, noise, m).astype(np.float32) if noise > 0 else None
    ref = R.ref_make_messages(authors.tolist(), counts.tolist(), group.tolist(), q.tolist(),
                              w.tolist(), spam.tolist(), nq, nw)
    assert len(msgs) == len(ref)
    got = _as_list(msgs)
    for a, b in zip(got, ref, strict=True):
        assert a[0] == b[0] and a[1] == b[1] and a[4] == b[4]
        assert abs(a[2] - b[2]) < 1e-6 and abs(a[3] - b[3]) < 1e-6
    assert bool(np.all(draw.random(3) == twin.random(3)))  # same number of draws consumed


@SETTINGS
@given(seed=seeds, m=st.integers(0, 80), G=st.integers(1, 4), n=st.integers(1, 40),
       coarse=st.booleans(), curate=st.sampled_from(["none", "all", "some"]))
def test_read_random_and_curated(seed, m, G, n, coarse, curate):
    rng = np.random.default_rng(seed)
    msgs = _messages(rng, m, G, coarse)
    curated = {"none": np.zeros(G, bool), "all": np.ones(G, bool),
               "some": rng.random(G) < 0.5}[curate]
    group = rng.integers(0, G, n)
    att = np.where(rng.random(n) < 0.2, 0.0, rng.gamma(2, 10, n)).astype(np.float32)
    if coarse:
        att = np.round(att)
    taste, interest = _unit(rng, n, coarse).astype(np.float32), _unit(rng, n, coarse).astype(np.float32)
    relief = rng.random(G) * (rng.random(G) < 0.5)
    kw = dict(spam_penalty=1.0, read_cost=0.05, overload_cost=1.5)
    gi = K.GroupIndex.build(msgs, G, curated)
    rr = K.read(gi, group, att, taste, interest, curated, relief, **kw)
    ref = np.array(R.ref_read(_as_list(msgs), G, group.tolist(), att.tolist(), taste.tolist(),
                              interest.tolist(), curated.tolist(), relief.tolist(), **kw)).reshape(n, 7)
    got = np.column_stack([rr.k, rr.value, rr.info, rr.spam, rr.overflow, rr.buried, rr.utility])
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(seed=seeds, m=st.integers(0, 60), G=st.integers(1, 3), n=st.integers(1, 30),
       coarse=st.booleans(), curate=st.booleans(), p=st.sampled_from([0.05, 0.5, 1.0]))
def test_draw_replies(seed, m, G, n, coarse, curate, p):
    rng = np.random.default_rng(seed)
    msgs = _messages(rng, m, G, coarse)
    curated = (rng.random(G) < 0.5) if curate else np.zeros(G, bool)
    readers = np.sort(rng.choice(30, n, replace=False))
    group = rng.integers(0, G, n)
    att = rng.gamma(2, 10, n)
    gi = K.GroupIndex.build(msgs, G, curated)
    rr = K.read(gi, group, att, np.full(n, 0.5), np.ones(n), curated, np.zeros(G),
                spam_penalty=1, read_cost=0, overload_cost=0)
    draw = np.random.default_rng(seed + 7)
    twin = copy.deepcopy(draw)
    reader, author = K.draw_replies(gi, msgs, readers, group, rr.k, curated, p, draw)
    ml = _as_list(msgs)
    if m == 0:
        assert len(reader) == 0
        return
    W = np.array(R.ref_reply_weights(ml, G, group.tolist(), rr.k.tolist(), curated.tolist()))
    counts = twin.poisson(p * W)
    u = twin.random(int(counts.sum()))
    ref = R.ref_draw_replies(ml, G, readers.tolist(), group.tolist(), rr.k.tolist(),
                             curated.tolist(), counts.tolist(), u)
    assert list(zip(reader.tolist(), author.tolist(), strict=True)) == ref


@SETTINGS
@given(seed=seeds, n=st.integers(0, 50), memory=st.floats(0, 1), coarse=st.booleans())
def test_trust_update_and_levels(seed, n, memory, coarse):
    rng = np.random.default_rng(seed)
    r, s = rng.gamma(1, 3, n), rng.gamma(1, 3, n)
    if coarse:
        r, s = np.round(r), np.round(s)
    pos, neg = rng.normal(0, 1, n), rng.normal(0, 1, n)
    r2, s2 = K.update_trust(r, s, pos, neg, memory)
    rr, ss = R.ref_update_trust(r.tolist(), s.tolist(), pos.tolist(), neg.tolist(), memory)
    np.testing.assert_allclose(r2, rr, rtol=1e-12)
    np.testing.assert_allclose(s2, ss, rtol=1e-12)
    weak, strong, ev = 0.6, 0.8, float(rng.choice([0.0, 5.0]))
    assert K.trust_levels(r2, s2, weak, strong, ev).tolist() == R.ref_trust_levels(r2.tolist(), s2.tolist(), weak, strong, ev)
    # exact boundaries: trust 0.6 (r=1, s=0.333..), 0.8 (r=3, s=0) and evidence just below
    br, bs = np.array([1.0, 3.0, 3.0, 0.0]), np.array([1 / 3, 0.0, 1.0, 0.0])
    assert K.trust_levels(br, bs, 0.6, 0.8, 3.0).tolist() == R.ref_trust_levels(br.tolist(), bs.tolist(), 0.6, 0.8, 3.0)


@SETTINGS
@given(seed=seeds, n=st.integers(0, 50), memory=st.floats(0, 0.99))
def test_satisfaction_and_leave_probability(seed, n, memory):
    rng = np.random.default_rng(seed)
    u = rng.normal(3, 4, n)
    need = np.where(rng.random(n) < 0.2, 0.0, rng.gamma(2, 2, n))
    sur = relative_surplus(u, need)
    np.testing.assert_allclose(sur, R.ref_relative_surplus(u.tolist(), need.tolist()), rtol=1e-12)
    S0 = rng.normal(0, 1, n)
    S = K.update_satisfaction(S0, sur, memory)
    np.testing.assert_allclose(S, R.ref_update_satisfaction(S0.tolist(), sur.tolist(), memory), rtol=1e-12, atol=1e-15)
    damping = rng.uniform(0, 4, n)
    kw = dict(base=0.001, maximum=0.08, slope=float(rng.choice([0.0, 6.0, 300.0])), midpoint=-0.4)
    pl = K.leave_probability(S, damping, **kw)
    np.testing.assert_allclose(pl, R.ref_leave_probability(S.tolist(), damping.tolist(), **kw), rtol=1e-12, atol=1e-15)


@SETTINGS
@given(seed=seeds, n=st.integers(1, 60), k=st.floats(0.5, 8))
def test_contagion_mask_and_neighbour_counts(seed, n, k):
    """The model's sparse products (left/ever-member neighbours) and the Watts rule."""
    rng = np.random.default_rng(seed)
    g = _random_graph(rng, n, k)
    gone = (rng.random(n) < 0.3).astype(np.float32)
    ever = np.maximum(gone, (rng.random(n) < 0.5).astype(np.float32))
    left_n, mem_n = g.neighbor_sum(gone), g.neighbor_sum(ever)
    nb = _neighbors(g)
    ref = R.ref_neighbor_counts(nb, range(n), gone.tolist(), ever.tolist())
    np.testing.assert_array_equal(left_n, [a for a, _ in ref])
    np.testing.assert_array_equal(mem_n, [b for _, b in ref])
    phi = np.round(rng.random(n), 1)  # exact boundary cases (e.g. 1/2 >= 0.5)
    assert K.contagion_mask(left_n, mem_n, phi).tolist() == R.ref_contagion_mask(left_n.tolist(), mem_n.tolist(), phi.tolist())


@SETTINGS
@given(seed=seeds, n=st.integers(1, 60), k=st.floats(0.5, 8))
def test_gather_neighbors_and_chatter_conversion(seed, n, k):
    rng = np.random.default_rng(seed)
    g = _random_graph(rng, n, k)
    nodes = np.sort(rng.choice(n, int(rng.integers(0, n + 1)), replace=False))
    src, nbr = gather_neighbors(g.indptr, g.indices, nodes)
    nb = _neighbors(g)
    assert list(zip(src.tolist(), nbr.tolist(), strict=True)) == [(i, j) for i in nodes.tolist() for j in nb[i]]
    act = rng.random(n) < 0.7
    chat = act & (rng.random(n) < 0.4)
    counts = R.ref_neighbor_counts(nb, nodes.tolist(), chat.tolist(), act.tolist())
    share = np.array([c / d if d > 0 else 0.0 for c, d in counts])
    taste = np.round(rng.random(len(nodes)), 1)
    u = rng.random(len(nodes))
    assert K.chatter_conversion(taste, share, 0.5, u).tolist() == R.ref_chatter_conversion(taste, share, 0.5, u)


@SETTINGS
@given(seed=seeds, n=st.integers(1, 80), k=st.floats(0.5, 8), rate=st.floats(0, 20))
def test_arrival_candidates(seed, n, k, rate):
    rng = np.random.default_rng(seed)
    g = _random_graph(rng, n, k)
    status = rng.integers(0, 4, n).astype(np.int8)
    draw = np.random.default_rng(seed + 3)
    twin = copy.deepcopy(draw)
    # exposure
    exposed = K.exposure_candidates(status, rate, draw)
    m = twin.poisson(rate) if rate > 0 else 0
    who = twin.integers(0, n, m) if m else []
    assert exposed.tolist() == R.ref_exposure_candidates(status.tolist(), who)
    # referral
    inviters = np.flatnonzero(status == 1)
    invites = rng.integers(0, 4, len(inviters))
    cand, inv = K.referral_candidates(inviters, invites, g.indptr, g.indices, status, draw)
    nb = _neighbors(g)
    total = sum(c for i, c in zip(inviters, invites, strict=True) if nb[i])
    ref = R.ref_referral_candidates(inviters.tolist(), invites.tolist(), nb, status.tolist(), twin.random(total))
    assert list(zip(cand.tolist(), inv.tolist(), strict=True)) == ref
    # acceptance
    interest, heard = rng.random(n), np.round(rng.gamma(1, 1, n), 1) * (rng.random(n) < 0.5)
    referred = rng.random(n) < 0.5
    pa = K.accept_probability(interest, heard, referred, accept=0.9, wom_weight=1.0)
    np.testing.assert_allclose(pa, R.ref_accept_probability(interest, heard, referred, accept=0.9, wom_weight=1.0), rtol=1e-12)


@SETTINGS
@given(seed=seeds, n=st.integers(1, 60), k=st.floats(0.5, 8), reach=st.sampled_from([0.0, 2.0, 6.0, 6.5, 40.0]))
def test_word_of_mouth(seed, n, k, reach):
    rng = np.random.default_rng(seed)
    g = _random_graph(rng, n, k)
    heard = np.round(rng.random(n), 2).astype(np.float32)
    leavers = rng.choice(n, int(rng.integers(0, min(n, 6) + 1)), replace=False)
    draw = np.random.default_rng(seed + 5)
    twin = copy.deepcopy(draw)
    before = heard.copy()
    K.spread_word_of_mouth(heard, leavers, g.indptr, g.indices, reach, draw)
    nb = _neighbors(g)
    if len(leavers) and reach > 0:
        k_off = [min(len(nb[i]), int(np.floor(reach))) for i in leavers]
        u = twin.random(sum(k_off))
        n_on = twin.poisson(sum(max(reach - x, 0.0) for x in k_off))
        online = twin.integers(0, n, n_on) if n_on else []
    else:
        u, online = [], []
    ref = R.ref_spread_word_of_mouth(before, leavers.tolist(), nb, reach, u, online)
    np.testing.assert_allclose(heard, ref, rtol=1e-6)


@SETTINGS
@given(seed=seeds, n=st.integers(2, 40), k=st.floats(0.5, 6), days=st.integers(1, 4),
       inc=st.sampled_from([0.0, 0.15, 1.0]), form=st.sampled_from([1.0, 0.5, 0.0]))
def test_ties_strengthen_and_merge(seed, n, k, days, inc, form):
    """Replies strengthen ties w <- 1 - (1 - w)(1 - inc) per reply; a reply between strangers
    makes a tie with probability ``form`` (decided by the uniform of the pair's first reply
    of the day); new ties wait for a merge (the stronger weight wins), exactly as a dict of
    ties updated one reply at a time."""
    rng = np.random.default_rng(seed)
    g = _random_graph(rng, n, k)
    u, v = g.endpoints()
    ties = {(a, b): float(w) for a, b, w in zip(u.tolist(), v.tolist(), g.weight.tolist(), strict=True)}
    pending: dict = {}
    for day in range(days):
        a, b, uni = rng.integers(0, n, 25), rng.integers(0, n, 25), rng.random(25)
        created = g.strengthen(a, b, inc, new_tie_uniforms=uni, new_tie_prob=form)
        today: dict = {}
        first_u: dict = {}
        for x, y, z in zip(a.tolist(), b.tolist(), uni.tolist(), strict=True):
            if x == y or inc <= 0:
                continue
            key = (min(x, y), max(x, y))
            if key in ties:
                ties[key] = 1 - (1 - ties[key]) * (1 - inc)
            else:
                today[key] = 1 - (1 - today.get(key, 0.0)) * (1 - inc)
                first_u.setdefault(key, z)
        made = {key: w for key, w in today.items() if form >= 1.0 or first_u[key] < form}
        assert created == len(made)
        for key, w in made.items():
            pending[key] = max(pending.get(key, 0.0), w)
        if day % 2 == 1 or day == days - 1:
            g.merge_pending()
            ties.update({key: max(ties.get(key, 0.0), w) for key, w in pending.items()})
            pending = {}
            u, v = g.endpoints()
            got = dict(zip(zip(u.tolist(), v.tolist(), strict=True), g.weight.tolist(), strict=True))
            assert got.keys() == ties.keys()
            for key, w in ties.items():
                assert abs(got[key] - w) < 1e-5
            assert np.all(np.diff(g.keys) > 0)
            # the CSR lists every tie both ways
            nb = _neighbors(g)
            assert sorted((i, j) for i in range(n) for j in nb[i]) == sorted(
                [(a_, b_) for a_, b_ in ties] + [(b_, a_) for a_, b_ in ties])


def test_reply_window_bisection_is_searchsorted():
    """Reply targets are found by bisection inside the reader's group window of the prefix sums;
    the answer must be np.searchsorted's over the whole array (clipped to the window), also
    with runs of equal prefix sums (zero-weight spam messages)."""
    from qunsim.kernels.reading import _bisect_right

    rng = np.random.default_rng(0)
    w = np.where(rng.random(5_000) < 0.2, 0.0, rng.random(5_000))
    cum = np.concatenate([[0.0], np.cumsum(w)])
    for _ in range(300):
        lo = int(rng.integers(0, 4_000))
        hi = lo + int(rng.integers(0, 1_000))
        t = float(rng.choice([cum[lo], cum[hi], cum[lo] + rng.random() * (cum[hi] - cum[lo])]))
        want = min(max(int(np.searchsorted(cum, t, side="right")) - 1, lo), max(hi - 1, lo))
        got = min(max(_bisect_right(cum, lo, hi + 1, t) - 1, lo), max(hi - 1, lo))
        assert got == want


# ------------------------------------------------------------------ (b) the whole model
KW = {"community.n_seed": 120, "community.n_prospects": 600, "run.agent_views": False}
DAYS, SEEDS = 50, range(1, 17)


def _paired(ref_overrides: dict | None = None, seeds=SEEDS, both: dict | None = None):
    """Per seed: (vectorized - reference) for mean active over the run, final active and
    total messages, and for mean trust over the run; both models start from the population
    built with that seed (``both``: overrides of both models; ``ref_overrides``: of the
    reference only)."""
    diffs = []
    both = both or {}
    for seed in seeds:
        vec = qs.CommunityModel(rng=seed, **KW, **both)
        ref = R.ReferenceModel(qs.CommunityModel(rng=seed, **KW, **{**both, **(ref_overrides or {})}),
                               rng=10_000 + seed)
        vec.run_for(DAYS)
        ref.run_for(DAYS)
        ts = vec.timeseries()
        a_vec, a_ref = ts["active"].to_numpy(), np.array([r["active"] for r in ref.history])
        m_vec, m_ref = ts["messages"].to_numpy(), np.array([r["messages"] for r in ref.history])
        assert len(a_vec) == len(a_ref) == DAYS + 1
        t_vec, t_ref = ts["trust_mean"].to_numpy(), np.array([r["trust_mean"] for r in ref.history])
        diffs.append([a_vec[1:].mean() - a_ref[1:].mean(), a_vec[-1] - a_ref[-1],
                      m_vec[1:].sum() - m_ref[1:].sum(), t_vec[1:].mean() - t_ref[1:].mean()])
    d = np.array(diffs)
    return d.mean(axis=0), d.std(axis=0, ddof=1) / np.sqrt(len(d))


@pytest.fixture(scope="module")
def paired_same_rules():
    return _paired()


def test_reference_model_matches_vectorized(paired_same_rules):
    """Same rules, independent randomness: the mean paired difference of each statistic is
    within 4 standard errors of 0 (16 seeds; a false alarm is a ~0.1% event per statistic
    for a t statistic with 15 degrees of freedom)."""
    mean, se = paired_same_rules
    assert np.all(se > 0)
    assert np.all(np.abs(mean) <= 4 * se), (mean, se)


def test_reference_comparison_detects_a_changed_rule(paired_same_rules):
    """Power check: with the reference's leaving hazard changed (``hazard_max`` 0.25 instead
    of the default) the same comparison, on half the seeds, fails. (Smaller changes, e.g.
    replies twice as likely, move the statistics by 2-4 standard errors only: this comparison
    catches gross rule errors; the kernel tests above catch the fine ones.)"""
    mean, se = _paired({"dynamics.hazard_max": 0.25}, seeds=SEEDS[:8])
    assert np.any(np.abs(mean) > 4 * se), (mean, se)


def test_reference_model_matches_with_content_channels_that_follow_the_content():
    """The same comparison with every content-channel visitor who lands on chatter leaving
    (``content_bounce`` 1) in a chattier community (chatter share 0.2), on eight seeds; its
    power check: the same, with the reference left without the bounce, fails."""
    both = {"dynamics.content_bounce": 1.0, "community.chatter_share": 0.2}
    mean, se = _paired(seeds=SEEDS[:8], both=both)
    assert np.all(se > 0)
    assert np.all(np.abs(mean) <= 4 * se), (mean, se)
    mean, se = _paired({"dynamics.content_bounce": 0.0}, seeds=SEEDS[:8], both=both)
    assert np.any(np.abs(mean) > 4 * se), (mean, se)


FLOOR_DAYS = 14  # newcomer_days of the two floor tests below


def _lurkers_after_first_post(extra: dict, stayed: bool = False) -> list:
    """The reference's non-founding lurkers whose first post came early enough for a whole
    window after it (``stayed``: and who were members all that window), run 90 days at a
    first-post floor of 0.2 a day with the floors in ``extra``."""
    over = {"community.n_seed": 40, "community.n_prospects": 2000, "run.agent_views": False,
            "dynamics.lurker_share": 0.9, "dynamics.first_post_rate": 0.2,
            "dynamics.newcomer_days": FLOOR_DAYS, "dynamics.chatter_conversion": 0.0, **extra}
    src = qs.CommunityModel(rng=11, **over)
    base = src.state.propensity.copy()
    ref = R.ReferenceModel(src, rng=11)
    steps = 90
    ref.run_for(steps)
    return [x for x in ref.people if x.entry_path != R.P_SEED and 1 <= x.first_post_step < steps - FLOOR_DAYS - 1
            and base[x.index] == 0
            and (not stayed or x.leave_step < 0 or x.leave_step > x.first_post_step + FLOOR_DAYS + 1)]


def test_reference_welcome_invites_an_answered_lurker_back_once():
    """The per-agent reference's welcome (``welcome_rate``, posts a day) agrees with the
    engine's mechanism test (test_participation.py): an answered lurker posts again once, in
    the window after the first post, and an unanswered one never does."""
    ripe = _lurkers_after_first_post({"dynamics.welcome_rate": 0.5})
    welcomed = [x for x in ripe if x.first_replied]
    ignored = [x for x in ripe if not x.first_replied]
    assert len(welcomed) >= 5 and len(ignored) >= 5
    back = [x for x in welcomed if x.return_step >= 0]
    assert len(back) >= len(welcomed) - 1  # P(no post in 14 days at 0.5 a day) = e^-7
    assert all(x.return_step - x.first_post_step <= FLOOR_DAYS + 1 for x in back)
    assert all(x.propensity == 0 for x in ripe)  # the boost multiplies 0: a lurker still
    assert all(x.return_step < 0 for x in ignored)


def test_reference_follow_up_brings_a_lurker_back_once_reply_or_not():
    """The per-agent reference's follow-up (``follow_up_rate``, posts a day) agrees with the
    engine's mechanism test (test_participation.py): a lurker who posted once posts again
    once, in the window after the first post, answered or not."""
    ripe = _lurkers_after_first_post({"dynamics.follow_up_rate": 0.5, "dynamics.welcome_rate": 0.0,
                                      "dynamics.welcome_boost": 0.0}, stayed=True)
    for grp in ([x for x in ripe if x.first_replied], [x for x in ripe if not x.first_replied]):
        assert len(grp) >= 5
        back = [x for x in grp if x.return_step >= 0]
        assert len(back) >= len(grp) - 1  # P(no post in 14 days at 0.5 a day) = e^-7
        assert all(x.return_step - x.first_post_step <= FLOOR_DAYS + 1 for x in back)
