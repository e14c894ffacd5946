"""Side-by-side A/B of the small-size speedup over the per-agent reference.

Runs ``benchmarks/run.py``'s ``bench_reference`` at each size in a fresh process per side
(``--a`` and ``--b`` are ``src`` directories put first on ``PYTHONPATH``), alternating the two
sides for ``--rounds`` rounds, and prints each run's speedup and CPU ms per day, then the best
per side.

    python benchmarks/ab_small.py --a /work/main/src --b src --sizes 100 300 1000 --rounds 3
    python benchmarks/ab_small.py --a /work/main/src --b src --vec-only --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = """
import json, sys
sys.path.insert(0, {here!r})
from run import bench_reference
print(json.dumps([bench_reference(n, 3, 3) for n in {sizes!r}]))
"""

#: ``--vec-only``: CPU µs per day of CommunityModel's first 200 days after 3 warm-up days
#: (the window the speedup's best rate comes from), best of 5 fresh models per size
CHILD_VEC = """
import json, sys, time
sys.path.insert(0, {here!r})
from run import build
out = []
for n in {sizes!r}:
    best = float("inf")
    for _ in range(5):
        m = build(n, agent_views=True)
        for _ in range(3):
            m.step()
        t0 = time.process_time()
        for _ in range(200):
            m.step()
        best = min(best, 1e6 * (time.process_time() - t0) / 200)
    out.append({{"size": n, "us_per_day": best}})
print(json.dumps(out))
"""


def run_side(src: str, sizes: list[int], vec_only: bool = False) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()))
    code = (CHILD_VEC if vec_only else CHILD).format(here=str(HERE), sizes=sizes)
    out = subprocess.run([sys.executable, "-c", code], env=env,
                         capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--vec-only", action="store_true",
                    help="only CommunityModel's CPU µs per day over its first 200 days (no reference)")
    args = ap.parse_args()
    if args.vec_only:
        best_us = {s: {n: float("inf") for n in args.sizes} for s in ("a", "b")}
        for r in range(args.rounds):
            for side in ("a", "b"):
                for row in run_side(getattr(args, side), args.sizes, vec_only=True):
                    print(f"round {r} {side} n={row['size']}: {row['us_per_day']:.1f} us/day", flush=True)
                    best_us[side][row["size"]] = min(best_us[side][row["size"]], row["us_per_day"])
        for n in args.sizes:
            a, b = best_us["a"][n], best_us["b"][n]
            print(f"n={n}: best us/day a {a:.1f}  b {b:.1f} (b/a {b / a:.3f})")
        return
    best = {s: {n: {"speedup": 0.0, "ms_per_day": float("inf")} for n in args.sizes} for s in ("a", "b")}
    for r in range(args.rounds):
        for side in ("a", "b"):
            for row in run_side(getattr(args, side), args.sizes):
                n = row["size"]
                print(f"round {r} {side} n={n}: speedup {row['speedup']:.1f}x, ms/day {row['ms_per_day']:.4f}, "
                      f"ref ms/day {row['reference_ms_per_day']:.3f}", flush=True)
                b = best[side][n]
                b["speedup"] = max(b["speedup"], row["speedup"])
                b["ms_per_day"] = min(b["ms_per_day"], row["ms_per_day"])
    for n in args.sizes:
        a, b = best["a"][n], best["b"][n]
        print(f"n={n}: best speedup a {a['speedup']:.1f}x  b {b['speedup']:.1f}x; best ms/day a {a['ms_per_day']:.4f}"
              f"  b {b['ms_per_day']:.4f} (b/a {b['ms_per_day'] / a['ms_per_day']:.3f})")


if __name__ == "__main__":
    main()
