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
            "axes": {"community.chatter_share": [0.0, 0.3],
                     "activity.spam_moderation": {"values": [False, {"precision": 0.9}], "labels": ["off", "on"]}},
            "fixed": FIXED}
    qs.sweep(spec, d, executor="serial", progress=False)
    return d


@pytest.fixture(scope="module")
def sweep1(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep1")
    spec = {"name": "one_axis", "steps": 20, "replicates": 3, "seed": 5,
            "axes": {"dynamics.wom_reach": [2.0, 60.0]}, "fixed": FIXED,
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
    files = qp.plot_sweep_dir(sweep2, tmp_path, formats=("png",))
    names = {f.stem for f in files}
    assert {"active_by_point", "active_by_role", "gresham", "trust_levels", "heatmap_final_active",
            "heatmap_mean_gresham_index"} <= names
    # two axes, four points: heatmaps for every metric, intervals for the key ones only
    assert {n for n in names if n.startswith("compare_")} == {"compare_final_active", "compare_mean_churn_rate"}


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
    assert names and all(n.startswith("compare_") for n in names)
