"""The Python examples of the pages on the dashboard, the graph history and scenario files run."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "docs" / page).read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("page", ["graph_history.md", "scenarios.md", "dashboard.md"])
def test_page_examples_run(page, tmp_path, monkeypatch, capsys):
    if page == "dashboard.md":
        pytest.importorskip("solara")
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    monkeypatch.chdir(tmp_path)
    blocks = _blocks(page)
    assert blocks
    for code in blocks:
        exec(compile(code, f"docs/{page}", "exec"), {"__name__": "__docs__"})
    out = capsys.readouterr().out
    if page == "graph_history.md":
        assert (tmp_path / "history.gexf").exists() and "[(" in out
    if page == "scenarios.md":
        assert "did you mean `community.chatter_share`?" in out
