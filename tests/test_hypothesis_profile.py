"""CI is deterministic: with CI set (or via scripts/test.sh) hypothesis runs derandomised."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = ("import runpy, hypothesis; runpy.run_path({conftest!r}); s = hypothesis.settings.default; "
         "print(s.derandomize, s.deadline, s.print_blob, s.database is None)")


@pytest.mark.parametrize("env, expected", [
    ({"CI": "true"}, "True None True True"),
    ({"CI": "1", "HYPOTHESIS_PROFILE": "dev"}, "False None True False"),
    ({}, "False None True False"),
    ({"HYPOTHESIS_PROFILE": "ci"}, "True None True True"),
])
def test_profile_selected_from_the_environment(env, expected, tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    r = subprocess.run([sys.executable, "-c", PROBE.format(conftest=str(ROOT / "tests" / "conftest.py"))],
                       env={**clean, **env}, cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == expected.split()


def test_the_readme_test_command_selects_the_ci_profile():
    text = (ROOT / "scripts" / "test.sh").read_text()
    assert "--hypothesis-profile=ci" in text
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("bash scripts/test.sh")
