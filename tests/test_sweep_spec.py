"""Sweep files, designs and seeds: validation errors name the file and key; designs have the
structure their kind promises; run seeds depend only on (root seed, point, replicate)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import pytest

from qunsim.config import ConfigError
from qunsim.sweep.design import make_design, make_runs, run_seed
from qunsim.sweep.spec import SweepSpec, load_sweep

SMALL_FIXED = '[fixed]\n"community.n_seed" = 30\n"community.n_prospects" = 200\n'


def write(tmp_path, body: str, name: str = "s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


# ---------------------------------------------------------------------- malformed files

BAD = [
    # (file body, substrings the one-paragraph error must contain)
    ('replicates = 0\n[axes]\n"community.chatter_share" = [0.1]\n', ["`replicates`", "greater than or equal to 1"]),
    ('replicate = 3\n[axes]\n"community.chatter_share" = [0.1]\n', ["`replicate`", "not a known key"]),
    ('steps = -1\n[axes]\n"community.chatter_share" = [0.1]\n', ["`steps`"]),
    ('seed = "x"\n[axes]\n"community.chatter_share" = [0.1]\n', ["`seed`"]),
    ('[design]\nkind = "random"\n[axes]\n"community.chatter_share" = [0.1]\n', ["`design.kind`", "grid"]),
    ('[axes]\n"community.chater_share" = [0.1]\n', ["axes.community.chater_share", "not a known key"]),
    ('[axes]\n"community.chatter_share" = [0.1, 1.5]\n', ["axes.community.chatter_share", "1.5", "less than or equal to 1"]),
    ('[axes]\n"community.chatter_share" = "high"\n', ["axes.community.chatter_share", "list of values"]),
    ('[axes]\n"community.chatter_share" = {low = 0.5, high = 0.1, num = 3}\n', ["axes.community.chatter_share", "low <= high"]),
    ('[axes]\n"community.chatter_share" = {low = 0.0, high = 0.5}\n', ["axes.community.chatter_share.num", "required"]),
    ('[axes]\n"community.chatter_share" = {values = [0.1, 0.2], labels = ["a"]}\n', ["axes.community.chatter_share.labels"]),
    ('[axes]\n"community.chatter_share" = {low = 0.0, high = 0.5, num = 0}\n', ["axes.community.chatter_share.num"]),
    ('[axes]\n"community.chatter_share" = []\n', ["axes.community.chatter_share.values", "empty"]),
    ('[axes]\n"dynamics.inflow" = {low = 0.0, high = 5.0, num = 3, log = true}\n', ["axes.dynamics.inflow.low", "log"]),
    ('[design]\nkind = "lhs"\n[axes]\n"community.chatter_share" = {low = 0.0, high = 0.5}\n', ["`design.n`", "required"]),
    ('[design]\nkind = "sobol"\nn = 12\n[axes]\n"community.chatter_share" = {low = 0.0, high = 0.5}\n', ["`design.n`", "power of 2"]),
    ('[design]\nkind = "sobol"\nn = 8\n[axes]\n"community.chatter_share" = [0.1, 0.2]\n', ["axes.community.chatter_share", "range"]),
    ('[design]\nkind = "csv"\n', ["`design.path`", "required"]),
    ('[design]\nkind = "csv"\npath = "nope.csv"\n', ["`design.path`", "does not exist"]),
    ('steps = 3\n', ["`axes`", "required"]),
    ('base = "missing.toml"\n[axes]\n"community.chatter_share" = [0.1]\n', ["`base`", "does not exist"]),
    ('[base.community]\nn_seed = -4\n[axes]\n"community.chatter_share" = [0.1]\n', ["`base`", "community.n_seed"]),
    ('[fixed]\n"community.n_sed" = 4\n[axes]\n"community.chatter_share" = [0.1]\n', ["`fixed`", "community.n_sed"]),
    ('[axes]\n"activity.spam_moderation" = [{precision = 2.0}]\n', ["axes.activity.spam_moderation", "precision"]),
    ('[keep]\nperiod = 0\n[axes]\n"community.chatter_share" = [0.1]\n', ["`keep.period`"]),
    ('[axes]\n"community.chatter_share" = [0.1]\n[axes."community.chatter_share"]\n', ["not valid TOML"]),
    ('keep = {timeseries = 5}\n[axes]\n"community.chatter_share" = [0.1]\n', ["`keep.timeseries` must be 'all' or a valid list, got 5"]),
    ('design = 3\n[axes]\n"community.chatter_share" = [0.1]\n', ["`design` must be a table, got 3"]),
    ('[axes]\n"community.chatter_share" = {values = [0.1], lo = 3}\n', ["`axes.community.chatter_share.lo` is not a known key"]),
]


@pytest.mark.parametrize("body,expected", BAD, ids=[str(i) for i in range(len(BAD))])
def test_malformed_sweep_files_name_file_and_key(tmp_path, body, expected):
    p = write(tmp_path, body)
    with pytest.raises(ConfigError) as e:
        load_sweep(p)
    msg = str(e.value)
    assert str(p) in msg, msg
    assert "\n" not in msg, msg
    for s in expected:
        assert s in msg, f"{s!r} not in {msg!r}"


def test_unknown_keep_metric_is_named(tmp_path):
    import qunsim as qs

    p = write(tmp_path, SMALL_FIXED + '[axes]\n"community.chatter_share" = [0.1]\n[keep]\ntimeseries = ["actve"]\n')
    with pytest.raises(ConfigError, match=r"`keep.timeseries`.*actve"):
        qs.sweep(p, tmp_path / "out", executor="serial")
    assert not (tmp_path / "out").exists()  # nothing written for a bad file


def test_csv_design_errors_and_points(tmp_path):
    (tmp_path / "pts.csv").write_text("community.chatter_share,dynamics.chatter_contagion\n0.1,1\n0.3,2\n0.3,3\n")
    spec = load_sweep(write(tmp_path, 'steps = 2\n[design]\nkind = "csv"\npath = "pts.csv"\n'))
    d = make_design(spec)
    assert d["point"].tolist() == [0, 1, 2]
    assert d["community.chatter_share"].tolist() == [0.1, 0.3, 0.3]
    assert spec.keys == ["community.chatter_share", "dynamics.chatter_contagion"]
    (tmp_path / "bad.csv").write_text("community.chatter_shar\n0.1\n")
    with pytest.raises(ConfigError, match=r"community.chatter_shar.*not a known key"):
        load_sweep(write(tmp_path, '[design]\nkind = "csv"\npath = "bad.csv"\n', "b.toml"))
    (tmp_path / "hole.csv").write_text("community.chatter_share,dynamics.inflow\n0.1,\n")
    with pytest.raises(ConfigError, match=r"empty cell in column `dynamics.inflow` \(line 2\)"):
        load_sweep(write(tmp_path, '[design]\nkind = "csv"\npath = "hole.csv"\n', "h.toml"))


# ---------------------------------------------------------------------- axes and designs


def test_nested_and_quoted_axis_keys_are_the_same(tmp_path):
    a = load_sweep(write(tmp_path, '[axes]\n"community.chatter_share" = [0.1, 0.2]\n', "a.toml"))
    b = load_sweep(write(tmp_path, '[axes]\ncommunity.chatter_share = [0.1, 0.2]\n', "b.toml"))
    c = load_sweep(write(tmp_path, '[axes.community]\nchatter_share = {values = [0.1, 0.2]}\n', "c.toml"))
    assert a.axes == b.axes == c.axes


def test_grid_is_the_product_of_levels():
    spec = SweepSpec.from_dict({"axes": {
        "community.chatter_share": [0.0, 0.1, 0.2],
        "dynamics.inflow": {"low": 1.0, "high": 100.0, "num": 3, "log": True},
        "community.n_groups": {"low": 1, "high": 3, "num": 3, "integer": True},
        "activity.spam_moderation": {"values": [False, {"precision": 0.9}], "labels": ["off", "on"]},
    }})
    d = make_design(spec)
    assert len(d) == 3 * 3 * 3 * 2 == spec.n_points
    assert sorted(d["dynamics.inflow"].unique()) == pytest.approx([1.0, 10.0, 100.0])
    assert sorted(d["community.n_groups"].unique()) == [1, 2, 3]
    assert set(d["activity.spam_moderation"]) == {"off", "on"}
    assert not d.drop(columns="point").duplicated().any()
    ax = spec.axis("activity.spam_moderation")
    assert ax.config_value("off") is None  # `false` switches the policy off
    assert ax.config_value("on") == {"precision": 0.9}


def test_lhs_is_stratified_and_deterministic():
    def spec(seed):
        return SweepSpec.from_dict({"seed": seed, "design": {"kind": "lhs", "n": 20}, "axes": {
            "community.chatter_share": {"low": 0.0, "high": 0.4},
            "dynamics.chatter_contagion": {"low": 1.0, "high": 5.0}}})

    d = make_design(spec(3))
    assert len(d) == 20
    for key, lo, hi in (("community.chatter_share", 0.0, 0.4), ("dynamics.chatter_contagion", 1.0, 5.0)):
        u = (d[key].to_numpy() - lo) / (hi - lo)
        # a Latin hypercube has exactly one point in each of the n equal bins of every axis
        assert sorted(np.floor(u * 20).astype(int)) == list(range(20))
    pd.testing.assert_frame_equal(d, make_design(spec(3)))
    assert not make_design(spec(4)).equals(d)


def test_sobol_design_has_saltelli_structure():
    spec = SweepSpec.from_dict({"design": {"kind": "sobol", "n": 8}, "axes": {
        "community.chatter_share": {"low": 0.0, "high": 0.4},
        "dynamics.chatter_contagion": {"low": 1.0, "high": 5.0},
        "dynamics.inflow": {"low": 1.0, "high": 4.0}}})
    d = make_design(spec).drop(columns="point").to_numpy()
    dim = 3
    assert d.shape == (8 * (dim + 2), dim)
    for block in d.reshape(8, dim + 2, dim):
        a, b = block[0], block[-1]
        for i in range(dim):
            expect = a.copy()
            expect[i] = b[i]
            assert np.array_equal(block[1 + i], expect)


def test_seeds_depend_only_on_point_and_replicate():
    base = {"seed": 11, "pairing": "independent", "axes": {"community.chatter_share": [0.0, 0.1]}}
    r2 = make_runs(SweepSpec.from_dict({**base, "replicates": 2}))
    r3 = make_runs(SweepSpec.from_dict({**base, "replicates": 3,
                                        "axes": {"community.chatter_share": [0.0, 0.1, 0.2]}}))
    merged = r2.merge(r3, on="run_id", suffixes=("_2", "_3"))
    assert len(merged) == len(r2)  # every run of the smaller sweep exists in the larger one
    assert (merged["seed_2"] == merged["seed_3"]).all()
    assert r3["seed"].is_unique and r3["run_id"].is_unique
    # the documented derivation: SeedSequence(root).spawn(...)[point].spawn(...)[replicate]
    ss = np.random.SeedSequence(11).spawn(3)[2].spawn(3)[1]
    assert run_seed(11, 2, 1) == int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))
    assert run_seed(11, 2, 1) != run_seed(12, 2, 1)
    assert 0 <= r3["seed"].min() and r3["seed"].max() < 2**63


def test_fingerprint_changes_with_what_determines_the_runs():
    a = SweepSpec.from_dict({"axes": {"community.chatter_share": [0.0, 0.1]}})
    b = SweepSpec.from_dict({"axes": {"community.chatter_share": [0.0, 0.2]}})
    c = SweepSpec.from_dict({"axes": {"community.chatter_share": [0.0, 0.1]}})
    assert a.fingerprint() == c.fingerprint() != b.fingerprint()


def test_shipped_sweep_files_validate():
    from pathlib import Path

    files = sorted((Path(__file__).parents[1] / "configs" / "sweeps").glob("*.toml"))
    names = {f.stem for f in files}
    assert {"gresham_moderation", "monetization_ladder"} <= names
    for f in files:
        spec = load_sweep(f)
        assert spec.n_runs >= 2 and math.isfinite(spec.n_runs)


def test_base_axis_sweeps_whole_scenarios(tmp_path):
    import qunsim as qs
    from qunsim.sweep.runner import make_task

    write(tmp_path, '[community]\nn_seed = 30\nn_prospects = 200\n[run]\nsteps = 6\n', "a.toml")
    write(tmp_path, '[community]\nn_seed = 40\nn_prospects = 200\nchatter_share = 0.2\n[run]\nsteps = 6\n', "b.toml")
    p = write(tmp_path, '[fixed]\n"dynamics.inflow" = 1.0\n[axes]\nbase = ["a.toml", "b.toml"]\n'
                        '"community.spammer_share" = [0.0, 0.1]\n')
    spec = load_sweep(p)
    assert spec.steps == 6 and list(spec.bases) == ["a", "b"]
    runs = make_runs(spec)
    assert sorted(set(runs["base"])) == ["a", "b"] and len(runs) == 4
    row = runs[(runs["base"] == "b") & (runs["community.spammer_share"] == 0.1)].iloc[0].to_dict()
    task = make_task(spec, row)
    assert task["overrides"] == {"community.spammer_share": 0.1}
    cfg = task["config"].get()
    assert (cfg.community.n_seed, cfg.community.chatter_share, cfg.dynamics.inflow) == (40, 0.2, 1.0)
    res = qs.sweep(p, tmp_path / "out", executor="serial")
    got = res.summary.set_index("run_id").loc[row["run_id"]]
    direct = qs.simulate(tmp_path / "b.toml", rng=int(row["seed"]), steps=6,
                         **{"dynamics.inflow": 1.0, "community.spammer_share": 0.1}).summary
    assert got["final_active"] == direct["final_active"] and got["base"] == "b"
    assert set(res.manifest["base_config"]) == {"a", "b"}


def test_base_axis_errors(tmp_path):
    write(tmp_path, '[community]\nn_seed = 30\n', "a.toml")
    write(tmp_path, '[community]\nchatter_share = 0.95\n', "c.toml")
    cases = [
        ('[axes]\nbase = ["a.toml", "nope.toml"]\n', "`axes.base` names a scenario file that does not exist"),
        ('base = "a.toml"\n[axes]\nbase = ["a.toml"]\n', "either `base` or an axis `axes.base`"),
        ('[axes]\nbase = ["a.toml", "sub/a.toml"]\n', "`axes.base` needs distinct labels"),
        ('[axes]\nbase = [1, 2]\n', "`axes.base` must be a list of scenario file paths"),
        # valid alone, invalid with one of the bases: the error names the base
        ('[axes]\nbase = ["a.toml", "c.toml"]\n"community.spammer_share" = [0.1]\n',
         "axis `axes.community.spammer_share` value 0.1 with base 'c'"),
    ]
    (tmp_path / "sub").mkdir()
    write(tmp_path, '[community]\nn_seed = 31\n', "sub/a.toml")
    for body, expected in cases:
        with pytest.raises(ConfigError) as e:
            load_sweep(write(tmp_path, body, "s.toml"))
        assert expected in str(e.value), str(e.value)


@pytest.mark.parametrize("name", ["gresham_moderation", "monetization_ladder"])
def test_shipped_sweeps_run_at_smoke_size(name):
    """Every categorical level of the shipped sweeps runs (3 days, the largest numeric values)."""
    from pathlib import Path

    from qunsim.sweep.runner import make_task, run_task

    spec = load_sweep(Path(__file__).parents[1] / "configs" / "sweeps" / f"{name}.toml")
    spec.steps = 3
    runs = make_runs(spec)
    numeric = [a.key for a in spec.axes if a.values is not None and a.key != "base"
               and all(isinstance(v, (int, float)) for v in a.values)]
    for key in numeric:
        runs = runs[runs[key] == runs[key].max()]
    runs = runs[runs["replicate"] == 0]
    assert len(runs) >= 3  # one per strategy / moderation regime
    for row in runs.to_dict("records"):
        out = run_task(make_task(spec, row))
        assert out["ok"], out.get("traceback")
        assert out["summary"]["final_active"] >= 0
        assert out["timeseries"]["step"].max() == 3


def _bounded_fields():
    """(dotted key, invalid value) for every lower-bounded number declared in the sweep schema."""
    import annotated_types

    from qunsim.sweep.spec import DesignModel, KeepModel, SweepModel

    out = []
    for prefix, model in (("", SweepModel), ("design.", DesignModel), ("keep.", KeepModel)):
        for name, f in model.model_fields.items():
            for m in f.metadata:
                if isinstance(m, annotated_types.Ge):
                    out.append((prefix + name, m.ge - 1))
    return out


@pytest.mark.parametrize("key,bad", _bounded_fields())
def test_every_declared_bound_is_enforced_and_named(tmp_path, key, bad):
    table, _, name = key.rpartition(".")
    text = (f"[{table}]\n{name} = {bad}\n" if table else f"{name} = {bad}\n")
    text += '[axes]\n"community.chatter_share" = [0.1]\n'
    with pytest.raises(ConfigError, match=rf"`{key}` must be greater than or equal to"):
        load_sweep(write(tmp_path, text))


# ---------------------------------------------------------------------- levers, uncertainties, pairing


def test_common_pairing_gives_replicate_r_one_seed_everywhere():
    spec = SweepSpec.from_dict({"seed": 5, "replicates": 4,
                                "levers": {"activity.spam_moderation": [False, {"precision": 0.9}]},
                                "uncertainties": {"community.chatter_share": [0.0, 0.1, 0.3]}})
    assert spec.pairing == "common" and spec.levers == ["activity.spam_moderation"]
    assert spec.uncertainties == ["community.chatter_share"]
    runs = make_runs(spec)
    assert len(runs) == 2 * 3 * 4
    by_rep = runs.groupby("replicate")["seed"]
    assert (by_rep.nunique() == 1).all()  # same seed at every lever setting and uncertainty point
    assert runs.groupby("replicate")["seed"].first().is_unique  # replicates differ
    assert [int(x) for x in by_rep.first()] == [run_seed(5, 0, r) for r in range(4)]
    ind = make_runs(SweepSpec.from_dict({**spec.raw, "pairing": "independent"}))
    assert ind["seed"].is_unique


def test_axes_means_levers_and_roles_are_kept(tmp_path):
    a = load_sweep(write(tmp_path, '[axes]\n"community.chatter_share" = [0.1, 0.2]\n', "a.toml"))
    b = load_sweep(write(tmp_path, '[levers]\n"community.chatter_share" = [0.1, 0.2]\n', "b.toml"))
    assert a.axes == b.axes and a.levers == ["community.chatter_share"] and a.uncertainties == []


DUPLICATES = [
    ('[levers]\n"community.chatter_share" = [0.1]\n[levers.community]\nchatter_share = [0.2]\n',
     "`levers.community.chatter_share` is given twice"),
    ('[axes]\n"community.chatter_share" = [0.1]\n[axes.community]\nchatter_share = [0.2]\n',
     "`axes.community.chatter_share` is given twice"),
    ('[levers]\n"community.chatter_share" = [0.1]\n[uncertainties]\n"community.chatter_share" = [0.2]\n',
     "`community.chatter_share` is given twice"),
    ('[fixed]\n"community.n_seed" = 30\n[fixed.community]\nn_seed = 40\n[axes]\n"community.chatter_share" = [0.1]\n',
     "`fixed.community.n_seed` is given twice"),
    ('[axes]\n"community.n_seed" = [10, 10.0]\n', "repeated values"),
    ('[axes]\n"community.chatter_share" = [0.1]\n[levers]\n"dynamics.inflow" = [1.0]\n', "not both"),
]


@pytest.mark.parametrize("body,expected", DUPLICATES, ids=[str(i) for i in range(len(DUPLICATES))])
def test_duplicated_keys_and_values_are_errors(tmp_path, body, expected):
    p = write(tmp_path, body)
    with pytest.raises(ConfigError) as e:
        load_sweep(p)
    assert expected in str(e.value) and str(p) in str(e.value), str(e.value)


def test_design_size_and_replicates_are_bounded(tmp_path):
    from qunsim.sweep.spec import MAX_POINTS, MAX_REPLICATES, MAX_RUNS

    cases = [
        (f'replicates = {MAX_REPLICATES + 1}\n[axes]\n"community.chatter_share" = [0.1]\n',
         ["`replicates`", f"less than or equal to {MAX_REPLICATES}"]),
        ('[axes]\n"community.chatter_share" = {low = 0.0, high = 0.5, num = 400}\n'
         '"dynamics.inflow" = {low = 1.0, high = 5.0, num = 400}\n', ["160,000 design points", f"{MAX_POINTS:,}"]),
        ('replicates = 100\n[axes]\n"community.chatter_share" = {low = 0.0, high = 0.5, num = 20000}\n',
         ["2,000,000 runs", f"{MAX_RUNS:,}"]),
        (f'[design]\nkind = "lhs"\nn = {MAX_POINTS + 1}\n[axes]\n"community.chatter_share" = {{low = 0.0, high = 0.5}}\n',
         ["`design.n`", f"less than or equal to {MAX_POINTS}"]),
    ]
    for body, expected in cases:
        with pytest.raises(ConfigError) as e:
            load_sweep(write(tmp_path, body))
        for x in expected:
            assert x in str(e.value), str(e.value)


def test_lhs_crosses_uncertainty_samples_with_every_lever_setting():
    spec = SweepSpec.from_dict({"design": {"kind": "lhs", "n": 5}, "seed": 3,
                                "levers": {"activity.spam_moderation": [False, {"precision": 0.9}]},
                                "uncertainties": {"community.chatter_share": {"low": 0.0, "high": 0.3}}})
    d = make_design(spec)
    assert len(d) == 10
    by = d.groupby("activity.spam_moderation")["community.chatter_share"].apply(sorted)
    assert by.iloc[0] == by.iloc[1]  # both options meet the same five scenarios


OUTCOME_ERRORS = [
    ('[outcomes]\nmetrics = ["final_actve"]\n', "`outcomes.metrics` names an unknown summary metric"),
    ('[outcomes]\ncollapse = { active_below = 30, survival_below = 0.5 }\n', "give one"),
    ('[outcomes]\ncollapse = { when = "later" }\n', "`outcomes.collapse.when`"),
    ('[goal]\nmax_p_collapse = 0.1\n', "exactly one of `maximise` or `minimise`"),
    ('[goal]\nmaximise = "revenue_total"\nmax_p_collapse = 1.5\n', "`goal.max_p_collapse`"),
    ('[goal]\nmaximise = "revenue_total"\nrequire = { final_expert_retention = {} }\n', "`at_least` or `at_most`"),
    ('[goal]\nmaximise = "revenue_totl"\n', "`goal.maximise` names an unknown summary metric"),
]


@pytest.mark.parametrize("body,expected", OUTCOME_ERRORS, ids=[str(i) for i in range(len(OUTCOME_ERRORS))])
def test_outcome_and_goal_errors_name_the_key(tmp_path, body, expected):
    p = write(tmp_path, '[axes]\n"community.chatter_share" = [0.1]\n' + body)
    with pytest.raises(ConfigError) as e:
        load_sweep(p)
    assert expected in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_outcomes_and_goal_are_parsed(tmp_path):
    spec = load_sweep(write(tmp_path, '[axes]\n"community.chatter_share" = [0.1]\n'
                            '[outcomes]\nmetrics = { revenue_total = "max", churn_30d = "min" }\n'
                            'collapse = { active_below = 30, when = "any" }\n'
                            '[goal]\nmaximise = "revenue_total"\nmax_p_collapse = 0.1\n'
                            'require = { final_expert_retention = { at_least = 0.5 } }\n'))
    assert spec.outcomes.metrics == {"revenue_total": 1, "churn_30d": -1}
    assert (spec.outcomes.active_below, spec.outcomes.when) == (30, "any")
    assert spec.goal.objective == "revenue_total" and spec.goal.sense == 1
    assert spec.goal.require == {"final_expert_retention": (0.5, None)}
    assert "P(collapse) ≤ 0.1" in spec.goal.describe()


def test_strategies_file_is_a_sweep_with_one_lever():
    from pathlib import Path

    spec = load_sweep(Path(__file__).parents[1] / "configs" / "strategies.toml")
    assert spec.keys == ["strategy"] and spec.levers == ["strategy"] and spec.base_key == "strategy"
    assert set(spec.bases) == set(spec.option_labels)
    runs = make_runs(spec)
    assert (runs.groupby("replicate")["seed"].nunique() == 1).all()
