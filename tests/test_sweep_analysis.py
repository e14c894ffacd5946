"""Analysis helpers (replicate means with CIs, Sobol indices) and interop (evaluate,
mesa.batch_run, the public names)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import qunsim as qs
from qunsim.sweep import SweepSpec, make_design, replicate_means, sobol_indices

SMALL = {"community.n_seed": 30, "community.n_prospects": 200}


def test_public_names():
    assert callable(qs.sweep) and callable(qs.load_results) and callable(qs.evaluate)
    assert {"sweep", "load_results", "evaluate"} <= set(qs.__all__)
    import qunsim.sweep.spec as spec_module  # the callable package is still a package

    assert spec_module.load_sweep is qs.sweep.load_sweep


def test_import_qunsim_does_not_load_dask_or_qmc():
    code = ("import sys, qunsim; bad = [m for m in ('distributed', 'dask', 'scipy.stats._qmc', "
            "'qunsim.sweep.runner') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------- replicate means


@pytest.mark.parametrize("level", [0.9, 0.95])
def test_replicate_means_interval_is_student_t(global_random_seed, level):
    rng = np.random.default_rng(global_random_seed)
    df = pd.DataFrame({"a": np.repeat([0, 1], 7), "b": np.tile([0, 1, 0, 1, 0, 1, 0], 2),
                       "y": rng.normal(10, 2, 14), "z": rng.normal(0, 1, 14)})
    out = replicate_means(df, by=["a", "b"], metrics=["y", "z"], level=level)
    assert len(out) == 2 * 2 * 2 and set(out["metric"]) == {"y", "z"}
    for _, row in out.iterrows():
        vals = df[(df.a == row.a) & (df.b == row.b)][row.metric].to_numpy()
        lo, hi = stats.t.interval(level, len(vals) - 1, loc=vals.mean(), scale=stats.sem(vals))
        assert row.n == len(vals)
        assert row["mean"] == pytest.approx(vals.mean())
        assert (row.ci_low, row.ci_high) == pytest.approx((lo, hi))


def test_replicate_means_single_replicate_has_no_interval():
    out = replicate_means(pd.DataFrame({"a": [0, 1], "y": [1.0, 2.0]}), by=["a"], metrics="y")
    assert out["ci_low"].isna().all() and out["n"].tolist() == [1, 1]
    with pytest.raises(KeyError, match="no column"):
        replicate_means(pd.DataFrame({"a": [0]}), by=["a"], metrics="nope")


# ---------------------------------------------------------------------- Sobol indices


def _ishigami_spec(n):
    # three config keys whose ranges admit the Ishigami domain (shifted by pi where needed);
    # the outputs come from the analytic function, not from the model
    return SweepSpec.from_dict({"seed": 1, "design": {"kind": "sobol", "n": n}, "axes": {
        "dynamics.hazard_midpoint": {"low": -np.pi, "high": np.pi},
        "dynamics.message_noise": {"low": 0.0, "high": 2 * np.pi},
        "dynamics.recognition": {"low": 0.0, "high": 2 * np.pi}}})


def _ishigami(d: pd.DataFrame) -> np.ndarray:
    x1 = d["dynamics.hazard_midpoint"].to_numpy()
    x2 = d["dynamics.message_noise"].to_numpy() - np.pi
    x3 = d["dynamics.recognition"].to_numpy() - np.pi
    return np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)


def test_sobol_indices_recover_ishigami():
    spec = _ishigami_spec(2048)
    d = make_design(spec)
    si = sobol_indices(spec, "y", y=_ishigami(d), n_boot=50)
    assert si["parameter"].tolist() == spec.keys
    # analytic values for a=7, b=0.1 (Saltelli et al. 2010)
    assert si["S1"].to_numpy() == pytest.approx([0.3139, 0.4424, 0.0], abs=0.04)
    assert si["ST"].to_numpy() == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.04)
    assert (si["S1_conf"] > 0).all() and (si["S1_conf"] < 0.1).all()


def test_sobol_indices_equal_salib():
    salib = pytest.importorskip("SALib.analyze.sobol")
    spec = _ishigami_spec(256)
    d = make_design(spec)
    y = _ishigami(d)
    ours = sobol_indices(spec, "y", y=y, n_boot=10)
    problem = {"num_vars": 3, "names": spec.keys, "bounds": [[-np.pi, np.pi], [0, 2 * np.pi], [0, 2 * np.pi]]}
    theirs = salib.analyze(problem, y, calc_second_order=False, print_to_console=False, seed=1)
    assert ours["S1"].to_numpy() == pytest.approx(theirs["S1"], abs=1e-12)
    assert ours["ST"].to_numpy() == pytest.approx(theirs["ST"], abs=1e-12)


def test_sobol_sweep_end_to_end(tmp_path):
    spec = {"steps": 6, "replicates": 2, "seed": 3, "fixed": SMALL,
            "design": {"kind": "sobol", "n": 4},
            "axes": {"community.chatter_share": {"low": 0.0, "high": 0.4},
                     "dynamics.inflow": {"low": 0.0, "high": 10.0}}}
    res = qs.sweep(spec, tmp_path / "out", executor="serial")
    assert len(res.summary) == 4 * (2 + 2) * 2
    si = res.sobol("total_joined", n_boot=20)
    assert si["parameter"].tolist() == ["community.chatter_share", "dynamics.inflow"]
    assert np.isfinite(si[["S1", "ST"]].to_numpy()).all()
    grid = qs.sweep({**spec, "design": {"kind": "grid"}, "axes": {"community.chatter_share": [0.0, 0.1]}},
                    tmp_path / "grid", executor="serial")
    with pytest.raises(ValueError, match="design kind 'sobol'"):
        grid.sobol("total_joined")


# ---------------------------------------------------------------------- interop


def test_evaluate_is_simulate_with_dotted_params():
    out = qs.evaluate(seed=4, steps=8, **SMALL, community__chatter_share=0.2)
    ref = qs.simulate(rng=4, steps=8, **SMALL, **{"community.chatter_share": 0.2}).summary
    assert out == ref
    assert qs.evaluate(seed=5, steps=8, **SMALL) != qs.evaluate(seed=6, steps=8, **SMALL)


def test_evaluate_as_salib_target():
    pytest.importorskip("SALib")
    from SALib import ProblemSpec

    sp = ProblemSpec({"names": ["community.chatter_share", "dynamics.inflow"],
                      "bounds": [[0.0, 0.4], [0.0, 10.0]], "outputs": ["total_joined"]})
    sp.samples = np.array([[0.0, 0.0], [0.3, 10.0], [0.1, 5.0]])
    sp.evaluate(qs.evaluate, names=sp["names"], output="total_joined", steps=6, config=SMALL)
    y = sp.results
    assert y.shape == (3,)
    for i, (c, f) in enumerate(sp.samples):
        ref = qs.simulate(qs.load_config(None, overrides=SMALL), rng=i, steps=6,
                          **{"community.chatter_share": c, "dynamics.inflow": f}).summary
        assert y[i] == ref["total_joined"]
    with pytest.raises(ValueError, match="one name per column"):
        qs.evaluate(sp.samples, names=["x"], output="total_joined")


@pytest.fixture
def keep_start_method():
    """mesa.batch_run forces the global start method to 'spawn'; put it back afterwards."""
    import multiprocessing

    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_mesa_batch_run_still_works(keep_start_method):
    import mesa

    params = {"community.n_seed": [30, 40], "community.n_prospects": 200, "run.agent_views": False}
    rows = mesa.batch_run(qs.CommunityModel, params, rng=[1, 2], max_steps=5,
                          number_processes=1, display_progress=False)
    assert len(rows) == 4
    assert {r["community.n_seed"] for r in rows} == {30, 40} and {r["rng"] for r in rows} == {1, 2}
    assert all(r["Step"] == 5 and r["active"] > 0 for r in rows)
    again = mesa.batch_run(qs.CommunityModel, params, rng=[1, 2], max_steps=5,
                           number_processes=1, display_progress=False)
    assert [r["trust_mean"] for r in rows] == [r["trust_mean"] for r in again]


def test_sweeps_do_not_touch_global_random_state(tmp_path):
    import random

    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002 (checked, not used)
    spec = {"steps": 3, "seed": 2, "fixed": SMALL, "design": {"kind": "lhs", "n": 3},
            "axes": {"community.chatter_share": {"low": 0.0, "high": 0.3}}}
    qs.sweep(spec, tmp_path / "lhs", executor="serial")
    make_design(SweepSpec.from_dict({**spec, "design": {"kind": "sobol", "n": 4}}))
    sobol_indices(SweepSpec.from_dict({**spec, "design": {"kind": "sobol", "n": 4}}), "y",
                  y=np.arange(12.0), n_boot=5)
    after = np.random.get_state()  # noqa: NPY002
    assert all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
               for a, b in zip(np_state, after, strict=True))
    assert random.getstate() == py_state


def test_no_timeseries_kept(tmp_path):
    spec = {"steps": 3, "fixed": SMALL, "axes": {"community.chatter_share": [0.0, 0.1]},
            "keep": {"timeseries": [], "summary": ["final_active", "total_joined"]}}
    res = qs.sweep(spec, tmp_path / "out", executor="serial")
    assert res.timeseries.empty and not list((tmp_path / "out" / "timeseries").iterdir())
    assert res.timeseries_with_axes().empty
    assert set(res.summary.columns) == {"run_id", "point", "replicate", "seed", "community.chatter_share",
                                        "final_active", "total_joined"}
