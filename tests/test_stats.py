"""qunsim.stats against hand-worked and published tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qunsim import stats

# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I,
# method 3 (Wilson score interval without continuity correction).
NEWCOMBE = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize("k,n,lo,hi", NEWCOMBE)
def test_wilson_matches_newcombe_table(k, n, lo, hi):
    w = stats.wilson(k, n)
    assert w["p"] == pytest.approx(k / n)
    assert w["low"] == pytest.approx(lo, abs=1e-4) and w["high"] == pytest.approx(hi, abs=1e-4)


def test_wilson_hand_worked_and_edges():
    # 6 of 20, z = 1.959964: centre (0.3 + z²/40) / (1 + z²/20) = 0.33223,
    # half z sqrt(0.0105 + z²/1600) / (1 + z²/20) = 0.18675
    w = stats.wilson(6, 20)
    assert (w["low"], w["high"]) == (pytest.approx(0.14548, abs=1e-5), pytest.approx(0.51897, abs=1e-5))
    # k = n mirrors k = 0
    assert stats.wilson(10, 10)["low"] == pytest.approx(1 - stats.wilson(0, 10)["high"])
    assert stats.wilson(10, 10)["high"] == 1.0 and stats.wilson(0, 10)["low"] == 0.0
    assert math.isnan(stats.wilson(0, 0)["p"])
    with pytest.raises(ValueError):
        stats.wilson(3, 2)


@settings(deadline=None)
@given(st.integers(0, 400), st.integers(1, 400))
def test_wilson_brackets_the_proportion(k, n):
    k = min(k, n)
    w = stats.wilson(k, n)
    assert 0.0 <= w["low"] <= w["p"] <= w["high"] <= 1.0


def test_quantiles_are_hyndman_fan_type_7():
    # R: quantile(1:10, c(.05, .25, .5, .75, .95)) -> 1.45 3.25 5.50 7.75 9.55
    q = stats.quantiles(np.arange(1, 11))
    assert [round(q[k], 10) for k in ("q05", "q25", "q50", "q75", "q95")] == [1.45, 3.25, 5.5, 7.75, 9.55]
    assert math.isnan(stats.quantiles([])["q50"])
    assert stats.quantiles([np.nan, 2.0, np.inf])["q50"] == 2.0  # non-finite values dropped


def test_mean_ci_and_paired_difference_hand_worked():
    r = stats.mean_ci([1.0, 2.0, 3.0])  # 2 ± t(0.975, 2) · 1 / sqrt(3) = 2 ± 2.4841
    assert (r["low"], r["high"]) == (pytest.approx(-0.48414, abs=1e-5), pytest.approx(4.48414, abs=1e-5))
    # differences 2, 2, 3: mean 7/3, sd 0.57735, se 1/3, t(0.975, 2) = 4.302653
    d = stats.paired_difference([3.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    assert d["mean"] == pytest.approx(7 / 3)
    assert (d["low"], d["high"]) == (pytest.approx(7 / 3 - 1.434218, abs=1e-5), pytest.approx(7 / 3 + 1.434218, abs=1e-5))
    # t = 7 on 2 dof, where the t survival function is 1/2 - t / (2 sqrt(t² + 2))
    assert d["p_value"] == pytest.approx(2 * (0.5 - 7 / (2 * math.sqrt(51))), rel=1e-9)
    same = stats.paired_difference([1.0, 2.0], [1.0, 2.0])
    assert (same["mean"], same["low"], same["high"], same["p_value"]) == (0.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        stats.paired_difference([1.0], [1.0, 2.0])


def test_paired_interval_is_narrower_than_unpaired_under_common_noise():
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 10, 40)  # shared by both arms (common random numbers)
    a, b = 5 + noise + rng.normal(0, 1, 40), noise + rng.normal(0, 1, 40)
    p, u = stats.paired_difference(a, b), stats.diff_ci(a, b)
    assert p["high"] - p["low"] < 0.3 * (u["high"] - u["low"])
    assert p["low"] > 0 and u["low"] < 0  # pairing finds the effect the unpaired test misses


def test_regret_hand_worked_table():
    # scenario  a   b   c     best  regret a  b  c
    #   s1     10   8   9     10            0  2  1
    #   s2      4   5   7      7            3  2  0
    #   s3      6   9   6      9            3  0  3
    v = pd.DataFrame({"a": [10.0, 4.0, 6.0], "b": [8.0, 5.0, 9.0], "c": [9.0, 7.0, 6.0]},
                     index=["s1", "s2", "s3"])
    r = stats.regret(v)
    assert r["max_regret"].to_dict() == {"a": 3.0, "b": 2.0, "c": 3.0}
    assert r["mean_regret"].to_dict() == pytest.approx({"a": 2.0, "b": 4 / 3, "c": 4 / 3})
    assert r["best_in"].to_dict() == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    # minimising: the smallest value is best
    rm = stats.regret(v, maximise=False)
    assert rm["max_regret"].to_dict() == {"a": 2.0, "b": 3.0, "c": 3.0}  # best: 8, 4, 6


def test_hazard_ratio_is_finite_and_neutral_without_data():
    assert stats.hazard_ratio(0, 0, 0, 0)["ratio"] == 1.0
    r = stats.hazard_ratio(10, 100, 1, 100)
    assert r["ratio"] == pytest.approx(7.0) and r["low"] < 7.0 < r["high"]
    assert r["se_log"] == pytest.approx(math.sqrt(1 / 10.5 + 1 / 1.5))


def test_band_quantiles_and_interval():
    ts = pd.DataFrame({"step": [0, 0, 0, 1, 1, 1], "x": [1.0, 2.0, 3.0, 5.0, 5.0, 5.0]})
    b = stats.band(ts, "x", qs=(0.05, 0.95))
    assert b["mean"].tolist() == [2.0, 5.0] and b["n"].tolist() == [3, 3]
    assert b["q05"].tolist() == pytest.approx([1.1, 5.0]) and b["upper"].iloc[1] == 5.0
