"""Sweep-level figures and the ``qunsim plot`` command, on small real sweeps."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import qunsim as qs  # noqa: E402
from qunsim import plotting as qp  # noqa: E402
from qunsim.cli import main  # noqa: E402

FIXED = {"community.n_seed": 40, "community.n_prospects": 300}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sweep2(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep2")
    spec = {"name": "two_axes", "steps": 20, "replicates": 2, "seed": 11,
            "uncertainties": {"community.chatter_share": [0.0, 0.3],
                              "activity.spam_moderation": {"values": [False, {"precision": 0.9}],
                                                           "labels": ["off", "on"]}},
            "fixed": FIXED}
    qs.sweep(spec, d, executor="serial", progress=False)
    return d


@pytest.fixture(scope="module")
def sweep1(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep1")
    spec = {"name": "one_axis", "steps": 20, "replicates": 3, "seed": 5,
            "uncertainties": {"dynamics.wom_reach": [2.0, 60.0]}, "fixed": FIXED,
            "keep": {"timeseries": ["active", "active_expert", "active_regular", "active_chatter",
                                    "low_quality_share", "expert_retention", "gresham_index",
                                    "trust_none", "trust_weak", "trust_strong", "trust_mean"], "period": 2}}
    qs.sweep(spec, d, executor="serial", progress=False)
    return d


def test_load_sweep_labels_points_in_design_order(sweep2):
    sw = qp.load_sweep(sweep2)
    assert sw.axes == ["community.chatter_share", "activity.spam_moderation"]
    assert sw.points == ["chatter share = 0, spam moderation = off",
                         "chatter share = 0, spam moderation = on",
                         "chatter share = 0.3, spam moderation = off",
                         "chatter share = 0.3, spam moderation = on"]
    assert sw.summary.groupby("point_label").size().tolist() == [2, 2, 2, 2]
    assert set(sw.timeseries["point_label"]) == set(sw.points)


def test_heatmap_of_a_sweep_matches_replicate_means(sweep2):
    res = qs.load_results(sweep2)
    means = res.replicate_means("final_active")
    fig = qp.plot_heatmap(res.summary, "community.chatter_share", "activity.spam_moderation", "final_active")
    arr = fig.axes[0].images[0].get_array()
    for _, r in means.iterrows():
        i = ["off", "on"].index(r["activity.spam_moderation"])
        j = [0.0, 0.3].index(r["community.chatter_share"])
        assert arr[i, j] == pytest.approx(r["mean"])


def test_sweep_dir_figures_two_axes(sweep2, tmp_path):
    """Uncertainties only (nothing to choose): comparisons and heatmaps, no verdict figures,
    and no figure of one design point's runs standing for the whole sweep."""
    files = qp.plot_sweep_dir(sweep2, tmp_path, formats=("png",))
    names = {f.stem for f in files}
    assert {"active_by_point", "heatmap_final_active", "heatmap_gresham_hr"} <= names
    assert not names & {"active_by_role", "gresham", "trust_levels", "lever_effects"}
    # two axes, four points: heatmaps for every metric, intervals for the key ones only
    assert {n for n in names if n.startswith("compare_")} == {"compare_final_active", "compare_mean_churn_rate"}


@pytest.fixture(scope="module")
def sweep_lever(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep_lever")
    spec = {"name": "lever", "steps": 20, "replicates": 3, "seed": 11,
            "levers": {"activity.spam_moderation": {"values": [False, {"precision": 0.9}], "labels": ["off", "on"]}},
            "uncertainties": {"community.chatter_share": [0.0, 0.3]},
            "outcomes": {"metrics": ["final_active", "final_expert_retention"]},
            "fixed": {**FIXED, "community.spammer_share": 0.05}, "keep": {"timeseries": ["active", "expert_retention"]}}
    qs.sweep(spec, d, executor="serial", progress=False)
    return d


def test_sweep_dir_figures_with_a_lever_are_the_verdict_figures(sweep_lever, tmp_path):
    from qunsim.decision import sweep_verdict

    names = {f.stem for f in qp.plot_sweep_dir(sweep_lever, tmp_path, formats=("png",))}
    assert names == {"outcome_final_active", "outcome_final_expert_retention", "lever_effects",
                     "interaction_0", "over_time_active", "over_time_expert_retention"}
    v, runs, dec = sweep_verdict(sweep_lever)
    assert dec["levers"] == ["activity.spam_moderation"] and dec["uncertainties"] == ["community.chatter_share"]
    # the strip figure draws every run: one dot (or cross) per run of each option
    order = [o["option"] for o in v["options"]]
    fig = qp.plot_outcome_strips(runs, "final_active", order=order,
                                 quantiles={o["option"]: o["metrics"]["final_active"] for o in v["options"]})
    drawn = sum(len(ln.get_xdata()) for ln in fig.axes[0].lines if ln.get_marker() in ("o", "X"))
    assert drawn == len(runs) == 12
    # the option bands are the quantiles of each option's runs at each step
    from qunsim.decision import option_bands

    ts = qs.load_results(sweep_lever).timeseries
    b = option_bands(ts, runs, "active")
    last = b[(b["step"] == 20) & (b["option"] == "on")].iloc[0]
    vals = ts[(ts["step"] == 20) & ts["run_id"].isin(runs.loc[runs["option"] == "on", "run_id"])]["active"]
    assert last["q50"] == pytest.approx(vals.median()) and last["n"] == 6


def test_sweep_dir_figures_one_axis_compare_points(sweep1, tmp_path):
    sw = qp.load_sweep(sweep1)
    files = qp.plot_sweep_dir(sweep1, tmp_path, formats=("png",))
    names = {f.stem for f in files}
    assert {"active_by_point", "compare_final_active", "compare_survival_ratio"} <= names
    assert not any(n.startswith("heatmap_") for n in names)
    # the comparison plots each point's replicate mean and t interval
    fig = qp.plot_policy_comparison(sw.summary, "final_active", by="point_label", sort=False)
    ax = fig.axes[0]
    for p, sub in sw.summary.groupby("point_label"):
        mean = [ln for ln in ax.lines if ln.get_gid() == f"mean:{p}"][0]
        assert mean.get_xdata()[0] == pytest.approx(sub["final_active"].mean())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2", "60"]  # design order, first on top
    assert ax.yaxis_inverted()


def test_timeseries_by_point_bands_use_each_points_replicates(sweep1):
    sw = qp.load_sweep(sweep1)
    fig = qp.plot_timeseries(sw.timeseries, "active", by="point_label")
    ax = fig.axes[0]
    for p in sw.points:
        sub = sw.timeseries[sw.timeseries["point_label"] == p]
        ln = [ln for ln in ax.lines if ln.get_label() == p][0]
        np.testing.assert_allclose(ln.get_ydata(), sub.groupby("step")["active"].mean())
    assert np.array_equal(np.unique(np.asarray(ax.lines[0].get_xdata())), np.arange(0, 21, 2))
    with pytest.raises(ValueError, match="max_groups"):
        qp.plot_timeseries(sw.timeseries, "active", by="run_id", max_groups=3)


def test_cli_plot_sweep_and_run(sweep1, tmp_path, capsys):
    assert main(["plot", str(sweep1), "--out", str(tmp_path / "f"), "--formats", "png"]) == 0
    assert "compare_final_active" in capsys.readouterr().out
    assert (tmp_path / "f" / "compare_final_active.png").exists()
    run_dir = tmp_path / "run"
    res = qs.simulate(rng=2, steps=15, **FIXED)
    qs.save_run(res, run_dir)
    assert main(["plot", str(run_dir), "--no-network"]) == 0
    assert (run_dir / "figures" / "gresham.svg").exists() and not (run_dir / "figures" / "network.svg").exists()


def test_cli_run_with_plots(tmp_path, capsys):
    cfg = Path(__file__).resolve().parents[1] / "configs" / "knowledge_community.toml"
    out = tmp_path / "run"
    assert main(["run", str(cfg), "--steps", "15", "--set", "community.n_seed=40", "--set",
                 "community.n_prospects=300", "--out", str(out), "--plots"]) == 0
    assert "figures" in capsys.readouterr().out
    assert (out / "figures" / "active_by_role.png").exists() and (out / "figures" / "network.png").exists()


def test_cli_plot_errors_are_one_paragraph(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err and err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    assert main(["plot", str(tmp_path / "empty")]) == 2
    assert "neither a run" in capsys.readouterr().err
    res = qs.simulate(rng=2, steps=5, **FIXED)
    qs.save_run(res, tmp_path / "r")
    assert main(["plot", str(tmp_path / "r"), "--formats", "gif"]) == 2
    assert "--formats" in capsys.readouterr().err


def test_sweep_without_time_series_draws_summary_figures_only(tmp_path):
    spec = {"name": "lean", "steps": 5, "replicates": 2, "seed": 1,
            "axes": {"dynamics.inflow": [1.0, 5.0]}, "fixed": FIXED, "keep": {"timeseries": []}}
    qs.sweep(spec, tmp_path / "s", executor="serial", progress=False)
    sw = qp.load_sweep(tmp_path / "s")
    assert sw.timeseries is None
    names = {f.stem for f in qp.plot_sweep_dir(tmp_path / "s", tmp_path / "f", formats=("png",))}
    # a lever (`axes`): its verdict figures, but nothing over time
    assert names and all(n.startswith(("outcome_", "lever_effects")) for n in names)
