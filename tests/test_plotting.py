"""Figures checked on their data: what is drawn equals what was computed independently."""

import math
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

import qunsim as qs  # noqa: E402
from qunsim import plotting as qp  # noqa: E402
from qunsim.state import ROLE_ORDER  # noqa: E402

SMALL = {"community.n_seed": 50, "community.n_prospects": 500}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def run():
    return qs.simulate(rng=3, steps=60, **SMALL)


@pytest.fixture(scope="module")
def replicates():
    return [qs.simulate(rng=s, steps=40, **SMALL) for s in range(16)]


def _line(ax, label=None, gid=None):
    for ln in ax.lines:
        if (label is not None and ln.get_label() == label) or (gid is not None and ln.get_gid() == gid):
            return ln
    raise AssertionError(f"no line {label or gid} in {[ln.get_label() for ln in ax.lines]}")


def _band_widths(collection) -> dict[float, float]:
    """Vertical extent of a fill_between polygon at each x."""
    v = collection.get_paths()[0].vertices
    out: dict[float, list[float]] = {}
    for x, y in v:
        out.setdefault(round(float(x), 6), []).append(float(y))
    return {x: max(ys) - min(ys) for x, ys in out.items()}


# --------------------------------------------------------------------------- Kaplan–Meier

# hand-made table: durations and whether the member left (1) or is still active (0)
DUR = [1, 2, 2, 3, 4, 5, 5, 6]
EVT = [1, 1, 0, 1, 0, 1, 1, 0]
# worked by hand: at risk 8,7,5,4,3,1; events 1,1,1,0,2,0
HAND_S = {1: 7 / 8, 2: 7 / 8 * 6 / 7, 3: 0.75 * 4 / 5, 4: 0.6, 5: 0.6 * 1 / 3, 6: 0.2}


def _km_reference(durations, events):
    """Product-limit estimate, one individual at a time (independent of kaplan_meier)."""
    order = sorted(zip(durations, events, strict=True), key=lambda de: (de[0], -de[1]))
    n = len(order)
    s, out, i = 1.0, {}, 0
    while i < n:
        t = order[i][0]
        at_risk = n - i
        d = sum(1 for dd, e in order[i:] if dd == t and e)
        c = sum(1 for dd, e in order[i:] if dd == t and not e)
        s *= 1 - d / at_risk
        out[t] = s
        i += d + c
    return out


def test_kaplan_meier_matches_hand_table():
    km = qp.kaplan_meier(DUR, EVT)
    assert km["time"].tolist() == [1, 2, 3, 4, 5, 6]
    assert km["at_risk"].tolist() == [8, 7, 5, 4, 3, 1]
    assert km["events"].tolist() == [1, 1, 1, 0, 2, 0]
    assert km["censored"].tolist() == [0, 1, 0, 1, 0, 1]
    np.testing.assert_allclose(km["survival"], [HAND_S[t] for t in range(1, 7)])
    np.testing.assert_allclose(km["survival"], list(_km_reference(DUR, EVT).values()))
    # Greenwood log-log interval at t=1, by hand: Var(log S) = 1 / (8 * 7)
    s, v = 7 / 8, 1 / 56
    z = stats.norm.ppf(0.975)
    se = math.sqrt(v) / abs(math.log(s))
    lo = math.exp(-math.exp(math.log(-math.log(s)) + z * se))
    hi = math.exp(-math.exp(math.log(-math.log(s)) - z * se))
    assert km["lower"].iloc[0] == pytest.approx(lo) and km["upper"].iloc[0] == pytest.approx(hi)
    assert (km["lower"] <= km["survival"] + 1e-12).all() and (km["upper"] >= km["survival"] - 1e-12).all()


def test_kaplan_meier_without_censoring_is_the_empirical_survival(global_random_seed):
    rng = np.random.default_rng(global_random_seed)
    d = rng.integers(0, 30, size=200)
    km = qp.kaplan_meier(d, np.ones_like(d, dtype=bool))
    emp = [(d > t).mean() for t in km["time"]]
    np.testing.assert_allclose(km["survival"], emp)


def test_kaplan_meier_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        qp.kaplan_meier([1, 2], [True])
    with pytest.raises(ValueError, match=">= 0"):
        qp.kaplan_meier([-1, 2], [True, True])


def _hand_members(end=20):
    rows = []
    for i, (d, e) in enumerate(zip(DUR, EVT, strict=True)):
        join = 0 if e else end - d  # censored members joined late enough to be at d at the end
        rows.append({"member_id": i, "role": "expert", "initial_role": "expert", "join_step": join,
                     "leave_step": join + d if e else -1, "status": "left" if e else "active",
                     "entry_path": "seed" if join == 0 else "exposure", "tier": "member"})
    # a second group, all leaving on day 3
    for j in range(5):
        rows.append({"member_id": 100 + j, "role": "chatter", "initial_role": "chatter", "join_step": 0,
                     "leave_step": 3, "status": "banned", "entry_path": "seed", "tier": "member"})
    return pd.DataFrame(rows)


def test_member_durations_censors_active_members():
    m = qp.member_durations(_hand_members(), end_step=20)
    exp = m[m["role"] == "expert"]
    assert exp["duration"].tolist() == DUR
    assert exp["observed"].astype(int).tolist() == EVT


def test_plotted_survival_curve_equals_independent_km():
    fig = qp.plot_survival(_hand_members(), by="role", end_step=20, min_members=3)
    ax = fig.axes[0]
    ln = _line(ax, gid="km:expert")
    x, y = np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)
    ref = _km_reference(DUR, EVT)
    assert ln.get_drawstyle() == "steps-post"
    assert x.tolist() == [0, 1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(y, [100] + [100 * ref[t] for t in range(1, 7)])
    ch = _line(ax, gid="km:chatter")  # banned counts as leaving
    np.testing.assert_allclose(np.asarray(ch.get_ydata(), float), [100, 0])
    assert ln.get_color() == qp.ROLE_COLORS["expert"]


def test_survival_small_groups_are_left_out_and_named():
    fig = qp.plot_survival(_hand_members(), by="role", end_step=20, min_members=6)
    ax = fig.axes[0]
    assert [ln.get_gid() for ln in ax.lines if ln.get_gid()] == ["km:expert"]
    assert "chatter (5)" in "".join(t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="min_members"):
        qp.plot_survival(_hand_members(), by="role", end_step=20, min_members=50)
    with pytest.raises(ValueError, match="by must be"):
        qp.plot_survival(_hand_members(), by="colour")


def test_survival_by_cohort_and_entry_path(run):
    fig = qp.plot_survival(run, by="cohort", min_members=1)
    gids = [ln.get_gid() for ln in fig.axes[0].lines if ln.get_gid()]
    assert gids[0] == "km:seed members"
    m = run.members
    n_seed = int((m["entry_path"] == "seed").sum())
    assert f"seed members (n={n_seed})" in [ln.get_label() for ln in fig.axes[0].lines]
    # cohorts partition the members who joined
    ns = [int(ln.get_label().rsplit("n=", 1)[1].rstrip(")")) for ln in fig.axes[0].lines if ln.get_gid()]
    assert sum(ns) == int((m["join_step"] >= 0).sum())
    fig2 = qp.plot_survival(run, by="entry_path", min_members=1)
    assert "km:seed" in [ln.get_gid() for ln in fig2.axes[0].lines]


def test_survival_of_a_run_censors_at_the_last_step(run):
    fig = qp.plot_survival(run, by="role", min_members=1)
    m = qp.member_durations(run.members.assign(end_step=int(run.timeseries["step"].max())))
    sub = m[m["initial_role"].astype(str) == "regular"]
    km = qp.kaplan_meier(sub["duration"], sub["observed"])
    y = np.asarray(_line(fig.axes[0], gid="km:regular").get_ydata(), float)
    np.testing.assert_allclose(y[1:len(km) + 1], km["survival"] * 100)


# --------------------------------------------------------------------------- bands over replicates


def test_replicate_band_is_the_t_interval():
    ts = pd.DataFrame({"run_id": [0, 1, 2] * 2, "step": [0, 0, 0, 1, 1, 1], "active": [1, 2, 3, 5, 5, 5]})
    b = qp.replicate_band(ts, "active", ci=0.9)
    lo, hi = stats.t.interval(0.9, 2, loc=2, scale=1 / math.sqrt(3))
    assert b["lower"].iloc[0] == pytest.approx(lo) and b["upper"].iloc[0] == pytest.approx(hi)
    assert b["lower"].iloc[1] == b["upper"].iloc[1] == 5
    with pytest.raises(ValueError, match="confidence level"):
        qp.replicate_band(ts, "active", ci=95)


def test_band_widths_shrink_with_more_replicates(replicates):
    def widths(runs):
        fig = qp.plot_active_by_role(runs, roles=["regular"], total=False, phases=False)
        band = [c for c in fig.axes[0].collections if c.get_paths()]
        assert len(band) == 1
        w = _band_widths(band[0])
        return np.mean([v for x, v in w.items() if x >= 10])

    w4, w16 = widths(replicates[:4]), widths(replicates)
    # CI half-width ~ t(n-1) s / sqrt(n): from 4 to 16 runs about 3x narrower
    assert w16 < 0.6 * w4
    assert w16 > 0


def test_active_by_role_draws_the_replicate_mean(replicates):
    fig = qp.plot_active_by_role(replicates[:5])
    ax = fig.axes[0]
    ts = pd.concat([r.timeseries.assign(run_id=i) for i, r in enumerate(replicates[:5])])
    exp = ts.groupby("step")["active_expert"].mean()
    np.testing.assert_allclose(_line(ax, "expert").get_ydata(), exp.to_numpy())
    np.testing.assert_allclose(_line(ax, "all members").get_ydata(), ts.groupby("step")["active"].mean())
    assert _line(ax, "expert").get_color() == qp.ROLE_COLORS["expert"]


def test_single_run_has_no_band_and_shows_phases(run):
    fig = qp.plot_active_by_role(run)
    ax = fig.axes[0]
    assert not [c for c in ax.collections if type(c).__name__ == "FillBetweenPolyCollection"]
    np.testing.assert_array_equal(_line(ax, "all members").get_ydata(), run.timeseries["active"])
    assert ax.get_xlabel() == "day" and ax.get_ylabel() == "active members"
    phases = set(run.timeseries["phase"])
    assert len(ax.patches) >= len(phases)  # one shaded span per phase spell


def test_plot_functions_draw_on_a_given_ax(run):
    fig, ax = plt.subplots()
    assert qp.plot_active_by_role(run, ax=ax) is fig
    fig2, axs = plt.subplots(2, 1)
    assert qp.plot_gresham(run, ax=axs) is fig2
    with pytest.raises(ValueError, match="2 Axes"):
        qp.plot_gresham(run, ax=ax)


# --------------------------------------------------------------------------- other figures


def test_gresham_panel_plots_the_series_and_geometric_means(run):
    fig = qp.plot_gresham(run)
    top, bot = fig.axes[:2]
    ts = run.timeseries[run.timeseries["step"] > 0]
    lq = [ln for ln in top.lines if ln.get_label().startswith("low-quality")][0]
    np.testing.assert_allclose(lq.get_ydata(), ts["low_quality_share"] * 100)
    er = [ln for ln in top.lines if ln.get_label().startswith("expert retention")][0]
    np.testing.assert_allclose(er.get_ydata(), run.timeseries["expert_retention"] * 100)
    np.testing.assert_allclose(_line(bot, "Gresham index").get_ydata(), run.timeseries["gresham_index"], rtol=1e-9)
    assert bot.get_yscale() == "log"
    # two runs with index 1 and 4 average to 2 (geometric mean of a ratio)
    ts2 = pd.DataFrame({"run_id": [0, 1], "step": [1, 1], "low_quality_share": [0.1, 0.3],
                        "expert_retention": [1.0, 1.0], "gresham_index": [1.0, 4.0]})
    fig2 = qp.plot_gresham(ts2)
    assert _line(fig2.axes[1], "Gresham index").get_ydata()[0] == pytest.approx(2.0)


def test_value_overload_in_percent_and_units(run):
    fig = qp.plot_value_overload(run)
    top, mid, bot = fig.axes[:3]
    ts = run.timeseries[run.timeseries["step"] > 0]
    np.testing.assert_allclose(mid.lines[0].get_ydata(), ts["overload"] * 100)
    np.testing.assert_allclose(top.lines[0].get_ydata(), ts["value_density"])
    np.testing.assert_allclose(bot.lines[0].get_ydata(), ts["messages"])
    assert "unread" in mid.get_ylabel() and "day" in bot.get_ylabel()


def test_trust_levels_stack_to_100_percent():
    ts = pd.DataFrame({"step": [0, 1], "trust_none": [1, 0], "trust_weak": [1, 2], "trust_strong": [2, 2],
                       "trust_mean": [0.5, 0.6]})
    fig = qp.plot_trust_levels(ts)
    polys = [c for c in fig.axes[0].collections if c.get_label() in ("none", "weak", "strong")]
    tops = {c.get_label(): c.get_paths()[0].vertices[:, 1].max() for c in polys}
    assert tops["strong"] == pytest.approx(100)
    assert tops["none"] == pytest.approx(25)       # 1 of 4 at step 0
    assert tops["weak"] == pytest.approx(50)       # none + weak: 2 of 4 at step 0, 2 of 4 at step 1
    fig_c = qp.plot_trust_levels(ts, share=False)
    polys = [c for c in fig_c.axes[0].collections if c.get_label() == "strong"]
    assert polys[0].get_paths()[0].vertices[:, 1].max() == pytest.approx(4)


def test_flows_bars_sum_to_joins_and_leaves(run):
    fig = qp.plot_leaves_by_reason(run, bin_days=7)
    ax = fig.axes[0]
    ts = run.timeseries[run.timeseries["step"] > 0]
    joined = [c for c in ax.containers if c.get_label() == "joined"][0]
    assert sum(p.get_height() for p in joined) == pytest.approx(ts["joins"].sum())
    left = [c for c in ax.containers if c.get_label().startswith("left:")]
    assert -sum(p.get_height() for c in left for p in c) == pytest.approx(ts["leaves"].sum())
    for c in left:
        assert c.patches[0].get_facecolor()[:3] == pytest.approx(
            matplotlib.colors.to_rgb(qp.REASON_COLORS[c.get_label()[len("left: "):]]))


def test_funnel_counts_members_reaching_each_tier():
    m = pd.DataFrame({"join_step": [0] * 10 + [-1],
                      "tier": ["member"] * 4 + ["fan"] * 3 + ["partner"] * 2 + ["shareholder"] + ["fan"]})
    fig = qp.plot_funnel(m)
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == [10, 6, 3, 1]
    with pytest.raises(ValueError, match="unknown tier"):
        qp.plot_funnel(pd.DataFrame({"join_step": [0], "tier": ["vip"]}))


def test_revenue_by_rung_is_cumulative_and_stacked():
    ts = pd.DataFrame({"step": [0, 1, 2, 3], "revenue": [0, 10, 5, 20],
                       "revenue_low": [0, 10, 0, 10], "revenue_high": [0, 0, 5, 10],
                       "revenue_cumulative": [0, 10, 15, 35]})
    fig = qp.plot_revenue_by_rung(ts)
    ax = fig.axes[0]
    np.testing.assert_allclose(_line(ax, "total").get_ydata(), [0, 10, 15, 35])
    labels = {c.get_label() for c in ax.collections}
    assert {"low", "high"} <= labels
    fig2 = qp.plot_monetization(qs.simulate(rng=0, steps=10, **SMALL))
    assert len(fig2.axes) == 2


def test_policy_comparison_draws_mean_and_t_interval():
    data = {"ladder": [120.0, 140.0, 130.0, 150.0], "hard sell": [60.0, 90.0, 70.0, 65.0]}
    fig = qp.plot_policy_comparison(data, "revenue_total", higher_is_better=True)
    ax = fig.axes[0]
    for name, vals in data.items():
        lo, hi = stats.t.interval(0.95, len(vals) - 1, loc=np.mean(vals), scale=stats.sem(vals))
        np.testing.assert_allclose(_line(ax, gid=f"ci:{name}").get_xdata(), [lo, hi])
        assert _line(ax, gid=f"mean:{name}").get_xdata()[0] == pytest.approx(np.mean(vals))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["hard sell", "ladder"]  # sorted by mean
    assert "higher is better" in ax.get_xlabel()
    with pytest.raises(ValueError, match="needs `by`"):
        qp.plot_policy_comparison(pd.DataFrame({"x": [1]}), "x")


def test_heatmap_cells_are_replicate_means():
    s = pd.DataFrame({"a.x": [0.2, 0.2, 0.1, 0.1] * 2, "b.mode": ["on"] * 4 + ["off"] * 4,
                      "final_active": [10, 12, 20, 22, 30, 34, 40, 44]})
    fig = qp.plot_heatmap(s, "a.x", "b.mode", "final_active")
    ax = fig.axes[0]
    arr = ax.images[0].get_array()
    # x numeric ascending (0.1, 0.2); y labels in order of appearance (on, off)
    np.testing.assert_allclose(arr, [[21, 11], [42, 32]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1", "0.2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["on", "off"]
    assert "2 run(s) per cell" in "".join(t.get_text() for t in ax.texts)
    fig2 = qp.plot_heatmap(s.assign(g=[0.5, 0.5, 1, 1, 2, 2, 4, 4]), "a.x", "b.mode", "g", center=1.0, log=True)
    norm = fig2.axes[0].images[0].norm
    assert norm(1.0) == pytest.approx(0.5)  # centred on 1 on a log scale


def test_network_colours_roles_and_sizes_trust():
    g = nx.path_graph(5)
    roles = ["owner", "expert", "regular", "chatter", "regular"]
    trust = [0.9, 0.8, 0.2, 0.5, 0.7]
    for i in g.nodes:
        g.nodes[i].update(role=roles[i], trust=trust[i], status="left" if i == 4 else "active")
    nx.set_edge_attributes(g, 0.3, "weight")
    fig = qp.plot_network(g)
    sc = [c for c in fig.axes[0].collections if c.get_gid() == "members"][0]
    assert len(sc.get_offsets()) == 4
    cols = {matplotlib.colors.to_hex(c) for c in sc.get_facecolors()}
    assert cols == {qp.ROLE_COLORS[r].lower() for r in roles[:4]}
    sizes = sc.get_sizes()
    assert sizes.max() == pytest.approx(12 + 150 * 0.9) and sizes.min() == pytest.approx(12 + 150 * 0.2)
    with pytest.raises(ValueError, match="max_nodes"):
        qp.plot_network(g, max_nodes=2)


def test_network_of_a_real_model():
    m = qs.CommunityModel(qs.load_config().override(SMALL), rng=1)
    m.run_for(5)
    fig = qp.plot_network(m)
    sc = [c for c in fig.axes[0].collections if c.get_gid() == "members"][0]
    assert len(sc.get_offsets()) == len(m.agents)


def test_palette_is_fixed_and_complete():
    assert set(ROLE_ORDER) <= set(qp.ROLE_COLORS)
    assert len(set(qp.ROLE_COLORS.values())) == len(qp.ROLE_COLORS)
    assert set(qp.ROLE_COLORS.values()) <= set(qp.OKABE_ITO.values())


def test_save_figure_formats(run, tmp_path):
    fig = qp.plot_trust_levels(run)
    files = qp.save_figure(fig, tmp_path / "t", ("png", "svg", "pdf"))
    assert [f.suffix for f in files] == [".png", ".svg", ".pdf"]
    assert files[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in files[1].read_bytes()[:500]
    assert files[2].read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ValueError, match="png, svg or pdf"):
        qp.save_figure(fig, tmp_path / "t", ("gif",))


def test_bad_inputs_say_what_is_missing(run):
    with pytest.raises(ValueError, match="gresham_index"):
        qp.plot_gresham(run.timeseries.drop(columns=["gresham_index"]))
    with pytest.raises(TypeError, match="RunResult"):
        qp.plot_active_by_role(42)


def test_plot_run_dir_writes_every_standard_figure(tmp_path):
    res = qs.simulate(rng=5, steps=40, **SMALL)
    qs.save_run(res, tmp_path / "run")
    files = qp.plot_run_dir(tmp_path / "run", tmp_path / "figs")
    names = {f.stem for f in files}
    assert {"active_by_role", "flows", "survival_by_role", "survival_by_cohort", "gresham",
            "value_overload", "trust_levels", "network"} <= names
    assert all(f.exists() and f.stat().st_size > 0 for f in files)
    assert {f.suffix for f in files} == {".png", ".svg"}
    with pytest.raises(ValueError, match="not a run directory"):
        qp.plot_run_dir(tmp_path / "figs")


def test_network_snapshot_replays_the_run():
    res = qs.simulate(rng=5, steps=30, **SMALL)
    g, day, _ = qp.network_snapshot(res)
    active = sum(1 for _, d in g.nodes(data=True) if d["status"] == "active")
    assert active == int(res.timeseries.loc[res.timeseries["step"] == day, "active"].iloc[0])


def test_import_qunsim_does_not_import_matplotlib():
    code = ("import sys, qunsim; assert 'matplotlib' not in sys.modules; "
            "f = qunsim.plot_gresham; assert 'matplotlib' not in sys.modules; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "ok", r.stderr


def test_chinese_labels_render_without_missing_glyphs(tmp_path):
    import warnings

    data = {"Direct hard sell (杀鸡取卵)": [1.0, 2.0, 3.0], "ladder": [3.0, 4.0, 5.0]}
    fig = qp.plot_policy_comparison(data, "revenue_total")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a UserWarning at draw time
        qp.save_figure(fig, tmp_path / "cjk", ("png",))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "ladder" in labels and any(lab.startswith("Direct hard sell") for lab in labels)


def test_expert_retention_is_undefined_before_the_first_expert_joins():
    ts = pd.DataFrame({"run_id": [0] * 3 + [1] * 3, "step": [0, 1, 2] * 2,
                       "active_expert": [0, 0, 2, 1, 1, 1], "expert_retention": [0.0, 0.0, 1.0, 1.0, 1.0, 0.5],
                       "low_quality_share": [0.0] * 6, "gresham_index": [1.0] * 6})
    fig = qp.plot_gresham(ts)
    er = [ln for ln in fig.axes[0].lines if ln.get_label().startswith("expert retention")][0]
    # run 0 has no expert on days 0-1: those days average run 1 alone
    np.testing.assert_allclose(er.get_ydata(), [100, 100, 75])


def test_scheduled_policy_is_shaded_on_every_panel_of_the_time_figures():
    res = qs.simulate(rng=1, steps=30, **SMALL, **{"activity.rate_limit": {"cap": 3, "start": 10, "stop": 20}})
    assert res.timeseries["policy_rate_limit_active"].sum() == 10  # days 10..19

    def spans(ax):  # the hatched bands of the policy's days
        return [(p.get_x(), p.get_x() + p.get_width()) for p in ax.patches if p.get_hatch() == "//"]

    for fig, panels in ((qp.plot_active_by_role(res), 1), (qp.plot_timeseries(res, "messages"), 1),
                        (qp.plot_gresham(res), 2), (qp.plot_value_overload(res), 3)):
        assert len(fig.axes) == panels
        for ax in fig.axes:
            assert [(round(a, 6), round(b, 6)) for a, b in spans(ax)] == [(9.5, 19.5)]
    ax = qp.plot_active_by_role(res).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    # the lines first, then the shading: the run's phases, then the policy
    assert labels[0] == "all members" and labels[-1] == "rate_limit on"
    assert [lab for lab in labels if lab.startswith("phase: ")] and labels.index("rate_limit on") > max(
        i for i, lab in enumerate(labels) if lab.startswith("phase: "))
    trust = qp.plot_trust_levels([res, res]).axes[0]
    assert [t.get_text() for t in trust.get_legend().get_texts()][-1] == "none"  # a stack's legend reads top-down
    assert trust.texts[0].get_text() == "mean of 2 runs"
