"""The dynamic graph for Gephi: recorded from outside the engine, read back by networkx."""

import networkx as nx
import numpy as np
import pytest

import qunsim as qs
from qunsim.cli import main
from qunsim.graph_history import GraphRecorder

SMALL = {"community.n_seed": 60, "community.n_prospects": 400, "dynamics.inflow": 6.0}


def _run(seed=3, days=40, every=5):
    m = qs.CommunityModel(rng=seed, **SMALL)
    m.record_graph(every=every)
    m.run_for(days)
    return m


def test_gexf_round_trip_keeps_spells_and_dynamic_attributes(tmp_path):
    m = _run()
    g = m.graph_history(tmp_path / "h.gexf")
    back = nx.read_gexf(tmp_path / "h.gexf")
    assert back.graph["mode"] == "dynamic"
    assert back.number_of_nodes() == g.number_of_nodes() == int((m.state.join_step >= 0).sum())
    assert back.number_of_edges() == g.number_of_edges() > 0
    st = m.state
    for v, d in back.nodes(data=True):
        i = int(v)
        src = g.nodes[i]
        assert d["spells"] == src["spells"]
        (start, end), = d["spells"]
        assert start == st.join_step[i]
        if st.status[i] == qs.Status.ACTIVE:
            assert end == m.steps and d["leave_step"] == -1
        else:
            assert end == max(start, st.leave_step[i]) and d["leave_step"] == st.leave_step[i]
        # a member who joined and left between two snapshots has no dynamic values
        # (snapshots every 5 days: none strictly inside their spell)
        assert ("role" in d) == ("role" in src)
        if "role" not in d:
            assert not any(start < t < end for t in range(0, m.steps + 1, 5)), (i, start, end)
            continue
        assert d["role"] == src["role"] and d["trust"] == src["trust"]
        # dynamic values lie inside the member's spell and do not overlap
        for key in ("role", "trust"):
            spans = d[key]
            assert spans[0][1] >= start and spans[-1][2] <= end
            assert all(a[2] < b[1] for a, b in zip(spans, spans[1:], strict=False))
        assert d["initial_role"] == qs.Role(st.initial_role[i]).name.lower()
    for a, b, d in back.edges(data=True):
        src = g.edges[int(a), int(b)]
        assert d["spells"] == src["spells"] and d["formed"] == src["formed"]
        (s, e), = d["spells"]
        assert s >= max(d["formed"], st.join_step[int(a)], st.join_step[int(b)])
        assert all(0.0 <= w <= 1.0 for w, _, _ in d["strength"])
        assert d["strength"][-1][2] <= e


def test_final_values_match_the_model():
    m = _run(every=1, days=21)  # a snapshot on the last day
    g = m.graph_history()
    st = m.state
    for i in np.flatnonzero(st.status == qs.Status.ACTIVE):
        d = g.nodes[int(i)]
        assert d["role"][-1][0] == qs.Role(st.role[i]).name.lower()
        assert d["trust"][-1][0] == pytest.approx(round(float(st.trust[i]), 2))
        assert d["trust"][-1][2] == m.steps
    u, v = m.social.endpoints()
    act = st.status == qs.Status.ACTIVE
    both = act[u] & act[v]
    for a, b, w in zip(u[both][:50], v[both][:50], m.social.weight[both][:50], strict=True):
        assert g.edges[int(a), int(b)]["strength"][-1][0] == pytest.approx(round(float(w), 2))


def test_new_ties_get_their_formation_day():
    m = _run(days=60, every=3)
    g = m.graph_history()
    formed = [d["formed"] for _, _, d in g.edges(data=True)]
    assert 0 in formed  # ties that existed before the community
    assert any(f > 0 for f in formed)  # ties made by replies
    assert all(f % 3 == 0 for f in formed)  # seen at the recorder's resolution


def test_recording_leaves_the_run_unchanged():
    a = qs.CommunityModel(rng=9, **SMALL)
    a.run_for(30)
    b = _run(seed=9, days=30, every=2)
    assert a.timeseries().equals(b.timeseries())


def test_errors_are_clear():
    m = qs.CommunityModel(rng=1, **SMALL)
    with pytest.raises(ValueError, match="record_graph"):
        m.graph_history()
    with pytest.raises(ValueError, match="every"):
        GraphRecorder(every=0)
    rec = m.record_graph(every=2)
    with pytest.raises(ValueError, match="already attached"):
        rec.attach(m)


def test_cli_run_writes_gexf(tmp_path, capsys):
    out = tmp_path / "run"
    gexf = tmp_path / "g.gexf"
    rc = main(["run", "configs/knowledge_community.toml", "--steps", "15", "--out", str(out),
               "--set", "community.n_prospects=300", "--gexf", str(gexf), "--gexf-every", "3"])
    assert rc == 0
    assert "dynamic GEXF" in capsys.readouterr().out
    g = nx.read_gexf(gexf)
    assert g.graph["mode"] == "dynamic" and g.number_of_nodes() > 0
    assert main(["run", "configs/knowledge_community.toml", "--steps", "2", "--out", str(tmp_path / "r2"),
                 "--gexf", str(tmp_path / "nodir" / "g.gexf")]) == 2
    assert "does not exist" in capsys.readouterr().err
