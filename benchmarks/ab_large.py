"""Side-by-side A/B of CPU ns per member-step at large sizes (``run.py``'s ``bench_size``).

Each side (``--a``, ``--b``: ``src`` directories put first on ``PYTHONPATH``) runs in a fresh
process per round, the sides alternating; each builds the community, steps ``--warmup``
days, then times ``--repeat`` windows of ``--steps`` days (CPU time, best window).

    python benchmarks/ab_large.py --a OLD/src --b src --size 1000000 --rounds 2
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
from run import bench_size
from qunsim.kernels import warm_up
warm_up()
r = bench_size({size}, {warmup}, {steps}, {repeat}, {views})
print(json.dumps({{"ns": 1e9 / r["member_steps_per_s"], "windows": r["windows"]}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    best = {"a": float("inf"), "b": float("inf")}
    for r in range(args.rounds):
        for side in ("a", "b"):
            env = dict(os.environ, PYTHONPATH=str(Path(getattr(args, side)).resolve()))
            code = CHILD.format(here=str(HERE), size=args.size, warmup=args.warmup, steps=args.steps,
                                repeat=args.repeat, views=args.size <= 10_000)
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                 check=True, timeout=1800)
            ns = json.loads(out.stdout.strip().splitlines()[-1])["ns"]
            best[side] = min(best[side], ns)
            print(f"round {r} {side}: {ns:.1f} CPU ns per member-step", flush=True)
    print(f"size {args.size}: best a {best['a']:.1f}  b {best['b']:.1f} ns per member-step "
          f"(b/a {best['b'] / best['a']:.3f})")


if __name__ == "__main__":
    main()
