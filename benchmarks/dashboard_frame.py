"""Cost of one dashboard frame at about 1,000 active members: the day, then every panel.

A frame is one simulated day (``render_interval = 1``) plus the server's work for each
panel: the time-series panels build a Vega-Lite spec (drawn by the browser), the social
graph is drawn server-side into a PNG on a layout placed once. Prints milliseconds per
part and the frames a second the server can sustain (the browser draws in parallel).

    python benchmarks/dashboard_frame.py [--members 1000] [--frames 20]
"""

from __future__ import annotations

import argparse
import io
import json
import time

import numpy as np


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=30, help="days run before timing")
    a = ap.parse_args(argv)

    from qunsim.config import load_config
    from qunsim.dashboard import viz
    from qunsim.dashboard.levers import DashboardModel

    cfg = load_config().override({"community.n_seed": a.members, "community.n_prospects": 20 * a.members})
    m = DashboardModel(cfg, seed=1)
    m.run_for(a.warmup)
    last_key = [None]
    for p in viz.PANELS:  # warm-up: fonts, the first layout
        p(m)
    parts = {p.__name__: [] for p in viz.PANELS}
    steps = []
    for _ in range(a.frames):
        t0 = time.perf_counter()
        m.step()
        steps.append(time.perf_counter() - t0)
        for p in viz.PANELS:
            t0 = time.perf_counter()
            if p is viz.graph_panel:  # what FigureMatplotlib does: a PNG when the key changes
                fig, key = viz.graph_figure(m)
                if key != last_key[0]:
                    fig.savefig(io.BytesIO(), format="png", dpi=viz._DPI)
                    last_key[0] = key
                parts[p.__name__].append(time.perf_counter() - t0)
                continue
            el = p(m)
            if el is not None and "spec" in getattr(el, "kwargs", {}):
                json.dumps(el.kwargs["spec"])  # what goes over the websocket
            parts[p.__name__].append(time.perf_counter() - t0)
    out = {"active": int(m.metrics.latest("active")), "graph_every_days": viz.graph_period(m),
           "day_ms": 1e3 * float(np.mean(steps))}
    # means, not medians: the graph's cost comes every few frames
    out.update({k: 1e3 * float(np.mean(v)) for k, v in parts.items()})
    out["graph_redraw_ms"] = 1e3 * float(np.max(parts["graph_panel"]))
    frame = out["day_ms"] + sum(out[k] for k in parts)  # mean cost of a frame
    out["frame_ms"] = frame
    out["frames_per_s"] = 1e3 / frame
    for k, v in out.items():
        print(f"{k:>16}: {v:8.1f}" if isinstance(v, float) else f"{k:>16}: {v}")
    return out


if __name__ == "__main__":
    main()
