"""experiments/growth_probe.py: pairs chatty with baseline by seed, reads back, refuses bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qunsim.config import Dynamics

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "growth_probe.py"


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), "--workers", "1", *args], capture_output=True,
                          text=True, timeout=600)


def test_the_probe_pairs_chatty_with_baseline_by_seed(tmp_path):
    """The reported difference is the mean of the per-seed differences; a setting equal to the
    default gives the same runs; a perturbation of 1 changes nothing and one of 0.8 changes them."""
    runs = {}
    same = f"dynamics.habituation={Dynamics.model_fields['habituation'].default}"
    for name, args in {"default": (), "same": ("--set", same),
                       "unit": ("--perturb", "attention=1"), "less": ("--perturb", "attention=0.8"),
                       "people": ("--perturb", "population=1"), "fewer": ("--perturb", "population=0.8")}.items():
        out = tmp_path / f"{name}.json"
        r = _run("--seeds", "2", "--steps", "40", "--seed0", "5", "--json", str(out), *args)
        assert r.returncode == 0, r.stderr
        runs[name] = json.loads(out.read_text())
    res = runs["default"]
    assert res["seeds"] == [5, 6] and res["steps"] == 40
    for k, d in res["chatty_minus_baseline"].items():
        per_seed = [c[k] - b[k] for c, b in zip(res["runs"]["chatty"], res["runs"]["baseline"], strict=True)]
        assert d["diff"] == pytest.approx(np.mean(per_seed)) and d["paired"] and d["lo"] <= d["diff"] <= d["hi"]
    assert runs["same"]["runs"] == res["runs"] and runs["unit"]["runs"] == res["runs"]
    assert runs["less"]["runs"] != res["runs"] and runs["less"]["perturb"] == ["attention", 0.8]
    assert runs["people"]["runs"] == res["runs"] and runs["fewer"]["runs"] != res["runs"]
    # 40 founders instead of 50 (and 80% of the prospects): over 40 days it peaks lower at both seeds
    assert all(f["peak_active"] <= b["peak_active"] for f, b in
               zip(runs["fewer"]["runs"]["baseline"], res["runs"]["baseline"], strict=True))
    assert "chatty - baseline" in r.stdout


@pytest.mark.parametrize("args, message", [
    (("--seeds", "1"), "--seeds must be at least 2"),
    (("--set", "dynamics.no_such_key=1"), "expected dynamics.KEY=VALUE"),
    (("--perturb", "charm=0.8"), "expected ATTR=FACTOR"),
    (("--perturb", "attention=-1"), "must be a positive number"),
])
def test_bad_input_is_a_clear_error(args, message):
    r = _run(*args)
    assert r.returncode != 0 and message in r.stderr and "Traceback" not in r.stderr
