"""Sweep throughput on 1 and 2 workers and the sweep machinery's overhead per run (targets: docs/benchmarks.md).

    python benchmarks/sweep_bench.py --json           # the two figures as JSON
    python benchmarks/sweep_bench.py --smoke --json   # a small, fast version
    python benchmarks/sweep_bench.py --verbose        # and the raw timings on stderr

``benchmarks/run.py`` calls :func:`measure` and merges its two keys into its JSON.

- ``sweep_speedup_2_workers``: wall time of the same sweep (``REPS`` runs of a mid-sized
  community) on the local process pool with 1 worker over that with 2 workers. The pools are
  started and warmed before timing (starting a pool is a one-off ~0.3–1 s per sweep, reported
  as ``pool_start_s`` in the verbose output). Target ≥ 1.8.
- ``sweep_overhead_ms_per_run``: for tiny runs, (wall time of the sweep on the default
  executor — the local pool, 1 warm worker — minus the time of the same ``simulate`` calls
  made directly in a loop) / runs. It includes task pickling, IPC, result filtering,
  Parquet part files, commit records, the manifest and the progress bookkeeping. Target ≤ 50.

Every figure is the best of ``repeat`` alternating trials (the machine may be shared). The
verbose output adds ``control_speedup_2_workers``: the same two pools running pure-Python CPU
work. When it is well below 2 the machine has no free second core at the moment, and the sweep
figure says nothing about the sweep machinery.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import qunsim as qs
from qunsim.sweep import load_sweep
from qunsim.sweep.design import make_runs
from qunsim.sweep.executors import open_executor
from qunsim.sweep.runner import make_task, run_task

__all__ = ["measure"]


def _spec(n_seed: int, n_prospects: int, steps: int, points: int, replicates: int):
    return load_sweep({
        "name": "bench", "steps": steps, "replicates": replicates, "seed": 1,
        "fixed": {"community.n_seed": n_seed, "community.n_prospects": n_prospects},
        "axes": {"community.chatter_share": {"low": 0.0, "high": 0.3, "num": points}},
    })


def _warm(handle, spec) -> None:
    row = make_runs(spec).iloc[0].to_dict()
    task = make_task(spec, row)
    futs = [handle.executor.submit(run_task, task) for _ in range(2 * handle.workers)]
    for f in futs:
        f.result()


def _burn(n: int) -> int:
    """Pure-Python CPU work: the control for what 2 workers can gain on this machine now."""
    s = 0
    for i in range(n):
        s += i * i
    return s


def _control(handle, n_tasks: int, size: int) -> float:
    t0 = time.perf_counter()
    list(handle.executor.map(_burn, [size] * n_tasks))
    return time.perf_counter() - t0


def _timed_sweep(spec, executor, workers) -> float:
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        res = qs.sweep(spec, Path(d) / "out", executor=executor, workers=workers, progress=False)
        dt = time.perf_counter() - t0
        if len(res.failures) or len(res.summary) != len(res.design):
            raise RuntimeError(f"benchmark sweep failed: {res.failures['error'].tolist()[:3]}")
    return dt


def _direct(spec) -> float:
    runs = make_runs(spec).to_dict("records")
    t0 = time.perf_counter()
    for row in runs:
        qs.simulate(spec.config_for(row), rng=int(row["seed"]), steps=spec.steps,
                    **spec.overrides_for(row))
    return time.perf_counter() - t0


def measure(smoke: bool = False, repeat: int | None = None, verbose: bool = False) -> dict:
    """Return ``{"sweep_speedup_2_workers": float, "sweep_overhead_ms_per_run": float,
    "sweep_control_speedup_2_workers": float}`` (the control: the same pools on pure CPU work)."""
    repeat = repeat or (1 if smoke else 3)
    detail: dict = {}

    # throughput: mid-sized runs, 1 vs 2 warm workers
    big = _spec(60, 500, 20, 4, 2) if smoke else _spec(200, 2000, 60, 8, 2)
    times = {1: [], 2: []}
    with open_executor("local", 1) as h1:
        _warm(h1, big)
        t0 = time.perf_counter()
        with open_executor("local", 2) as h2:
            _warm(h2, big)
            detail["pool_start_s"] = time.perf_counter() - t0
            control = {1: [], 2: []}
            for _ in range(repeat):
                for w, h in ((1, h1), (2, h2)):
                    times[w].append(_timed_sweep(big, h.executor, w))
                    control[w].append(_control(h, 8, 300_000 if smoke else 2_000_000))
    speedup = min(times[1]) / min(times[2])
    detail.update(runs=len(make_runs(big)), t1_s=min(times[1]), t2_s=min(times[2]),
                  control_speedup_2_workers=min(control[1]) / min(control[2]),
                  load_average=os.getloadavg() if hasattr(os, "getloadavg") else None)

    # overhead: tiny runs, default executor (local pool, 1 warm worker) vs direct calls
    tiny = _spec(30, 200, 3, 10, 2) if smoke else _spec(30, 200, 3, 25, 4)
    n = len(make_runs(tiny))
    sweep_t, direct_t, serial_t = [], [], []
    with open_executor("local", 1) as h:
        _warm(h, tiny)
        for _ in range(repeat):
            direct_t.append(_direct(tiny))
            sweep_t.append(_timed_sweep(tiny, h.executor, 1))
            serial_t.append(_timed_sweep(tiny, "serial", 1))
    overhead = max(0.0, (min(sweep_t) - min(direct_t)) / n * 1000)
    detail.update(tiny_runs=n, direct_ms_per_run=min(direct_t) / n * 1000,
                  local_ms_per_run=min(sweep_t) / n * 1000, serial_ms_per_run=min(serial_t) / n * 1000,
                  serial_overhead_ms_per_run=max(0.0, (min(serial_t) - min(direct_t)) / n * 1000))
    if verbose:
        print(json.dumps(detail, indent=2), file=sys.stderr)
    return {"sweep_speedup_2_workers": float(speedup), "sweep_overhead_ms_per_run": float(overhead),
            "sweep_control_speedup_2_workers": float(detail["control_speedup_2_workers"])}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--smoke", action="store_true", help="small and fast")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--repeat", type=int, default=None, help="trials per figure (best counts)")
    p.add_argument("--verbose", action="store_true", help="raw timings on stderr")
    args = p.parse_args(argv)
    out = measure(args.smoke, args.repeat, args.verbose)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"speedup on 2 workers: {out['sweep_speedup_2_workers']:.2f}x (target >= 1.8)")
        print(f"overhead per run: {out['sweep_overhead_ms_per_run']:.1f} ms (target <= 50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
