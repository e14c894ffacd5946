"""Side-by-side A/B of the small-size speedup over the per-agent reference.

Runs ``benchmarks/run.py``'s ``bench_reference`` at each size in a fresh process per side
(``--a`` and ``--b`` are ``src`` directories put first on ``PYTHONPATH``), alternating the two
sides for ``--rounds`` rounds, and prints each run's speedup and CPU ms per day, then the best
per side.

    python benchmarks/ab_small.py --a /work/main/src --b src --sizes 100 300 1000 --rounds 3
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


def run_side(src: str, sizes: list[int]) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()))
    out = subprocess.run([sys.executable, "-c", CHILD.format(here=str(HERE), sizes=sizes)], env=env,
                         capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
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
