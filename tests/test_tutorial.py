"""The tutorial notebook runs, at smoke size, so that it cannot rot."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_tutorial_notebook_runs(tmp_path, monkeypatch):
    src = Path(__file__).resolve().parents[1] / "src"
    monkeypatch.setenv("QUNSIM_TUTORIAL_SMOKE", "1")
    monkeypatch.setenv("QUNSIM_TUTORIAL_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("PYTHONPATH", f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel draws figures inline
    nb = nbformat.read(DOCS / "tutorial.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(DOCS)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4  # the Gresham panel, active by role, the heatmap, the comparison
    assert (tmp_path / "out" / "report.html").stat().st_size > 10_000
    assert (tmp_path / "out" / "history.gexf").exists()
    text = "".join(o.get("text", "") for o in outputs)
    assert "extends" in text and "30% chatter" in text
