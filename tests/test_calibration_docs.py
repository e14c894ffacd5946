"""docs/calibration.md runs: its files are the shipped ones, its commands and code execute."""

import re
import shlex
import shutil
from pathlib import Path

import pytest

from qunsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "calibration.md"


def _blocks(text: str):
    yield from re.findall(r"```(\w+)\n(.*?)```", text, re.S)


def test_calibration_walkthrough_runs(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    ran = 0
    for lang, body in _blocks(DOC.read_text(encoding="utf-8")):
        first = body.splitlines()[0]
        if lang == "toml" and first.startswith("# file: "):
            path = Path(first[len("# file: "):].strip())
            if path.exists():  # a shipped file: the page shows it as it is
                assert path.read_text(encoding="utf-8").split("\n", 2)[2] == body.split("\n", 1)[1], path
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(body, encoding="utf-8")
        elif lang == "console":
            for line in body.strip().splitlines():
                argv = shlex.split(line)
                assert argv[0] == "qunsim"
                assert main(argv[1:]) == 0, line
                ran += 1
        elif lang == "python":
            exec(compile(body, str(DOC), "exec"), {})
            ran += 1
    assert ran == 4
    out = capsys.readouterr().out
    assert "calibrated 2 parameter(s) by abc-smc" in out
    assert Path("runs/cal/calibrated.toml").is_file() and Path("runs/cal-sweep").is_dir()
    assert Path("runs/cal-py/calibration.json").is_file()


@pytest.mark.parametrize("name", ["calibration.toml", "calibration_full.toml"])
def test_shipped_calibration_files_validate(name):
    from qunsim.calibration import load_calibration

    spec = load_calibration(ROOT / "docs" / "examples" / "calibration" / name)
    assert spec.steps == 120 and spec.names == ["dynamics.inflow", "dynamics.hazard_base"]
