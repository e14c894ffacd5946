"""End to end: `qunsim dashboard` served on loopback, opened in headless Chromium, played.

Chromium is Debian's `chromium` package (scripts/setup.sh installs it when it runs as root
with apt-get). Without it the test is skipped, except where QUNSIM_REQUIRE_BROWSER=1 (CI):
there a missing browser is a failure.
"""

import io
import os

import numpy as np
import pytest

from _browser import (
    JS_CHARTS,
    JS_DAY,
    JS_GRAPH,
    Chromium,
    DashboardServer,
    find_chromium,
    press_pause,
    press_play,
)

pytest.importorskip("solara")
pytest.importorskip("websocket")

if find_chromium() is None:
    if os.environ.get("QUNSIM_REQUIRE_BROWSER") == "1":
        raise RuntimeError("QUNSIM_REQUIRE_BROWSER=1 but no chromium on PATH (run scripts/setup.sh as root)")
    pytest.skip("no chromium on PATH", allow_module_level=True)


# the five charts' pixels, once all five are drawn (a chart being redrawn has no canvas for a moment)
ALL_CHARTS = f"(() => {{ const c = {JS_CHARTS}; return c.length >= 5 && c; }})()"


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_dashboard_plays_in_a_browser(tmp_path):
    with DashboardServer("configs/knowledge_community.toml", "--prospects", "2000",
                         "--interval", "20", "--seed", "1") as server, Chromium() as b:
        b.open(server.url)
        # the page is up: Mesa's controls, the five charts, the graph image, the levers table
        assert b.wait_for(f"{JS_DAY} === 0", timeout=90)
        b.wait_for("document.querySelectorAll('.vega-embed canvas').length >= 5", timeout=60)
        b.wait_for("document.querySelectorAll('img').length >= 1", timeout=30)
        buttons = b.eval("Array.from(document.querySelectorAll('button')).map(x => x.innerText.trim())")
        assert {"RESET", "▶", "STEP"} <= {x.upper() for x in buttons}
        labels = b.eval("document.body.innerText")
        for text in ("Gate: entry fee", "Moderation precision", "Chatter share", "Monetization ladder on"):
            assert text in labels
        charts0 = b.wait_for(ALL_CHARTS, timeout=90)
        graph0 = b.eval(JS_GRAPH)
        shot0 = b.screenshot(tmp_path / "frame0.png")

        press_play(b)
        try:
            day = b.wait_for(f"({JS_DAY} >= 8) && {JS_DAY}", timeout=120)
        except TimeoutError:
            print(b.eval(JS_DAY), b.eval("Array.from(document.querySelectorAll('button')).map(x => x.innerText.trim())"))
            print(b.eval("document.body.innerText.slice(0, 3000)"))
            print(server.output()[-3000:])
            raise
        press_pause(b)  # so that the frame read next is settled
        # a chart being redrawn has no canvas for a moment: read them all once they are back
        charts1 = b.wait_for(ALL_CHARTS, timeout=90)
        graph1 = b.eval(JS_GRAPH)
        shot1 = b.screenshot(tmp_path / "frame1.png")
        day1 = b.eval(JS_DAY)

    assert day1 >= day >= 8
    # the DOM: the graph image and the charts were redrawn
    assert graph1 != graph0
    assert len(charts1) == len(charts0) >= 5
    assert sum(a != c for a, c in zip(charts0, charts1, strict=True)) >= 4
    # the screenshot: the plot area (right of the sidebar) changed visibly
    p0, p1 = _pixels(shot0), _pixels(shot1)
    assert p0.shape == p1.shape
    area = (slice(120, None), slice(420, None))
    changed = (np.abs(p0[area] - p1[area]).sum(axis=2) > 30).mean()
    assert changed > 0.01, f"only {changed:.2%} of the plot area changed"
