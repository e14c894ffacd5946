"""Content channels that follow the content (``dynamics.content_bounce``): a visitor who lands
on chatter or spam leaves, so the exogenous exposure rate is scaled by
``1 - content_bounce x`` the low-quality share of the content so far (docs/model.md)."""

import os
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs

import qunsim as qs
from _strategies import declared
from qunsim.config import Dynamics
from qunsim.kernels import content_low_quality
from qunsim.state import EntryPath

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import reference as R  # noqa: E402

KW = {"community.n_seed": 60, "community.n_prospects": 1500, "run.agent_views": False}


@given(days=hs.lists(hs.tuples(hs.integers(0, 500), hs.floats(0.0, 1.0)), min_size=0, max_size=60),
       memory=declared(Dynamics, "content_memory"))
def test_content_share_is_the_reference_loop(days, memory):
    """The array version equals the per-day loop of the per-agent reference (which weighs
    every day; the array version drops days weighing under 1e-12), and is a share."""
    msgs = np.array([float(m) for m, _ in days])
    low = np.array([s for _, s in days])
    got = content_low_quality(msgs, low, memory)
    rows = [{"messages": m, "low_quality_share": s} for m, s in days]
    assert got == pytest.approx(R.ref_content_low_quality(rows, memory), rel=1e-9, abs=1e-12)
    assert 0.0 <= got <= 1.0 + 1e-12


def test_the_rate_is_the_documented_formula():
    """On day t the exposure rate is inflow x ramp x halving x (1 - bounce x share), the share
    recomputed here from the recorded timeseries with the reference's loop."""
    m = qs.CommunityModel(rng=4, **KW, **{"dynamics.content_bounce": 0.7, "dynamics.content_memory": 0.9,
                                           "community.chatter_share": 0.3})
    m.run_for(40)
    p, t = m.p, m.steps + 1
    rows = m.timeseries()[["messages", "low_quality_share"]].to_dict("records")
    share = R.ref_content_low_quality(rows, 0.9)
    assert 0.1 < share < 0.9  # a chatty community: the bounce matters
    base = p.inflow * min(1.0, t / p.inflow_ramp) * 0.5 ** ((t - 1) / p.inflow_halflife)
    assert m._inflow_rate(t) == pytest.approx(base * (1 - 0.7 * share), rel=1e-12)
    assert m.content_low_quality() == pytest.approx(share, rel=1e-12)


def test_without_low_quality_content_the_bounce_changes_nothing():
    """No chatters, no spammers, no conversion to chatter: the share is 0 every day, and a run
    with content_bounce 1 is the run without it, day for day."""
    clean = {**KW, "community.chatter_share": 0.0, "community.spammer_share": 0.0,
             "dynamics.chatter_conversion": 0.0}
    a = qs.CommunityModel(rng=8, **clean)
    b = qs.CommunityModel(rng=8, **clean, **{"dynamics.content_bounce": 1.0})
    a.run_for(60)
    b.run_for(60)
    assert (a.timeseries()["low_quality_share"] == 0).all()
    assert a.timeseries().equals(b.timeseries())


def _exposure_joins(bounce: float, seed: int) -> tuple[int, float]:
    m = qs.CommunityModel(rng=seed, **KW, **{"dynamics.content_bounce": bounce, "community.chatter_share": 0.1})
    m.run_for(120)
    st = m.state
    joined = (st.entry_path == EntryPath.EXPOSURE) & (st.join_step >= 0)
    return int(joined.sum()), float(m.timeseries()["low_quality_share"].iloc[1:].mean())


def test_chatty_content_turns_visitors_away():
    """Paired by seed (six seeds, 120 days, a chatty community, about half its messages
    chatter): with every visitor who lands on chatter leaving, the joins through content
    channels fall to about 1 - the low-quality share of the content (measured: 0.49 at a
    share of 0.50). Tolerance 0.15: the ~200 joins with the bounce give a ratio of totals
    an sd of ~0.04, and the share the visitors met differs from the run's mean share."""
    off = [_exposure_joins(0.0, s) for s in range(1, 7)]
    on = [_exposure_joins(1.0, s) for s in range(1, 7)]
    share = float(np.mean([x[1] for x in on]))
    assert 0.3 < share < 0.7
    ratio = sum(x[0] for x in on) / sum(x[0] for x in off)
    assert abs(ratio - (1 - share)) < 0.15, (ratio, share)


def test_a_copy_continues_the_same_content_channel():
    """The share is read from the recorded metrics, so a copy (and a checkpoint) continues
    with the same exposure rate and the same days."""
    m = qs.CommunityModel(rng=5, **KW, **{"dynamics.content_bounce": 1.0, "community.chatter_share": 0.3})
    m.run_for(30)
    c = m.copy()
    assert c._inflow_rate(31) == m._inflow_rate(31)
    m.run_for(20)
    c.run_for(20)
    assert m.timeseries().equals(c.timeseries())


def test_out_of_range_bounce_is_a_clear_error():
    with pytest.raises(qs.ConfigError, match="content_bounce"):
        qs.CommunityModel(rng=1, **{"dynamics.content_bounce": 1.5})
