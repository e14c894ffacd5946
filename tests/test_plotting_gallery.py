"""The gallery script runs end to end at smoke size and draws every figure of the docs page."""

import importlib.util
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


def test_make_gallery_quick_draws_every_figure_of_the_page(tmp_path):
    spec = importlib.util.spec_from_file_location("make_gallery", ROOT / "scripts" / "make_gallery.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--quick", "--out", str(tmp_path)]) == 0
    drawn = {p.name for p in tmp_path.glob("*.png")}
    page = (ROOT / "docs" / "gallery.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\(figures/gallery/([\w.-]+\.png)\)", page))
    assert shown == drawn  # the page shows exactly what the script draws
    assert all((ROOT / "docs" / "figures" / "gallery" / name).exists() for name in shown)
