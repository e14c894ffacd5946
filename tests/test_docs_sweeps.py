"""The examples of docs/sweeps.md run: every TOML block validates, the command lines parse
(dry run), and `qunsim compare` -> report.html + verdict.json end to end at smoke size."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from qunsim.cli import main
from qunsim.sweep.spec import load_sweep

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", PAGE, flags=re.S)


@pytest.mark.parametrize("i", range(len(_blocks("toml"))))
def test_every_toml_example_validates(i, tmp_path):
    text = _blocks("toml")[i]
    if "steps" not in text and "[strategies" not in text and "name" not in text:
        # a fragment (e.g. an axis table): validate it inside a minimal sweep
        text = "steps = 5\n" + text
    d = tmp_path / "configs" / "sweeps"
    d.mkdir(parents=True)
    # the examples live in configs/sweeps/ or configs/strategies/: resolve "../x.toml" there
    text = text.replace('"../', f'"{ROOT / "configs"}/')
    p = d / "example.toml"
    p.write_text(text, encoding="utf-8")
    spec = load_sweep(p)
    assert spec.n_runs >= 1


def _commands() -> list[list[str]]:
    out = []
    for block in _blocks(""):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("qunsim ") and "..." not in line and line.split()[1] in ("sweep", "compare"):
                out.append(shlex.split(line)[1:])
    return out


@pytest.mark.parametrize("argv", _commands(), ids=lambda a: " ".join(a[:2]))
def test_command_lines_of_the_page_parse_and_validate(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    argv = [a if not a.startswith("results/") else str(tmp_path / a) for a in argv]
    if "--resume" in argv:
        return  # needs a sweep to resume
    assert main([*argv, "--dry-run"]) == 0, capsys.readouterr().err
    assert "nothing run" in capsys.readouterr().out


def test_compare_writes_the_report_and_a_verdict_with_the_documented_keys(tmp_path, capsys):
    text = (ROOT / "configs" / "strategies" / "knowledge_review.toml").read_text(encoding="utf-8")
    text = text.replace('base = "../knowledge_community.toml"', f'base = "{ROOT / "configs" / "knowledge_community.toml"}"')
    text = re.sub(r"^steps = \d+", "steps = 12", text, flags=re.M)
    text = re.sub(r"^replicates = \d+", "replicates = 2", text, flags=re.M)
    text = text.replace('"community.n_prospects" = 5000', '"community.n_prospects" = 300\n"community.n_seed" = 30')
    p = tmp_path / "review.toml"
    p.write_text(text, encoding="utf-8")
    out = tmp_path / "review"
    assert main(["compare", str(p), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    assert "verdict.json" in capsys.readouterr().out
    page = (out / "report.html").read_text(encoding="utf-8")
    v = json.loads((out / "verdict.json").read_text(encoding="utf-8"))
    assert page.index('id="verdict"') < page.index('id="figures"')  # the verdict comes first
    assert v["recommended"] in page and v["pairing"] == "common"
    documented = set(re.findall(r"^(\w+) ", PAGE.split("`verdict.json`, next to the report")[1].split("```")[1], re.M))
    assert documented <= set(v), documented - set(v)
    for o in v["options"]:
        assert {"p_goal", "p_collapse", "objective", "metrics", "rank"} <= set(o)
        assert 0 <= o["p_collapse"]["low"] <= o["p_collapse"]["p"] <= o["p_collapse"]["high"] <= 1
    assert len(v["options"]) == 2 and v["differences"][0]["n_pairs"] == 2 * 4
    # resumable, same store: a second compare with --resume has nothing left to run
    assert main(["compare", str(p), "--out", str(out), "--executor", "serial", "--quiet", "--resume"]) == 0
    # a sweep file is not a strategies file
    assert main(["compare", str(ROOT / "configs" / "sweeps" / "gresham_moderation.toml"), "--out",
                 str(tmp_path / "x"), "--dry-run"]) == 2
    assert "strategies" in capsys.readouterr().err
