"""The social graph: builders, NetworkX conversion and the compact arrays the kernels use.

Inside the model the graph is a :class:`SocialGraph`: undirected ties stored once as sorted
int64 keys ``u * n + v`` (``u < v``) with a float32 strength each, plus a CSR adjacency
(``indptr``, ``indices``) for neighbour gathers and sparse products. New ties (from replies)
wait in a small buffer and are merged in bulk, by sorted insertion, never by a re-sort.

Builders draw from the model's generator only (NetworkX builders get an integer seed drawn
from it).

Examples
--------
>>> import numpy as np
>>> g = SocialGraph.from_edges(4, np.array([0, 1, 2]), np.array([1, 2, 3]))   # a path
>>> g.degree().tolist()
[1, 2, 2, 1]
>>> g.n_edges
3
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from qunsim._jit import njit

__all__ = ["SocialGraph", "build_graph", "from_networkx", "gather_neighbors", "bfs_ball", "read_graph",
           "tie_strengths", "graph_fingerprint", "node_attributes", "NODE_ATTRIBUTES"]


class SocialGraph:
    """Undirected weighted graph over ``n`` nodes as sorted edge keys plus CSR.

    Attributes
    ----------
    n : int
    keys : int64[E]      sorted, ``u * n + v`` with ``u < v``
    weight : float32[E]  tie strength in [0, 1]
    indptr : int64[n+1], indices : int32[2E]   CSR adjacency, both directions
    rowptr : int64[n+1]  row offsets into ``keys`` (ties of ``u`` with larger endpoints)
    """

    def __init__(self, n: int, keys: np.ndarray, weight: np.ndarray):
        self.n = int(n)
        self.keys = keys
        self.weight = weight
        self._pending_keys: list[np.ndarray] = []
        self._pending_w: list[np.ndarray] = []
        self._pending_n = 0
        self._build_csr()

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_edges(cls, n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray | float = 0.2) -> SocialGraph:
        """Deduplicated, loop-free graph from edge endpoint arrays (duplicates keep the max weight)."""
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        w = np.broadcast_to(np.asarray(w, dtype=np.float32), u.shape)
        keep = u != v
        u, v, w = u[keep], v[keep], w[keep]
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        keys = lo * n + hi
        order = np.lexsort((-w, keys))
        keys, w = keys[order], w[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        return cls(n, keys[first], np.clip(w[first], 0, 1).astype(np.float32))

    def _build_csr(self) -> None:
        n = self.n
        u = self.keys // n
        v = self.keys - u * n
        deg = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(deg, out=indptr[1:])
        rows = np.concatenate([u, v])
        cols = np.concatenate([v, u]).astype(np.int32)
        order = np.argsort(rows, kind="stable")
        self.indptr = indptr
        self.indices = cols[order]
        self.rowptr = key_rowptr(self.keys, np.int64(n))

    # ---------------------------------------------------------------- queries
    @property
    def n_edges(self) -> int:
        return len(self.keys)

    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def endpoints(self) -> tuple[np.ndarray, np.ndarray]:
        u = self.keys // self.n
        return u, self.keys - u * self.n

    def find(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Edge index of each pair (a, b), or -1 where there is no (merged) tie."""
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        k = np.minimum(a, b) * self.n + np.maximum(a, b)
        pos = np.searchsorted(self.keys, k)
        pos_c = np.minimum(pos, max(len(self.keys) - 1, 0))
        found = (pos < len(self.keys)) & (self.keys[pos_c] == k) if len(self.keys) else np.zeros(len(k), bool)
        return np.where(found, pos_c, -1)

    def adjacency(self, dtype=np.float32):
        """scipy CSR adjacency (unweighted, symmetric), shares the index arrays."""
        import scipy.sparse as sp

        data = np.ones(len(self.indices), dtype=dtype)
        # index arrays of one dtype: scipy would otherwise copy both to int64 (a 2E copy, and
        # slower products); int32 indptr is enough below 2^31 entries
        if len(self.indices) < np.iinfo(np.int32).max:
            indptr = self.indptr.astype(np.int32)
            indices = self.indices.astype(np.int32, copy=False)
        else:
            indptr, indices = self.indptr, self.indices.astype(np.int64)
        return sp.csr_array((data, indices, indptr), shape=(self.n, self.n), copy=False)

    def neighbor_sum(self, x: np.ndarray) -> np.ndarray:
        """For every node, the sum of ``x`` over its neighbours (one sparse product)."""
        return self.adjacency(dtype=np.float32 if x.dtype != np.float64 else np.float64) @ x

    # ---------------------------------------------------------------- ties
    def strengthen(self, a: np.ndarray, b: np.ndarray, increment: float,
                   new_tie_uniforms: np.ndarray | None = None, new_tie_prob: float = 1.0,
                   status: np.ndarray | None = None, strong: float = 2.0,
                   strong_ties: np.ndarray | None = None) -> int:
        """Each pair (a, b) strengthens its tie: ``w <- 1 - (1 - w)(1 - inc)`` per pair. An
        absent tie is created (merged in bulk later) with probability ``new_tie_prob``, decided
        per distinct pair by ``new_tie_uniforms`` (one pre-drawn uniform per pair, aligned with
        ``a``). With ``status`` and ``strong_ties`` given, a tie crossing ``strong`` between
        two active members counts in both members' ``strong_ties``. Returns the number of new
        ties created."""
        from qunsim.kernels.ties import strengthen_ties

        if len(a) == 0 or increment <= 0:
            return 0
        if new_tie_prob < 1.0 and new_tie_uniforms is None:
            raise ValueError("new_tie_prob < 1 needs new_tie_uniforms")
        if status is None:
            status, strong_ties = np.zeros(self.n, np.int8), np.zeros(self.n, np.int16)
        new_k, new_w = strengthen_ties(self.keys, self.rowptr, self.weight, self.n, a, b, increment,
                                       new_tie_uniforms, new_tie_prob, strong, status, strong_ties,
                                       self.indptr, self.indices)
        if len(new_k):
            self._pending_keys.append(new_k)
            self._pending_w.append(new_w)
            self._pending_n += len(new_k)
        return len(new_k)

    def add_ties(self, a: np.ndarray, b: np.ndarray, weight: float) -> None:
        """Queue ties (a, b) with a given strength (existing ties are raised to it)."""
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        keep = a != b
        if not keep.any():
            return
        k = np.unique(np.minimum(a[keep], b[keep]) * self.n + np.maximum(a[keep], b[keep]))
        self._pending_keys.append(k)
        self._pending_w.append(np.full(len(k), weight, dtype=np.float32))
        self._pending_n += len(k)

    @property
    def pending(self) -> int:
        return self._pending_n

    def merge_pending(self) -> int:
        """Merge queued ties into the sorted keys and the CSR. Returns ties added."""
        if not self._pending_n:
            return 0
        k = np.concatenate(self._pending_keys)
        w = np.concatenate(self._pending_w)
        self._pending_keys, self._pending_w, self._pending_n = [], [], 0
        order = np.lexsort((-w, k))
        k, w = k[order], w[order]
        first = np.ones(len(k), dtype=bool)
        first[1:] = k[1:] != k[:-1]
        k, w = k[first], w[first]
        # ties that already exist (queued twice, or made since): keep the stronger weight
        pos = searchsorted_sorted(self.keys, k)
        pos_c = np.minimum(pos, max(len(self.keys) - 1, 0))
        exists = (pos < len(self.keys)) & (self.keys[pos_c] == k) if len(self.keys) else np.zeros(len(k), bool)
        if exists.any():
            e = pos_c[exists]
            self.weight[e] = np.maximum(self.weight[e], w[exists])
        k, w, pos = k[~exists], w[~exists], pos[~exists]
        if not len(k):
            return 0
        # keys and weights: one insertion mask for both (np.insert would build it twice)
        slot, keep = _insert_slots(pos, len(self.keys))
        self.keys = _insert(self.keys, slot, keep, k)
        self.weight = _insert(self.weight, slot, keep, w)
        # CSR: append the new entries at the end of their rows, by insertion at row ends: no
        # re-sort of old entries (the order inside a row matters: referrals and word of mouth
        # pick neighbours by position, so it is kept exactly as it was defined). New entries
        # of a row keep the order of a stable sort of rows = [u, v]: since k is sorted, u
        # already is, so only the v half needs sorting, then the two halves are merged.
        n = self.n
        u = k // n
        v = k - u * n
        ov = np.argsort(v, kind="stable")
        vs = v[ov]
        m = len(k)
        dest_u = np.arange(m) + np.searchsorted(vs, u, side="left")
        dest_v = np.arange(m) + np.searchsorted(u, vs, side="right")
        rows = np.empty(2 * m, dtype=np.int64)
        cols = np.empty(2 * m, dtype=np.int32)
        rows[dest_u], rows[dest_v] = u, vs
        cols[dest_u], cols[dest_v] = v, u[ov]
        slot, keep = _insert_slots(self.indptr[rows + 1], len(self.indices))
        self.indices = _insert(self.indices, slot, keep, cols)
        self.indptr = self.indptr + np.concatenate(
            [[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)
        self.rowptr = key_rowptr(self.keys, np.int64(n))
        return len(k)

    def nbytes(self) -> int:
        return (self.keys.nbytes + self.weight.nbytes + self.indptr.nbytes + self.indices.nbytes
                + self.rowptr.nbytes)

    def to_networkx(self) -> nx.Graph:
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        u, v = self.endpoints()
        g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), self.weight.tolist(), strict=True))
        return g


@njit
def key_rowptr(keys, n):
    """Row offsets into sorted tie keys ``u * n + v`` (``u < v``): the ties of ``u`` with
    larger endpoints are ``keys[rowptr[u]:rowptr[u + 1]]``. int64[n + 1]."""
    rowptr = np.empty(n + 1, np.int64)
    e = 0
    for u in range(n + 1):
        lim = u * n
        while e < len(keys) and keys[e] < lim:
            e += 1
        rowptr[u] = e
    return rowptr


@njit
def find_edge(keys, rowptr, n, a, b):
    """Index of the tie (a, b) in the sorted keys, or -1 (a bisection in the row of the
    smaller endpoint)."""
    u, v = (a, b) if a < b else (b, a)
    key = u * n + v
    lo, hi = rowptr[u], rowptr[u + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    if lo < rowptr[u + 1] and keys[lo] == key:
        return lo
    return -1


def gather_neighbors(indptr: np.ndarray, indices: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (node, neighbour) pairs for ``nodes``, as two flat arrays (no Python loop).

    >>> g = SocialGraph.from_edges(4, np.array([0, 0, 1]), np.array([1, 2, 3]))
    >>> src, nbr = gather_neighbors(g.indptr, g.indices, np.array([0, 3]))
    >>> sorted(zip(src.tolist(), nbr.tolist()))
    [(0, 1), (0, 2), (3, 1)]
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    starts = indptr[nodes]
    lens = indptr[nodes + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    src = np.repeat(nodes, lens)
    if 4 * total > len(indices) and len(nodes) > 1 and bool(np.all(nodes[1:] > nodes[:-1])):
        # many sorted rows: select them with a row mask over the CSR (one pass, no offsets)
        mask = np.zeros(len(indptr) - 1, dtype=bool)
        mask[nodes] = True
        return src, indices[np.repeat(mask, np.diff(indptr))].astype(np.int64)
    off = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    off += np.arange(total)
    return src, indices[off].astype(np.int64)


def unique_first_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(x, return_index=True, return_counts=True)``, about twice as fast on large
    integer arrays: an unstable (SIMD) sort, and the first occurrence of each value as the
    smallest position in its run.

    >>> [a.tolist() for a in unique_first_counts(np.array([5, 2, 5, 5, 2, 9]))]
    [[2, 5, 9], [1, 0, 5], [2, 3, 1]]
    """
    if len(x) == 0:
        return x[:0], np.empty(0, np.intp), np.empty(0, np.intp)
    order = np.argsort(x)
    xs = x[order]
    flag = np.empty(len(xs), dtype=bool)
    flag[0] = True
    np.not_equal(xs[1:], xs[:-1], out=flag[1:])
    starts = np.flatnonzero(flag)
    counts = np.diff(np.append(starts, len(xs)))
    return xs[starts], np.minimum.reduceat(order, starts), counts


def searchsorted_sorted(haystack: np.ndarray, needles: np.ndarray, side: str = "left",
                        chunk: int = 4096) -> np.ndarray:
    """``np.searchsorted(haystack, needles, side)`` for *sorted* needles, faster on large
    arrays: each chunk of needles is searched only in the slice of the haystack it spans,
    which stays in cache (2-3x fewer cycles for 10^6 needles into 10^7 keys).

    >>> searchsorted_sorted(np.array([1, 3, 3, 7]), np.array([0, 3, 8]), side="right").tolist()
    [0, 3, 4]
    """
    if len(needles) <= chunk or len(haystack) <= 4 * chunk:
        return np.searchsorted(haystack, needles, side=side)
    out = np.empty(len(needles), dtype=np.int64)
    for i in range(0, len(needles), chunk):
        c = needles[i:i + chunk]
        lo = int(np.searchsorted(haystack, c[0], side=side))
        hi = int(np.searchsorted(haystack, c[-1], side=side))
        out[i:i + chunk] = np.searchsorted(haystack[lo:hi], c, side=side)
        out[i:i + chunk] += lo
    return out


def _insert_slots(pos: np.ndarray, n_old: int) -> tuple[np.ndarray, np.ndarray]:
    """For sorted insertion points ``pos`` into an array of ``n_old``: the new items' slots in
    the merged array and the mask of the old items' slots (as ``np.insert`` places them)."""
    slot = np.asarray(pos, dtype=np.int64) + np.arange(len(pos))
    keep = np.ones(n_old + len(pos), dtype=bool)
    keep[slot] = False
    return slot, keep


def _insert(arr: np.ndarray, slot: np.ndarray, keep: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.empty(len(keep), dtype=arr.dtype)
    out[slot] = values
    out[keep] = arr
    return out


def bfs_ball(graph: SocialGraph, root: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """About ``size`` nodes nearest ``root`` by breadth-first layers (the last layer sampled);
    tops up with random nodes if the component is smaller."""
    n = graph.n
    size = min(size, n)
    seen = np.zeros(n, dtype=bool)
    seen[root] = True
    order = [np.array([root], dtype=np.int64)]
    count = 1
    frontier = order[0]
    while count < size and len(frontier):
        _, nbr = gather_neighbors(graph.indptr, graph.indices, frontier)
        nbr = np.unique(nbr)
        nbr = nbr[~seen[nbr]]
        if count + len(nbr) > size:
            nbr = rng.choice(nbr, size - count, replace=False)
        seen[nbr] = True
        order.append(nbr)
        count += len(nbr)
        frontier = nbr
    if count < size:
        rest = np.flatnonzero(~seen)
        order.append(rng.choice(rest, size - count, replace=False))
    return np.concatenate(order)


# ------------------------------------------------------------------------ builders


def _er(n: int, k: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    total = n * (n - 1) // 2
    m = min(int(round(n * k / 2)), total)
    # draw a few extra pairs to make up for loops and duplicates, then trim to m
    extra = int(m * 0.02) + 16
    u = rng.integers(0, n, m + extra)
    v = rng.integers(0, n, m + extra)
    keep = u != v
    lo, hi = np.minimum(u[keep], v[keep]), np.maximum(u[keep], v[keep])
    keys = np.unique(lo * n + hi)
    if len(keys) > m:
        keys = rng.choice(keys, m, replace=False)
    elif len(keys) < m:
        # dense graphs: duplicates ate more than the extra draws (mean degree 99 on 100 nodes
        # is the complete graph); draw exactly m distinct pairs from all n(n-1)/2
        return _pairs_from_index(n, rng.choice(total, m, replace=False))
    return keys // n, keys % n


def _pairs_from_index(n: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode indices into the ``n(n-1)/2`` pairs ``u < v`` (row-major upper triangle).

    >>> [a.tolist() for a in _pairs_from_index(4, np.arange(6))]
    [[0, 0, 0, 1, 1, 2], [1, 2, 3, 2, 3, 3]]
    """
    idx = np.asarray(idx, dtype=np.int64)
    # row u starts at s(u) = u*n - u(u+1)/2; invert with the quadratic formula, then fix
    # the float rounding by one step either way
    b = 2 * n - 1
    u = np.floor((b - np.sqrt(np.maximum(b * b - 8.0 * idx, 0.0))) / 2).astype(np.int64)
    start = u * n - u * (u + 1) // 2
    u = np.where(start > idx, u - 1, u)
    start = u * n - u * (u + 1) // 2
    nxt = (u + 1) * n - (u + 1) * (u + 2) // 2
    u = np.where(nxt <= idx, u + 1, u)
    start = u * n - u * (u + 1) // 2
    v = idx - start + u + 1
    return u, v


def _ws(n: int, k: float, p: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = max(1, int(round(k / 2)))
    half = min(half, max(1, (n - 1) // 2))
    u = np.repeat(np.arange(n, dtype=np.int64), half)
    v = (u + np.tile(np.arange(1, half + 1), n)) % n
    rewire = rng.random(len(u)) < p
    v = v.copy()
    v[rewire] = rng.integers(0, n, int(rewire.sum()))
    return u, v


def _ba(n: int, k: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    m = max(1, int(round(k / 2)))
    if n <= m:
        return _er(n, k, rng)
    g = nx.barabasi_albert_graph(n, m, seed=int(rng.integers(2**31 - 1)))
    e = np.array(g.edges(), dtype=np.int64).reshape(-1, 2)
    return e[:, 0], e[:, 1]


def _sbm(n: int, k: float, blocks: int, assort: float, rng: np.random.Generator):
    block = rng.integers(0, blocks, n)
    m = int(round(n * k / 2))
    m_in = int(round(m * assort))
    u_in = rng.integers(0, n, m_in)
    # a random partner inside the same block: sort nodes by block, pick within the block's span
    order = np.argsort(block, kind="stable")
    counts = np.bincount(block, minlength=blocks)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    b = block[u_in]
    v_in = order[start[b] + (rng.random(m_in) * counts[b]).astype(np.int64)]
    u_out = rng.integers(0, n, m - m_in)
    v_out = rng.integers(0, n, m - m_in)
    return np.concatenate([u_in, u_out]), np.concatenate([v_in, v_out])


def read_edgelist(path: str | Path) -> tuple[int, np.ndarray, np.ndarray, np.ndarray | None, list]:
    """Read ``u v [weight]`` lines (``#`` comments). Node labels may be any tokens."""
    from qunsim.config import ConfigError

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"invalid config: `network.path` edge-list file {str(p)!r} not found")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"invalid edge list ({p}): not a UTF-8 text file (byte {e.start} "
                          f"cannot be decoded)") from None
    except OSError as e:
        raise ConfigError(f"invalid config: `network.path` edge-list file {str(p)!r} cannot be "
                          f"read: {e.strerror or e}") from None
    us, vs, ws = [], [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.replace(",", " ").split()
        if len(parts) not in (2, 3):
            raise ConfigError(f"invalid edge list ({p}, line {lineno}): expected 'u v [weight]', got {line!r}")
        us.append(parts[0])
        vs.append(parts[1])
        if len(parts) == 3:
            try:
                w = float(parts[2])
            except ValueError:
                raise ConfigError(f"invalid edge list ({p}, line {lineno}): weight {parts[2]!r} is not a number") from None
            if not (np.isfinite(w) and w >= 0):
                raise ConfigError(f"invalid edge list ({p}, line {lineno}): weight must be a finite number >= 0, got {w}")
            ws.append(w)
        elif ws:
            raise ConfigError(f"invalid edge list ({p}, line {lineno}): some lines have a weight, this one has none")
    labels = sorted(set(us) | set(vs), key=lambda s: (len(s), s))
    index = {lab: i for i, lab in enumerate(labels)}
    u = np.array([index[x] for x in us], dtype=np.int64)
    v = np.array([index[x] for x in vs], dtype=np.int64)
    w = tie_strengths(np.array(ws, dtype=np.float64), str(p)) if ws else None
    return len(labels), u, v, w, labels


def build_graph(net, n: int, rng: np.random.Generator) -> SocialGraph:
    """Build the configured graph over ``n`` nodes (``net`` is the ``network`` config table)."""
    kind = net.kind
    k = min(net.mean_degree, max(n - 1, 1))
    if kind == "er":
        u, v = _er(n, k, rng)
    elif kind == "ws":
        u, v = _ws(n, k, net.rewire, rng)
    elif kind == "ba":
        u, v = _ba(n, k, rng)
    elif kind == "sbm":
        u, v = _sbm(n, k, net.blocks, net.assortativity, rng)
    else:  # pragma: no cover - edgelist is handled by the caller
        raise ValueError(kind)
    return SocialGraph.from_edges(n, u, v, net.initial_tie)


def tie_strengths(w: np.ndarray, source: str = "graph") -> np.ndarray:
    """Edge weights of a user graph as tie strengths in [0, 1].

    Weights already in [0, 1] are kept as they are. If any weight is above 1 (interaction
    counts, message totals...), all weights are divided by the largest one: the strongest
    tie becomes 1.0 and the ratios between ties are kept (weights 4 and 5 become 0.8 and
    1.0). Negative, infinite or missing (NaN) weights are an error.

    >>> tie_strengths(np.array([0.2, 0.9])).tolist() == np.float32([0.2, 0.9]).tolist()
    True
    >>> [round(float(x), 2) for x in tie_strengths(np.array([4.0, 5.0, 1.0]))]
    [0.8, 1.0, 0.2]
    """
    from qunsim.config import ConfigError

    w = np.asarray(w, dtype=np.float64)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ConfigError(f"invalid graph ({source}): edge weights must be finite numbers >= 0, "
                          f"got {w[bad][0]!r} ({int(bad.sum())} such edge(s))")
    if len(w) and w.max() > 1.0:
        w = w / w.max()
    return w.astype(np.float32)


#: Per-member attributes a user graph's nodes may set, with their allowed range.
#: ``unit`` attributes lie in [0, 1]; ``positive`` ones are finite and >= 0.
NODE_ATTRIBUTES: dict[str, str] = {
    "quality": "unit", "warmth": "unit", "taste": "unit", "threshold": "unit", "interest": "unit",
    "post_rate": "positive", "attention": "positive", "need": "positive", "wtp": "positive",
    "propensity": "positive",
}


def node_attributes(g: nx.Graph, nodes: list, source: str = "graph") -> dict[str, np.ndarray]:
    """Numeric per-member attributes set on the nodes of ``g``, validated.

    Returns ``{name: float64[len(nodes)]}`` for each attribute of :data:`NODE_ATTRIBUTES`
    present on at least one node, NaN where a node does not set it (the model draws those
    from the role's distribution). A value that is not a number, or out of its range, is a
    :class:`~qunsim.config.ConfigError` naming the node and the attribute.

    >>> g = nx.Graph(); g.add_node("a", quality=0.9); g.add_node("b")
    >>> node_attributes(g, ["a", "b"])["quality"].tolist()
    [0.9, nan]
    """
    from qunsim.config import ConfigError

    out: dict[str, np.ndarray] = {}
    for name, kind in NODE_ATTRIBUTES.items():
        vals = [g.nodes[v].get(name) for v in nodes]
        if all(x is None for x in vals):
            continue
        arr = np.full(len(nodes), np.nan)
        for i, x in enumerate(vals):
            if x is None or (isinstance(x, str) and not x.strip()):
                continue
            try:
                if isinstance(x, bool):
                    raise TypeError
                f = float(x)
            except (TypeError, ValueError):
                raise ConfigError(f"invalid graph ({source}): node {nodes[i]!r} attribute `{name}` "
                                  f"must be a number, got {x!r}") from None
            ok = np.isfinite(f) and f >= 0 and (kind != "unit" or f <= 1)
            if not ok:
                want = "a number in [0, 1]" if kind == "unit" else "a finite number >= 0"
                raise ConfigError(f"invalid graph ({source}): node {nodes[i]!r} attribute `{name}` "
                                  f"must be {want}, got {x!r}")
            arr[i] = f
        out[name] = arr
    return out


def read_graph(path: str | Path) -> nx.Graph:
    """Read a community graph file: GraphML (``.graphml``), GEXF (``.gexf``) or an edge list
    (any other suffix: ``u v [weight]`` lines, ``#`` comments). Node attributes of GraphML and
    GEXF files are kept (``role``, ``member``, ``quality``, ...); directed graphs and
    multigraphs become simple undirected graphs (parallel edges keep the largest weight).
    """
    from qunsim.config import ConfigError

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"invalid graph ({p}): file not found")
    suffix = p.suffix.lower()
    if suffix in (".graphml", ".gexf"):
        try:
            g = nx.read_graphml(p) if suffix == ".graphml" else nx.read_gexf(p)
        except Exception as e:  # noqa: BLE001 - parsers raise many kinds; report one paragraph
            raise ConfigError(f"invalid graph ({p}): cannot read it as {suffix[1:].upper()}: {e}") from None
        if g.is_multigraph() or g.is_directed():
            h = nx.Graph()
            h.add_nodes_from(g.nodes(data=True))
            for a, b, d in g.edges(data=True):
                w = d.get("weight")
                if h.has_edge(a, b) and w is not None:
                    old = h.edges[a, b].get("weight")
                    if old is not None and float(old) >= float(w):
                        continue
                h.add_edge(a, b, **d)
            g = h
        return g
    n, u, v, w, labels = read_edgelist(p)
    g = nx.Graph()
    g.add_nodes_from(labels)
    if w is None:
        g.add_edges_from((labels[a], labels[b]) for a, b in zip(u.tolist(), v.tolist(), strict=True))
    else:
        g.add_weighted_edges_from((labels[a], labels[b], float(x))
                                  for a, b, x in zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    return g


def graph_fingerprint(g: nx.Graph) -> dict:
    """Size and a SHA-256 of a graph's nodes (with attributes) and weighted edges, independent
    of insertion order: what a run's provenance records about the community it was given.

    >>> a = nx.path_graph(3); b = nx.Graph([(2, 1), (1, 0)])
    >>> graph_fingerprint(a) == graph_fingerprint(b)
    True
    """
    import hashlib
    import json

    nodes = sorted((str(v), json.dumps(d, sort_keys=True, default=str)) for v, d in g.nodes(data=True))
    edges = sorted(tuple(sorted((str(a), str(b)))) + (repr(float(d.get("weight", -1.0))),)
                   for a, b, d in g.edges(data=True))
    h = hashlib.sha256(json.dumps([nodes, edges]).encode())
    return {"nodes": g.number_of_nodes(), "edges": g.number_of_edges(), "sha256": h.hexdigest()}


def from_networkx(g: nx.Graph, default_weight: float = 0.2, source: str = "graph") -> tuple[SocialGraph, list]:
    """Convert any NetworkX graph; node order is ``list(g.nodes)``. Edge attribute ``weight``
    is the tie strength where present (see :func:`tie_strengths` for weights above 1);
    ``default_weight`` elsewhere."""
    nodes = list(g.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    if g.number_of_edges():
        e = np.array([(index[a], index[b]) for a, b in g.edges()], dtype=np.int64)
        given = [d.get("weight") for _, _, d in g.edges(data=True)]
        w = np.full(len(given), default_weight, dtype=np.float32)
        has = np.array([x is not None for x in given])
        if has.any():
            try:
                raw = np.array([float(x) for x in given if x is not None])
            except (TypeError, ValueError):
                from qunsim.config import ConfigError

                raise ConfigError(f"invalid graph ({source}): edge weights must be numbers") from None
            w[has] = tie_strengths(raw, source)
        return SocialGraph.from_edges(len(nodes), e[:, 0], e[:, 1], w), nodes
    return SocialGraph.from_edges(len(nodes), np.empty(0, np.int64), np.empty(0, np.int64)), nodes
