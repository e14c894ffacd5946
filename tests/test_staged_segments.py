"""The staged day's compiled segments (qunsim/kernels/staged.py) and the policies' compiled
passes are the same model as the stage-by-stage Python they replace: same config and seed,
same trajectory bit for bit, with policies of every family, user policies in plain numpy,
and hooks that leave data the segments do not take (the Python stages then run)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qunsim as qs
from _golden import _all_policies, fingerprint
from qunsim.kernels.context import Messages
from qunsim.policies import ActivityPolicy
from qunsim.policies import _compiled as C

SMALL = {"community.n_seed": 150, "community.n_prospects": 1200, "community.spammer_share": 0.05}


class Int32Counts(ActivityPolicy):
    """A user policy that hands the posting stage post counts of another dtype (int32) and
    the messages' stage a float64 quality: the Python stages take over."""

    key = "int32_counts"

    def on_posting(self, model, ctx, rng):
        ctx.post_counts = (ctx.post_counts // 2).astype(np.int32)

    def on_messages(self, model, ctx, rng):
        if ctx.step % 3 == 0:
            m = ctx.messages
            ctx.messages = Messages(m.author, m.group, m.quality.astype(np.float64), m.warmth, m.spam, m.kind)


class Bans(ActivityPolicy):
    """Removes a few members after reading (before the churn stage) and adds utility in numpy."""

    key = "bans"

    def after_reading(self, model, ctx, rng):
        ids = ctx.extra["ids"]
        ctx.utility[ids[::7]] += 0.1
        if ctx.step % 5 == 0 and len(ids) > 20:
            model.remove_members(ids[rng.integers(0, len(ids), 3)], "dissatisfied")


CASES = {
    "all_policies": _all_policies(),
    "all_policies_community": {**_all_policies(),
                               "activity.chatter_moderation": {"mode": "community", "precision": 0.8}},
    "dynamics": {**_all_policies(), "dynamics.tie_decay": 0.02, "dynamics.contagion_window": 3,
                 "dynamics.lurker_share": 0.4, "dynamics.propensity_sd": 1.0, "dynamics.welcome_boost": 0.5,
                 "dynamics.welcome_commitment": 0.3, "dynamics.chatter_conversion": 0.1,
                 "dynamics.first_post_rate": 0.05, "dynamics.welcome_rate": 0.2, "community.chatter_share": 0.3},
    "ladder_paid_broadcast": {"monetization.ladder": {"gradual": False, "rungs": [
        {"name": "promo", "price": 5.0, "value": 3.0, "channel": "broadcast", "cadence": 3},
        {"name": "vip", "price": 50.0, "value": 90.0, "min_trust": 0.5, "cadence": 4}]},
        "monetization.ads": {"per_day": 1.5}, "activity.curation": {}},
    "user_policies": {"activity.quiet_hours": {"class": "_user_policy:QuietHours", "every": 2},
                      "activity.chatter_moderation": {"mode": "personal"}},
}


def _run(kw: dict, seed: int, segments: bool, extra=()):
    m = qs.CommunityModel(rng=seed, **SMALL, **kw)
    m._staged_segments = segments
    for pol in extra:
        pol.setup(m)
        m.policies["activity"].append(pol)
    m.run_for(20)
    m.remove_members(m.leaders)
    m.run_for(25)
    return m


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("name", list(CASES))
def test_segments_and_python_stages_are_the_same_model(name, seed):
    a, b = _run(CASES[name], seed, True), _run(CASES[name], seed, False)
    assert fingerprint(a) == fingerprint(b)
    assert a.timeseries()["joins"].sum() > 0 and a.timeseries()["messages"].sum() > 0


@pytest.mark.parametrize("seed", [1, 2])
def test_hooks_that_leave_other_data_fall_back_to_the_python_stages(seed):
    kw = CASES["all_policies"]
    a = _run(kw, seed, True, extra=(Int32Counts({}), Bans({})))
    b = _run(kw, seed, False, extra=(Int32Counts({}), Bans({})))
    assert fingerprint(a) == fingerprint(b)
    assert (a.state.leave_reason == qs.LeaveReason.DISSATISFIED).any()


def test_the_policies_compiled_passes_match_their_numpy_formulation(monkeypatch):
    """With the generator handle withheld, the chatter filter draws and computes in numpy
    (its formulation before it was compiled); the same trajectory."""
    kw = {**_all_policies(), "community.chatter_share": 0.3}
    a = _run(kw, 3, True)
    monkeypatch.setattr(qs.policies.activity, "generator_handle", lambda model, rng: None)
    b = _run(kw, 3, True)
    assert fingerprint(a) == fingerprint(b)
    assert a.timeseries()["chatter_filter_users"].sum() > 0


@given(st.integers(0, 2**32 - 1), st.integers(1, 400), st.booleans())
def test_ladder_candidates_of_all_rungs_match_one_rung_at_a_time(seed, n, gradual):
    rng = np.random.default_rng(seed)
    R = 5
    ids = np.flatnonzero(rng.random(n) < 0.7).astype(np.int64)
    last = rng.integers(-30, 20, (R, n)).astype(np.int32)
    bought = rng.random((R, n)) < 0.3
    tr, ts = rng.gamma(1.0, 2.0, n).astype(np.float32), rng.gamma(1.0, 2.0, n).astype(np.float32)
    level = rng.integers(-1, R, n).astype(np.int8)
    cadence = rng.integers(1, 15, R).astype(np.int64)
    min_trust = rng.random(R)
    need = np.array([r - 1 if (gradual and r > 0) else -1 for r in range(R)], np.int64)
    due = rng.random(R) < 0.7
    ptr, cand = C.ladder_candidates_all(ids, last, 20, cadence, bought, tr, ts, min_trust, level, need, due)
    for r in range(R):
        want = (C.ladder_candidates(ids, last[r], 20, int(cadence[r]), bought[r], tr, ts, float(min_trust[r]),
                                    level, int(need[r])) if due[r] else np.empty(0, np.int64))
        assert np.array_equal(cand[ptr[r]:ptr[r + 1]], want)


def test_numba_disable_jit_runs_the_same_staged_day(tmp_path):
    """NUMBA_DISABLE_JIT=1: the segments and the policies' compiled passes as plain Python,
    with every policy on (referral boosts, the ladder, ads, the personal filter)."""
    from _nojit import assert_plain_python_matches

    kw = {"community.n_seed": 80, "community.n_prospects": 500, "community.spammer_share": 0.05,
          **_all_policies()}
    assert_plain_python_matches(kw, tmp_path, days=12, check="assert m.ctx is not None")


class Counting(ActivityPolicy):
    """Counts the days its hooks run."""

    key = "counting"

    def setup(self, model):
        self.days = {"on_posting": [], "after_reading": []}

    def on_posting(self, model, ctx, rng):
        self.days["on_posting"].append(ctx.step)

    def after_reading(self, model, ctx, rng):
        self.days["after_reading"].append(ctx.step)


def test_a_scheduled_policy_that_is_off_takes_no_part_in_the_day():
    """A scheduled policy's hooks are called only on its days (its metrics every day), and the
    day is the same as when the off policy's wrapped hooks were called to return at once."""
    kw = {"community.n_seed": 60, "community.n_prospects": 400, "activity.curation": {"start": 5, "stop": 9},
          "monetization.profit_sharing": {"start": 4}, "gate.fee": {"price": 20.0, "stop": 6}}
    m = qs.CommunityModel(rng=4, **kw)
    counting = Counting({})
    counting.setup(m)
    m.policies["activity"].append(counting)
    calls = []
    sched = m.policies["activity"][0]
    real = type(sched).on_messages
    type(sched).on_messages = lambda self, model, ctx, rng: (calls.append(ctx.step), real(self, model, ctx, rng))[1]
    try:
        m.run_for(12)
    finally:
        type(sched).on_messages = real
    assert calls == [5, 6, 7, 8]  # on_messages of the scheduled curation: its days only
    assert counting.days["on_posting"] == list(range(1, 13))
    ts = m.timeseries()
    assert ts["policy_curation_active"].tolist() == [0] * 5 + [1] * 4 + [0] * 4
    # the same day as calling every hook of the off policies (they return at once)
    a = qs.CommunityModel(rng=4, **kw)
    b = qs.CommunityModel(rng=4, **kw)
    b._stage_open_day_orig = b._stage_open_day

    def open_all():
        ctx = b._stage_open_day_orig()
        b._hook_order[" today"] = b._hook_order  # every hook, as before
        return ctx

    b._stage_open_day = open_all
    a.run_for(12)
    b.run_for(12)
    assert fingerprint(a) == fingerprint(b)
    assert a.timeseries()["policy_profit_sharing_active"].sum() == 9


def _scheduled_all(start: int, stop: int) -> dict:
    out = {}
    for k, v in _all_policies().items():
        out[k] = {**v, "start": start, "stop": stop}
    return out


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("case", ["all_scheduled", "triggered", "one_unscheduled"])
def test_days_with_every_policy_off_run_fused_and_are_the_same_day(case, seed):
    """A day on which every (built-in, scheduled) policy is off runs the fused day, with the
    policies' metrics on its row: the same model as the staged day (``model.fused = False``
    runs every day staged)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    cfg = None
    if case == "all_scheduled":
        kw = {**SMALL, **_scheduled_all(8, 20)}
    elif case == "triggered":
        cfg = str(root / "configs" / "moderation_triggered.toml")
        kw = {"community.n_seed": 120, "community.n_prospects": 1500, "community.chatter_share": 0.3,
              "monetization.ladder": {"start": 12, "stop": 30}}
    else:
        kw = {**SMALL, **_scheduled_all(8, 20), "activity.curation": {}}
    runs = []
    for fused in (True, False):
        m = qs.CommunityModel(cfg, rng=seed, **kw)
        m.fused = fused
        m.run_for(20)
        m.remove_members(m.leaders)
        m.run_for(20)
        runs.append(m)
    a, b = runs
    assert fingerprint(a) == fingerprint(b)
    assert a.timeseries().columns.tolist() == b.timeseries().columns.tolist()
    if case == "all_scheduled":
        ts = a.timeseries()
        assert ts["policy_ladder_active"].tolist() == [0] * 8 + [1] * 12 + [0] * 21
        assert ts["commission_cumulative"].iloc[-1] == b.timeseries()["commission_cumulative"].iloc[-1]
