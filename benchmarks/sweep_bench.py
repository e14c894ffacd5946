"""Sweep throughput on 1 and 2 workers and the sweep machinery's overhead per run (targets: docs/benchmarks.md).

    python benchmarks/sweep_bench.py --json           # the two figures as JSON
    python benchmarks/sweep_bench.py --smoke --json   # a small, fast version
    python benchmarks/sweep_bench.py --verbose        # and the raw timings on stderr

``benchmarks/run.py`` calls :func:`measure` and merges its two keys into its JSON.

- ``sweep_speedup_2_workers``: the pure-compute part of a sweep: wall time of the same runs
  (16 runs of a 500-member community over 120 days, the sweep's own ``run_task`` calls,
  results sent back) mapped on the local process pool with 1 worker over that with 2 workers.
  Target ≥ 1.8. ``sweep_whole_speedup_2_workers`` is the same ratio for the whole sweep
  (``qs.sweep``: it adds the parent's serial part, Parquet parts, commit records, manifest).
  The pools are started and warmed before timing (starting a pool is a one-off ~0.3–1 s per
  sweep, reported as ``pool_start_s`` in the verbose output); both workers of the 2-worker
  pool are checked to have the compiled kernels loaded (forked from the preloaded fork
  server) and to run one thread of computation each (``workers`` in the verbose output).
- ``sweep_overhead_ms_per_run``: for tiny runs, (wall time of the sweep on the default
  executor — the local pool, 1 warm worker — minus the time of the same ``simulate`` calls
  made directly in a loop) / runs. It includes task pickling, IPC, result filtering,
  Parquet part files, commit records, the manifest and the progress bookkeeping. Target ≤ 50.

Every figure is the best of ``repeat`` alternating trials (the machine may be shared).
``sweep_control_speedup_2_workers`` is the control: the same two pools running pure-Python CPU
work of the same duration, measured in the same trials. When it is well below 2 the machine has
no free second core at the moment (other processes hold it), and the sweep figures say nothing
about the sweep machinery: compare them with the control (``sweep_compute_efficiency`` is the
compute speedup over the control's).
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


def _worker_info() -> dict:
    """What a worker process holds: its threads and whether the kernels were loaded before
    it started (compiled code inherited from the fork server, not loaded by the first run)."""
    import sys as _sys

    rd = _sys.modules.get("qunsim.kernels.reading")
    loaded = bool(rd is not None and getattr(rd._read, "signatures", None))
    try:
        threads = len(os.listdir(f"/proc/{os.getpid()}/task"))
    except OSError:
        threads = -1
    return {"pid": os.getpid(), "threads": threads, "kernels_loaded": loaded}


def _workers(handle) -> list[dict]:
    """One :func:`_worker_info` per worker (tasks held long enough that each worker takes one)."""
    seen: dict = {}
    for _ in range(20):
        for info in handle.executor.map(_pause_info, [0.05] * (2 * handle.workers)):
            seen.setdefault(info["pid"], info)
        if len(seen) >= handle.workers:
            break
    return list(seen.values())


def _pause_info(sec: float) -> dict:
    time.sleep(sec)
    return _worker_info()


def _compute(handle, tasks) -> float:
    """Wall time of the sweep's runs alone: ``run_task`` mapped on the pool, results returned."""
    t0 = time.perf_counter()
    for r in handle.executor.map(run_task, tasks):
        if not r["ok"]:
            raise RuntimeError(f"benchmark run failed: {r['error']}")
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
    "sweep_control_speedup_2_workers": float, "sweep_whole_speedup_2_workers": float,
    "sweep_compute_efficiency": float}`` (the control: the same pools on pure CPU work)."""
    repeat = repeat or (1 if smoke else 3)
    detail: dict = {}

    # throughput: mid-sized runs, 1 vs 2 warm workers
    big = _spec(60, 500, 20, 4, 2) if smoke else _spec(500, 3000, 120, 8, 2)
    tasks = [make_task(big, row) for row in make_runs(big).to_dict("records")]
    times = {1: [], 2: []}
    whole = {1: [], 2: []}
    control = {1: [], 2: []}
    with open_executor("local", 1) as h1:
        _warm(h1, big)
        t0 = time.perf_counter()
        with open_executor("local", 2) as h2:
            _warm(h2, big)
            detail["pool_start_s"] = time.perf_counter() - t0
            detail["workers"] = _workers(h2)
            burn = 300_000 if smoke else 0
            for _ in range(repeat):
                for w, h in ((1, h1), (2, h2)):
                    times[w].append(_compute(h, tasks))
                    if not burn:  # control work of about the same duration as the runs
                        t_one = min(times[1]) / len(tasks)
                        t_b = time.perf_counter()
                        _burn(200_000)
                        burn = max(100_000, int(200_000 * t_one / max(time.perf_counter() - t_b, 1e-6)))
                    control[w].append(_control(h, len(tasks), burn))
                    whole[w].append(_timed_sweep(big, h.executor, w))
    speedup = min(times[1]) / min(times[2])
    ctrl = min(control[1]) / min(control[2])
    detail.update(runs=len(tasks), compute_t1_s=min(times[1]), compute_t2_s=min(times[2]),
                  whole_t1_s=min(whole[1]), whole_t2_s=min(whole[2]),
                  whole_speedup_2_workers=min(whole[1]) / min(whole[2]),
                  control_speedup_2_workers=ctrl, control_task_iterations=burn,
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
            "sweep_control_speedup_2_workers": float(ctrl),
            "sweep_whole_speedup_2_workers": float(detail["whole_speedup_2_workers"]),
            "sweep_compute_efficiency": float(speedup / ctrl) if ctrl > 0 else 0.0}


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
        print(f"speedup on 2 workers (compute): {out['sweep_speedup_2_workers']:.2f}x (target >= 1.8); "
              f"pure-CPU control {out['sweep_control_speedup_2_workers']:.2f}x; whole sweep "
              f"{out['sweep_whole_speedup_2_workers']:.2f}x")
        print(f"overhead per run: {out['sweep_overhead_ms_per_run']:.1f} ms (target <= 50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
