"""Monetization policies: each policy's own behaviour, and bad parameters."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

import qunsim as qs
from _strategies import declared
from qunsim.config import ConfigError
from qunsim.kernels.context import MSG_AD, MSG_OFFER, MSG_POST
from qunsim.policies.monetization import Ads, Ladder, MembershipFee, Rung, purchase_evidence
from qunsim.state import LeaveReason, Role, Status, Tier

# a small, stable community: no contagion cascades, nobody leaves for the first week
BASE = {"community.n_seed": 80, "community.n_prospects": 500, "dynamics.contagion": False}


def rung(**kw):
    d = dict(name="r", price=10.0, value=20.0, min_trust=0.0, cadence=1, channel="private",
             conversion=1.0, tier="fan")
    d.update(kw)
    return d


def ladder(*rungs, **kw):
    return {"monetization.ladder": {"rungs": list(rungs), **kw}}


def make(seed=0, extra=None, **policies):
    return qs.CommunityModel(rng=seed, **BASE, **(extra or {}), **policies)


def the_ladder(model) -> Ladder:
    (pol,) = [p for p in model.policies["monetization"] if isinstance(p, Ladder)]
    return pol


# ----------------------------------------------------------------------------- channels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_private_offer_never_adds_a_message_to_the_group(seed):
    m = make(seed, **ladder(rung(name="a", price=5.0), rung(name="b", price=50.0, cadence=3),
                            gradual=False, capacity=1000))
    offers = 0
    for _ in range(20):
        m.step()
        msgs = m.ctx.messages
        assert (msgs.kind == MSG_POST).all()
        assert not (msgs.kind == MSG_OFFER).any()
        offers += m.timeseries()["offers_rung_a"].iloc[-1]
    assert offers > 0  # offers were made, privately


@pytest.mark.parametrize("seed", [0, 3])
def test_broadcast_offer_adds_exactly_one_message_per_group_on_cadence_days(seed):
    m = make(seed, {"community.n_groups": 3},
             **ladder(rung(name="hard", price=99.0, channel="broadcast", cadence=5, start=2)))
    days = 0
    for _ in range(22):
        m.step()
        t = m.ctx.step
        st = m.state
        live = np.unique(st.group[st.status == Status.ACTIVE])
        msgs = m.ctx.messages
        per_group = np.bincount(msgs.group[msgs.kind == MSG_OFFER], minlength=m.n_groups)
        if t >= 2 and (t - 2) % 5 == 0:
            days += 1
            # groups with members at the time of posting: today's readers' groups
            readers = m.ctx.extra["ids"]
            groups = np.unique(st.group[readers])
            assert per_group[groups].tolist() == [1] * len(groups)
            assert per_group.sum() == len(groups)
            assert len(live) > 1
        else:
            assert per_group.sum() == 0
    assert days == 5  # days 2, 7, 12, 17, 22


def test_broadcast_annoys_every_reader_private_annoys_no_one():
    m = make(1, **ladder(rung(name="hard", price=99.0, channel="broadcast", cadence=1,
                              conversion=0.0), annoyance=0.7, annoyance_cost=0.4))
    trust = m.state.trust.astype(np.float64)
    m.step()
    ids, k = m.ctx.extra["ids"], m.ctx.read_k
    readers = ids[k > 0]
    assert len(readers) > 10
    np.testing.assert_allclose(m.ctx.neg[readers], 0.7)
    # a share of the day's need, scaled by distrust (resentment)
    expect = -0.4 * m.state.need[readers] * 2.0 * (1.0 - trust[readers])
    np.testing.assert_allclose(m.ctx.utility[readers], expect, rtol=1e-5)
    assert (m.ctx.utility[readers] < 0).sum() > 0.9 * len(readers)
    assert (m.ctx.utility[ids[k == 0]] == 0).all()
    p = make(1, **ladder(rung(name="soft", price=99.0, channel="private", conversion=0.0),
                         annoyance=0.7, capacity=1000))
    p.step()
    assert (p.ctx.neg == 0).all() and (p.ctx.utility == 0).all()
    assert p.timeseries()["offers_rung_soft"].iloc[-1] > 10


def test_free_broadcast_does_not_annoy():
    m = make(2, **ladder(rung(name="free", price=0.0, value=5.0, channel="broadcast",
                              conversion=0.0)))
    m.step()
    assert (m.ctx.neg == 0).all()
    assert (m.ctx.messages.kind == MSG_OFFER).sum() >= 1


# ----------------------------------------------------------------------------- purchases


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("channel", ["private", "broadcast"])
def test_rung_never_sells_below_its_min_trust(seed, channel):
    t_min = 0.6
    m = make(seed, **ladder(rung(name="g", min_trust=t_min, channel=channel, conversion=0.5),
                            capacity=1000))
    sold = 0
    for _ in range(40):
        before = m.state.trust.copy()  # trust when today's offers are made
        m.step()
        buys = the_ladder(m).purchases()
        today = buys[buys["step"] == m.ctx.step]
        assert (before[today["member_id"].to_numpy()] >= t_min).all()
        sold += len(today)
    assert sold > 0
    # and some members below the gate were active all along (the gate had work to do)
    assert (m.state.trust[m.state.status == Status.ACTIVE] < t_min).any()


@pytest.mark.parametrize("seed", [0, 1])
def test_revenue_equals_sum_of_prices_of_purchases(seed):
    m = make(seed, **ladder(rung(name="low", price=9.9, conversion=0.4),
                            rung(name="mid", price=99.0, conversion=0.3, min_trust=0.5),
                            rung(name="fair", price=0.0, conversion=0.3), gradual=False, capacity=30))
    m.run_for(40)
    ts = m.timeseries()
    buys = the_ladder(m).purchases()
    assert len(buys) > 20
    prices = {"low": 9.9, "mid": 99.0, "fair": 0.0}
    assert ts["revenue"].sum() == pytest.approx(buys["price"].sum())
    for name, price in prices.items():
        n = int(ts[f"purchases_rung_{name}"].sum())
        assert n == int((buys["rung"] == name).sum())
        assert ts[f"revenue_rung_{name}"].sum() == pytest.approx(price * n)
    # what members paid (sunk cost) is exactly the revenue
    assert float(m.state.spend.sum()) == pytest.approx(ts["revenue"].sum(), rel=1e-5)
    assert ts["revenue_cumulative"].iloc[-1] == pytest.approx(ts["revenue"].sum())


def test_purchases_lift_tiers_and_never_lower_them():
    m = make(4, **ladder(rung(name="low", price=5.0, tier="fan", conversion=0.5),
                         rung(name="high", price=50.0, tier="shareholder", min_trust=0.0, conversion=0.5),
                         rung(name="late_low", price=1.0, tier="fan", conversion=1.0, start=10),
                         gradual=True, capacity=1000))
    m.run_for(25)
    buys = the_ladder(m).purchases()
    st = m.state
    top = buys[buys["rung"] == "high"]["member_id"].to_numpy()
    assert len(top) > 0
    assert (st.tier[top] == Tier.SHAREHOLDER).all()  # buying late_low afterwards did not lower it
    fans = np.setdiff1d(buys[buys["rung"] == "low"]["member_id"].to_numpy(), top)
    assert (st.tier[fans] == Tier.FAN).all()
    never = np.setdiff1d(np.flatnonzero(st.join_step >= 0), buys["member_id"].to_numpy())
    assert (st.tier[never] == Tier.MEMBER).all()
    ts = m.timeseries()
    assert ts["tier_shareholder"].iloc[-1] == int(((st.tier == Tier.SHAREHOLDER) & (st.status == Status.ACTIVE)).sum())


def test_gradual_ladder_is_climbed_one_rung_at_a_time():
    m = make(5, **ladder(rung(name="a", price=1.0, conversion=0.5), rung(name="b", price=2.0, conversion=0.5),
                         rung(name="c", price=3.0, conversion=0.5), gradual=True, capacity=1000))
    m.run_for(30)
    buys = the_ladder(m).purchases()
    first = buys.pivot_table(index="member_id", columns="rung", values="step", aggfunc="min", observed=False)
    assert first["c"].notna().sum() > 0
    for lower, upper in (("a", "b"), ("b", "c")):
        up = first[upper].notna()
        assert first.loc[up, lower].notna().all()
        assert (first.loc[up, lower] < first.loc[up, upper]).all()


def test_trust_evidence_follows_value_versus_price():
    fair = make(6, **ladder(rung(name="x", price=10.0, value=40.0), capacity=1000))
    over = make(6, **ladder(rung(name="x", price=10.0, value=2.5), capacity=1000))
    for m in (fair, over):
        m.state.wtp[:] = 1e6
        m.step()
    bf = the_ladder(fair).purchases()["member_id"].to_numpy()
    bo = the_ladder(over).purchases()["member_id"].to_numpy()
    assert len(bf) > 10 and len(bo) > 10
    ev = 2.0  # default evidence weight
    np.testing.assert_allclose(fair.ctx.pos[bf], ev * 0.75)
    np.testing.assert_allclose(over.ctx.neg[bo], ev * 0.75)
    assert (fair.ctx.neg[bf] == 0).all() and (over.ctx.pos[bo] == 0).all()
    assert purchase_evidence(10.0, 2.5) == pytest.approx(-0.75)


def test_willingness_to_pay_decides_who_buys():
    m = make(7, **ladder(rung(name="x", price=100.0, conversion=1.0), capacity=1000, trust_wtp=0.0))
    st = m.state
    rich = st.active_ids()[::2]
    st.wtp[:] = 50.0
    st.wtp[rich] = 150.0
    m.step()
    buyers = the_ladder(m).purchases()["member_id"].to_numpy()
    assert len(buyers) > 0 and np.isin(buyers, rich).all()


def test_private_offers_respect_the_daily_capacity():
    m = make(8, **ladder(rung(name="a", price=1.0, conversion=0.0), rung(name="b", price=2.0, conversion=0.0),
                         gradual=False, capacity=7.0, offer_cost=2.0))
    m.run_for(10)
    ts = m.timeseries().iloc[1:]
    assert (ts["operator_capacity_used"] <= 7.0).all()
    assert ((ts["offers_rung_a"] + ts["offers_rung_b"]) == 3).all()  # floor(7 / 2) offers a day
    assert (ts["operator_capacity_used"] == 6.0).all()


def test_private_offer_repeats_only_after_cadence():
    m = make(9, **ladder(rung(name="a", price=1.0, conversion=0.0, cadence=5), capacity=1e6))
    lad = the_ladder(m)
    repeats = 0
    for _ in range(12):
        prev = lad.last_offer[0].copy()
        m.step()
        t = m.ctx.step
        today = np.flatnonzero(lad.last_offer[0] == t)
        assert len(today) == m.timeseries()["offers_rung_a"].iloc[-1]
        assert (t - prev[today] >= 5).all()
        repeats += int((prev[today] > 0).sum())
    assert repeats > 0  # members were offered again once the cadence had passed


def test_same_seed_same_ladder_run():
    kw = ladder(rung(name="a", price=5.0, conversion=0.3), rung(name="b", price=50.0, channel="broadcast",
                                                                 cadence=3, conversion=0.2))
    a = qs.simulate(rng=3, steps=30, **BASE, **kw)
    b = qs.simulate(rng=3, steps=30, **BASE, **kw)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)


# ----------------------------------------------------------------------------- ads


def test_ads_are_low_value_messages_and_revenue_scales_with_precision():
    still = {"dynamics.inflow": 0.0, "dynamics.referral_rate": 0.0}
    revs = []
    for interest in (1.0, 0.5):
        m = make(10, still, **{"monetization.ads": {"per_day": 3.0, "rate": 0.1, "quality": 0.02}})
        m.state.interest[:] = interest
        m.step()
        ads = m.ctx.messages.kind == MSG_AD
        assert ads.sum() > 0
        assert (m.ctx.messages.quality[ads] == np.float32(0.02)).all()
        assert (m.ctx.messages.author[ads] == -1).all()
        ts = m.timeseries()
        revs.append(ts["revenue_ads"].iloc[-1])
        assert ts["ad_impressions"].iloc[-1] > 0
        assert ts["ad_precision"].iloc[-1] == pytest.approx(interest)
        assert ts["revenue_ads"].iloc[-1] == pytest.approx(0.1 * interest * ts["ad_impressions"].iloc[-1])
    assert revs[0] == pytest.approx(2 * revs[1])


def test_ads_count_in_the_group_volume():
    m = make(11, **{"monetization.ads": {"per_day": 5.0}})
    m.step()
    msgs = m.ctx.messages
    assert m.ctx.group_volume.sum() == len(msgs)
    assert m.timeseries()["messages"].iloc[-1] == len(msgs)


# ----------------------------------------------------------------------------- membership fee


def test_membership_fee_bills_each_period_and_removes_who_will_not_pay():
    m = make(12, {"dynamics.hazard_max": 0.0, "dynamics.hazard_base": 0.0, "dynamics.inflow": 0.0,
                  "dynamics.referral_rate": 0.0},
             **{"monetization.membership_fee": {"fee": 30.0, "period": 10}})
    st = m.state
    seeds = st.active_ids()
    poor = seeds[(st.role[seeds] != Role.OWNER)][::3]
    st.wtp[seeds] = 100.0
    st.wtp[poor] = 10.0
    m.run_for(9)
    assert (st.status[poor] == Status.ACTIVE).all() and m.timeseries()["revenue"].sum() == 0
    m.step()  # day 10: first bill
    assert (st.status[poor] == Status.LEFT).all()
    assert (st.leave_reason[poor] == LeaveReason.FORCED).all()
    payers = seeds[(st.status[seeds] == Status.ACTIVE) & (st.role[seeds] != Role.OWNER)]
    ts = m.timeseries()
    assert ts["revenue_membership_fee"].iloc[-1] == pytest.approx(30.0 * len(payers))
    assert ts["fee_lapsed"].iloc[-1] == len(poor)
    np.testing.assert_allclose(st.spend[payers], 30.0)
    owner = seeds[st.role[seeds] == Role.OWNER]
    assert (st.status[owner] == Status.ACTIVE).all() and (st.spend[owner] == 0).all()
    m.run_for(10)  # day 20: second bill
    np.testing.assert_allclose(st.spend[payers[st.status[payers] == Status.ACTIVE]], 60.0)


# ----------------------------------------------------------------------------- profit sharing


def test_profit_sharing_boosts_partners_and_pays_commission_per_referral():
    m = make(13, {"dynamics.referral_rate": 0.5, "dynamics.referral_trust": 0.0},
             **{"monetization.profit_sharing": {"commission": 7.0, "boost": 4.0},
                "monetization.ladder": {"rungs": [rung(name="p", price=1.0, tier="partner", conversion=1.0)],
                                        "capacity": 1000}})
    ps = [p for p in m.policies["monetization"] if p.key == "profit_sharing"][0]
    st = m.state
    paid = 0.0
    for _ in range(15):
        tier_before = st.tier.copy()  # the tier when inviting (before today's purchases)
        m.step()
        joined, inviter = m._last_referrals
        expect = 7.0 * int((tier_before[inviter] >= Tier.PARTNER).sum())
        ts = m.timeseries()
        assert ts["commission_paid"].iloc[-1] == pytest.approx(expect)
        assert ts["net_revenue"].iloc[-1] == pytest.approx(ts["revenue"].iloc[-1] - expect)
        paid += expect
    assert paid > 0
    assert m.timeseries()["commission_cumulative"].iloc[-1] == pytest.approx(paid)
    ids = st.active_ids()
    boost = ps.referral_boost(m, ids)
    np.testing.assert_array_equal(boost, np.where(st.tier[ids] >= Tier.PARTNER, 4.0, 1.0))


# ----------------------------------------------------------------------------- configs and errors


@pytest.mark.parametrize("rungs, key, words", [
    ([rung(price=-1.0)], "monetization.ladder.rungs.0.price", "greater than or equal to 0"),
    ([rung(name="a"), rung(name="b", channel="telegram")], "monetization.ladder.rungs.1.channel", "broadcast"),
    ([rung(min_trust=1.5)], "monetization.ladder.rungs.0.min_trust", "less than or equal to 1"),
    ([rung(min_trust=-0.1)], "monetization.ladder.rungs.0.min_trust", "greater than or equal to 0"),
    ([rung(conversion=2.0)], "monetization.ladder.rungs.0.conversion", "less than or equal to 1"),
    ([rung(cadence=0)], "monetization.ladder.rungs.0.cadence", "greater than or equal to 1"),
    ([rung(tier="king")], "monetization.ladder.rungs.0.tier", "shareholder"),
    ([rung(colour="red")], "monetization.ladder.rungs.0.colour", "not a known key"),
    ([{"price": 1.0}], "monetization.ladder.rungs.0.name", "required"),
    ([rung(name="Big Offer")], "monetization.ladder.rungs.0.name", "identifier"),
    ([], "monetization.ladder.rungs", "at least 1"),
])
def test_bad_rung_parameters_name_the_key(rungs, key, words):
    with pytest.raises(ConfigError) as e:
        qs.load_config({"monetization": {"ladder": {"rungs": rungs}}})
    msg = str(e.value)
    assert f"`{key}`" in msg and words in msg


@pytest.mark.parametrize("table, key", [
    ({"ladder": {"capacity": -5}}, "monetization.ladder.capacity"),
    ({"ladder": {"rungs": [rung(name="a"), rung(name="a")]}}, "monetization.ladder"),
    ({"ads": {"rate": -0.1}}, "monetization.ads.rate"),
    ({"ads": {"quality": 1.5}}, "monetization.ads.quality"),
    ({"membership_fee": {"fee": -30}}, "monetization.membership_fee.fee"),
    ({"membership_fee": {"period": 0}}, "monetization.membership_fee.period"),
    ({"membership_fee": {"exempt": ["king"]}}, "monetization.membership_fee.exempt.0"),
    ({"profit_sharing": {"min_tier": "boss"}}, "monetization.profit_sharing.min_tier"),
    ({"lottery": {}}, "monetization.lottery"),
])
def test_bad_policy_parameters_name_the_key(table, key):
    with pytest.raises(ConfigError) as e:
        qs.load_config({"monetization": table})
    assert f"`{key}" in str(e.value)


def test_ladder_rungs_from_toml_array_of_tables(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text("""
[monetization.ladder]
capacity = 5
[[monetization.ladder.rungs]]
name = "low"
price = 9.9
[[monetization.ladder.rungs]]
name = "mid"
price = -99
""")
    with pytest.raises(ConfigError) as e:
        qs.load_config(f)
    assert str(f) in str(e.value) and "`monetization.ladder.rungs.1.price`" in str(e.value)
    f.write_text(f.read_text().replace("-99", "99"))
    cfg = qs.load_config(f)
    assert [r["name"] for r in cfg["monetization.ladder.rungs"]] == ["low", "mid"]
    # a resolved config round-trips through TOML
    g = tmp_path / "round.toml"
    g.write_text(cfg.to_toml())
    assert qs.load_config(g).to_dict()["monetization"] == cfg.to_dict()["monetization"]


@pytest.mark.parametrize("name", ["ladder", "hardsell", "ads", "fee", "profit_sharing"])
def test_shipped_configs_run(name):
    res = qs.simulate(f"configs/monetization_{name}.toml", rng=1, steps=15,
                      **{"community.n_seed": 60, "community.n_prospects": 300})
    assert "revenue_cumulative" in res.timeseries
    assert np.isfinite(res.timeseries.select_dtypes("number").to_numpy()).all()


# ----------------------------------------------------------------------------- invariants

rung_strategy = hst.fixed_dictionaries({  # inside the declared ranges (tests/_strategies.py)
    "price": declared(Rung, "price", hi=300.0), "value": declared(Rung, "value", hi=500.0),
    "min_trust": declared(Rung, "min_trust"), "cadence": declared(Rung, "cadence", hi=10),
    "channel": hst.sampled_from(["broadcast", "private"]),
    "conversion": declared(Rung, "conversion"), "tier": hst.sampled_from(["member", "fan", "partner", "shareholder"]),
})


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rungs=hst.lists(rung_strategy, min_size=1, max_size=4), gradual=hst.booleans(),
       capacity=declared(Ladder.Params, "capacity", hi=50.0), ads=declared(Ads.Params, "per_day", hi=3.0),
       fee=declared(MembershipFee.Params, "fee", hi=80.0), seed=hst.integers(0, 2**31 - 1))
def test_invariants_with_every_monetization_policy(rungs, gradual, capacity, ads, fee, seed):
    rungs = [{**r, "name": f"r{i}"} for i, r in enumerate(rungs)]
    m = qs.CommunityModel(rng=seed, **{
        "community.n_seed": 50, "community.n_prospects": 300,
        "monetization.ladder": {"rungs": rungs, "gradual": gradual, "capacity": capacity},
        "monetization.ads": {"per_day": ads},
        "monetization.membership_fee": {"fee": fee, "period": 7},
        "monetization.profit_sharing": {"commission": 5.0}})
    st = m.state
    spend, tier = st.spend.copy(), st.tier.copy()
    for _ in range(20):
        m.step()
        assert (st.spend >= spend).all() and (st.tier >= tier).all()  # sunk costs and tiers only grow
        spend, tier = st.spend.copy(), st.tier.copy()
        t = st.trust
        assert np.isfinite(t).all() and ((t >= 0) & (t <= 1)).all()
        joined = int((st.join_step >= 0).sum())
        assert joined == int(np.isin(st.status, (Status.ACTIVE, Status.LEFT, Status.BANNED)).sum())
        assert m.ctx.operator_capacity_used <= capacity + 1e-9
    ts = m.timeseries()
    num = ts.select_dtypes("number")
    assert not num.isna().any().any()
    money = [c for c in ts if c.startswith(("revenue", "commission", "offers_", "purchases_", "ad_"))]
    assert (ts[money] >= 0).all().all()
    members_paid = float(st.spend.sum())
    sold = float(ts[[c for c in ts if c.startswith("revenue_rung_") or c == "revenue_membership_fee"]].sum().sum())
    assert members_paid == pytest.approx(sold, rel=1e-4, abs=1e-3)


def test_an_emptied_community_reports_no_sales():
    m = make(14, {"dynamics.inflow": 0.0, "dynamics.referral_rate": 0.0},
             **ladder(rung(name="a", price=1.0, conversion=1.0), capacity=100),
             **{"monetization.ads": {"per_day": 2.0}, "monetization.membership_fee": {"fee": 1.0, "period": 1}})
    m.step()
    assert m.timeseries()["offers_rung_a"].iloc[-1] > 0
    m.remove_members(m.state.active_ids(), "forced")
    m.step()
    last = m.timeseries().iloc[-1]
    assert last["active"] == 0
    for col in ("offers_rung_a", "purchases_rung_a", "revenue", "ad_impressions", "fee_billed"):
        assert last[col] == 0, col
