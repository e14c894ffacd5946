import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from qunsim.config import load_config
from qunsim.network import SocialGraph, bfs_ball, build_graph, from_networkx, gather_neighbors


def naive_edges(g: SocialGraph) -> dict:
    u, v = g.endpoints()
    return {(int(a), int(b)): float(w) for a, b, w in zip(u, v, g.weight, strict=True)}


def test_from_edges_dedups_and_drops_loops():
    g = SocialGraph.from_edges(4, np.array([0, 1, 2, 2]), np.array([1, 0, 2, 3]), np.array([0.1, 0.4, 0.9, 0.2]))
    assert naive_edges(g) == pytest.approx({(0, 1): 0.4, (2, 3): 0.2})
    assert g.degree().tolist() == [1, 1, 1, 1]


@settings(max_examples=60, deadline=None)
@given(n=hst.integers(2, 30), pairs=hst.lists(hst.tuples(hst.integers(0, 29), hst.integers(0, 29)), max_size=80),
       new=hst.lists(hst.tuples(hst.integers(0, 29), hst.integers(0, 29)), max_size=80),
       inc=hst.floats(0.01, 1.0))
def test_strengthen_and_merge_match_a_dict(n, pairs, new, inc):
    pairs = [(a % n, b % n) for a, b in pairs]
    new = [(a % n, b % n) for a, b in new]
    g = SocialGraph.from_edges(n, np.array([p[0] for p in pairs], dtype=np.int64),
                               np.array([p[1] for p in pairs], dtype=np.int64), 0.2)
    ref = naive_edges(g)
    g.strengthen(np.array([p[0] for p in new], dtype=np.int64), np.array([p[1] for p in new], dtype=np.int64), inc)
    for a, b in new:
        if a == b:
            continue
        k = (min(a, b), max(a, b))
        ref[k] = 1 - (1 - ref.get(k, 0.0)) * (1 - inc)
    g.merge_pending()
    got = naive_edges(g)
    assert got.keys() == ref.keys()
    for k in ref:
        assert got[k] == pytest.approx(ref[k], abs=1e-5)
    # CSR agrees with the edge list
    nxg = nx.Graph(list(ref))
    nxg.add_nodes_from(range(n))
    for i in range(n):
        assert sorted(g.indices[g.indptr[i]:g.indptr[i + 1]].tolist()) == sorted(nxg.neighbors(i))
    assert np.all(np.diff(g.keys) > 0)


def test_find_and_gather():
    g = SocialGraph.from_edges(5, np.array([0, 0, 3]), np.array([1, 2, 4]))
    assert g.find(np.array([1, 2, 4, 0]), np.array([0, 0, 3, 4])).tolist()[:3] != [-1, -1, -1]
    assert g.find(np.array([0]), np.array([4])).tolist() == [-1]
    src, nbr = gather_neighbors(g.indptr, g.indices, np.array([0, 4]))
    assert sorted(zip(src.tolist(), nbr.tolist(), strict=True)) == [(0, 1), (0, 2), (4, 3)]


@pytest.mark.parametrize("kind", ["er", "ws", "ba", "sbm"])
def test_builders_hit_the_mean_degree(kind):
    net = load_config({"network": {"kind": kind, "mean_degree": 8}}).network
    g = build_graph(net, 4000, np.random.default_rng(1))
    # duplicates and loops are dropped; ba has degree 2m exactly on average (m = 4)
    assert g.degree().mean() == pytest.approx(8, rel=0.05)


def test_builders_are_seeded():
    net = load_config().network
    a = build_graph(net, 500, np.random.default_rng(3))
    b = build_graph(net, 500, np.random.default_rng(3))
    assert np.array_equal(a.keys, b.keys)


def test_bfs_ball_is_connected_neighbourhood():
    g, _ = from_networkx(nx.path_graph(20))
    ball = bfs_ball(g, 10, 5, np.random.default_rng(0))
    assert sorted(ball.tolist()) in ([8, 9, 10, 11, 12],)


def test_to_networkx_round_trip():
    G = nx.karate_club_graph()
    g, nodes = from_networkx(G)
    H = g.to_networkx()
    assert H.number_of_edges() == G.number_of_edges()
