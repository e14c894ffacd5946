"""experiments/participation_probe.py: runs, pairs its comparison by seed, refuses bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "participation_probe.py"


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600)


def test_the_probe_pairs_its_comparison_by_seed(tmp_path):
    """A setting equal to the default (founder_floor 1) compared with the defaults on the same
    seeds: the same runs, so every paired difference is exactly 0; the JSON reads back."""
    out = tmp_path / "probe.json"
    r = _run("--set", "dynamics.founder_floor=1.0", "--seeds", "2", "--steps", "60", "--compare",
             "--json", str(out))
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert res["settings"] == {"dynamics.founder_floor": 1.0} and res["seeds"] == [10_000, 10_001]
    assert res["runs"] == res["default_runs"]
    for k, rec in res["measures"].items():
        d = rec["vs_default"]
        if d["diff"] == d["diff"]:  # NaN when a measure is undefined in a short run
            assert d["diff"] == 0.0, k
    assert "top1_share" in r.stdout and "vs default" in r.stdout


def test_the_probe_scales_a_role_attribute(tmp_path):
    """``--scale roles.ROLE.ATTR=F``: the setting records the scaled mean and sd of the
    default role table, and a factor of 1 reproduces the defaults' runs exactly while half the
    regulars' need changes them."""
    out = tmp_path / "probe.json"
    r = _run("--scale", "roles.regular.need=0.5", "--seeds", "2", "--steps", "60", "--compare",
             "--json", str(out))
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert res["settings"] == {"roles.regular.need": {"mean": 3.25, "sd": 1.0}}
    assert res["runs"] != res["default_runs"]
    same = tmp_path / "same.json"
    r = _run("--scale", "roles.regular.need=1", "--seeds", "2", "--steps", "60", "--compare",
             "--json", str(same))
    assert r.returncode == 0, r.stderr
    res = json.loads(same.read_text())
    assert res["runs"] == res["default_runs"]


@pytest.mark.parametrize("args, message", [
    (("--set", "dynamics.no_such_key=1"), "expected dynamics.KEY=VALUE"),
    (("--set", "dynamics.welcome_rate=abc"), "is not a TOML value"),
    (("--seeds", "1"), "--seeds must be at least 2"),
    (("--scale", "roles.regulars.need=0.9"), "expected roles.ROLE.ATTR=FACTOR"),
    (("--scale", "roles.regular.need=0"), "must be a positive number"),
])
def test_the_probe_refuses_bad_input_clearly(args, message):
    r = _run(*args)
    assert r.returncode != 0 and message in r.stderr and "Traceback" not in r.stderr
