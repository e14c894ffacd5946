"""A user's community graph as input: attributes, tie strengths, files, provenance."""

import json

import networkx as nx
import numpy as np
import pytest

import qunsim as qs
from qunsim.cli import main
from qunsim.config import ConfigError, load_config
from qunsim.network import (
    _er,
    build_graph,
    from_networkx,
    graph_fingerprint,
    read_graph,
    tie_strengths,
)
from qunsim.state import Role, Status


def _community(n=60, seed=0):
    g = nx.watts_strogatz_graph(n, 6, 0.1, seed=seed)
    g = nx.relabel_nodes(g, {i: f"u{i}" for i in g})
    for i, v in enumerate(g):
        g.nodes[v]["member"] = i < 20
    g.nodes["u0"]["role"] = "owner"
    return g


def test_node_attributes_set_every_member_attribute():
    g = _community()
    vals = dict(quality=0.91, warmth=0.12, taste=0.33, threshold=0.44, interest=0.55,
                post_rate=7.0, attention=77.0, need=1.5, wtp=321.0)
    for k, x in vals.items():
        g.nodes["u5"][k] = x
    g.nodes["u6"]["role"] = "expert"
    g.nodes["u7"]["role"] = "spammer"
    m = qs.CommunityModel(rng=3, graph=g)
    i = m._labels.index("u5")
    for k, x in vals.items():
        assert float(getattr(m.state, k)[i]) == pytest.approx(x, rel=1e-6), k
    assert m.state.role[m._labels.index("u6")] == Role.EXPERT
    assert m.state.role[m._labels.index("u7")] == Role.SPAMMER
    assert m.state.role[m._labels.index("u0")] == Role.OWNER
    # exactly the nodes marked member=True start as members
    active = {m._labels[j] for j in np.flatnonzero(m.state.status == Status.ACTIVE)}
    assert active == {f"u{i}" for i in range(20)}
    # nodes that set nothing still get drawn values (differ between members)
    assert len(np.unique(m.state.quality)) > 10


@pytest.mark.parametrize("attr,value,words", [
    ("quality", 1.5, "`quality` must be a number in [0, 1]"),
    ("need", -1, "`need` must be a finite number >= 0"),
    ("post_rate", "lots", "`post_rate` must be a number"),
    ("role", "wizard", "role 'wizard' is not one of"),
    ("member", "maybe", "`member` must be true or false"),
])
def test_bad_node_attributes_are_clear_errors(attr, value, words):
    g = _community()
    g.nodes["u3"][attr] = value
    with pytest.raises(ConfigError, match="u3") as e:
        qs.CommunityModel(rng=0, graph=g)
    assert words in str(e.value)


def test_edge_weights_are_tie_strengths():
    g = nx.Graph()
    g.add_edge("a", "b", weight=0.3)
    g.add_edge("b", "c", weight=0.9)
    sg, nodes = from_networkx(g)
    assert sorted(sg.weight.tolist()) == pytest.approx([0.3, 0.9])
    # counts above 1 are scaled by the largest: 4 and 5 no longer both become 1.0
    g["a"]["b"]["weight"], g["b"]["c"]["weight"] = 4, 5
    sg, _ = from_networkx(g)
    assert sorted(sg.weight.tolist()) == pytest.approx([0.8, 1.0])
    with pytest.raises(ConfigError, match="finite numbers >= 0"):
        tie_strengths(np.array([1.0, -2.0]))
    # ties kept in the model, before any reply changed them
    h = _community()
    for a, b in h.edges:
        h.edges[a, b]["weight"] = 3.0
    h.edges["u30", "u31"]["weight"] = 6.0
    m = qs.CommunityModel(rng=1, graph=h, **{"community.leader_tie_share": 0.0})
    i, j = m._labels.index("u30"), m._labels.index("u31")
    assert m.social.weight[m.social.find(np.array([i]), np.array([j]))[0]] == pytest.approx(1.0)
    i, j = m._labels.index("u40"), m._labels.index("u41")
    assert m.social.weight[m.social.find(np.array([i]), np.array([j]))[0]] == pytest.approx(0.5)


@pytest.mark.parametrize("suffix", [".graphml", ".gexf", ".edgelist"])
def test_graph_files_run_and_record_provenance(tmp_path, suffix, capsys):
    g = _community()
    for a, b in g.edges:
        g.edges[a, b]["weight"] = 2.0
    path = tmp_path / f"community{suffix}"
    if suffix == ".graphml":
        nx.write_graphml(g, path)
    elif suffix == ".gexf":
        nx.write_gexf(g, path)
    else:
        path.write_text("".join(f"{a} {b} {d['weight']}\n" for a, b, d in g.edges(data=True)))
    back = read_graph(path)
    assert back.number_of_nodes() == 60 and back.number_of_edges() == g.number_of_edges()
    res = qs.simulate(rng=2, steps=10, graph=path)
    assert res.meta["population"] == "graph"
    gi = res.meta["graph"]
    assert gi["nodes"] == 60 and gi["edges"] == g.number_of_edges()
    assert gi["sha256"] == graph_fingerprint(back)["sha256"]
    assert "n_seed" not in res.meta and "n_prospects" not in res.meta
    # an edge list carries no member flags: the config's n_seed members start
    assert gi["initial_members"] == (20 if suffix != ".edgelist" else 50)
    out = tmp_path / "run"
    rc = main(["run", "configs/knowledge_community.toml", "--steps", "10", "--seed", "2",
               "--out", str(out), "--graph", str(path)])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["graph"]["sha256"] == gi["sha256"] and summary["population"] == "graph"
    assert "60 nodes" in capsys.readouterr().out
    # the saved config names the graph file: it reruns the same run
    cfg = load_config(out / "config.toml")
    assert cfg.network.kind == "file"
    again = qs.simulate(cfg, rng=2, steps=10)
    ts = __import__("pandas").read_parquet(out / "timeseries.parquet")
    assert again.timeseries["active"].tolist() == ts["active"].tolist()


def test_generated_population_provenance():
    res = qs.simulate(rng=1, steps=3, **{"community.n_seed": 20, "community.n_prospects": 100})
    assert res.meta == {"population": "generated", "n_seed": 20, "n_prospects": 100, "network": "er"}


def test_missing_or_bad_graph_file(tmp_path):
    assert main(["run", "configs/knowledge_community.toml", "--steps", "1", "--out", str(tmp_path / "o"),
                 "--graph", str(tmp_path / "nope.graphml")]) == 2
    bad = tmp_path / "bad.graphml"
    bad.write_text("<not graphml")
    with pytest.raises(ConfigError, match="cannot read it as GRAPHML"):
        read_graph(bad)


def test_graph_run_is_reproducible():
    g = _community()
    a = qs.simulate(rng=5, steps=15, graph=g).timeseries
    b = qs.simulate(rng=5, steps=15, graph=g).timeseries
    c = qs.simulate(rng=6, steps=15, graph=g).timeseries
    assert a.equals(b) and not a.equals(c)


@pytest.mark.parametrize("n,k", [(100, 99), (100, 60), (50, 49), (30, 10), (2000, 10)])
def test_er_mean_degree_also_dense(n, k):
    cfg = load_config().network.model_copy(update={"kind": "er", "mean_degree": k})
    g = build_graph(cfg, n, np.random.default_rng(n + k))
    assert g.n_edges == round(n * k / 2)
    assert g.degree().mean() == pytest.approx(k, abs=0.01)
    if k == n - 1:
        assert g.n_edges == n * (n - 1) // 2  # the complete graph


def test_er_sparse_stream_unchanged():
    # the sparse path draws as before (results at the default calibration do not move)
    u, v = _er(1000, 10, np.random.default_rng(0))
    assert len(u) == 5000


def test_docs_example_runs():
    import pathlib
    import re

    text = pathlib.Path("docs/community_graph.md").read_text()
    code = re.findall(r"```python\n(.*?)```", text, re.S)
    assert code
    for block in code:
        exec(compile(block, "docs/community_graph.md", "exec"), {})
