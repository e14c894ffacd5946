"""docs/interventions.md: every ```python block runs, in order, as one script (from the
repository root, writing only under a temporary directory)."""

import os
import re
from pathlib import Path

import matplotlib

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "interventions.md"


def _blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_page_has_examples_for_each_capability():
    text = PAGE.read_text(encoding="utf-8")
    code = "\n".join(_blocks(text))
    for needle in ("when", ".save(", "CommunityModel.load(", ".copy()", "qs.branch(", "branch_strategies(",
                   "plot_branch_fan(", "shade_policy_periods"):
        assert needle in code, needle
    assert "DESIGN" not in text and "issue" not in text.lower()


def test_examples_run(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("QUNSIM_DOCS_OUT", str(tmp_path))
    ns: dict = {"__name__": "__docs__"}
    for i, block in enumerate(_blocks(PAGE.read_text(encoding="utf-8"))):
        code = block.replace('OUT = "runs"', f'OUT = {str(tmp_path)!r}')
        exec(compile(code, f"docs/interventions.md block {i + 1}", "exec"), ns)  # noqa: S102
    assert os.listdir(tmp_path)
