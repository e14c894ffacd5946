"""Activity policies (issue 3): each policy's own behaviour, checked every day, and bad parameters."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

import qunsim as qs
from _strategies import declared
from qunsim.config import ConfigError, load_config
from qunsim.kernels.context import MSG_EVENT, MSG_POST
from qunsim.kernels.reading import GroupIndex
from qunsim.policies import REGISTRY, ActivityPolicy
from qunsim.state import LeaveReason, Role, Status

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

BASE = {
    "community.n_seed": 120,
    "community.n_prospects": 800,
    "community.chatter_share": 0.15,
    "community.spammer_share": 0.05,
}


class Probe(ActivityPolicy):
    """Records what the day's context holds at the point in the policy list where it sits."""

    key = "probe"

    def __init__(self):
        super().__init__()
        self.days = []

    def _snap(self, model, ctx, hook):
        msgs = ctx.messages
        self.days.append(dict(
            hook=hook, step=ctx.step, n_msgs=len(msgs), msgs=msgs,
            post_counts=None if ctx.post_counts is None else ctx.post_counts.copy(),
            pos=ctx.pos.copy(), neg=ctx.neg.copy(), utility=ctx.utility.copy(),
            capacity=ctx.operator_capacity_used, curated=ctx.curated.copy(),
            relief=ctx.overload_relief.copy(), satisfaction=model.state.satisfaction.copy(),
            ids=ctx.extra.get("ids")))

    def on_messages(self, model, ctx, rng):
        self._snap(model, ctx, "messages")

    def after_reading(self, model, ctx, rng):
        self._snap(model, ctx, "reading")

    def get(self, hook):
        return [d for d in self.days if d["hook"] == hook]


def build(seed, **over):
    return qs.CommunityModel(rng=seed, **{**BASE, **over})


def probed(m, where="end"):
    """Insert a probe at the end (or start) of the activity policies."""
    p = Probe()
    acts = m.policies["activity"]
    if where == "end":
        acts.append(p)
    else:
        acts.insert(0, p)
    return p


# ------------------------------------------------------------------ rate limit
@pytest.mark.parametrize("seed", range(3))
def test_rate_limit_caps_every_members_posts_every_day(seed):
    cap = 2
    m = build(seed, **{"activity.rate_limit": cap})
    capped = 0
    for _ in range(25):
        m.step()
        assert m.state.posts_yesterday.max() <= cap
        capped += m.timeseries()["posts_capped"].iloc[-1]
    assert capped > 0  # chatters would have posted more


def test_rate_limit_exempt_roles_are_not_capped():
    m = build(0, **{"activity.rate_limit": {"cap": 1, "exempt": ["chatter"]}})
    over = 0
    for _ in range(15):
        m.step()
        st = m.state
        assert st.posts_yesterday[st.role != Role.CHATTER].max() <= 1
        over += int((st.posts_yesterday[st.role == Role.CHATTER] > 1).sum())
    assert over > 0


# ------------------------------------------------------------------ spam moderation
@pytest.mark.parametrize("seed", range(3))
def test_spam_moderation_precision_one_no_spam_is_read(seed):
    m = build(seed, **{"activity.spam_moderation": {"precision": 1.0}})
    p = probed(m)
    m.run_for(20)
    assert all(not d["msgs"].spam.any() for d in p.get("reading"))
    ts = m.timeseries()
    assert ts["spam_caught"].sum() > 0
    banned = m.state.leave_reason == LeaveReason.BANNED
    assert banned.any() and (m.state.offences[banned] >= 3).all()


def test_spam_warnings_are_strikes_before_the_ban():
    for seed in range(3):
        m = build(seed, **{"activity.spam_moderation": {"precision": 1.0, "warnings": 2, "ban_after": 2,
                                                        "deterrence": 0.0}})
        m.run_for(20)
        st = m.state
        banned = st.leave_reason == LeaveReason.BANNED
        assert banned.any() and (st.offences[banned] >= 4).all()
        # still active spammers have fewer than warnings + ban_after strikes
        act = st.status == Status.ACTIVE
        assert (st.offences[act] < 4).all()


def test_warned_spammers_post_less_spam():
    def spam_posted(warnings, seed):
        m = build(seed, **{"activity.spam_moderation": {"precision": 0.5, "warnings": warnings, "ban_after": 50,
                                                        "deterrence": 0.8}})
        m.run_for(25)
        ts = m.timeseries()
        return ts["messages_spammer"].sum() + ts["spam_caught"].sum(), ts["spam_deterred"].sum()

    with_w = [spam_posted(3, s) for s in range(3)]
    without = [spam_posted(0, s) for s in range(3)]
    assert sum(d for _, d in with_w) > 0 and sum(d for _, d in without) == 0
    assert sum(x for x, _ in with_w) < 0.7 * sum(x for x, _ in without)


# ------------------------------------------------------------------ chatter moderation
def test_community_chatter_moderation_removes_for_everyone_and_authors_feel_it():
    m = build(1, **{"activity.chatter_moderation": {"mode": "community", "precision": 1.0, "max_quality": 0.2}})
    before = probed(m, "start")
    after = probed(m, "end")
    m.run_for(15)
    removed_total = 0
    for b, a in zip(before.get("messages"), after.get("messages"), strict=True):
        mb, ma = b["msgs"], a["msgs"]
        off = (mb.kind == MSG_POST) & ~mb.spam & (mb.quality < 0.2)
        assert not ((ma.kind == MSG_POST) & ~ma.spam & (ma.quality < 0.2)).any()
        assert a["n_msgs"] == b["n_msgs"] - off.sum()
        authors = np.unique(mb.author[off])
        if len(authors):
            assert (a["neg"][authors] > 0).all() and (a["utility"][authors] < 0).all()
        removed_total += int(off.sum())
    assert removed_total > 0
    assert m.timeseries()["chatter_removed"].sum() == removed_total


def test_personal_filtering_removes_nothing_and_spares_authors():
    m = build(1, **{"activity.chatter_moderation": {"mode": "personal", "precision": 1.0}})
    before = probed(m, "start")
    after = probed(m, "end")
    m.run_for(15)
    gains = 0
    for b, a in zip(before.get("reading"), after.get("reading"), strict=True):
        assert a["n_msgs"] == b["n_msgs"]
        assert np.array_equal(a["neg"], b["neg"])  # nobody is punished
        gain = a["utility"] - b["utility"]
        assert (gain >= -1e-12).all()  # a filter only helps the reader who keeps it on
        gains += int((gain > 0).sum())
    assert gains > 0
    ts = m.timeseries()
    assert ts["chatter_removed"].sum() == 0 and ts["removed_messages"].sum() == 0
    assert ts["chatter_filter_users"].sum() == gains


# ------------------------------------------------------------------ curation
def test_curation_readers_see_best_first_with_overload_relief():
    m = build(2, **{"activity.curation": {"overload_relief": 0.4}})
    p = probed(m)
    m.run_for(8)
    for d in p.get("reading"):
        assert d["curated"].all() and np.allclose(d["relief"], 0.4)
        gi = GroupIndex.build(d["msgs"], len(d["curated"]), d["curated"])
        q = d["msgs"].quality[gi.order]
        g = d["msgs"].group[gi.order]
        same = g[1:] == g[:-1]
        assert (q[1:][same] <= q[:-1][same]).all()  # best first inside each group


def test_curation_raises_value_per_message_read():
    def vd(seed, cur):
        over = {"community.chatter_share": 0.3, "dynamics.contagion": False}
        if cur:
            over["activity.curation"] = {}
        ts = qs.simulate(rng=seed, steps=20, **{**BASE, **over}).timeseries
        return ts["value_density"].iloc[1:].mean()

    diffs = [vd(s, True) - vd(s, False) for s in range(4)]
    assert min(diffs) > 0


# ------------------------------------------------------------------ events
@pytest.mark.parametrize("seed", range(2))
def test_expert_events_schedule_messages_attendance_and_commitment(seed):
    every, lead, k = 5, 2, 4
    m = build(seed, **{"activity.events": {"every": every, "lead_time": lead, "messages": k, "attendance": 0.8}})
    pol = m.policies["activity"][0]
    p = probed(m)
    m.run_for(20)
    ts = m.timeseries().set_index("step")
    for d in p.get("messages"):
        t, msgs = d["step"], d["msgs"]
        n_groups = int((np.bincount(msgs.group[msgs.kind == MSG_POST]) > 0).sum()) if len(msgs) else 0
        ev = msgs.kind == MSG_EVENT
        if t % every == 0:
            assert ev.sum() == k * ts.loc[t, "event_groups"] and ts.loc[t, "event_groups"] >= max(n_groups, 1)
            assert msgs.quality[ev].mean() > 0.7
        elif (t + lead) % every == 0:  # one announcement per group, by the operator
            assert ev.sum() >= 1 and (msgs.author[ev] == -1).all()
        else:
            assert ev.sum() == 0
    # attendance ~ Binomial(active, p): within 5 sigma on every event day
    pa = pol.attend_probability()
    for t in range(every, 21, every):
        n = ts.loc[t - 1, "active"] + ts.loc[t, "joins"]
        att = ts.loc[t, "event_attendees"]
        assert abs(att - n * pa) <= 5 * np.sqrt(n * pa * (1 - pa)) + 1
    st = m.state
    assert (st.commitment[st.initial_role == Role.EXPERT] > 0).any()
    assert (ts["operator_capacity_used"] > 0).sum() == 4


def test_longer_notice_more_attendance():
    from qunsim.policies import ExpertEvents

    probs = [ExpertEvents({"lead_time": L}).attend_probability() for L in (0, 1, 3, 7)]
    assert probs == sorted(probs) and probs[0] < probs[-1] <= 0.6


# ------------------------------------------------------------------ private care
@pytest.mark.parametrize("seed", range(3))
def test_private_care_never_adds_a_message_and_respects_capacity(seed):
    cap, cost = 6.0, 2.0
    m = build(seed, **{"activity.care": {"capacity": cap, "cost": cost, "threshold": 0.3, "evidence": 1.5},
                       "community.chatter_share": 0.4})
    before = probed(m, "start")
    after = probed(m, "end")
    m.run_for(25)
    contacts = 0
    for b, a in zip(before.get("reading"), after.get("reading"), strict=True):
        assert a["n_msgs"] == b["n_msgs"]
        cared = np.flatnonzero(a["pos"] - b["pos"] > 0)
        assert len(cared) <= cap / cost
        assert a["capacity"] - b["capacity"] == pytest.approx(cost * len(cared))
        assert (b["satisfaction"][cared] < 0.3).all()
        assert (a["satisfaction"][cared] > b["satisfaction"][cared]).all()
        contacts += len(cared)
    ts = m.timeseries()
    assert contacts > 0 and ts["care_contacts"].sum() == contacts
    assert (ts["care_contacts"] <= cap / cost).all()


def test_private_care_chooses_the_most_at_risk():
    m = build(0, **{"activity.care": {"capacity": 3.0, "threshold": 1.0, "cooldown": 0},
                    "community.chatter_share": 0.4})
    before = probed(m, "start")
    after = probed(m, "end")
    m.run_for(10)
    st = m.state
    for b, a in zip(before.get("reading"), after.get("reading"), strict=True):
        ids, S = b["ids"], b["satisfaction"]
        eligible = ids[(st.need[ids] > 0) & ~np.isin(st.role[ids], [Role.OWNER, Role.MODERATOR, Role.SPAMMER])
                       & (S[ids] < 1.0)]
        cared = np.flatnonzero(a["pos"] - b["pos"] > 0)
        assert len(cared) == min(3, len(eligible)) and np.isin(cared, eligible).all()
        rest = np.setdiff1d(eligible, cared)
        if len(rest):
            assert S[cared].max() <= S[rest].min()


# ------------------------------------------------------------------ group cap
@pytest.mark.parametrize("seed", range(3))
def test_group_cap_splits_every_day(seed):
    cap = 40
    m = build(seed, **{"community.n_seed": 150, "activity.group_cap": {"cap": cap, "merge_below": 0},
                       "dynamics.inflow": 15.0})
    for _ in range(15):
        m.step()
        sizes = m.group_sizes()
        assert sizes.max() <= cap
    assert (m.group_sizes() > 0).sum() >= 4
    assert m.timeseries()["groups_split"].sum() >= 1
    # nobody lost: every active member is in a valid group
    act = m.state.status == Status.ACTIVE
    assert (m.state.group[act] >= 0).all() and (m.state.group[act] < m.n_groups).all()


def test_group_cap_merges_small_groups():
    m = build(0, **{"community.n_seed": 60, "community.n_groups": 4,
                    "activity.group_cap": {"cap": 500, "merge_below": 40}})
    assert (m.group_sizes() > 0).sum() == 4
    m.step()
    assert (m.group_sizes() > 0).sum() == 1
    assert m.timeseries()["groups_merged"].iloc[-1] == 3


def test_group_cap_single_small_group_joins_smallest_with_room():
    m = build(0, **{"community.n_seed": 90, "community.n_groups": 3,
                    "activity.group_cap": {"cap": 70, "merge_below": 20}})
    st = m.state
    act = np.flatnonzero(st.status == Status.ACTIVE)
    m.set_groups(act[:10], np.zeros(10, np.int32))       # small
    m.set_groups(act[10:60], np.ones(50, np.int32))      # room for 20 more
    m.set_groups(act[60:], np.full(len(act) - 60, 2, np.int32))  # 30: room for 40 more: the smallest
    small = act[:10]
    m.step()
    g = st.group[small[st.status[small] == Status.ACTIVE]]
    assert (g == 2).all()
    assert m.timeseries()["groups_merged"].iloc[-1] == 1


# ------------------------------------------------------------------ configs and bad parameters
@pytest.mark.parametrize("path", sorted(CONFIGS.glob("activity_*.toml")), ids=lambda p: p.name)
def test_activity_configs_load_and_run(path):
    cfg = load_config(path)
    assert cfg.activity, f"{path.name} configures no activity policy"
    res = qs.simulate(cfg, rng=0, steps=10, **{"community.n_seed": 40, "community.n_prospects": 400})
    assert len(res.timeseries) == 11


def test_all_policies_together_reproducible_and_finite():
    over = {"activity.spam_moderation": {"warnings": 1}, "activity.chatter_moderation": "personal",
            "activity.rate_limit": 4, "activity.curation": {}, "activity.events": {"every": 5},
            "activity.care": 3.0, "activity.group_cap": {"cap": 50}, "gate.fee": 10.0,
            "gate.process": 0.5, "gate.activity_requirement": {"days": 20, "window": "rolling"}}
    a = qs.simulate(rng=3, steps=30, **{**BASE, **over})
    b = qs.simulate(rng=3, steps=30, **{**BASE, **over})
    assert a.timeseries.equals(b.timeseries)
    num = a.timeseries.select_dtypes("number")
    assert np.isfinite(num.to_numpy()).all()
    ts = a.timeseries
    assert (ts["active"] + ts["leaves"].cumsum() == ts["active"].iloc[0] + ts["joins"].cumsum()).all()


@pytest.mark.parametrize("over, key", [
    ({"activity.spam_moderation": {"precision": 1.2}}, "activity.spam_moderation.precision"),
    ({"activity.spam_moderation": {"warnings": -1}}, "activity.spam_moderation.warnings"),
    ({"activity.chatter_moderation": "everyone"}, "activity.chatter_moderation.mode"),
    ({"activity.chatter_moderation": {"precision": -0.5}}, "activity.chatter_moderation.precision"),
    ({"activity.rate_limit": -1}, "activity.rate_limit.cap"),
    ({"activity.rate_limit": {"exempt": ["boss"]}}, "activity.rate_limit.exempt"),
    ({"activity.curation": {"overload_relief": 1.5}}, "activity.curation.overload_relief"),
    ({"activity.events": {"every": 0}}, "activity.events.every"),
    ({"activity.events": {"attendance": 2}}, "activity.events.attendance"),
    ({"activity.care": {"cost": 0}}, "activity.care.cost"),
    ({"activity.care": -5}, "activity.care.capacity"),
    ({"activity.group_cap": 1}, "activity.group_cap.cap"),
    ({"activity.moderation_magic": {}}, "activity.moderation_magic"),
    ({"activity.mine": {"class": "qunsim.nowhere:Policy"}}, "activity.mine.class"),
    ({"activity.mine": {"class": "qunsim.policies.gates:FeeGate"}}, "activity.mine.class"),
])
def test_bad_activity_parameters_name_the_key(over, key):
    with pytest.raises(ConfigError) as e:  # a user `class` is checked when the model is built
        qs.CommunityModel(load_config().override({"community.n_prospects": 100}).override(over), rng=0)
    assert f"`{key}" in str(e.value) and "\n" not in str(e.value)


# ------------------------------------------------------------------ property test: any combination

def _p(family: str, key: str, name: str, **narrow):
    """Values of a built-in policy's parameter, inside its declared range (tests/_strategies.py)."""
    return declared(REGISTRY[family][key].Params, name, **narrow)


policy_tables = {
    "gate.identity": hst.fixed_dictionaries({"roles": hst.sampled_from([["expert", "regular"], ["regular", "chatter"]]),
                                             "precision": _p("gate", "identity", "precision")}),
    "gate.fee": hst.fixed_dictionaries({"price": _p("gate", "fee", "price", hi=150.0)}),
    "gate.process": hst.fixed_dictionaries({"referral_only": hst.booleans(), "precision": _p("gate", "process", "precision"),
                                            "dropout": _p("gate", "process", "dropout")}),
    "gate.activity_requirement": hst.fixed_dictionaries({"days": _p("gate", "activity_requirement", "days", hi=10),
                                                         "window": hst.sampled_from(["first", "rolling"])}),
    "activity.spam_moderation": hst.fixed_dictionaries({"precision": _p("activity", "spam_moderation", "precision"),
                                                        "warnings": _p("activity", "spam_moderation", "warnings", hi=2),
                                                        "deterrence": _p("activity", "spam_moderation", "deterrence")}),
    "activity.chatter_moderation": hst.fixed_dictionaries({"mode": hst.sampled_from(["community", "personal"]),
                                                           "precision": _p("activity", "chatter_moderation", "precision"),
                                                           "false_positive": _p("activity", "chatter_moderation", "false_positive")}),
    "activity.rate_limit": hst.fixed_dictionaries({"cap": _p("activity", "rate_limit", "cap", hi=4)}),
    "activity.curation": hst.fixed_dictionaries({"overload_relief": _p("activity", "curation", "overload_relief")}),
    "activity.events": hst.fixed_dictionaries({"every": _p("activity", "events", "every", hi=5),
                                               "lead_time": _p("activity", "events", "lead_time", hi=3)}),
    "activity.care": hst.fixed_dictionaries({"capacity": _p("activity", "care", "capacity", lo=0.0, hi=10.0),
                                             "threshold": _p("activity", "care", "threshold", lo=-1.0, hi=1.0)}),
    "activity.group_cap": hst.fixed_dictionaries({"cap": _p("activity", "group_cap", "cap", lo=8, hi=60),
                                                  "merge_below": _p("activity", "group_cap", "merge_below", hi=10)}),
}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chosen=hst.dictionaries(hst.sampled_from(sorted(policy_tables)), hst.just(None), min_size=1),
       data=hst.data(), seed=hst.integers(0, 2**31 - 1))
def test_invariants_hold_with_any_combination_of_gates_and_activity_policies(chosen, data, seed):
    over = {k: data.draw(policy_tables[k], label=k) for k in chosen}
    m = qs.CommunityModel(rng=seed, **{"community.n_seed": 50, "community.n_prospects": 400,
                                       "community.chatter_share": 0.2, "community.spammer_share": 0.1,
                                       "dynamics.inflow": 10.0}, **over)
    st = m.state
    for _ in range(15):
        m.step()
        act = st.status == Status.ACTIVE
        assert int((st.join_step >= 0).sum()) == int(act.sum() + (st.status == Status.LEFT).sum()
                                                      + (st.status == Status.BANNED).sum())
        t = st.trust
        assert np.all(np.isfinite(t)) and np.all((t >= 0) & (t <= 1))
        assert np.all(np.isfinite(st.satisfaction))
        assert np.all((st.group[act] >= 0) & (st.group[act] < m.n_groups))
        if "activity.rate_limit" in over:
            assert st.posts_yesterday.max() <= over["activity.rate_limit"]["cap"]
        if "activity.group_cap" in over and act.any():
            assert m.group_sizes().max() <= max(over["activity.group_cap"]["cap"], 1)
    ts = m.timeseries()
    num = ts.select_dtypes("number")
    assert not num.isna().any().any()
    assert (ts["joins"].sum() + ts["active"].iloc[0]) == ts["active"].iloc[-1] + ts["leaves"].sum()
