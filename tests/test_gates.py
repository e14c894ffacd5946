"""Entry gates (issue 3): each gate's own behaviour, combinations, and bad parameters."""

from pathlib import Path

import numpy as np
import pytest

import qunsim as qs
from qunsim.config import ConfigError, load_config
from qunsim.state import LeaveReason, Role, Status

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

# a small community with plenty of arrivals (strangers and referrals) and some bad actors
BASE = {
    "community.n_seed": 60,
    "community.n_prospects": 1500,
    "community.chatter_share": 0.15,
    "community.spammer_share": 0.1,
    "dynamics.inflow": 25.0,
    "dynamics.referral_rate": 0.1,
    "dynamics.referral_trust": 0.5,
}


def model(seed, steps=30, **over):
    m = qs.CommunityModel(rng=seed, **{**BASE, **over})
    m.run_for(steps)
    return m


def newcomers(m):
    return np.flatnonzero(m.state.join_step > 0)


# ------------------------------------------------------------------ identity
@pytest.mark.parametrize("seed", range(3))
def test_identity_gate_precision_one_admits_only_listed_roles(seed):
    m = model(seed, **{"gate.identity": {"roles": ["expert", "regular"], "precision": 1.0}})
    new = newcomers(m)
    assert len(new) > 20
    assert np.isin(m.state.initial_role[new], [Role.EXPERT, Role.REGULAR]).all()


def test_identity_gate_imperfect_screen_lets_some_outsiders_in():
    outsiders = 0
    for seed in range(3):
        m = model(seed, **{"gate.identity": {"roles": ["expert", "regular"], "precision": 0.3}})
        new = newcomers(m)
        outsiders += int((~np.isin(m.state.initial_role[new], [Role.EXPERT, Role.REGULAR])).sum())
    assert outsiders > 0


def test_identity_gate_counts_rejections():
    m = model(0, **{"gate.identity": {"roles": ["expert"], "precision": 1.0}})
    ts = m.timeseries()
    assert ts["gate_identity_rejected"].sum() > 0
    assert ts["gate_identity_rejected"].iloc[0] == 0


# ------------------------------------------------------------------ fee
@pytest.mark.parametrize("seed", range(3))
def test_fee_gate_willingness_to_pay_revenue_and_sunk_cost(seed):
    price = 40.0
    m = model(seed, **{"gate.fee": price})
    st, ts = m.state, m.timeseries()
    new = newcomers(m)
    assert len(new) > 10
    assert (st.wtp[new] >= price).all()
    np.testing.assert_allclose(st.spend[new], price)
    seeds = np.flatnonzero(st.join_step == 0)
    assert (st.spend[seeds] == 0).all()  # invited seed members do not pay
    np.testing.assert_allclose(ts["revenue_entry_fee"].to_numpy(), price * ts["joins"].to_numpy())
    assert ts["revenue_cumulative"].iloc[-1] == pytest.approx(price * len(new))
    # spammers (wtp 0) never pay their way in
    assert not (st.initial_role[new] == Role.SPAMMER).any()


def test_higher_fee_fewer_joins():
    joins = {p: sum(len(newcomers(model(s, **{"gate.fee": p}))) for s in range(3)) for p in (0.0, 60.0, 200.0)}
    assert joins[0.0] > joins[60.0] > joins[200.0]


def test_free_fee_gate_records_no_revenue():
    ts = model(0, steps=15, **{"gate.fee": 0.0}).timeseries()
    assert ts["revenue"].sum() == 0 and ts["joins"].sum() > 0


# ------------------------------------------------------------------ process
@pytest.mark.parametrize("seed", range(3))
def test_process_screening_precision_one_admits_no_chatter_or_spammer(seed):
    m = model(seed, **{"gate.process": {"precision": 1.0, "dropout": 0.0}})
    new = newcomers(m)
    assert len(new) > 20
    assert not np.isin(m.state.initial_role[new], [Role.CHATTER, Role.SPAMMER]).any()


def test_process_without_screening_admits_chatters():
    open_door = {"gate.process": {"precision": 0.0, "dropout": 0.0}}
    bad = 0
    for seed in range(2):
        m = model(seed, **open_door)
        bad += int(np.isin(m.state.initial_role[newcomers(m)], [Role.CHATTER, Role.SPAMMER]).sum())
    assert bad > 0


def test_process_referral_only():
    for seed in range(3):
        m = model(seed, **{"gate.process": {"referral_only": True, "precision": 0.0, "dropout": 0.0}})
        new = newcomers(m)
        assert len(new) > 0
        assert (m.state.entry_path[new] == qs.EntryPath.REFERRAL).all()


def test_process_dropout_loses_candidates():
    full = sum(len(newcomers(model(s, **{"gate.process": {"precision": 0.0, "dropout": 1.0}}))) for s in range(2))
    assert full == 0
    half = sum(len(newcomers(model(s, **{"gate.process": {"precision": 0.0, "dropout": 0.5}}))) for s in range(3))
    none = sum(len(newcomers(model(s, **{"gate.process": {"precision": 0.0, "dropout": 0.0}}))) for s in range(3))
    assert 0 < half < none


# ------------------------------------------------------------------ activity requirement
def _silent_days(m, t):
    st = m.state
    return t - np.maximum(st.last_post + 1, st.join_step) + 1


@pytest.mark.parametrize("seed", range(3))
def test_activity_requirement_rolling_window_every_day(seed):
    K = 5
    m = qs.CommunityModel(rng=seed, **{**BASE, "gate.activity_requirement": {"days": K, "window": "rolling"}})
    removed = 0
    for _ in range(30):
        m.step()
        st, t = m.state, m.steps
        act = (st.status == Status.ACTIVE) & ~np.isin(st.role, [Role.OWNER, Role.MODERATOR])
        assert (_silent_days(m, t)[act] < K).all()
        removed += int((st.leave_reason == LeaveReason.INACTIVE).sum())
    assert removed > 0
    gone = m.state.leave_reason == LeaveReason.INACTIVE
    assert (m.state.leave_step[gone] - np.maximum(m.state.last_post[gone] + 1, m.state.join_step[gone]) + 1 == K).all()
    assert m.timeseries()["gate_activity_requirement_removed"].sum() == gone.sum()


@pytest.mark.parametrize("seed", range(3))
def test_activity_requirement_first_window_only_newcomers_who_never_posted(seed):
    K = 7
    m = model(seed, steps=40, **{"gate.activity_requirement": {"days": K}})
    st = m.state
    gone = np.flatnonzero(st.leave_reason == LeaveReason.INACTIVE)
    assert len(gone) > 0
    assert (st.posts[gone] == 0).all()
    assert (st.leave_step[gone] - st.join_step[gone] + 1 == K).all()
    act = np.flatnonzero((st.status == Status.ACTIVE) & (st.role != Role.OWNER))
    old = act[m.steps - st.join_step[act] + 1 >= K]
    assert (st.posts[old] > 0).all()  # everyone past the window has posted at least once


def test_activity_requirement_exempt_roles_stay():
    m = model(0, steps=30, **{"gate.activity_requirement": {"days": 1, "window": "rolling", "exempt": ["owner", "regular"]}})
    st = m.state
    assert not (st.leave_reason[st.initial_role == Role.REGULAR] == LeaveReason.INACTIVE).any()
    assert (st.leave_reason == LeaveReason.INACTIVE).any()


# ------------------------------------------------------------------ combinations
def test_gates_combine_every_gate_applies():
    for seed in range(3):
        m = model(seed, **{"gate.fee": 30.0, "gate.process": {"precision": 1.0, "dropout": 0.0}})
        new = newcomers(m)
        assert len(new) > 0
        assert (m.state.wtp[new] >= 30).all()
        assert not np.isin(m.state.initial_role[new], [Role.CHATTER, Role.SPAMMER]).any()


def test_gates_are_reproducible():
    over = {"gate.fee": 20.0, "gate.process": {"precision": 0.6}, "gate.interest": {"threshold": 0.4},
            "gate.activity_requirement": {"days": 10, "window": "rolling"}}
    a, b = model(5, **over), model(5, **over)
    assert a.timeseries().equals(b.timeseries())
    assert np.array_equal(a.state.status, b.state.status)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("gates_*.toml")), ids=lambda p: p.name)
def test_gate_configs_load_and_run(path):
    cfg = load_config(path)
    assert cfg.gate, f"{path.name} configures no gate"
    res = qs.simulate(cfg, rng=0, steps=10, **{"community.n_seed": 40, "community.n_prospects": 400})
    assert len(res.timeseries) == 11


def test_strict_in_lenient_out_is_expressible():
    cfg = load_config(CONFIGS / "gates_strict_in_lenient_out.toml")
    assert {"fee", "process"} <= set(cfg.gate) and "activity_requirement" not in cfg.gate


# ------------------------------------------------------------------ bad parameters
@pytest.mark.parametrize("over, key", [
    ({"gate.identity": {"precision": 1.5}}, "gate.identity.precision"),
    ({"gate.identity": {"roles": ["executive"]}}, "gate.identity.roles"),
    ({"gate.identity": {"roles": []}}, "gate.identity.roles"),
    ({"gate.fee": -3}, "gate.fee.price"),
    ({"gate.fee": {"price": "cheap"}}, "gate.fee.price"),
    ({"gate.process": {"precision": -0.1}}, "gate.process.precision"),
    ({"gate.process": {"dropout": 2}}, "gate.process.dropout"),
    ({"gate.process": {"screen_roles": ["troll"]}}, "gate.process.screen_roles"),
    ({"gate.process": {"speed": 1}}, "gate.process.speed"),
    ({"gate.activity_requirement": {"days": 0}}, "gate.activity_requirement.days"),
    ({"gate.activity_requirement": {"window": "weekly"}}, "gate.activity_requirement.window"),
    ({"gate.interest": {"precision": 7}}, "gate.interest.precision"),
    ({"gate.velvet_rope": {}}, "gate.velvet_rope"),
    ({"gate.mine": {"class": "no_such_package.gates:Gate"}}, "gate.mine.class"),
    ({"gate.mine": {"class": "qunsim.policies.activity:RateLimit"}}, "gate.mine.class"),
])
def test_bad_gate_parameters_name_the_key(over, key):
    with pytest.raises(ConfigError) as e:  # a user `class` is checked when the model is built
        qs.CommunityModel(load_config().override({"community.n_prospects": 100}).override(over), rng=0)
    msg = str(e.value)
    assert f"`{key}" in msg and "\n" not in msg


def test_user_gate_class_by_import_path():
    cfg = load_config({"gate": {"mine": {"class": "qunsim.policies.gates:FeeGate", "price": 10}}})
    m = qs.CommunityModel(cfg, rng=0, **{**BASE})
    m.run_for(10)
    new = newcomers(m)
    assert (m.state.spend[new] == 10).all()
