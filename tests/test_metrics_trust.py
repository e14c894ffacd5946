"""Trustworthy metrics: lifecycle phases with hysteresis, a bounded pooled Gresham index, one
formatting rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qunsim import registry
from qunsim.metrics import MetricsCollector, gresham_estimate, lifecycle_phases


def _spells(ph):
    return [p for i, p in enumerate(ph) if i == 0 or p != ph[i - 1]]


@pytest.mark.parametrize("seed", range(6))
def test_noisy_plateau_does_not_flicker(seed):
    """Growth to 300 then two years of a plateau with 5% day-to-day noise: two phases."""
    rng = np.random.default_rng(seed)
    a = np.r_[np.linspace(50, 300, 120), 300 + rng.normal(0, 15, 610)]
    assert _spells(lifecycle_phases(a)) == ["growth", "maturity"]


@pytest.mark.parametrize("seed", range(6))
def test_a_33_percent_decline_ends_in_decline(seed):
    rng = np.random.default_rng(seed)
    a = np.r_[np.linspace(50, 300, 120), np.full(300, 300.0), np.linspace(300, 200, 310)] + rng.normal(0, 5, 730)
    ph = lifecycle_phases(a)
    assert ph[-1] == "decline"
    assert _spells(ph) == ["growth", "maturity", "decline"]


def test_phases_are_few_and_death_is_labelled():
    a = np.r_[np.linspace(10, 200, 100), np.linspace(200, 0, 100), np.zeros(20)]
    ph = lifecycle_phases(a)
    assert ph[-1] == "death" and len(_spells(ph)) <= 4
    flat = lifecycle_phases(np.full(100, 40.0))
    assert set(flat) == {"introduction"}


@settings(deadline=None)
@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=400))
def test_phases_are_labels_with_minimum_spells(xs):
    ph = lifecycle_phases(np.array(xs))
    assert len(ph) == len(xs) and set(ph) <= {"introduction", "growth", "maturity", "decline", "death"}
    # every spell after the first lasts at least 30 days, or is death, or runs to the end
    spells, start = [], 0
    for t in range(1, len(ph) + 1):
        if t == len(ph) or ph[t] != ph[start]:
            spells.append((ph[start], start, t))
            start = t
    for p, s, e in spells[1:-1]:
        assert e - s >= 30 or p == "death"


@settings(deadline=None)
@given(st.integers(0, 200), st.integers(0, 299), st.integers(0, 200), st.integers(0, 299))
def test_gresham_on_tiny_groups_is_neutral(lt, et, lb, eb):
    """Below 300 member-days in a quartile there is no evidence: exactly 1."""
    lt, lb = min(lt, et), min(lb, eb)
    g, lo, hi = gresham_estimate(lt, et, lb, eb)
    assert (g, lo, hi) == (1.0, 1.0, 1.0)


@settings(deadline=None)
@given(st.integers(0, 10**5), st.integers(300, 10**5), st.integers(0, 10**5), st.integers(300, 10**5))
def test_gresham_is_finite_and_bounded(lt, et, lb, eb):
    lt, lb = min(lt, et), min(lb, eb)
    g, lo, hi = gresham_estimate(lt, et, lb, eb)
    assert all(math.isfinite(x) and x > 0 for x in (g, lo, hi))
    assert g <= 2 * (eb + 1) and lo <= g <= hi


def test_gresham_pools_a_window_and_reports_an_interval():
    mc = MetricsCollector(gresham_window=60)
    out = [mc.gresham_update(1 if d % 5 == 0 else 0, 20, 0, 20) for d in range(60)]  # 12 leaves vs 0
    assert out[10] == 1.0  # 220 member-days: not yet estimable
    assert out[-1] == pytest.approx((12.5 / 1201) / (0.5 / 1201))
    hr = mc.gresham_totals()
    assert hr[1] > 1.0 and hr[0] < hr[2]
    # one bad day (a 3-member quartile losing 2) cannot explode the index
    mc2 = MetricsCollector()
    vals = [mc2.gresham_update(2 if d == 0 else 0, 3, 0, 3) for d in range(60)]
    assert max(vals) == 1.0


def test_one_formatting_rule():
    assert registry.fmt("final_expert_retention", 0.0429) == "4.3%"
    assert registry.fmt("mean_low_quality_share", 0.25) == "25.0%"
    assert registry.fmt("mean_churn_rate", 0.01) == "1.00%/day (26.0%/30 d)"
    assert registry.fmt("churn_30d", 0.26) == "26.0%"
    assert registry.fmt("final_active", 1234.0) == "1,234"
    assert registry.fmt_diff("final_expert_retention", -0.05) == "−5.0 pp"
    assert registry.per_30_days(0.0) == 0.0 and registry.per_30_days(1.0) == 1.0
    for name, m in registry.METRICS.items():
        assert m.direction in (-1, 0, 1) and m.format in ("pct", "rate", "int", "num", "money", "ratio", "text"), name


def test_model_reporters_come_from_the_registry():
    import qunsim as qs

    model = qs.CommunityModel(rng=1, **{"community.n_seed": 30, "community.n_prospects": 100})
    assert set(registry.MODEL_REPORTERS) <= set(model.datacollector.model_reporters)
    res = qs.simulate(rng=2, steps=40, **{"community.n_seed": 40, "community.n_prospects": 300})
    s = res.summary
    assert s["final_phase"] == res.timeseries["phase"].iloc[-1]
    assert s["churn_30d"] == pytest.approx(registry.per_30_days(s["leave_hazard"]))
    assert s["gresham_hr_low"] <= s["gresham_hr"] <= s["gresham_hr_high"]
    ts = res.timeseries
    assert (ts["gresham_low"] <= ts["gresham_index"]).all() and (ts["gresham_index"] <= ts["gresham_high"]).all()


def test_metrics_page_example_prints_what_it_says(capsys):
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text(encoding="utf-8")
    code, expected = re.findall(r"```python\n(.*?)```\n\nprints\n\n```\n(.*?)```", page, flags=re.S)[0]
    exec(compile(code, "docs/metrics.md", "exec"), {})
    assert capsys.readouterr().out == expected
