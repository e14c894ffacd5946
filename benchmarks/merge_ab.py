"""A/B of two source trees on the cost of the tie merge (the merge of queued ties and the
neighbour/strong-tie counts after it) at 10,000 members: the bare engine (fused day,
``_fused_merge``) and every policy on (the staged day, ``_merge_ties``; ``run.all_policies()``).

Each measurement is a fresh subprocess with ``PYTHONPATH`` set to one tree's ``src``; the two
trees alternate, round after round. In a child, the two models step in turn day by day for
``--days`` days and every merge call is timed in CPU time (``time.process_time``). The
trajectories are the same in both trees (same seed), so the k-th merge does the same work in
both: per merge, the cheapest of the rounds is kept; reported are the sum and the median of
those per-merge minima (in ms), and the number of merges.

    python benchmarks/merge_ab.py --a /work/main/src --b src --rounds 4
    python benchmarks/merge_ab.py --child --n 10000 --days 120   # one tree, the tree on PYTHONPATH
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def measure(n: int, days: int) -> dict:
    sys.path.insert(0, str(HERE))
    import run as R  # benchmarks/run.py: the overrides and the policy tables

    import qunsim as qs
    import qunsim.model as qm
    from qunsim.kernels import warm_up

    warm_up()
    times: dict[str, list[float]] = {"engine": [], "all_policies": []}
    current = ["engine"]
    for name in ("_fused_merge", "_merge_ties"):
        orig = getattr(qm.CommunityModel, name)

        def timed(self, _orig=orig):
            if not self.social.pending:
                return _orig(self)
            c0 = time.process_time()
            _orig(self)
            times[current[0]].append(time.process_time() - c0)

        setattr(qm.CommunityModel, name, timed)
    models = {"engine": qs.CommunityModel(rng=1, **R.overrides(n, False)),
              "all_policies": qs.CommunityModel(rng=1, **R.overrides(n, False), **R.all_policies())}
    for _ in range(days):
        for label, m in models.items():
            current[0] = label
            m.step()
    return {"src": str(Path(qs.__file__).resolve().parents[1]), "merges_ms": {
        k: [1e3 * x for x in v] for k, v in times.items()},
        "active": {k: int(m.metrics.latest("active")) for k, m in models.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", default="/work/main/src")
    ap.add_argument("--b", default=str(HERE.parent / "src"))
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--child", action="store_true")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(measure(a.n, a.days)))
        return
    runs: dict[str, list[dict]] = {"a": [], "b": []}
    for _ in range(a.rounds):
        for tag, src in (("a", a.a), ("b", a.b)):
            env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
            out = subprocess.run([sys.executable, __file__, "--child", "--n", str(a.n), "--days", str(a.days)],
                                 env=env, check=True, capture_output=True, text=True, timeout=1800)
            runs[tag].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"n={a.n}, {a.days} days, {a.rounds} rounds; per merge the cheapest round, CPU ms")
    summary = {}
    for tag in ("a", "b"):
        print(f"{tag}: {runs[tag][0]['src']}  (active at the end: {runs[tag][0]['active']})")
        for label in ("engine", "all_policies"):
            per = np.array([r["merges_ms"][label] for r in runs[tag]])  # rounds x merges
            best = per.min(axis=0)
            summary[(tag, label)] = best
            print(f"  {label:13s} merges {len(best):3d}  sum {best.sum():8.3f} ms  median {np.median(best):.4f} ms"
                  f"  first {best[0]:.4f} ms  median of the rest {np.median(best[1:]):.4f} ms")
    for label in ("engine", "all_policies"):
        ra, rb = summary[("a", label)], summary[("b", label)]
        print(f"{label}: median per merge a/b = {np.median(ra) / np.median(rb):.2f}x, sum a/b = "
              f"{ra.sum() / rb.sum():.2f}x")


if __name__ == "__main__":
    main()
