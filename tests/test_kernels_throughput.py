"""The throughput rewrites of the kernels give exactly what the plain versions give.

Each faster kernel (a windowed search for reply targets, per-group totals in reading, new ties
found without sorting every missing pair, missing ties told from the CSR rows) is checked
against the simple formulation it replaces, bit for bit, on hypothesis-drawn inputs; the
whole model's trajectories are checked against recorded ones in the golden test.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from qunsim.kernels import reading as RD
from qunsim.kernels import ties as T
from qunsim.network import SocialGraph

SETTINGS = settings(max_examples=40)
seeds = st.integers(0, 2**32 - 1)


def _cum(rng, m, zero_share):
    w = np.where(rng.random(m) < zero_share, 0.0, rng.random(m))
    return np.concatenate([[0.0], np.cumsum(w)])


@SETTINGS
@given(seed=seeds, m=st.integers(1, 400), zero_share=st.sampled_from([0.0, 0.3, 0.9]))
def test_windowed_reply_search_is_the_bisection(seed, m, zero_share):
    """``_reply_message`` (a 16-wide window around the equal-weight guess, else the whole
    span) returns the bisection's answer for every target, also at the span's ends and with
    runs of equal prefix sums (zero-weight spam)."""
    rng = np.random.default_rng(seed)
    cum = _cum(rng, m + 50, zero_share)
    for _ in range(50):
        lo = int(rng.integers(0, 50))
        hi = lo + int(rng.integers(0, m + 1))
        base, span = cum[lo], cum[hi] - cum[lo]
        for u in (0.0, float(rng.random()), 1.0 - 2**-53, float(rng.random()) ** 8):
            t = base + u * span
            assert RD._reply_message(cum, lo, hi, t, u) == RD._bisect_right(cum, lo, hi + 1, t) - 1
        # a guess far from the answer still finds it (the fallback)
        t = base + 0.999 * span
        assert RD._reply_message(cum, lo, hi, t, 0.0) == RD._bisect_right(cum, lo, hi + 1, t) - 1


@njit
def _plain_read(ids, group, attention, taste, interest, start, count, cum_q, cum_w, cum_s, cum_reply,
                curated, relief, sp, rc, oc):
    """The reading rule as it was written before the per-group totals: prefix sums at both
    ends of each group's span for every reader (compiled the same way as the kernel)."""
    n = len(ids)
    out = np.empty((8, n))
    for j in range(n):
        i = ids[j]
        g = group[i]
        V = np.float64(count[g])
        a = max(np.float64(attention[i]), 1e-9)
        k = min(V, a)
        s0 = start[g]
        e0 = s0 + count[g]
        if curated[g]:
            kc = np.int64(np.floor(k))
            sq = cum_q[s0 + kc] - cum_q[s0]
            sw = cum_w[s0 + kc] - cum_w[s0]
            ss = cum_s[s0 + kc] - cum_s[s0]
            k = np.float64(kc)
        else:
            frac = k / V if V > 0 else 0.0
            sq = (cum_q[e0] - cum_q[s0]) * frac
            sw = (cum_w[e0] - cum_w[s0]) * frac
            ss = (cum_s[e0] - cum_s[s0]) * frac
        om = np.float64(taste[i])
        io = np.float64(interest[i])
        inf = io * om * sq
        val = (1.0 - om) * sw + inf - sp * ss
        over = max(V - a, 0.0)
        ovf = over / a
        out[0, j] = k
        out[1, j] = val
        out[2, j] = inf
        out[3, j] = ss
        out[4, j] = ovf
        out[5, j] = over / V if V > 0 else 0.0
        out[6, j] = val - rc * k - (1.0 - relief[g]) * oc * np.log1p(ovf)
        out[7, j] = RD.reply_weight_read(cum_reply, s0, count[g], k, curated[g])
    return out


@SETTINGS
@given(seed=seeds, n=st.integers(1, 60), G=st.integers(1, 6), m=st.integers(0, 120))
def test_read_with_group_totals_is_the_plain_rule(seed, n, G, m):
    """``_read`` reads per-group totals for random-order groups: bit-identical to taking the
    prefix sums at both ends of the group's span for every reader."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, G, n).astype(np.int32)
    mg = rng.integers(0, G, m)
    order, start, count, cq, cw, cs, cr = RD._group_index(mg.astype(np.int32), G, rng.random(m).astype(np.float32),
                                                          rng.random(m).astype(np.float32), rng.random(m) < 0.2)
    attention = (rng.random(n) * 30).astype(np.float32)
    taste, interest = rng.random(n).astype(np.float32), rng.random(n).astype(np.float32)
    curated = rng.random(G) < 0.5
    relief = rng.random(G)
    ids = np.sort(rng.choice(n, int(rng.integers(0, n + 1)), replace=False)).astype(np.int64)
    got = RD._read(ids, ids, group, attention, taste, interest, start, count, cq, cw, cs, cr, curated, relief,
                   0.5, 0.05, 1.5, True)
    want = _plain_read(ids, group, attention, taste, interest, start, count, cq, cw, cs, cr, curated, relief,
                       0.5, 0.05, 1.5)
    for a, b in zip(got, want, strict=True):
        assert np.array_equal(a, b)


def _sorted_new_ties(keys, rowptr, weight, n, a, b, inc, u, prob, strong, status, strong_ties):
    """The formulation the kernel replaces: sort every missing pair, keep a pair when the
    uniform of its first occurrence is below ``prob``."""
    miss = T._strengthen(keys, rowptr, weight, np.int64(n), a, b, float(inc), np.float32(strong), status,
                         strong_ties)
    if not len(miss):
        return np.empty(0, np.int64), np.empty(0, np.float32)
    k = T._pair_keys(a, b, miss, np.int64(n))
    uk, first, counts = T._unique_first_counts(k, np.argsort(k, kind="stable"))
    create = u[miss[first]] < prob if prob < 1.0 else np.ones(len(uk), bool)
    return uk[create], (1.0 - (1.0 - inc) ** counts[create]).astype(np.float32)


@SETTINGS
@given(seed=seeds, n=st.integers(2, 300), k=st.floats(0.0, 8.0), pairs=st.integers(0, 3000),
       prob=st.sampled_from([0.0, 0.05, 0.5, 0.999, 1.0]), csr=st.booleans())
def test_new_ties_and_strengthening_match_the_sorted_formulation(seed, n, k, pairs, prob, csr):
    """``strengthen_ties`` (new ties found through a hash table of candidate keys; missing ties
    told from the CSR rows when given) returns the same new keys, weights, strengthened
    weights and strong-tie counts as sorting every missing pair."""
    rng = np.random.default_rng(seed)
    m = int(n * k / 2)
    g = SocialGraph.from_edges(n, rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m).astype(np.float32))
    a = np.sort(rng.integers(0, n, pairs))  # readers come in ascending order in the model
    b = rng.integers(0, n, pairs)
    # repeated pairs (several replies to one author)
    if pairs > 10:
        b[: pairs // 3] = b[pairs // 3: 2 * (pairs // 3)]
        a[: pairs // 3] = a[pairs // 3: 2 * (pairs // 3)]
    u = rng.random(pairs)
    status = rng.integers(0, 3, n).astype(np.int8)
    w1, w2 = g.weight.copy(), g.weight.copy()
    s1, s2 = np.zeros(n, np.int16), np.zeros(n, np.int16)
    want = _sorted_new_ties(g.keys, g.rowptr, w1, n, a, b, 0.15, u, prob, 0.5, status, s1)
    extra = (g.indptr, g.indices) if csr else ()
    got = T.strengthen_ties(g.keys, g.rowptr, w2, n, a, b, 0.15, u, prob, 0.5, status, s2, *extra)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    assert got[1].dtype == np.float32 and np.all(np.diff(got[0]) > 0)
    assert np.array_equal(w1, w2) and np.array_equal(s1, s2)


@SETTINGS
@given(seed=seeds, m=st.integers(0, 600), G=st.integers(1, 12), share=st.sampled_from([0.0, 0.5, 1.0]),
       ties=st.booleans())
def test_curated_order_is_numpys_stable_argsort(seed, m, G, share, ties):
    """Messages of curated groups best first: the per-group sort gives exactly the order of
    numpy's stable argsort of the float key ``g + 0.999 (1 - q)`` (float32 quality), also with
    equal qualities and qualities so close that the key rounds them together."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, G, m).astype(np.int32)
    q = rng.random(m).astype(np.float32)
    if ties and m:
        q = np.round(q, 1).astype(np.float32)
        q[: m // 3] = np.float32(1.0) - np.float32(2.0**-30) * rng.integers(0, 3, m // 3).astype(np.float32)
    curated = rng.random(G) < share
    g64 = g.astype(np.int64)
    key = g64.astype(np.float64) + np.where(curated[g64], 0.999 * (1.0 - q), 0.0)
    want = np.argsort(key, kind="stable")
    got, start, count = RD._curated_order(g, G, q, curated)
    assert np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, n=st.integers(1, 300), t=st.integers(0, 60), days=st.integers(1, 30), rolling=st.booleans(),
       cap=st.integers(0, 6), exempt=st.lists(st.integers(0, 6), max_size=3), today=st.booleans())
def test_policy_passes_match_their_numpy_formulation(seed, n, t, days, rolling, cap, exempt, today):
    """The activity requirement's silent members and the rate limit's capped counts, compiled,
    are what the numpy formulation gives (both windows, with and without exempt roles)."""
    from qunsim.policies._compiled import capped_counts, inactive_members, role_mask

    rng = np.random.default_rng(seed)
    status = rng.integers(0, 4, n).astype(np.int8)
    role = rng.integers(0, 7, n).astype(np.int8)
    posts = rng.integers(0, 3, n).astype(np.int32)
    counts = rng.integers(0, 9, n).astype(np.int64)
    join = rng.integers(-1, t + 1, n).astype(np.int32)
    last = rng.integers(-1, t + 1, n).astype(np.int32)
    codes = np.array(exempt, np.int8)
    mask = role_mask(codes.astype(np.int64))
    posted = counts > 0 if today else np.zeros(n, bool)
    act = (status == 1) & ~np.isin(role, codes)
    if rolling:
        since = np.maximum(np.where(posted, t, last) + 1, join)
    else:
        since = np.where((posts > 0) | posted, t + 1, join)
    want = np.flatnonzero(act & (t - since + 1 >= days))
    got = inactive_members(status, role, mask, posts, counts if today else np.empty(0, np.int64), join, last,
                           t, days, rolling)
    assert np.array_equal(got, want)
    limited = np.minimum(counts, cap)
    if len(codes):
        limited = np.where(np.isin(role, codes), counts, limited)
    lim, cut = capped_counts(counts, cap, mask, role)
    assert np.array_equal(lim, limited) and lim.dtype == limited.dtype and cut == int((counts - limited).sum())


@SETTINGS
@given(seed=seeds, n=st.integers(0, 300), G=st.integers(0, 12), extra=st.integers(0, 3))
def test_group_counts_is_the_bincount_of_active_members(seed, n, G, extra):
    """The group cap's compiled group sizes are ``model.group_sizes()``'s bincount: same values,
    dtype and length (active members may sit in groups up to ``G + extra - 1``, past ``n_groups``)."""
    from qunsim.policies._compiled import group_counts

    rng = np.random.default_rng(seed)
    status = rng.integers(0, 4, n).astype(np.int8)
    top = max(G + extra, 1)
    group = np.where(status == 1, rng.integers(0, top, n), rng.integers(-1, top, n)).astype(np.int32)
    want = np.bincount(group[status == 1], minlength=G)
    got = group_counts(status, group, G)
    assert np.array_equal(got, want) and got.dtype == want.dtype and len(got) == len(want)
