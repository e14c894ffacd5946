import random

import mesa
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as hst

import qunsim as qs
from _nojit import assert_plain_python_matches
from _strategies import declared
from qunsim.config import Community, Dynamics, Network
from qunsim.state import LeaveReason, Role, Status

SMALL = {"community.n_seed": 40, "community.n_prospects": 400}


def test_same_seed_identical_different_seed_differs():
    a = qs.simulate(rng=11, steps=60, **SMALL)
    b = qs.simulate(rng=11, steps=60, **SMALL)
    c = qs.simulate(rng=12, steps=60, **SMALL)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.members, b.members)
    assert not a.timeseries["messages"].equals(c.timeseries["messages"])


def test_public_functions_leave_global_rng_alone():
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 - checking it is untouched
    py_state = random.getstate()
    qs.simulate(rng=3, steps=20, **SMALL)
    m = qs.CommunityModel(rng=4, **SMALL)
    m.run_for(5)
    m.graph()
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert random.getstate() == py_state


def test_agents_are_exactly_the_active_members():
    m = qs.CommunityModel(rng=5, **{**SMALL, "community.chatter_share": 0.3})
    for _ in range(40):
        m.step()
        active = set(np.flatnonzero(m.state.status == Status.ACTIVE).tolist())
        assert {a.index for a in m.agents} == active


def test_member_view_reads_and_writes_arrays():
    m = qs.CommunityModel(rng=6, **SMALL)
    a = next(iter(m.agents))
    a.satisfaction = 0.25
    assert m.state.satisfaction[a.index] == pytest.approx(0.25)
    assert isinstance(a, mesa.Agent) and a.status is Status.ACTIVE and isinstance(a.role, Role)
    assert 0 <= a.trust <= 1


def test_remove_members_forced_and_owner_loss():
    m = qs.CommunityModel(rng=7, **SMALL)
    m.run_for(10)
    owner = int(m.leaders[0])
    tied = np.flatnonzero(m.leader == owner)
    s_before = m.state.trust_s[tied].copy()
    m.remove_members([owner], reason="forced")
    assert m.state.status[owner] == Status.LEFT
    assert m.state.leave_reason[owner] == LeaveReason.FORCED
    assert np.all(m.state.trust_s[tied] >= s_before + m.p.leader_loss - 1e-6)
    assert owner not in {a.index for a in m.agents}
    m.step()
    row = m.timeseries().iloc[-1]
    assert row["leaves_forced"] == 1  # a removal between steps counts in the next day's row
    with pytest.raises(ValueError, match="unknown leave reason"):
        m.remove_members([1], reason="bored")


def test_batch_run_is_deterministic(tmp_path):
    params = {"config": ["configs/knowledge_community.toml"], "community.chatter_share": [0.1, 0.3],
              "community.n_prospects": [300], "community.n_seed": [30]}
    r1 = mesa.batch_run(qs.CommunityModel, params, rng=[1, 2], max_steps=15, number_processes=1,
                        data_collection_period=1, display_progress=False)
    r2 = mesa.batch_run(qs.CommunityModel, params, rng=[1, 2], max_steps=15, number_processes=1,
                        data_collection_period=1, display_progress=False)
    df1, df2 = pd.DataFrame(r1), pd.DataFrame(r2)
    assert len(df1) == 4 * 16  # 2 values x 2 seeds, 16 collection points each
    pd.testing.assert_frame_equal(df1, df2)
    assert set(df1["community.chatter_share"]) == {0.1, 0.3}


def test_graph_snapshot_has_attributes():
    m = qs.CommunityModel(rng=8, **SMALL)
    m.run_for(5)
    g = m.graph(members_only=True)
    assert isinstance(g, nx.Graph)
    data = dict(g.nodes(data=True))
    assert all({"role", "status", "trust", "trust_level", "group"} <= set(d) for d in data.values())
    assert len(g) == int((m.state.join_step >= 0).sum())


def test_user_graph_with_roles_and_members():
    g = nx.karate_club_graph()
    for v in g.nodes:
        g.nodes[v]["role"] = "owner" if v == 0 else ("expert" if v in (33, 32) else "regular")
        g.nodes[v]["member"] = v < 20
    m = qs.CommunityModel(graph=g, rng=1)
    assert int((m.state.status == Status.ACTIVE).sum()) == 20
    assert m.state.role[0] == Role.OWNER and m.state.role[33] == Role.EXPERT
    m.run_for(10)
    snap = m.graph()
    assert set(snap.nodes) == set(g.nodes)
    with pytest.raises(qs.ConfigError, match="role"):
        g2 = nx.path_graph(3)
        nx.set_node_attributes(g2, {0: "wizard", 1: "regular", 2: "regular"}, "role")
        qs.CommunityModel(graph=g2, rng=1)


def test_edgelist_network(tmp_path):
    p = tmp_path / "edges.txt"
    p.write_text("# u v w\n" + "\n".join(f"n{i} n{(i + 1) % 60} 0.5" for i in range(60)) + "\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[network]\nkind = "edgelist"\npath = "edges.txt"\n[community]\nn_seed = 20\nleader_tie_share = 0.0\n')
    m = qs.CommunityModel(cfg, rng=2)
    assert m.state.n == 60 and m.social.n_edges == 60
    assert "node" in m.members_frame().columns
    p.write_text("a b -3.0\n")  # weights above 1 are scaled (docs/community_graph.md); negative ones are errors
    with pytest.raises(qs.ConfigError, match="weight"):
        qs.CommunityModel(cfg, rng=2)


def test_group_cap_opens_new_groups():
    m = qs.CommunityModel(rng=3, **{"community.n_seed": 120, "community.group_cap": 50,
                                    "community.n_prospects": 200})
    sizes = m.group_sizes()
    assert len(sizes) >= 3 and sizes.max() <= 50
    m.run_for(30)
    assert m.group_sizes().max() <= 50


def test_bad_rng_is_a_clear_error():
    with pytest.raises(qs.ConfigError, match="rng"):
        qs.CommunityModel(rng="seven")


# ---------------------------------------------------------------------- property tests

config_strategy = hst.fixed_dictionaries({  # drawn inside the declared ranges (tests/_strategies.py)
    "community.n_seed": declared(Community, "n_seed", hi=60),
    "community.n_prospects": declared(Community, "n_prospects", hi=300),
    "community.chatter_share": declared(Community, "chatter_share", hi=0.5),
    "community.spammer_share": declared(Community, "spammer_share", hi=0.3),
    "community.structure": hst.sampled_from(["pyramid", "ring"]),
    "community.group_cap": declared(Community, "group_cap", hi=80),
    "network.kind": hst.sampled_from(["er", "ws", "ba", "sbm"]),
    "network.mean_degree": declared(Network, "mean_degree", lo=0.5, hi=12.0),
    "dynamics.reply_prob": declared(Dynamics, "reply_prob"),
    "dynamics.hazard_max": declared(Dynamics, "hazard_max"),
    "dynamics.wom_reach": declared(Dynamics, "wom_reach", hi=500.0),
    "dynamics.chatter_conversion": declared(Dynamics, "chatter_conversion"),
    "dynamics.trust_memory": declared(Dynamics, "trust_memory"),
    "dynamics.contagion_window": declared(Dynamics, "contagion_window", hi=40),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(overrides=config_strategy, seed=hst.integers(0, 2**31 - 1),
       moderation=hst.booleans())
@example(overrides={  # a merge that only raises existing ties to strong must recount them
    "community.structure": "pyramid", "network.kind": "ws", "dynamics.wom_reach": 96.8,
    "dynamics.reply_prob": 0.227, "network.mean_degree": 11.77, "community.n_prospects": 10,
    "dynamics.trust_memory": 0.779, "community.n_seed": 10, "community.spammer_share": 0.0805,
    "dynamics.chatter_conversion": 0.492, "dynamics.hazard_max": 0.331,
    "dynamics.contagion_window": 28, "community.chatter_share": 0.0061, "community.group_cap": 10},
    seed=16949, moderation=False)
def test_invariants_hold_every_step(overrides, seed, moderation):
    if moderation:
        overrides = {**overrides, "activity.spam_moderation": {"precision": 0.8, "ban_after": 2}}
    m = qs.CommunityModel(rng=seed, **overrides)
    st = m.state
    for _ in range(25):
        m.step()
        joined = int((st.join_step >= 0).sum())
        active = int((st.status == Status.ACTIVE).sum())
        left = int((st.status == Status.LEFT).sum())
        banned = int((st.status == Status.BANNED).sum())
        assert joined == active + left + banned
        assert len(m.agents) == active
        t = st.trust
        assert np.all(np.isfinite(t)) and np.all((t >= 0) & (t <= 1))
        assert np.all(np.isfinite(st.satisfaction)) and np.all(np.isfinite(st.utility))
        assert np.all(st.trust_r >= 0) and np.all(st.trust_s >= 0)
        assert np.all((m.social.weight >= 0) & (m.social.weight <= 1))
        assert np.all(st.group[st.status == Status.ACTIVE] >= 0)
        _assert_incremental_counts_match_a_recount(m)
    ts = m.timeseries()
    num = ts.select_dtypes("number")
    assert not num.isna().any().any()
    # counts, shares, rates and money are never negative (value and utility can be: spam costs)
    signed = ("satisfaction", "utility", "value_density")
    nonneg = num.drop(columns=[c for c in num if c.startswith(signed)])
    assert (nonneg >= 0).all().all(), list(nonneg.columns[(nonneg < 0).any()])
    assert (ts["joins"].sum() + ts["active"].iloc[0]) == ts["active"].iloc[-1] + ts["leaves"].sum()
    assert (ts["churn_rate"] <= 1.0).all()
    roles = ts[[c for c in ts if c.startswith("messages_")]].sum(axis=1)
    assert (ts["messages"] == roles).all()  # messages_<role> for every role, and messages_operator


def _assert_incremental_counts_match_a_recount(m):
    """The counts the model keeps up to date on events (strong ties to active members, left
    and ever-member neighbours) equal a from-scratch recount over all ties (numpy/scipy)."""
    st, g, p = m.state, m.social, m.p
    act = st.status == Status.ACTIVE
    u, v = g.endpoints()
    s = (g.weight >= np.float32(p.strong_tie)) & act[u] & act[v]
    strong = np.bincount(u[s], minlength=st.n) + np.bincount(v[s], minlength=st.n)
    np.testing.assert_array_equal(st.strong_ties, strong)
    gone = (st.status == Status.LEFT) | (st.status == Status.BANNED)
    if p.contagion_window > 0:
        # as seen by tomorrow's contagion check, after ageing (the model ages out lazily)
        gone &= st.leave_step > m.steps - p.contagion_window
        aged = {s_: ids for s_, ids in m._gone.items() if s_ <= m.steps - p.contagion_window}
        left = st.left_neighbors.astype(np.int64).copy()
        for ids in aged.values():
            for i in ids:
                left[g.indices[g.indptr[i]:g.indptr[i + 1]]] -= 1
    else:
        left = st.left_neighbors
    np.testing.assert_array_equal(left, g.neighbor_sum(gone.astype(np.float64)).astype(np.int64))
    ever = (st.join_step >= 0).astype(np.float64)
    np.testing.assert_array_equal(st.member_neighbors, g.neighbor_sum(ever).astype(np.int64))


def test_churn_rate_is_leaves_over_members_at_risk():
    """churn_rate = leaves / (active at the start of the day + joins): at most 1, also when
    an operator removes members between steps (they count in the next day's row)."""
    m = qs.CommunityModel(rng=8, **SMALL, **{"dynamics.hazard_max": 0.5})
    m.run_for(5)
    m.remove_members(np.flatnonzero(m.state.status == Status.ACTIVE)[:-3])  # all but 3
    m.run_for(5)
    ts = m.timeseries()
    assert (ts["churn_rate"] <= 1.0).all() and ts["churn_rate"].iloc[6] > 0.9
    at_risk = ts["active"].shift(1) + ts["joins"]
    expect = (ts["leaves"] / at_risk).where(at_risk > 0, 0.0)
    np.testing.assert_allclose(ts["churn_rate"].iloc[1:], expect.iloc[1:])


def test_messages_count_every_role_and_the_operator():
    """Ads are operator messages (author -1): messages = sum of messages_<role> + messages_operator."""
    from pathlib import Path

    cfg = Path(__file__).resolve().parents[1] / "configs" / "monetization_ads.toml"
    m = qs.CommunityModel(cfg, rng=3, **SMALL)
    m.run_for(30)
    ts = m.timeseries()
    roles = ts[[f"messages_{r}" for r in qs.state.ROLE_ORDER]].sum(axis=1)
    assert (ts["messages"] == roles + ts["messages_operator"]).all()
    assert ts["messages_operator"].sum() > 0


def test_numba_disable_jit_runs_the_same_model(tmp_path):
    """NUMBA_DISABLE_JIT=1 runs every kernel as plain Python, with the same results."""
    kw = {**SMALL, "community.chatter_share": 0.3, "activity.chatter_moderation": {"mode": "personal"}}
    assert_plain_python_matches(kw, tmp_path)
