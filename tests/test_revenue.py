"""Revenue, conversion, funnel and lifetime-value metrics: hand-checked tables and a run."""

import numpy as np
import pandas as pd
import pytest

import qunsim as qs
from qunsim import revenue as R
from qunsim.policies.monetization import Ladder


def tiny_ts():
    return pd.DataFrame({
        "step": [0, 1, 2, 3],
        "revenue": [0.0, 19.9, 99.0, 15.0],
        "revenue_cumulative": [0.0, 19.9, 118.9, 133.9],
        "revenue_rung_low": [0.0, 19.8, 0.0, 0.0],
        "revenue_rung_mid": [0.0, 0.0, 99.0, 0.0],
        "revenue_ads": [0.0, 0.1, 0.0, 15.0],
        "offers_rung_low": [0, 10, 10, 0],
        "purchases_rung_low": [0, 2, 0, 0],
        "offers_rung_mid": [0, 0, 4, 0],
        "purchases_rung_mid": [0, 0, 1, 0],
        "offers_rung_never": [0, 0, 0, 0],
        "purchases_rung_never": [0, 0, 0, 0],
        "commission_paid": [0.0, 0.0, 20.0, 0.0],
        "tier_member": [5, 3, 2, 2],
        "tier_fan": [0, 2, 2, 2],
        "tier_partner": [0, 0, 1, 1],
        "tier_shareholder": [0, 0, 0, 0],
        "operator_capacity_used": [0.0, 10.0, 14.0, 0.0],
    })


def tiny_members():
    return pd.DataFrame({
        "member_id": [0, 1, 2, 3, 4, 5],
        "role": pd.Categorical(["owner", "expert", "regular", "regular", "regular", "chatter"]),
        "entry_path": ["seed", "seed", "seed", "referral", "exposure", "referral"],
        "status": ["active", "active", "left", "active", "active", "left"],
        "join_step": [0, 0, 0, 1, 2, 2],
        "tier": ["member", "partner", "fan", "fan", "member", "member"],
        "spend": [0.0, 108.9, 9.9, 9.9, 0.0, 0.0],
    })


def test_by_source_by_rung_and_conversion_by_hand():
    ts = tiny_ts()
    assert R.revenue_by_source(ts).round(2).to_dict() == {"rung_low": 19.8, "rung_mid": 99.0, "ads": 15.1}
    assert R.revenue_by_rung(ts).round(2).to_dict() == {"low": 19.8, "mid": 99.0, "never": 0.0}
    conv = R.conversion_by_rung(ts).set_index("rung")
    assert conv.loc["low", "conversion"] == pytest.approx(0.1)
    assert conv.loc["mid", "conversion"] == pytest.approx(0.25)
    assert np.isnan(conv.loc["never", "conversion"])  # no offers: undefined, not 0


def test_daily_and_net_revenue_by_hand():
    rd = R.revenue_daily(tiny_ts())
    assert rd["revenue_cumulative"].round(2).tolist() == [0.0, 19.9, 118.9, 133.9]
    assert rd["net_revenue"].round(2).tolist() == [0.0, 19.9, 79.0, 15.0]
    assert rd["net_revenue_cumulative"].iloc[-1] == pytest.approx(113.9)


def test_funnel_counts_and_shares():
    f = R.funnel(tiny_ts())
    assert f.columns.tolist() == ["step", "member", "fan", "partner", "shareholder"]
    assert f.iloc[2].tolist() == [2, 2, 2, 1, 0]
    s = R.funnel(tiny_ts(), share=True)
    np.testing.assert_allclose(s[["member", "fan", "partner", "shareholder"]].sum(axis=1), 1.0)
    assert s["partner"].iloc[2] == pytest.approx(0.2)


def test_revenue_per_member_and_lifetime_value_by_hand():
    ts, mem = tiny_ts(), tiny_members()
    assert R.revenue_per_member(ts, mem) == pytest.approx(133.9 / 6)
    assert R.revenue_per_member(ts, mem, net=True) == pytest.approx(113.9 / 6)
    ltv = R.lifetime_value(mem, by="role").set_index("role")
    assert ltv.loc["regular", "members"] == 3
    assert ltv.loc["regular", "payers"] == 2
    assert ltv.loc["regular", "ltv_mean"] == pytest.approx(19.8 / 3)
    assert ltv.loc["expert", "ltv_mean"] == pytest.approx(108.9)
    assert np.isnan(ltv.loc["expert", "ltv_ci_low"])  # one member: no interval
    lo, hi = ltv.loc["regular", ["ltv_ci_low", "ltv_ci_high"]]
    assert lo < 19.8 / 3 < hi
    by_path = R.lifetime_value(mem, by="entry_path").set_index("entry_path")
    assert by_path["total"].sum() == pytest.approx(mem["spend"].sum())
    assert by_path.loc["referral", "paying_share"] == pytest.approx(0.5)
    with pytest.raises(KeyError, match="colour"):
        R.lifetime_value(mem, by="colour")


def test_operator_capacity_and_summary_by_hand():
    ts, mem = tiny_ts(), tiny_members()
    assert R.operator_capacity(ts) == {"capacity_total": 24.0, "capacity_mean": 8.0, "capacity_peak": 14.0}
    s = R.revenue_summary(ts, mem)
    assert s["revenue_total"] == pytest.approx(133.9)
    assert s["net_revenue_total"] == pytest.approx(113.9)
    assert s["commission_total"] == 20.0
    assert s["paying_share"] == pytest.approx(0.5)
    assert s["seed_retention"] == pytest.approx(2 / 3)
    assert s["conversion_low"] == pytest.approx(0.1)
    assert s["final_partner"] == 1


def test_metrics_agree_with_a_run():
    kw = {"community.n_seed": 80, "community.n_prospects": 500, "dynamics.contagion": False,
          "monetization.ladder": {"capacity": 30, "rungs": [
              dict(name="low", price=9.9, value=30, min_trust=0.0, channel="private", conversion=0.4, tier="fan"),
              dict(name="mid", price=99, value=150, min_trust=0.5, channel="private", conversion=0.3, tier="partner"),
              dict(name="hard", price=50, value=40, channel="broadcast", cadence=7, conversion=0.1, tier="fan")],
              "gradual": False},
          "monetization.ads": {"per_day": 1.0}}
    model = qs.CommunityModel(rng=5, **kw)
    model.run_for(40)
    ts, mem = model.timeseries(), model.members_frame()
    by_src = R.revenue_by_source(ts)
    assert by_src.sum() == pytest.approx(ts["revenue"].sum())
    assert set(by_src.index) == {"rung_low", "rung_mid", "rung_hard", "ads"}
    conv = R.conversion_by_rung(ts).set_index("rung")
    lad = [p for p in model.policies["monetization"] if isinstance(p, Ladder)][0]
    np.testing.assert_array_equal(conv["offers"].to_numpy(), lad.total_offers)
    np.testing.assert_array_equal(conv["purchases"].to_numpy(), lad.total_purchases)
    assert (conv["purchases"] > 0).all()
    assert ((conv["conversion"] >= 0) & (conv["conversion"] <= 1)).all()
    f = R.funnel(ts)
    np.testing.assert_array_equal(f[["member", "fan", "partner", "shareholder"]].sum(axis=1), ts["active"])
    # lifetime values add up to what the ladder sold (ads are paid by advertisers, not members)
    ltv = R.lifetime_value(mem, by="initial_role")
    rungs = by_src[[i for i in by_src.index if i.startswith("rung_")]].sum()
    assert ltv["total"].sum() == pytest.approx(rungs, rel=1e-5)
    cap = R.operator_capacity(ts)
    assert 0 < cap["capacity_peak"] <= 30
