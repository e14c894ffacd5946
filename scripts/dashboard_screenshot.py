"""Screenshot of the live dashboard for the docs: docs/figures/dashboard.png (and the compare view).

Serves `qunsim dashboard` on a free loopback port, opens it in headless Chromium, presses
play until the community has lived ``--days`` days, pauses and takes the picture.

    python scripts/dashboard_screenshot.py [--days 150] [--compare]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _browser import JS_DAY, Chromium, DashboardServer, press_pause, press_play  # noqa: E402


def main(argv=None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=150)
    ap.add_argument("--compare", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    out = Path(a.out or ROOT / "docs" / "figures" / ("dashboard_compare.png" if a.compare else "dashboard.png"))
    args = ["configs/monetization_ladder.toml", "--seed", "3", "--interval", "10", "--days-per-frame", "3",
            "--lever", "chatter_share=0.15"]
    if a.compare:  # B: the same community with moderation and curation
        args += ["--compare", "--lever", "b_moderation=0.9", "--lever", "b_curation=0.5"]
    with DashboardServer(*args) as server, Chromium(width=1500, height=1750, timeout=60) as b:
        b.open(server.url)
        b.wait_for(f"{JS_DAY} === 0", timeout=120)
        b.wait_for("document.querySelectorAll('.vega-embed canvas').length >= 5", timeout=60)
        press_play(b)
        b.wait_for(f"{JS_DAY} >= {a.days}", timeout=60 + a.days * 2)
        press_pause(b)
        time.sleep(2)
        b.screenshot(out)
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    main()
