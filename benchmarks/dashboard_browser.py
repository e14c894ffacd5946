"""Days a second the dashboard really shows in a browser, at about 1,000 active members.

Serves `qunsim dashboard` (a scenario of 1,000 seed members that extends the knowledge
community) on a free loopback port, opens it in headless Chromium, presses play and counts
the days shown over ``--seconds``. One day per frame, so days a second = frames a second,
everything included (the day, the panels, the websocket, the browser's drawing).

    python benchmarks/dashboard_browser.py [--members 1000] [--seconds 20] [--interval 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _browser import JS_DAY, Chromium, DashboardServer, press_pause, press_play  # noqa: E402


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--interval", type=int, default=1, help="play interval (ms)")
    ap.add_argument("--graph-every", type=int, default=None)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        scen = Path(tmp) / "big.toml"
        scen.write_text(f'extends = "{(ROOT / "configs" / "knowledge_community.toml").as_posix()}"\n'
                        f"[community]\nn_seed = {a.members}\nn_prospects = {20 * a.members}\n")
        args = [str(scen), "--interval", str(a.interval)]
        if a.graph_every:
            args += ["--graph-every", str(a.graph_every)]
        with DashboardServer(*args) as server, Chromium() as b:
            b.open(server.url)
            b.wait_for(f"{JS_DAY} === 0", timeout=180)
            b.wait_for("document.querySelectorAll('.vega-embed canvas').length >= 5", timeout=120)
            press_play(b)
            time.sleep(3)  # past the first frames
            d0, t0 = b.eval(JS_DAY), time.monotonic()
            time.sleep(a.seconds)
            d1, t1 = b.eval(JS_DAY), time.monotonic()
            active = b.eval("document.querySelector('.qunsim-levers').innerText.match(/now (\\d+)/)")
            press_pause(b)
    out = {"members_active": active[1] if active else None, "days_shown": d1 - d0,
           "seconds": round(t1 - t0, 1), "days_per_s": round((d1 - d0) / (t1 - t0), 2)}
    print(out)
    return out


if __name__ == "__main__":
    main()
