"""Branches: arms share their history exactly up to the branch day, replicate r of every arm
uses the same seed, policies switched at the branch behave as if they start then, strategies
files with branch_at (resumable), the CLI and the fan figure."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import qunsim as qs
from qunsim.branching import branch_strategies, load_branch, plot_branch_fan, reconfigure
from qunsim.cli import main
from qunsim.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"community.n_seed": 60, "community.n_prospects": 500}
NUM = lambda df: df.select_dtypes("number")  # noqa: E731


@pytest.fixture(scope="module")
def history():
    m = qs.CommunityModel(rng=21, **SMALL)
    m.run_for(25)
    return m


def test_arms_share_history_exactly_up_to_the_branch_day(history):
    before = history.timeseries()
    res = qs.branch(history, arms={"none": {}, "mod": {"activity.chatter_moderation": {"mode": "community"}},
                                   "cap": {"activity.rate_limit": {"cap": 1}}}, steps=15, replicates=3, seed=5)
    ts = res.timeseries
    assert res.branch_step == 25
    hist_rows = ts[ts["step"] <= 25]
    cols = [c for c in before.columns if c != "phase"]  # phase labels are fitted on the whole run
    for (_arm, _r), g in hist_rows.groupby(["arm", "replicate"]):
        got = g.reset_index(drop=True)[cols]
        pd.testing.assert_frame_equal(got, before[cols], check_dtype=False, check_exact=True)
    # after the branch the arms differ
    post = ts[ts["step"] > 25]
    a = post[(post["arm"] == "none") & (post["replicate"] == 0)]["messages"].to_numpy()
    c = post[(post["arm"] == "cap") & (post["replicate"] == 0)]["messages"].to_numpy()
    assert (c < a).all()
    # the model branched from is untouched
    pd.testing.assert_frame_equal(history.timeseries(), before)
    assert history.steps == 25


def test_replicate_r_uses_the_same_seed_in_every_arm(history):
    res = qs.branch(history, arms={"a": {}, "b": {}}, steps=10, replicates=3, seed=1)
    ts = res.timeseries
    for r in range(3):
        ga = ts[(ts["arm"] == "a") & (ts["replicate"] == r)].drop(columns="arm").reset_index(drop=True)
        gb = ts[(ts["arm"] == "b") & (ts["replicate"] == r)].drop(columns="arm").reset_index(drop=True)
        pd.testing.assert_frame_equal(ga, gb)
    # replicates differ after the branch; same seed -> same result
    r0 = ts[(ts["arm"] == "a") & (ts["replicate"] == 0) & (ts["step"] > 25)]["joins"].to_numpy()
    r1 = ts[(ts["arm"] == "a") & (ts["replicate"] == 1) & (ts["step"] > 25)]["joins"].to_numpy()
    assert not np.array_equal(r0, r1) or not np.array_equal(
        ts[(ts["replicate"] == 0) & (ts["step"] > 25)]["messages"].to_numpy(),
        ts[(ts["replicate"] == 1) & (ts["step"] > 25)]["messages"].to_numpy())
    again = qs.branch(history, arms={"a": {}, "b": {}}, steps=10, replicates=3, seed=1)
    pd.testing.assert_frame_equal(res.timeseries, again.timeseries)
    assert res.seeds == again.seeds
    d = res.paired("final_active", "a", "b")
    assert d["mean"] == 0 and d["n"] == 3


def test_default_seed_is_derived_without_touching_the_model(history):
    state = history.rng.bit_generator.state
    a = qs.branch(history, arms={"x": {}}, steps=3, replicates=2)
    b = qs.branch(history, arms={"x": {}}, steps=3, replicates=2)
    assert a.seeds == b.seeds and history.rng.bit_generator.state == state


def test_an_unchanged_policy_keeps_its_state_and_a_new_one_starts_at_the_branch():
    m = qs.CommunityModel(rng=2, **SMALL, **{"activity.reward": {"class": "tests._stateful_policy:Reward"}})
    m.run_for(10)
    res = qs.branch(m, arms={"keep": {}, "changed": {"activity.reward.bonus": 0.7},
                             "added": {"activity.declared": {"class": "tests._stateful_policy:Declared"}},
                             "dropped": {"activity.reward": None}}, steps=5, seed=3, keep_models=True)
    keep = res.models[("keep", 0)].policies["activity"][0]
    changed = res.models[("changed", 0)].policies["activity"][0]
    assert keep.setup_day == 0 and len(keep.log) == 15
    assert changed.setup_day == 10 and len(changed.log) == 5
    assert [p.key for p in res.models[("added", 0)].policies["activity"]] == ["reward", "declared"]
    assert res.models[("dropped", 0)].policies["activity"] == []


def test_a_scheduled_arm_reads_the_history():
    m = qs.CommunityModel(rng=2, **SMALL)
    m.run_for(20)
    res = qs.branch(m, arms={"cur": {"activity.curation": {"start": 24}}}, steps=10, seed=1)
    ts = res.timeseries
    on = ts.set_index("step")["policy_curation_active"]
    assert on.loc[:23].eq(0).all() and on.loc[24:].eq(1).all()


@pytest.mark.parametrize("change, key", [
    ({"community.n_seed": 10}, "community.n_seed"),
    ({"roles.expert.quality": 0.1}, "roles.expert.quality.mean"),
    ({"network.kind": "ba"}, "network.kind"),
])
def test_an_arm_may_not_change_the_population(history, change, key):
    with pytest.raises(ConfigError, match=rf"arm `x`.*`{key}` cannot change at the branch point \(day 25\)"):
        qs.branch(history, arms={"x": change}, steps=2)


def test_reconfigure_changes_dynamics_in_place():
    m = qs.CommunityModel(rng=1, **SMALL)
    m.run_for(3)
    reconfigure(m, {"dynamics.inflow": 0.0})
    assert m.p.inflow == 0.0 and m.config.dynamics.inflow == 0.0


# ----------------------------------------------------------------------------- from a file


def _strategies(tmp_path, branch_at=8, steps=20, extra=""):
    base = tmp_path / "base.toml"
    base.write_text("[community]\nn_seed = 50\nn_prospects = 400\n[run]\nsteps = 20\n")
    f = tmp_path / "s.toml"
    f.write_text(f'base = "base.toml"\nsteps = {steps}\nreplicates = 3\nseed = 4\nbranch_at = {branch_at}\n'
                 '[strategies.none]\nlabel = "As is"\n'
                 '[strategies.cap]\nlabel = "Rate limit"\n[strategies.cap.activity.rate_limit]\ncap = 1\n' + extra)
    return f


def test_strategies_file_with_branch_at(tmp_path):
    f = _strategies(tmp_path)
    out = tmp_path / "out"
    res = branch_strategies(f, out)
    ts = res.timeseries
    assert set(ts["arm"]) == {"none", "cap"} and ts["replicate"].nunique() == 3
    for r in range(3):
        a = NUM(ts[(ts["arm"] == "none") & (ts["replicate"] == r) & (ts["step"] <= 8)]).reset_index(drop=True)
        b = NUM(ts[(ts["arm"] == "cap") & (ts["replicate"] == r) & (ts["step"] <= 8)]).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b.drop(columns=[c for c in b if c not in a]), check_dtype=False)
    # the history of replicate r is the base run with seed r
    seeds = json.loads((out / "branch.json").read_text())["seeds"]
    direct = qs.simulate(tmp_path / "base.toml", rng=seeds[1], steps=8).timeseries
    h1 = ts[(ts["arm"] == "none") & (ts["replicate"] == 1) & (ts["step"] <= 8)]
    np.testing.assert_array_equal(h1["active"].to_numpy(), direct["active"].to_numpy())
    assert sorted(p.name for p in (out / "history").iterdir()) == ["rep000.npz", "rep001.npz", "rep002.npz"]
    back = load_branch(out)
    pd.testing.assert_frame_equal(back.summary, res.summary, check_dtype=False)


def test_branch_from_file_resumes_only_what_is_missing(tmp_path):
    f = _strategies(tmp_path)
    out = tmp_path / "out"
    first = branch_strategies(f, out)
    victim = out / "arms" / "cap" / "rep001.parquet"
    keep = out / "arms" / "none" / "rep001.parquet"
    stamp = keep.stat().st_mtime_ns
    victim.unlink()
    second = branch_strategies(f, out)
    assert victim.is_file() and keep.stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(first.summary, second.summary, check_dtype=False)
    # a damaged history checkpoint is rerun, with the same result
    (out / "history" / "rep002.npz").write_bytes(b"junk")
    (out / "arms" / "none" / "rep002.parquet").unlink()
    third = branch_strategies(f, out)
    pd.testing.assert_frame_equal(first.summary, third.summary, check_dtype=False)
    with pytest.raises(ConfigError, match="other settings"):
        branch_strategies(f, out, replicates=2)


@pytest.mark.parametrize("branch_at, steps, extra, words", [
    (-1, 20, "", "`branch_at` must be a day"),
    (20, 20, "", "must be before the last day"),
    (5, 20, "[strategies.big.community]\nn_seed = 80\n", "strategy `big`.*`community.n_seed` differs from the base"),
])
def test_bad_branch_files(tmp_path, branch_at, steps, extra, words):
    with pytest.raises(ConfigError, match=words):
        branch_strategies(_strategies(tmp_path, branch_at, steps, extra))


def test_a_file_without_branch_at(tmp_path):
    f = _strategies(tmp_path)
    f.write_text("\n".join(x for x in f.read_text().splitlines() if not x.startswith("branch_at")))
    with pytest.raises(ConfigError, match="no `branch_at = DAY`"):
        branch_strategies(f)


def test_cli_branch(tmp_path, capsys):
    f = _strategies(tmp_path)
    out = tmp_path / "cli"
    assert main(["branch", str(f), "--out", str(out), "--replicates", "2"]) == 0
    text = capsys.readouterr().out
    assert "branched" in text and "at day 8" in text
    assert (out / "fan_active.png").is_file() and (out / "summary.csv").is_file()
    assert main(["branch", str(tmp_path / "missing.toml"), "--out", str(out)]) == 2
    assert "file not found" in capsys.readouterr().err


def test_fan_figure(history):
    res = qs.branch(history, arms={"none": {}, "cap": {"activity.rate_limit": {"cap": 1}}}, steps=10,
                    replicates=4, seed=2)
    fig = plot_branch_fan(res, "messages")
    top, bot = fig.axes
    assert len(bot.lines) >= 1 and "branch on day 25" in top.get_title()
    with pytest.raises(ValueError, match="no column"):
        plot_branch_fan(res, "nope")


def test_branch_from_file_on_the_local_pool(tmp_path):
    f = _strategies(tmp_path)
    serial = branch_strategies(f, replicates=2)
    pooled = branch_strategies(f, tmp_path / "pool", replicates=2, executor="local", workers=2)
    pd.testing.assert_frame_equal(serial.summary, pooled.summary, check_dtype=False)


def test_compare_strategies_points_a_branch_file_to_qunsim_branch(tmp_path):
    from qunsim.strategies import compare_strategies

    with pytest.raises(ConfigError, match="has `branch_at`: run it with `qunsim branch`"):
        compare_strategies(_strategies(tmp_path), replicates=1)
