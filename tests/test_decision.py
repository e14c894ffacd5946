"""Verdicts: ranking by P(goal), collapse, paired differences, regret, scenario discovery (PRIM),
and common random numbers through the sweep engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qunsim import stats
from qunsim.decision import collapsed, meets_goal, prim, verdict


@pytest.mark.parametrize("seed", range(4))
def test_prim_recovers_a_known_box(seed):
    """Cases of interest exactly in a ≥ 0.6 and b ≤ 0.4 among uniform points in [0, 1]³:
    PRIM restricts a and b near those bounds, leaves c alone, and the box is pure."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(2000, 3)), columns=["a", "b", "c"])
    y = ((x.a >= 0.6) & (x.b <= 0.4)).to_numpy()
    box = prim(x, y)
    assert set(box["limits"]) == {"a", "b"}
    lo_a, hi_a = box["limits"]["a"]
    lo_b, hi_b = box["limits"]["b"]
    assert hi_a is None and lo_b is None  # only the informative sides were peeled
    assert 0.6 <= lo_a < 0.68 and 0.32 < hi_b <= 0.4  # within one peel (10% of the box) of the truth
    assert box["density"] == 1.0 and box["coverage"] >= 0.75


def test_prim_on_a_grid_and_with_categories():
    g = pd.DataFrame([(a, b, c) for a in (0.0, 0.05, 0.15, 0.3) for b in (0.0, 1.0, 3.0) for c in ("x", "y")],
                     columns=["share", "contagion", "kind"])
    y = ((g.share >= 0.15) & (g.contagion >= 1.0)).to_numpy()
    box = prim(g, y, alpha=0.2, min_support=1 / len(g))
    assert box["limits"] == {"share": (0.15, None), "contagion": (1.0, None)}
    assert (box["coverage"], box["density"]) == (1.0, 1.0)
    y2 = (g.kind == "y").to_numpy()
    assert prim(g, y2)["limits"] == {"kind": ["y"]}


def test_collapse_and_goal_per_run():
    r = pd.DataFrame({"final_active": [10, 50, 80], "min_active": [5, 12, 60], "survival_ratio": [0.2, 1.0, 1.6],
                      "initial_active": [50, 50, 50], "final_expert_retention": [0.9, 0.4, 0.6]})
    assert collapsed(r, {"active_below": 30, "when": "end"}).tolist() == [True, False, False]
    assert collapsed(r, {"active_below": 30, "when": "any"}).tolist() == [True, True, False]
    assert collapsed(r, {"survival_below": 0.5, "when": "end"}).tolist() == [True, False, False]
    assert collapsed(r, None).tolist() == [False] * 3
    c = collapsed(r, {"active_below": 30, "when": "end"})
    goal = {"require": {"final_expert_retention": [0.5, None]}}
    assert meets_goal(r, goal, c).tolist() == [False, False, True]


def _table():
    """Two options x two scenarios x 3 replicates, worked by hand below."""
    rows = []
    rev = {("A", 0): [10, 12, 14], ("A", 1): [4, 6, 5], ("B", 0): [9, 9, 9], ("B", 1): [8, 7, 9]}
    act = {("A", 0): [100, 100, 20], ("A", 1): [100, 90, 95], ("B", 0): [80, 80, 80], ("B", 1): [70, 70, 70]}
    for (o, u), vals in rev.items():
        for r, v in enumerate(vals):
            rows.append({"option": o, "u": u, "replicate": r, "point": 0, "revenue_total": float(v),
                         "final_active": act[(o, u)][r], "survival_ratio": 1.0})
    return pd.DataFrame(rows)


def test_verdict_hand_worked():
    df = _table()
    out = {"metrics": {"revenue_total": 1, "final_active": 1}, "collapse": {"active_below": 30, "when": "end"}}
    goal = {"objective": "revenue_total", "sense": 1, "max_p_collapse": 0.2, "require": {}}
    v = verdict(df, levers=["option"], uncertainties=["u"], outcomes=out, goal=goal)
    by = {o["option"]: o for o in v["options"]}
    # A collapses once in 6 (final_active 20 < 30); B never
    assert by["A"]["p_collapse"] == stats.wilson(1, 6) and by["B"]["p_collapse"]["k"] == 0
    assert by["A"]["p_goal"]["k"] == 5 and by["B"]["p_goal"]["k"] == 6
    # B meets the goal more often (6/6 vs 5/6): ranked first
    assert v["recommended"] == "B" and [o["rank"] for o in v["options"]] == [1, 2]
    assert by["A"]["metrics"]["revenue_total"]["q50"] == pytest.approx(8.0)  # 4 5 6 10 12 14
    # regret on revenue, per scenario means: u0 A 12 B 9; u1 A 5 B 8
    assert v["regret"]["A"] == {"max_regret": 3.0, "mean_regret": 1.5, "best_in": 0.5}
    assert v["regret"]["B"] == {"max_regret": 3.0, "mean_regret": 1.5, "best_in": 0.5}
    # paired by (scenario, replicate): B - A = -1 -3 -5, 4 1 4
    d = v["differences"][0]["metrics"]["revenue_total"]
    ref = stats.paired_difference([9, 9, 9, 8, 7, 9], [10, 12, 14, 4, 6, 5])
    assert d["mean"] == pytest.approx(0.0) and d["low"] == pytest.approx(ref["low"])
    # the best option per scenario: u0 -> B (P(goal) 1 vs 2/3, though A earns more), u1 -> B
    best = {tuple(s["scenario"].values()): s["best"] for s in v["scenarios"]}
    assert best == {(0,): "B", (1,): "B"}
    assert v["changes"]["n_changed"] == 0


def test_verdict_without_goal_ranks_by_not_collapsing_then_first_outcome():
    df = _table()
    v = verdict(df, levers=["option"], uncertainties=[], outcomes={"metrics": {"final_active": 1},
                "collapse": {"active_below": 30}})
    assert v["goal"]["implicit"] and v["recommended"] == "B"
    assert v["main_effects"][0]["lever"] == "option"


def test_recommendation_change_is_discovered():
    rows = []
    for u in (0.0, 0.1, 0.2, 0.3, 0.4):
        for r in range(4):
            rows.append({"gate": "open", "u": u, "replicate": r, "point": 0, "final_active": 130 - 300 * u + r,
                         "survival_ratio": 1.0})
            rows.append({"gate": "strict", "u": u, "replicate": r, "point": 1, "final_active": 55.0 + r,
                         "survival_ratio": 1.0})
    v = verdict(pd.DataFrame(rows), levers=["gate"], uncertainties=["u"],
                outcomes={"metrics": {"final_active": 1}, "collapse": False},
                goal={"objective": "final_active", "sense": 1, "require": {}})
    # open: 130 100 70 40 10 (+r), strict 55 (+r): open has the higher median and wins at
    # u <= 0.2; strict wins at u = 0.3 and 0.4
    assert v["recommended"] == "open"
    assert v["changes"]["n_changed"] == 2 and v["changes"]["alternatives"] == {"strict": 2}
    assert v["changes"]["box"]["limits"] == {"u": [0.3, None]}
    assert "u ≥ 0.3" in v["changes"]["rule"]


def test_common_random_numbers_through_the_sweep_engine(tmp_path):
    """Two lever options that do not change the dynamics (the community's name) give identical
    runs replicate by replicate under common pairing, different ones under independent."""
    import qunsim as qs

    base = {"steps": 15, "replicates": 3, "seed": 9,
            "levers": {"community.name": ["a", "b"]},
            "uncertainties": {"dynamics.inflow": [1.0, 3.0]},
            "fixed": {"community.n_seed": 30, "community.n_prospects": 200},
            "keep": {"timeseries": ["active"]}}
    res = qs.sweep(base, tmp_path / "common", executor="serial", progress=False)
    s = res.summary.sort_values(["dynamics.inflow", "replicate", "community.name"])
    assert (res.design.groupby("replicate")["seed"].nunique() == 1).all()
    a, b = (s[s["community.name"] == k].reset_index(drop=True) for k in ("a", "b"))
    for col in ("final_active", "total_joined", "total_left", "seed"):
        assert a[col].tolist() == b[col].tolist()
    ind = qs.sweep({**base, "pairing": "independent"}, tmp_path / "ind", executor="serial", progress=False)
    si = ind.summary
    assert si["seed"].is_unique
    from qunsim.decision import sweep_verdict

    v, runs, dec = sweep_verdict(tmp_path / "common")
    assert dec["pairing"] == "common" and v["pairing"] == "common"
    diff = v["differences"][0]["metrics"]["final_active"]
    assert (diff["mean"], diff["low"], diff["high"]) == (0.0, 0.0, 0.0)  # paired: exactly no difference
    assert sweep_verdict(tmp_path / "ind")[2]["pairing"] == "independent"
