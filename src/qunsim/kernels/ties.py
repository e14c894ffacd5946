"""Replies and ties: readers answer some of what they read (more often the better messages),
and each reply strengthens the reader-author tie (compiled)."""

from __future__ import annotations

import numpy as np

from qunsim._jit import njit
from qunsim.kernels.context import Messages
from qunsim.kernels.neighbours import count_strong_pair
from qunsim.kernels.reading import GroupIndex, _reply_targets, reply_weight_read
from qunsim.network import find_edge

__all__ = ["draw_replies", "strengthen_ties"]

_ACTIVE = 1
#: CSR rows up to this length are scanned for a reply's tie before the keys are bisected
#: (captured days of a 1,000-member community: 13.3 ns a pair scanning every row, 10.2
#: bisecting every pair, 10.1 scanning rows up to 8-16 long; at 10^6 members the rows are
#: ~10 long and scanning them saves the bisection's cache misses)
_SCAN_MAX = 16


@njit
def _reply_weights(group, k, start, count, cum_reply, curated):
    W = np.empty(len(group))
    for j in range(len(group)):
        g = group[j]
        W[j] = reply_weight_read(cum_reply, start[g], count[g], k[j], curated[g])
    return W


def draw_replies(gi: GroupIndex, msgs: Messages, readers, group, k, curated, reply_prob: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Reply pairs ``(reader, author)`` for today (``group``, ``k`` aligned with ``readers``).

    Reader i makes ``R_i ~ Poisson(p * W_i)`` replies, ``W_i`` the summed reply weight
    ``(q + w)/2`` (0 for spam) of the messages it read (expected, in random order). Each reply
    goes to a message drawn with probability proportional to its weight among the group's
    messages (random order) or among the ``k_i`` read (curated). Self-replies and replies to
    operator content are dropped. The model draws the same way inside
    :func:`~qunsim.kernels.reading.read_and_reply`.
    """
    readers = np.asarray(readers, np.int64)
    if len(readers) == 0 or len(msgs) == 0 or reply_prob <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    group = np.asarray(group)
    k = np.asarray(k, np.float64)
    curated = np.asarray(curated, np.bool_)
    R = rng.poisson(reply_prob * _reply_weights(group, k, gi.start, gi.count, gi.cum_reply, curated))
    u = rng.random(int(R.sum()))
    at = np.arange(len(readers), dtype=np.int64)
    n_pop = int(max(readers.max(), msgs.author.max(initial=0))) + 1
    reader, author, _ = _reply_targets(readers, at, group, k, R, u, gi.start, gi.count, gi.cum_reply,
                                       curated, msgs.author[gi.order], n_pop)
    return reader, author


@njit
def _raise_tie(weight, e, keep, strong, status, strong_ties, x, y):
    """One reply on the existing tie ``e`` between ``x`` and ``y``: ``w <- 1 - (1 - w) keep``
    (``keep = 1 - inc``); crossing ``strong`` between two active members counts in both
    members' ``strong_ties`` (saturating at the int16 maximum)."""
    w0 = weight[e]
    w1 = np.float32(1.0) - (np.float32(1.0) - w0) * keep
    weight[e] = w1
    if w0 < strong <= w1 and status[x] == _ACTIVE and status[y] == _ACTIVE:
        count_strong_pair(strong_ties, x, y)


@njit
def _has_neighbour(indptr, indices, x, y):
    """Whether ``y`` is in the CSR row of ``x`` (a scan of x's ties)."""
    for e in range(indptr[x], indptr[x + 1]):
        if indices[e] == y:
            return True
    return False


@njit
def _strengthen_pairs(keys, rowptr, weight, n, a, b, increment, strong, status, strong_ties, indptr, indices,
                      use_csr):
    """Existing ties of the pairs get ``w <- 1 - (1 - w)(1 - inc)`` per reply (in place, in
    pair order; :func:`_raise_tie`). Returns the positions of pairs with no tie (candidates
    for new ties). With ``use_csr`` a pair's tie is first looked for in the CSR row of
    ``a[j]`` (readers come in ascending order, so the rows are read nearly in sequence) and
    only pairs that have one bisect the sorted keys (a row longer than ``_SCAN_MAX`` is not
    scanned: the bisection is cheaper); without, every pair bisects. Same results either
    way."""
    missing = np.empty(len(a), np.int64)
    n_missing = 0
    keep = np.float32(1.0 - increment)
    for j in range(len(a)):
        x, y = a[j], b[j]
        if x == y:
            continue
        if use_csr and indptr[x + 1] - indptr[x] <= _SCAN_MAX and not _has_neighbour(indptr, indices, x, y):
            e = -1
        else:
            e = find_edge(keys, rowptr, n, x, y)
        if e < 0:
            missing[n_missing] = j
            n_missing += 1
            continue
        _raise_tie(weight, e, keep, strong, status, strong_ties, x, y)
    return missing[:n_missing]


@njit
def _strengthen(keys, rowptr, weight, n, a, b, increment, strong, status, strong_ties):
    """:func:`_strengthen_pairs` by bisection in the sorted keys only (no CSR at hand); a tie
    crossing ``strong`` between two active members counts in ``strong_ties`` of both."""
    no = np.empty(0, np.int64)
    return _strengthen_pairs(keys, rowptr, weight, n, a, b, increment, strong, status, strong_ties, no, no,
                             False)


@njit
def _strengthen_csr(keys, rowptr, weight, n, a, b, increment, strong, status, strong_ties, indptr, indices):
    """:func:`_strengthen_pairs` with the graph's CSR adjacency telling missing ties first."""
    return _strengthen_pairs(keys, rowptr, weight, n, a, b, increment, strong, status, strong_ties, indptr,
                             indices, True)


@njit
def _pair_keys(a, b, pos, n):
    k = np.empty(len(pos), np.int64)
    for x in range(len(pos)):
        u, v = a[pos[x]], b[pos[x]]
        k[x] = min(u, v) * n + max(u, v)
    return k


@njit
def _radix_order(k):
    """Stable sorting order of non-negative int64 keys: least-significant-digit radix sort,
    11 bits a pass (keys carried along), as many passes as the largest key needs."""
    n = len(k)
    order = np.arange(n)
    if n == 0:
        return order
    top = k.max()
    key = k.copy()
    key2 = np.empty(n, np.int64)
    tmp = np.empty(n, np.int64)
    shift = 0
    while (top >> shift) > 0:
        count = np.zeros(2049, np.int64)
        for x in range(n):
            count[((key[x] >> shift) & 2047) + 1] += 1
        for d in range(2048):
            count[d + 1] += count[d]
        for x in range(n):
            d = (key[x] >> shift) & 2047
            p = count[d]
            tmp[p] = order[x]
            key2[p] = key[x]
            count[d] = p + 1
        order, tmp = tmp, order
        key, key2 = key2, key
        shift += 11
    return order


@njit
def _unique_first_counts(k, order):
    """:func:`qunsim.network.unique_first_counts` given a sorting order of ``k``: distinct keys
    (ascending), the first position of each and its count."""
    uk = np.empty(len(k), np.int64)
    first = np.empty(len(k), np.int64)
    counts = np.empty(len(k), np.int64)
    m = -1
    for x in range(len(order)):
        j = order[x]
        if m < 0 or k[j] != uk[m]:
            m += 1
            uk[m] = k[j]
            first[m] = j
            counts[m] = 1
        else:
            counts[m] += 1
            if j < first[m]:
                first[m] = j
    return uk[:m + 1], first[:m + 1], counts[:m + 1]


@njit
def _slot(k, bits):
    """Hash slot in [0, 2^bits) of a tie key, ``bits <= 32``: Fibonacci hashing of the key
    folded to 32 bits (the product stays below 2^64: no overflow, also as plain Python)."""
    f = (np.uint64(k) ^ (np.uint64(k) >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    h = (f * np.uint64(0x9E3779B1)) & np.uint64(0xFFFFFFFF)
    return np.int64(h >> np.uint64(32 - bits))


@njit
def _new_tie_candidates(a, b, miss, u, prob, n):
    """The pairs without a tie that become new ties, without sorting all of them: a pair is
    created when the uniform of its *first* occurrence is below ``prob``, so only keys with
    at least one occurrence below ``prob`` can be (about ``prob`` of them). Those keys go into
    a small open-addressing hash table (behind a bit filter that fits in cache); one pass over
    all missing occurrences, in order, records the first occurrence and the count of the keys
    in the table. Returns the created keys (in table order, unsorted) and their counts: the
    same set and counts as sorting every missing pair would give."""
    n_cand = 0
    for x in range(len(miss)):
        if u[miss[x]] < prob:
            n_cand += 1
    bits = 4  # (the table's size changes its order, not the keys and counts it finds: sorted after)
    while (1 << bits) < 2 * n_cand:
        bits += 1
    size = 1 << bits
    fbits = min(bits + 4, 32)  # the filter: 16 bits per candidate, ~1 in 16 lookups passes by chance
    filt = np.zeros((1 << fbits) >> 3, np.uint8)
    tkey = np.full(size, -1, np.int64)
    tfirst = np.full(size, -1, np.int64)
    tcount = np.zeros(size, np.int64)
    for x in range(len(miss)):
        j = miss[x]
        if u[j] < prob:
            k = min(a[j], b[j]) * n + max(a[j], b[j])
            f = _slot(k, fbits)
            filt[f >> 3] |= np.uint8(1 << (f & 7))
            h = _slot(k, bits)
            while tkey[h] != -1 and tkey[h] != k:
                h = (h + 1) & (size - 1)
            tkey[h] = k
    for x in range(len(miss)):
        j = miss[x]
        k = min(a[j], b[j]) * n + max(a[j], b[j])
        f = _slot(k, fbits)
        if not (filt[f >> 3] >> (f & 7)) & 1:
            continue
        h = _slot(k, bits)
        while tkey[h] != -1 and tkey[h] != k:
            h = (h + 1) & (size - 1)
        if tkey[h] == k:
            if tfirst[h] < 0:
                tfirst[h] = j
            tcount[h] += 1
    m = 0
    for h in range(size):
        if tkey[h] != -1 and u[tfirst[h]] < prob:
            m += 1
    keys = np.empty(m, np.int64)
    counts = np.empty(m, np.int64)
    m = 0
    for h in range(size):
        if tkey[h] != -1 and u[tfirst[h]] < prob:
            keys[m] = tkey[h]
            counts[m] = tcount[h]
            m += 1
    return keys, counts


def strengthen_ties(keys, rowptr, weight, n, a, b, increment: float, new_tie_uniforms,
                    new_tie_prob: float, strong: float, status, strong_ties, indptr=None, indices=None):
    """Stage *replies and ties*: each pair (a, b) strengthens its tie; an absent tie is created
    with probability ``new_tie_prob``, decided per distinct pair by the uniform of its first
    occurrence; its strength is ``1 - (1 - inc)^count``. Returns ``(new_keys, new_weights)``
    (to be queued: new ties join the graph at the next merge), keys ascending. With the CSR
    adjacency of the same graph (``indptr``, ``indices``) missing ties are told faster
    (:func:`_strengthen_csr`); the results are the same."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    if indptr is not None:
        miss = _strengthen_csr(keys, rowptr, weight, np.int64(n), a, b, float(increment), np.float32(strong),
                               status, strong_ties, indptr, indices)
    else:
        miss = _strengthen(keys, rowptr, weight, np.int64(n), a, b, float(increment), np.float32(strong),
                           status, strong_ties)
    if not len(miss):
        return np.empty(0, np.int64), np.empty(0, np.float32)
    if new_tie_prob < 1.0 and len(miss) < 2**27:  # (the hash table holds up to 2^28 keys)
        # only about new_tie_prob of the missing pairs become ties: find those without sorting
        ck, cc = _new_tie_candidates(a, b, miss, np.asarray(new_tie_uniforms, np.float64),
                                     float(new_tie_prob), np.int64(n))
        order = np.argsort(ck)
        uk, counts = ck[order], cc[order]
    else:
        k = _pair_keys(a, b, miss, np.int64(n))
        uk, _, counts = _unique_first_counts(k, _radix_order(k) if len(k) > 4096 else np.argsort(k))
    factor = (1.0 - increment) ** counts
    return uk, (1.0 - factor).astype(np.float32)
