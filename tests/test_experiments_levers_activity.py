"""Smoke-size runs of the gate and activity-policy studies: direction and significance.

Each study runs every arm with the same seeds (common random numbers) and compares arms by
paired differences over replicates (one-sided paired t tests, alpha = 0.05).
"""

import importlib.util
import sys
from pathlib import Path

import pytest

EXP = Path(__file__).resolve().parents[1] / "experiments"


def _load(name):
    if str(EXP) not in sys.path:
        sys.path.insert(0, str(EXP))
    spec = importlib.util.spec_from_file_location(f"_levers_{name}", EXP / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ALPHA = 0.05


@pytest.fixture(scope="module")
def sf4(tmp_path_factory):
    return _load("sf4_gates").run(smoke=True, out=tmp_path_factory.mktemp("sf4"))


@pytest.fixture(scope="module")
def sf8(tmp_path_factory):
    return _load("sf8_care").run(smoke=True, out=tmp_path_factory.mktemp("sf8"))


@pytest.fixture(scope="module")
def rk(tmp_path_factory):
    return _load("ren_kraut_moderation").run(smoke=True, out=tmp_path_factory.mktemp("rk"))


# ------------------------------------------------------------------ SF4 gates
def test_sf4_stricter_gates_slower_growth_lower_churn(sf4):
    t = sf4["tests"]
    assert t["slower_growth"]["diff"] < 0 and t["slower_growth"]["p_less"] < ALPHA
    assert t["lower_newcomer_churn"]["diff"] < 0 and t["lower_newcomer_churn"]["p_less"] < ALPHA
    assert t["lower_churn"]["diff"] < 0 and t["lower_churn"]["p_less"] < ALPHA


def test_sf4_revenue_per_member_rises_then_the_too_strict_end_withers(sf4):
    t = sf4["tests"]
    assert t["more_revenue_per_member"]["p_greater"] < ALPHA
    assert t["too_strict_less_revenue_per_member"]["p_less"] < ALPHA
    assert t["too_strict_smaller"]["p_less"] < ALPHA
    by = sf4["by_level"]
    joined = [by[s]["joined"]["mean"] for s in sorted(by)]
    assert joined == sorted(joined, reverse=True)  # growth falls at every step of strictness
    # the strictest gate keeps out chatters and spammers entirely
    assert by[1.0]["bad_intake_share"]["mean"] == 0 or by[1.0]["joined"]["mean"] < 1
    assert sf4["holds"]


def test_sf4_writes_its_figure_and_data(sf4):
    assert Path(sf4["figure"]).stat().st_size > 10_000
    assert (Path(sf4["figure"]).parent / "sf4_gates.json").exists()
    runs = sf4["runs"]
    assert len(runs) == len(sf4["levels"]) * sf4["replicates"]


# ------------------------------------------------------------------ SF8 care
def test_sf8_care_lowers_churn_at_operator_cost(sf8):
    top = max(sf8["tests"])
    t = sf8["tests"][top]
    assert t["leave_hazard"]["diff"] < 0 and t["leave_hazard"]["p_less"] < ALPHA
    assert t["capacity_total"]["diff"] > 0
    by = sf8["by_capacity"]
    assert by[0.0]["capacity_total"]["mean"] == 0
    assert 0 < by[top]["capacity_per_day"]["mean"] <= top
    runs = sf8["runs"]
    cared = runs[runs["capacity"] == top]
    assert (cared["capacity_total"] == cared["contacts"]).all()  # cost 1 per contact
    assert sf8["holds"] and Path(sf8["figure"]).exists()


# ------------------------------------------------------------------ Ren & Kraut
def test_ren_kraut_community_moderation_cuts_volume_personal_keeps_it(rk):
    t = rk["tests"]
    assert t["community_fewer_messages"]["p_less"] < ALPHA
    assert t["personal_keeps_messages"]["diff"] > -0.1 * rk["by_arm"]["none"]["messages_per_day"]["mean"]
    # members still post as much under community moderation: the removals make the difference
    by = rk["by_arm"]
    assert by["community"]["posts_per_day"]["mean"] > 1.5 * by["community"]["messages_per_day"]["mean"]


def test_ren_kraut_both_moderations_retain_personal_keeps_commitment(rk):
    t = rk["tests"]
    assert t["community_better_retention"]["p_less"] < ALPHA
    assert t["personal_better_retention"]["p_less"] < ALPHA
    assert t["personal_more_commitment"]["p_greater"] < ALPHA
    assert t["moderated_authors_commitment"]["p_greater"] < ALPHA
    assert rk["holds"] and Path(rk["figure"]).exists()
