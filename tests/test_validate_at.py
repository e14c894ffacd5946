"""experiments/validate_at.py: ``qunsim validate`` at a candidate calibration (``--set``)."""

import json
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "experiments" / "validate_at.py"


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_validate_at_records_the_settings_and_refuses_bad_input(tmp_path):
    out = tmp_path / "v"
    ok = _run("--smoke", "--only", "granovetter_riot", "--out", str(out), "--set", "dynamics.content_bounce=0.5")
    assert ok.returncode == 0, ok.stderr
    data = json.loads((out / "validation.json").read_text())
    assert data["settings"] == {"dynamics.content_bounce": 0.5}
    assert [a["id"] for a in data["anchors"]] == ["granovetter_riot"] and data["passed"] == 1
    assert "At a candidate calibration, not the defaults" in (out / "validation.html").read_text()
    for args, msg in ((("--out", str(out), "--set", "dynamics.content_bounce=0.5"), "already holds"),
                      (("--out", str(tmp_path / "w")), "at least one --set"),
                      (("--out", str(tmp_path / "w"), "--set", "dynamics.content_bounce=3"), "less than or equal to 1"),
                      (("--out", str(tmp_path / "w"), "--only", "nope", "--set", "dynamics.content_bounce=0.5"),
                       "unknown anchor")):
        bad = _run(*args)
        assert bad.returncode != 0 and msg in bad.stderr and "Traceback" not in bad.stderr, (args, bad.stderr)
    assert json.loads((out / "validation.json").read_text())["settings"]  # the refused run wrote nothing
