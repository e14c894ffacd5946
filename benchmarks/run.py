"""Speed and memory benchmarks of the engine (targets: docs/benchmarks.md).

    python benchmarks/run.py --json            # the figures as one JSON object
    python benchmarks/run.py --smoke --json    # a small, fast version (shape check in the tests)
    python benchmarks/run.py --profile 1000000 # cProfile of the step at that size

Setup for every size: an Erdős–Rényi graph of mean degree 10 over the population, all of it
members (``n_seed = size``, a small prospect pool), the default dynamics, no policies. Each
size is built, warmed up for a few steps (the first days have the most growth in ties), then
timed over ``--steps`` steps, ``--repeat`` times; the best window counts. Rates are
member-steps per CPU second of the process (``time.process_time``): the machine is shared,
and wall time would count other processes' turns on the core; wall times are reported too.
Member-steps are active members at the start of each timed step.

``speedup_vs_reference`` compares, by size (100, 300, 1,000 and 10,000 members), the
per-agent Mesa model of ``benchmarks/reference.py`` (same rules, same initial population) with
``CommunityModel`` (with its Mesa agent views, as a user runs it) per member-step, measured
side by side in one run (``speedup_vs_reference_1e4`` is the 10^4 figure alone). ``ms_per_day``
is ``CommunityModel``'s CPU milliseconds per day at 100, 300 and 1,000 members in the cheapest
timed window: the small prospect pool lets the community dwindle over the timed days, so this
is the day's fixed cost. ``ms_per_day_at_size`` is the window with the most members (a day of
the community at about its size), with its mean active members. Bytes are those of the model state (``model.nbytes()``) at the
largest size after the timed steps.

If ``benchmarks/sweep_bench.py`` exists, its ``measure(smoke)`` figures are merged in.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

import qunsim  # noqa: F401  (imported before any timing)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SIZES = (10_000, 100_000, 1_000_000)
SMOKE_SIZES = (1_000, 3_000)
REFERENCE_SIZE = 10_000
REFERENCE_SIZES = (100, 300, 1_000, 10_000)
SMOKE_REFERENCE_SIZES = (100, 300)
TARGETS = {"speedup_vs_reference": {"100": 25.0, "300": 50.0, "1000": 100.0, "10000": 100.0},
           "ms_per_day_100": 1.5 / 20, "member_steps_per_s_1e6": 5e6, "bytes_per_member": 300.0,
           "bytes_per_edge": 24.0, "policy_slowdown": 1.5, "sweep_overhead_ms_per_run": 50.0,
           "sweep_speedup_2_workers": 1.8}


def overrides(n: int, agent_views: bool) -> dict:
    return {"community.n_seed": n, "community.n_prospects": max(100, n // 1000),
            "network.kind": "er", "network.mean_degree": 10.0, "run.agent_views": agent_views}


def build(n: int, seed: int = 1, agent_views: bool = False):
    import qunsim as qs

    return qs.CommunityModel(rng=seed, **overrides(n, agent_views))


def _active(model) -> int:
    return int((model.state.status == 1).sum())


class Clock:
    """CPU seconds of this process (all its threads) and wall seconds. Rates use CPU time: on
    a shared machine the wall time also counts the time other processes hold the core, while
    the CPU time is the single-core cost the targets are about (both are reported)."""

    def __enter__(self):
        self.cpu0, self.wall0 = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu = time.process_time() - self.cpu0
        self.wall = time.perf_counter() - self.wall0


def time_model(model, steps: int, repeat: int) -> dict:
    """Best member-steps per CPU second over ``repeat`` windows of ``steps`` steps."""
    best, windows = 0.0, []
    for _ in range(repeat):
        ms, cpu, wall = 0, 0.0, 0.0
        for _ in range(steps):
            a = _active(model)
            gc.collect()
            with Clock() as c:
                model.step()
            cpu, wall, ms = cpu + c.cpu, wall + c.wall, ms + a
        rate = ms / cpu if cpu > 0 else 0.0
        windows.append({"member_steps": ms, "cpu_s": round(cpu, 4), "wall_s": round(wall, 4),
                        "per_cpu_s": round(rate), "per_wall_s": round(ms / wall) if wall > 0 else 0})
        best = max(best, rate)
    return {"best": best, "windows": windows}


def bench_size(n: int, warmup: int, steps: int, repeat: int, agent_views: bool) -> dict:
    t0 = time.perf_counter()
    model = build(n, agent_views=agent_views)
    t_build = time.perf_counter() - t0
    for _ in range(warmup):
        model.step()
    res = time_model(model, steps, repeat)
    nb = model.nbytes()
    pop, edges = model.state.n, model.social.n_edges
    return {"size": n, "population": pop, "edges": edges, "build_s": round(t_build, 3),
            "agent_views": agent_views, "member_steps_per_s": res["best"], "windows": res["windows"],
            "bytes_members": nb["members"], "bytes_graph": nb["graph"],
            "bytes_per_member": nb["members"] / pop, "bytes_per_edge": nb["graph"] / max(edges, 1)}


def _steps_for(n: int, per_member_us: float, budget_s: float = 0.25) -> int:
    """Steps per timed window so that a window costs about ``budget_s`` CPU seconds."""
    return int(min(200, max(2, budget_s / (per_member_us * 1e-6 * n))))


def bench_reference(n: int, warmup: int, repeat: int, smoke: bool = False) -> dict:
    """Per member-step CPU time: per-agent reference vs CommunityModel (agent views on), same
    start, same rules, measured one after the other; and CommunityModel's CPU ms per day."""
    from reference import ReferenceModel

    ref = ReferenceModel(build(n, agent_views=True), rng=2)
    for _ in range(warmup):
        ref.step()
    ref_steps = 1 if (smoke and n > 300) else _steps_for(n, 15.0, 0.1 if smoke else 0.4)
    best_ref = 0.0
    for _ in range(1 if n >= 10_000 else repeat):
        ms, dt = 0, 0.0
        for _ in range(ref_steps):
            a = sum(1 for x in ref.people if x.status == 1)
            with Clock() as c:
                ref.step()
            dt += c.cpu
            ms += a
        best_ref = max(best_ref, ms / dt if dt > 0 else 0.0)
    vec = build(n, agent_views=True)
    for _ in range(max(warmup, 3)):
        vec.step()
    steps = _steps_for(n, 0.5, 0.05 if smoke else 0.2)
    best, best_ms, windows = 0.0, float("inf"), []
    for _ in range(repeat):
        ms, cpu = 0, 0.0
        for _ in range(steps):
            a = _active(vec)
            with Clock() as c:
                vec.step()
            cpu, ms = cpu + c.cpu, ms + a
        best = max(best, ms / cpu if cpu > 0 else 0.0)
        best_ms = min(best_ms, 1e3 * cpu / steps)
        windows.append({"mean_active": ms / steps, "ms_per_day": 1e3 * cpu / steps})
    # the community dwindles over the timed days (a small prospect pool), so the cheapest
    # window is the day's fixed cost; the most populous one is a day of the community at size
    at_size = max(windows, key=lambda w: w["mean_active"])
    return {"size": n, "reference_member_steps_per_s": best_ref, "vectorized_member_steps_per_s": best,
            "speedup": best / best_ref if best_ref > 0 else 0.0, "ms_per_day": best_ms,
            "ms_per_day_at_size": at_size["ms_per_day"], "members_at_size": at_size["mean_active"],
            "windows": windows,
            "reference_ms_per_day": 1e3 * n / best_ref if best_ref > 0 else 0.0,
            "steps": {"reference": ref_steps, "vectorized": steps}}


def fixed_cost_breakdown(n: int = 100, days: int = 100, repeat: int = 3) -> dict:
    """Where a day's CPU time goes at ``n`` members (agent views on, no policy: the fused day),
    in microseconds per day: the whole day; an empty Mesa ``Model.step``; handing the
    generator to compiled code (numba's own ``Generator`` argument vs the handle the fused day
    passes); the compiled calls (arrivals, joining, the members' stages with the record);
    the joining's Python (numpy's acceptance chance, Mesa agent views); tie merges; the
    record kernel alone; and the rest of the Python orchestration. Compiled calls are timed by
    wrapping them (two ``process_time`` calls each, ~1.6 µs here, included in the figures).
    One window of ``days`` days after 3 warm-up days (the first window of the speedup's
    comparison); the isolated costs (Mesa step, hand-off, record kernel) are the best of
    ``repeat``."""
    import mesa
    from numba import njit

    import qunsim.model as qm
    from qunsim.kernels import day as day_kernels
    from qunsim.kernels.record import Z95, record_day
    from qunsim.metrics import GRESHAM_MIN_EVENTS, GRESHAM_MIN_EXPOSURE

    def cpu_us(fn, calls: int) -> float:
        best = float("inf")
        for _ in range(repeat):
            c0 = time.process_time()
            for _ in range(calls):
                fn()
            best = min(best, (time.process_time() - c0) / calls)
        return 1e6 * best

    class Empty(mesa.Model):
        def step(self):
            pass

    empty = Empty(rng=0)
    out = {"size": n, "mesa_step": cpu_us(empty.step, 2000)}

    @njit(cache=False)
    def _noop_gen(rng, a):
        return a[0]

    @njit(cache=False)
    def _noop_handle(h, a):
        return day_kernels.generator_from(h) is not None and a[0] > 0

    rng, a = np.random.default_rng(0), np.zeros(2)
    h = day_kernels.generator_handle(rng)
    _noop_gen(rng, a), _noop_handle(h, a)
    out["generator_as_argument"] = cpu_us(lambda: _noop_gen(rng, a), 5000)
    out["generator_handle"] = cpu_us(lambda: _noop_handle(h, a), 5000)

    acc: dict[str, float] = {}
    originals = []

    def wrap(owner, name: str, key: str):
        f = getattr(owner, name)
        originals.append((owner, name, f))

        def timed(*args, **kw):
            c0 = time.process_time()
            try:
                return f(*args, **kw)
            finally:
                acc[key] = acc.get(key, 0.0) + time.process_time() - c0
        setattr(owner, name, timed)

    model = build(n, agent_views=True)
    for _ in range(3):
        model.step()
    active0 = int(model.metrics.latest("active"))
    for name in ("arrival_candidates", "join_day", "members_day_packed"):
        wrap(day_kernels, name, name)
    wrap(qm.CommunityModel, "_fused_join", "joins")
    wrap(qm.CommunityModel, "_merge_ties", "tie_merge")  # the staged day's merge
    wrap(qm.CommunityModel, "_fused_merge", "tie_merge")  # the fused day's (one compiled call)
    try:  # one window: the days the speedup's first window covers (the community at its size)
        c0 = time.process_time()
        for _ in range(days):
            model.step()
        total, parts = time.process_time() - c0, dict(acc)
    finally:
        for owner, name, f in reversed(originals):
            setattr(owner, name, f)
    ts = model.timeseries()
    out["active_mean"] = float(ts["active"].iloc[-days:].mean())
    out["active_at_start"] = active0
    per = {k: 1e6 * v / days for k, v in parts.items()}
    out["day"] = 1e6 * total / days
    out["compiled_calls"] = {k: per.get(k, 0.0) for k in ("arrival_candidates", "join_day", "members_day_packed")}
    out["joins_python"] = per.get("joins", 0.0) - per.get("join_day", 0.0)
    out["tie_merge"] = per.get("tie_merge", 0.0)
    st, p, mc = model.state, model.p, model.metrics
    data, gh = np.zeros_like(mc.data), np.zeros_like(mc.gresham)
    e = np.empty(0)
    msgs_a, msgs_g, msgs_s = np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, bool)
    ids = st.active_ids()
    k = np.ones(len(ids))

    def record():
        record_day(data, 0, gh, 0, False, st.status, st.role, st.initial_role, st.tier, st.trust_r, st.trust_s,
                   st.satisfaction, st.group, st.join_step, st.strong_ties, model.n_groups, p.trust_weak,
                   p.trust_strong, p.strong_evidence, msgs_a, msgs_g, msgs_s, model.steps, p.newcomer_days, ids,
                   st.quality, k, k, k, k, k, 0, model._leaves_today, 0, 0, 0.0, 0.0, 0.0, mc.window,
                   GRESHAM_MIN_EXPOSURE, float(GRESHAM_MIN_EVENTS), Z95)
    record()
    del e
    out["record_kernel"] = cpu_us(record, 2000)
    timed = sum(out["compiled_calls"].values()) + per.get("joins", 0.0) - per.get("join_day", 0.0) + out["tie_merge"]
    out["python_rest"] = out["day"] - out["mesa_step"] - timed
    out["timer_calls_per_day"] = 2 * (3 + 2)  # at most, on a day with joins and a merge
    return {k: (round(v, 2) if isinstance(v, float) else
                {a: round(b, 2) for a, b in v.items()} if isinstance(v, dict) else v) for k, v in out.items()}


POLICY_SOURCES = ("gates_strict_in_lenient_out.toml", "activity_moderation.toml",
                  "activity_operations.toml", "monetization_profit_sharing.toml",
                  "monetization_ads.toml")


def all_policies() -> dict:
    """Every policy table of the example configs (gates, activity, monetization), as overrides."""
    import tomllib

    tables: dict = {}
    for name in POLICY_SOURCES:
        data = tomllib.loads((HERE.parent / "configs" / name).read_text())
        for fam in ("gate", "activity", "monetization"):
            for key, table in data.get(fam, {}).items():
                tables[f"{fam}.{key}"] = table
    tables["gate.activity_requirement"] = {"days": 14}
    # the personalised chatter filter is the costlier of the two moderation modes
    tables["activity.chatter_moderation"] = {**tables.get("activity.chatter_moderation", {}),
                                             "mode": "personal"}
    return tables


def bench_policies(n: int, warmup: int, steps: int, repeat: int) -> dict:
    """CPU cost per member-step with every policy family on, against the bare engine."""
    import qunsim as qs

    pol = all_policies()
    out = {"size": n, "policies": sorted(pol)}
    for label, extra in (("engine", {}), ("all_policies", pol)):
        model = qs.CommunityModel(rng=1, **overrides(n, False), **extra)
        for _ in range(warmup):
            model.step()
        out[f"{label}_member_steps_per_s"] = time_model(model, steps, repeat)["best"]
    out["slowdown"] = out["engine_member_steps_per_s"] / out["all_policies_member_steps_per_s"]
    return out


def sweep_figures(smoke: bool) -> dict:
    if not (HERE / "sweep_bench.py").exists():
        return {}
    # a regular import (benchmarks/ is on sys.path): functions it sends to worker processes
    # must pickle by reference to an importable module
    mod = importlib.import_module("sweep_bench")
    return dict(mod.measure(smoke))


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import mesa
    import scipy

    return {"cpu": cpu, "logical_cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, "mesa": mesa.__version__,
            "platform": platform.platform()}


def run(smoke: bool = False, steps: int | None = None, repeat: int | None = None,
        warmup: int | None = None, log=print) -> dict:
    from qunsim.kernels import warm_up

    log(f"kernels compiled or loaded from the cache in {warm_up():.1f} s (not timed)")
    sizes = SMOKE_SIZES if smoke else SIZES
    ref_size = SMOKE_SIZES[0] if smoke else REFERENCE_SIZE
    steps = steps or (2 if smoke else 3)
    repeat = repeat or (1 if smoke else 3)
    warmup = 1 if smoke else (warmup or 3)
    per_size = {}
    for n in sizes:
        views = n < 100_000
        r = bench_size(n, warmup, steps, repeat if n < 1_000_000 else max(1, repeat - 1), views)
        log(f"size {n:>9,}: {r['member_steps_per_s'] / 1e6:6.2f} M member-steps/s "
            f"({1e9 / r['member_steps_per_s']:.0f} CPU ns/member-step), {r['bytes_per_member']:.0f} B/member, "
            f"{r['bytes_per_edge']:.1f} B/edge, {r['edges']:,} edges")
        per_size[str(n)] = r
    refs = {}
    for n in (SMOKE_REFERENCE_SIZES if smoke else REFERENCE_SIZES):
        r = bench_reference(n, 1, 1 if smoke else 3, smoke)
        refs[str(n)] = r
        log(f"reference at {n:,}: {r['reference_member_steps_per_s']:,.0f} member-steps per CPU s; "
            f"CommunityModel {r['vectorized_member_steps_per_s']:,.0f} ({r['ms_per_day']:.3f} ms/day, "
            f"{r['ms_per_day_at_size']:.3f} at {r['members_at_size']:.0f} members); "
            f"speedup {r['speedup']:.1f}x")
    fixed = fixed_cost_breakdown(100, days=40 if smoke else 200, repeat=1 if smoke else 3)
    log(f"fixed cost at 100 members: {fixed['day']:.1f} CPU us/day (Mesa step {fixed['mesa_step']:.1f}, "
        f"compiled calls {sum(fixed['compiled_calls'].values()):.1f}, joins' Python {fixed['joins_python']:.1f}, "
        f"tie merges {fixed['tie_merge']:.1f}, rest {fixed['python_rest']:.1f}; generator handle "
        f"{fixed['generator_handle']:.2f} vs Generator argument {fixed['generator_as_argument']:.2f} us a call)")
    ref = refs[str(REFERENCE_SIZE)] if str(REFERENCE_SIZE) in refs else refs[max(refs, key=int)]
    pol = bench_policies(ref_size, warmup, steps, repeat)
    log(f"all policies on at {ref_size:,}: {pol['slowdown']:.2f}x the engine's cost per member-step "
        f"({len(pol['policies'])} policies)")
    largest = per_size[str(sizes[-1])]
    rates = {k: v["member_steps_per_s"] for k, v in per_size.items()}
    cost = {k: 1e9 / v for k, v in rates.items()}
    out = {
        "member_steps_per_s": {k: round(v) for k, v in rates.items()},
        "ns_per_member_step": {k: round(v, 1) for k, v in cost.items()},
        "cost_ratio_largest_vs_smallest": round(cost[str(sizes[-1])] / cost[str(sizes[0])], 3),
        "speedup_vs_reference": {k: round(v["speedup"], 1) for k, v in refs.items()},
        "speedup_vs_reference_1e4": round(ref["speedup"], 1),
        "ms_per_day": {k: round(v["ms_per_day"], 4) for k, v in refs.items() if int(k) <= 1000},
        "ms_per_day_at_size": {k: {"ms": round(v["ms_per_day_at_size"], 4),
                                   "mean_active": round(v["members_at_size"], 1)}
                               for k, v in refs.items() if int(k) <= 1000},
        "fixed_cost_us_per_day_100": fixed,
        "policy_slowdown": round(pol["slowdown"], 3),
        "policies": {k: (round(v) if isinstance(v, float) else v) for k, v in pol.items()},
        "reference": {n: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                      for n, r in refs.items()},
        "bytes_per_member": round(largest["bytes_per_member"], 1),
        "bytes_per_edge": round(largest["bytes_per_edge"], 2),
        "sizes": per_size,
        "setup": {"graph": "er", "mean_degree": 10.0, "warmup_steps": warmup, "timed_steps": steps,
                  "repeat": repeat, "smoke": smoke},
        "targets": TARGETS,
        "machine": machine(),
        "load_average_at_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    out.update(sweep_figures(smoke))
    if not smoke:
        sp = out["speedup_vs_reference"]
        out["targets_met"] = {
            "speedup_vs_reference": {k: sp[k] >= t for k, t in TARGETS["speedup_vs_reference"].items() if k in sp},
            "ms_per_day_100": out["ms_per_day"]["100"] <= TARGETS["ms_per_day_100"],
            "member_steps_per_s_1e6": rates["1000000"] >= TARGETS["member_steps_per_s_1e6"],
            "flat_cost_1e4_to_1e6": out["cost_ratio_largest_vs_smallest"] <= 1.5,
            "bytes_per_member": out["bytes_per_member"] <= TARGETS["bytes_per_member"],
            "bytes_per_edge": out["bytes_per_edge"] <= TARGETS["bytes_per_edge"],
            "policy_slowdown_at_most_1.5": out["policy_slowdown"] <= 1.5,
        }
        if "sweep_overhead_ms_per_run" in out:
            out["targets_met"]["sweep_overhead_ms_per_run"] = out["sweep_overhead_ms_per_run"] <= 50.0
            out["targets_met"]["sweep_speedup_2_workers"] = out["sweep_speedup_2_workers"] >= 1.8
    return out


def profile(n: int, steps: int, top: int = 25) -> None:
    """Print the cProfile (CPU time) of ``steps`` steps at size ``n`` (after a warm-up), by
    cumulative and by own time."""
    import cProfile
    import pstats

    from qunsim.kernels import warm_up

    warm_up()
    model = build(n)
    for _ in range(3):
        model.step()
    pr = cProfile.Profile(time.process_time)  # CPU time: robust to other processes' load
    t0, c0 = time.perf_counter(), time.process_time()
    pr.enable()
    for _ in range(steps):
        model.step()
    pr.disable()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"size {n:,}: {steps} steps in {dt:.2f} s wall, {cpu:.2f} s CPU "
          f"({n * steps / cpu / 1e6:.2f} M member-steps per CPU second under the profiler)")
    st = pstats.Stats(pr)
    st.sort_stats("cumulative").print_stats(top)
    st.sort_stats("tottime").print_stats(top)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout (progress on stderr)")
    ap.add_argument("--smoke", action="store_true", help="small sizes, one window: a fast shape check")
    ap.add_argument("--steps", type=int, default=None, help="timed steps per window")
    ap.add_argument("--repeat", type=int, default=None, help="timed windows per size (best counts)")
    ap.add_argument("--warmup", type=int, default=None, help="steps before timing")
    ap.add_argument("--profile", type=int, default=None, metavar="SIZE", help="profile the step at SIZE and exit")
    a = ap.parse_args(argv)
    if a.profile:
        profile(a.profile, a.steps or 3)
        return 0
    log = (lambda *x: print(*x, file=sys.stderr, flush=True)) if a.json else print
    out = run(smoke=a.smoke, steps=a.steps, repeat=a.repeat, warmup=a.warmup, log=log)
    if a.json:
        print(json.dumps(out))
    else:
        for k in ("member_steps_per_s", "speedup_vs_reference", "ms_per_day", "bytes_per_member",
                  "bytes_per_edge", "policy_slowdown", "targets_met"):
            if k in out:
                print(f"{k}: {out[k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
