"""Scheduled and triggered policies: triggers on constructed series, the on/off rules, setup at
first activation, the time-series column, config validation and TOML round trip."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as hst

import qunsim as qs
from qunsim import registry
from qunsim.config import ConfigError, load_config
from qunsim.hints import closest
from qunsim.policies.schedule import (
    Schedule,
    ScheduleSpec,
    Trigger,
    describe_periods,
    known_metric,
    policy_periods,
    schedule_tables,
)

SMALL = {"community.n_seed": 60, "community.n_prospects": 500}


def _decide_all(spec: dict, series: list[float], metric: str = "x") -> list[bool]:
    """Run a schedule over a constructed series: row d holds series[d]; returns on/off for days 1.."""
    s = Schedule(ScheduleSpec.model_validate(spec, context={"extra": {metric}}), "activity", "p")
    rows = [{metric: v} for v in series]
    out = []
    for d in range(1, len(series) + 1):
        on = s.decide(d, rows[:d])
        if on != s.active:
            s.switches.append((d, on))
            s.active = on
            s.started |= on
        out.append(on)
    return out


# ----------------------------------------------------------------------------- triggers


def test_trigger_for_days_fires_exactly_after_the_run_of_days():
    # x > 5 on days 3,4,5 (3 days), then 7..10 (4 days): for_days=4 fires the day after day 10
    series = [0, 0, 0, 6, 6, 6, 0, 6, 6, 6, 6, 0, 0]
    on = _decide_all({"when": {"metric": "x", "above": 5, "for_days": 4}}, series)
    first = on.index(True) + 1
    assert first == 11  # rows 7..10 held: on from day 11
    assert all(on[10:])  # no `until`: latched on


def test_trigger_for_days_one_reads_only_yesterday():
    series = [0, 9, 0, 0]
    on = _decide_all({"when": {"metric": "x", "above": 5}}, series)
    assert on == [False, True, True, True]  # row 1 held -> on from day 2 (latched)


def test_until_switches_off_and_when_switches_on_again():
    # thermostat: on when x > 5 for 2 days, off when x < 1 for 2 days
    series = [6, 6, 6, 0, 0, 0, 6, 6, 6]
    spec = {"when": {"metric": "x", "above": 5, "for_days": 2}, "until": {"metric": "x", "below": 1, "for_days": 2}}
    on = _decide_all(spec, series)
    # day d reads rows 0..d-1
    assert on == [False, True, True, True, False, False, False, True, True]


def test_start_stop_window_without_trigger():
    on = _decide_all({"start": 3, "stop": 6}, [0] * 9)
    assert on == [False, False, True, True, True, False, False, False, False]


def test_until_without_when_is_final():
    series = [0, 0, 9, 0, 0, 0]
    on = _decide_all({"until": {"metric": "x", "above": 5}}, series)
    assert on == [True, True, False, False, False, False]  # row 2 held: off from day 3, for good


def test_below_is_strict_and_missing_column_reads_zero():
    t = Trigger.model_validate({"metric": "x", "below": 1.0}, context={"extra": {"x"}})
    assert t.holds([{"x": 0.5}]) and not t.holds([{"x": 1.0}]) and t.holds([{"y": 3}])


@given(hst.lists(hst.floats(0, 1, allow_nan=False), min_size=1, max_size=40), hst.integers(1, 6),
       hst.floats(0, 1, allow_nan=False))
def test_when_matches_a_direct_scan(series, k, thr):
    """The first day on is the day after the first run of k consecutive rows above thr."""
    on = _decide_all({"when": {"metric": "x", "above": thr, "for_days": k}}, series)
    expect = None
    for d in range(k, len(series) + 1):  # day d reads rows d-k .. d-1
        if all(v > thr for v in series[d - k:d]):
            expect = d
            break
    got = on.index(True) + 1 if any(on) else None
    assert got == expect
    if got is not None:
        assert all(on[got - 1:])


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("table, key, words", [
    ({"when": {"metric": "activ", "above": 3}}, "activity.curation.when.metric", "did you mean 'active'"),
    ({"when": {"metric": "active", "above": 3, "below": 1}}, "activity.curation.when", "got both"),
    ({"when": {"metric": "active"}}, "activity.curation.when", "got neither"),
    ({"when": {"metric": "active", "above": 3, "for_days": -2}}, "activity.curation.when.for_days", ">= 1"),
    ({"when": {"metric": "active", "above": 3, "for_days": 0}}, "activity.curation.when.for_days", ""),
    ({"until": {"metric": "active", "below": "x"}}, "activity.curation.until.below", "number"),
    ({"until": {"metric": "active", "below": True}}, "activity.curation.until.below", "number"),
    ({"until": {"metric": "active", "below": float("inf")}}, "activity.curation.until.below", "finite"),
    ({"when": {"metric": "active", "over": 3}}, "activity.curation.when.over", "not a known key"),
    ({"when": 3}, "activity.curation.when", "must be a table"),
    ({"start": 10, "stop": 5}, "activity.curation", "must be after"),
    ({"start": 5, "stop": 5}, "activity.curation", "must be after"),
    ({"start": -1}, "activity.curation.start", ""),
    ({"stop": 2.5}, "activity.curation.stop", ""),
])
def test_invalid_triggers_name_the_source_and_key(table, key, words):
    with pytest.raises(ConfigError) as e:
        load_config({"activity": {"curation": table}})
    msg = str(e.value).replace("greater than or equal to", ">=")
    assert f"`{key}" in msg and words in msg and "(dict)" in msg


def test_bad_trigger_in_a_file_names_the_file(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[activity.chatter_moderation]\nwhen = { metric = "low_quality", above = 0.4, for_days = 7 }\n')
    with pytest.raises(ConfigError, match=r"s\.toml.*`activity\.chatter_moderation\.when\.metric`.*low_quality_share"):
        load_config(p)


def test_every_column_of_a_real_run_is_a_known_metric():
    m = qs.CommunityModel(rng=2, **SMALL, **{
        "gate.fee": {"price": 5.0}, "gate.activity_requirement": {"days": 30},
        "activity.spam_moderation": {}, "activity.events": {}, "activity.care": {},
        "monetization.ladder": {}, "monetization.ads": {}, "monetization.profit_sharing": {},
        "monetization.membership_fee": {"fee": 1.0}, "activity.dissolve": {"start": 50}})
    m.run_for(5)
    cols = set(m.timeseries().columns) - {"phase", "gresham_low", "gresham_high"}  # whole-run columns
    assert cols == set(m.metrics.rows[-1])  # the rows the triggers read
    assert registry.SERIES - registry.POLICY_COLUMNS <= cols  # the core row, every role, tier, reason
    assert all(registry.is_series(c) for c in cols), sorted(c for c in cols if not registry.is_series(c))
    assert all(known_metric(c) for c in cols)


def test_every_registry_column_is_accepted_as_a_trigger():
    series = {k for k, m in registry.METRICS.items() if m.series}
    assert series <= registry.SERIES and set(registry.MODEL_REPORTERS) <= series
    for name in sorted(registry.SERIES):
        assert known_metric(name), name
        assert Trigger(metric=name, above=0).metric == name
        cfg = load_config(None, {"activity.curation": {"when": {"metric": name, "above": 0.5}}})
        assert cfg.to_dict()["activity"]["curation"]["when"]["metric"] == name


# (revenue_total and revenue_per_member fall in the open family revenue_<source>: a rung may be
# named so, and they are accepted as such)
@pytest.mark.parametrize("name", sorted(k for k, m in registry.METRICS.items()
                                        if not m.series and not registry.is_series(k)))
def test_a_summary_metric_is_not_a_trigger(name):
    # run summaries (final_active, leave_hazard ...) and the whole-run Gresham interval are not in
    # the rows a trigger reads (it would read 0 every day): refused, with the nearest column
    hint = closest(name, sorted(registry.SERIES))
    with pytest.raises(ConfigError, match=f"unknown metric '{name}'" + (
            rf" \(did you mean '{hint}'\?\)" if hint else r";")):
        load_config(None, {"activity.curation": {"when": {"metric": name, "above": 0.5}}})


@pytest.mark.parametrize(("typo", "meant"), [("low_quality_shar", "low_quality_share"), ("trustmean", "trust_mean"),
                                             ("active_experts", "active_expert"), ("leaves_banned_", "leaves_banned"),
                                             ("spam_caugth", "spam_caught")])
def test_an_unknown_trigger_metric_gets_did_you_mean(typo, meant):
    with pytest.raises(ConfigError, match=rf"`activity\.curation\.until\.metric`.*unknown metric '{typo}' "
                                          rf"\(did you mean '{meant}'\?\)"):
        load_config(None, {"activity.curation": {"until": {"metric": typo, "below": 0.5}}})


def test_schedule_round_trips_through_toml(tmp_path):
    cfg = load_config(None, {"activity.chatter_moderation": {
        "mode": "community", "start": 10, "stop": 300,
        "when": {"metric": "low_quality_share", "above": 0.4, "for_days": 7},
        "until": {"metric": "low_quality_share", "below": 0.1}}})
    p = tmp_path / "c.toml"
    p.write_text(cfg.to_toml())
    back = load_config(p)
    assert back.to_dict()["activity"] == cfg.to_dict()["activity"]
    assert cfg.override({"community.n_seed": 30}).to_dict()["activity"] == cfg.to_dict()["activity"]


def test_ads_keeps_its_own_start_parameter():
    cfg = load_config(None, {"monetization.ads": {"start": 30}})
    m = qs.CommunityModel(cfg, rng=1, **SMALL)
    (ads,) = m.policies["monetization"]
    assert not getattr(ads, "scheduled", False) and ads.params.start == 30


def test_two_scheduled_policies_may_not_share_a_column():
    with pytest.raises(ConfigError, match=r"\(defaults\): `gate.x` and `activity.x` .*policy_x_active"):
        qs.CommunityModel(rng=1, **SMALL, **{
            "activity.x": {"class": "qunsim.policies.activity:Curation", "start": 3},
            "gate.x": {"class": "qunsim.policies.gates:FeeGate", "start": 3}})


# ----------------------------------------------------------------------------- in a model


def test_column_and_hooks_follow_the_window():
    m = qs.CommunityModel(rng=3, **SMALL, **{"activity.rate_limit": {"cap": 0, "start": 10, "stop": 20}})
    m.run_for(25)
    ts = m.timeseries()
    on = ts["policy_rate_limit_active"].to_numpy()
    assert on.tolist() == [0] * 10 + [1] * 10 + [0] * 6
    # cap 0: no posts at all while on, posts on other days
    assert (ts.loc[on == 1, "messages"] == 0).all()
    assert (ts.loc[(on == 0) & (ts["step"] > 0), "messages"] > 0).all()
    assert policy_periods(ts) == {"rate_limit": [(10, 19)]}
    assert describe_periods(ts, schedule_tables(m.config)) == [
        "rate_limit was on from day 10 to day 19 (not before day 10; off from day 20)."]


def test_trigger_in_a_model_reads_yesterdays_row():
    m = qs.CommunityModel(rng=4, **SMALL, **{"activity.curation": {"when": {"metric": "active", "above": 80}}})
    m.run_for(80)
    ts = m.timeseries()
    above = np.flatnonzero(ts["active"].to_numpy() > 80)
    on = np.flatnonzero(ts["policy_curation_active"].to_numpy() == 1)
    assert len(above) and len(on)
    assert on[0] == above[0] + 1 and (np.diff(on) == 1).all()
    assert (ts.loc[ts["step"] >= on[0], "curated_groups"] > 0).all()
    assert (ts.loc[ts["step"] < on[0], "curated_groups"] == 0).all()


def test_setup_runs_on_the_first_day_on_and_state_is_kept_while_off():
    m = qs.CommunityModel(rng=5, **SMALL, **{"activity.reward": {
        "class": "tests._stateful_policy:Reward",
        "when": {"metric": "active", "above": 70}, "until": {"metric": "active", "above": 90}}})
    (pol,) = m.policies["activity"]
    assert isinstance(pol, __import__("tests._stateful_policy", fromlist=["Reward"]).Reward)
    assert not hasattr(pol, "rewarded")  # not set up at construction
    m.run_for(150)
    sw = pol.schedule.switches
    assert sw and sw[0][1] is True
    assert pol.setup_day == sw[0][0]
    ts = m.timeseries()
    # reward_total is reported from the setup day on, holds while off
    total = ts["reward_total"].to_numpy()
    on = ts["policy_reward_active"].to_numpy() == 1
    inc = np.diff(total) > 0
    assert (inc <= on[1:]).all()
    assert len(pol.log) == int(on.sum())  # one reward per day on (there are readers every day)


def test_an_unscheduled_policy_is_unchanged():
    a = qs.CommunityModel(rng=6, **SMALL, **{"activity.curation": {}})
    b = qs.CommunityModel(rng=6, **SMALL, **{"activity.curation": {"start": 0}})
    a.run_for(30)
    b.run_for(30)
    ta, tb = a.timeseries(), b.timeseries()
    assert "policy_curation_active" not in ta
    assert tb["policy_curation_active"].iloc[1:].eq(1).all()
    # same values; a scheduled policy reports its columns from its setup day (row 0 fills 0.0)
    pd.testing.assert_frame_equal(ta, tb.drop(columns="policy_curation_active"), check_dtype=False)


def test_dissolve_when_the_goal_is_reached():
    m = qs.CommunityModel(rng=7, **SMALL, **{"activity.dissolve": {"when": {"metric": "active", "above": 75}}})
    m.run_for(100)
    ts = m.timeseries()
    day = int(ts.loc[ts["policy_dissolve_active"] == 1, "step"].iloc[0])
    assert ts.loc[ts["step"] == day - 1, "active"].item() > 75
    assert ts.loc[ts["step"] == day, "active"].item() == 0
    assert ts.loc[ts["step"] == day, "leaves_dissolved"].item() == ts.loc[ts["step"] == day, "dissolved_members"].item() > 0
    mem = m.members_frame()
    assert (mem.loc[mem["leave_step"] == day, "leave_reason"] == "dissolved").sum() > 0
    assert not m.running


def test_report_says_when_each_policy_switched(tmp_path):
    res = qs.simulate(None, rng=3, steps=40, **SMALL, **{
        "activity.curation": {"when": {"metric": "active", "above": 70}},
        "activity.rate_limit": {"cap": 3, "start": 5, "stop": 12}})
    run = qs.save_run(res, tmp_path / "run")
    html = qs.build_report(run, tmp_path / "report.html").read_text()
    assert "rate_limit was on from day 5 to day 11 (not before day 5; off from day 12)." in html
    assert "curation was on from day" in html and "when active above 70" in html


def test_a_trigger_may_read_a_column_a_user_policy_declares():
    kw = {"activity.reward": {"class": "tests._stateful_policy:Reward", "bonus": 1.0},
          "activity.curation": {"when": {"metric": "reward_total", "above": 10}}}
    m = qs.CommunityModel(rng=1, **SMALL, **kw)
    m.run_for(20)
    ts = m.timeseries()
    first = int(ts.loc[ts["policy_curation_active"] == 1, "step"].iloc[0])
    assert ts.loc[ts["step"] == first - 1, "reward_total"].item() > 10
    assert ts.loc[ts["step"] == first - 2, "reward_total"].item() <= 10
    with pytest.raises(ConfigError, match="unknown metric 'reward_total'"):
        load_config({"activity": {"curation": {"when": {"metric": "reward_total", "above": 10}}}})
