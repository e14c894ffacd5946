"""A/B of two source trees on the cost of policies: the bare engine (fused day), the staged
day without policies (``model.fused = False``) and every policy on (``run.all_policies()``,
the model ``bench_policies`` times), at 10,000 members.

Each measurement is a fresh subprocess with ``PYTHONPATH`` set to one tree's ``src``; the two
trees alternate, round after round, so both see the same machine load. CPU time
(``time.process_time``) per member-step: after 3 warm-up days, ``--windows`` windows of
``--steps`` days each, the three models stepping in turn day by day (so they share the
machine's load); ``best`` is the cheapest window (as ``benchmarks/run.py``'s
``bench_policies``: its ``policy_slowdown`` is ``all_policies / engine`` of the best windows)
and ``mean`` the whole run. The ratios to the engine are taken within one process.

    python benchmarks/policies_ab.py --a /work/main/src --b src --rounds 3
    python benchmarks/policies_ab.py --a /work/main/src --b src --families gate,activity --n 20000
    python benchmarks/policies_ab.py --child --n 10000      # one tree, the tree on PYTHONPATH
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def measure(n: int, steps: int, windows: int, families: str = "all") -> dict:
    sys.path.insert(0, str(HERE))
    import run as R  # benchmarks/run.py: the overrides and the policy tables

    import qunsim as qs
    from qunsim.kernels import warm_up

    warm_up()
    out: dict = {"src": str(Path(qs.__file__).resolve().parents[1])}
    labels = ("engine", "staged", "all_policies")
    pol = R.all_policies()
    if families != "all":  # e.g. "gate,activity": the tables of these families only
        pol = {k: v for k, v in pol.items() if k.split(".")[0] in families.split(",")}
    out["policies"] = sorted(pol)
    models = {}
    for label in labels:
        model = qs.CommunityModel(rng=1, **R.overrides(n, False), **(pol if label == "all_policies" else {}))
        model.fused = label == "engine"
        for _ in range(3):
            model.step()
        models[label] = model
    # the three models step in turn, day by day, so that they share the machine's load
    cpu = {x: np.zeros(windows) for x in labels}
    ms = {x: np.zeros(windows) for x in labels}
    for w in range(windows):
        for _ in range(steps):
            for label in labels:
                model = models[label]
                ms[label][w] += int((model.state.status == 1).sum())
                gc.collect()
                t0 = time.process_time()
                model.step()
                cpu[label][w] += time.process_time() - t0
    for label in labels:
        per = 1e9 * cpu[label] / ms[label]
        out[label] = {"best": float(per.min()), "mean": float(1e9 * cpu[label].sum() / ms[label].sum()),
                      "windows": per.tolist()}
    for label in ("staged", "all_policies"):
        for k in ("best", "mean"):
            out[f"{label}_ratio_{k}"] = out[label][k] / out["engine"][k]
    return out


def child(src: str, n: int, steps: int, windows: int, families: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    cmd = [sys.executable, __file__, "--child", "--n", str(n), "--steps", str(steps), "--windows", str(windows),
           "--families", families]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", help="source tree A (its src directory)")
    ap.add_argument("--b", help="source tree B")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--windows", type=int, default=6)
    ap.add_argument("--families", default="all",
                    help="policy families switched on in the third model: all, or e.g. gate,activity")
    ap.add_argument("--child", action="store_true")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(measure(a.n, a.steps, a.windows, a.families)))
        return
    rows = {"A": [], "B": []}
    for r in range(a.rounds):
        for lab, src in (("A", a.a), ("B", a.b)) if r % 2 == 0 else (("B", a.b), ("A", a.a)):
            res = child(src, a.n, a.steps, a.windows, a.families)
            rows[lab].append(res)
            print(f"round {r} {lab}: engine {res['engine']['best']:.0f} ns, staged {res['staged']['best']:.0f} "
                  f"({res['staged_ratio_best']:.2f}x), all policies {res['all_policies']['best']:.0f} "
                  f"({res['all_policies_ratio_best']:.2f}x); means {res['staged_ratio_mean']:.2f}x / "
                  f"{res['all_policies_ratio_mean']:.2f}x", flush=True)
    summary = {}
    for lab in ("A", "B"):
        rs = rows[lab]
        summary[lab] = {
            "src": rs[0]["src"],
            **{f"{x}_ns_best": min(r[x]["best"] for r in rs) for x in ("engine", "staged", "all_policies")},
            **{f"{x}_ratio_{k}": [round(r[f"{x}_ratio_{k}"], 3) for r in rs]
               for x in ("staged", "all_policies") for k in ("best", "mean")},
        }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
