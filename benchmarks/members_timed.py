"""The fused day's members' call with cycle-counter timers between its stages.

:func:`timed_kernels` builds, from the source of ``qunsim.kernels.day.members_stages`` and
``members_day_packed``, copies whose only difference is a read of the CPU's cycle counter
(``llvm.readcyclecounter``, ~10 ns) at each stage boundary, accumulated in an extra first
argument ``T`` (float64[len(STAGES)]). Unlike a replica that calls each kernel from Python,
this measures the stages inside the one compiled call (same inlining, no call or boxing
overhead). Cycles are converted to seconds by calibrating the counter against
``time.perf_counter``.

    python benchmarks/members_timed.py --sizes 300 1000 --days 40 --windows 5
    python benchmarks/members_timed.py --sizes 1000000 --days 1 --windows 3
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import build  # noqa: E402

from qunsim.kernels import day as D  # noqa: E402


@intrinsic
def _cycles(typingctx):
    """The CPU's cycle counter (``rdtsc``), int64."""
    def codegen(context, builder, sig, args):
        fnty = ir.FunctionType(ir.IntType(64), [])
        fn = builder.module.declare_intrinsic("llvm.readcyclecounter", fnty=fnty)
        return builder.call(fn, [])
    return types.int64(), codegen


#: (a line of members_stages that starts the next stage, the stage that ends there)
MARKS = (
    ("        # posting: Poisson(mu_i) posts", "active ids"),
    ("        counts = _draw_post_counts(", "posting rates"),
    ("        # the day's messages", "posts: means and Poisson draws"),
    ("        author, mgroup, mq, mw, spam = _make_messages(", "messages: posters, normal draws"),
    ("        # reading and replies", "messages: make"),
    ("        curated = np.zeros(n_groups, np.bool_)", "group index (order, prefix sums)"),
    ("        if want:", "reading"),
    ("            total = 0", "replies: Poisson draws"),
    ("            reader, target, received = _reply_targets(", "replies: uniform draws"),
    ("        # ties: one uniform per reply pair", "replies: targets"),
    ("        if len(reader) > 0 and tie_increment > 0:", "ties: uniform draws"),
    ("            if len(miss) and tie_formation < 1.0 and len(miss) < 2**27:", "ties: strengthen"),
    ("        if tie_decay > 0:", "ties: new ties"),
    ("        # trust, satisfaction and churn", "ties: decay"),
    ("        zeros = np.zeros(n)", "churn: uniform draws"),
    ("        conta_ids = ids[conta]", "trust, satisfaction, churn"),
    ("        # chatter conversion", "departures"),
    ("        # bookkeeping", "chatter conversion"),
    ("    # word of mouth", "bookkeeping"),
    ("    q, chat = yesterday_q, yesterday_chat", "word of mouth"),
    ("    return (recorded, q, chat", "record"),
)
STAGES = tuple(label for _, label in MARKS) + ("packing the results",)


def _timed_source() -> tuple[str, str]:
    src = textwrap.dedent(inspect.getsource(D.members_stages.py_func))
    lines = src.splitlines()
    out = []
    for line in lines:
        for j, (mark, _) in enumerate(MARKS):
            if line.startswith(mark):
                ind = line[:len(line) - len(line.lstrip())]
                out.append(f"{ind}_c1 = _cycles(); T[{j}] += _c1 - _c0; _c0 = _c1")
        out.append(line)
    body = "\n".join(out)
    body = body.replace("def members_stages(h,", "def members_stages_timed(T, h,", 1)
    body = body.replace("    rng = generator_from(h)\n", "    _c0 = _cycles()\n    rng = generator_from(h)\n", 1)
    body = body.replace("@njit\n", "", 1)
    packed = textwrap.dedent(inspect.getsource(D.members_day_packed.py_func)).replace("@njit\n", "", 1)
    packed = packed.replace("def members_day_packed(h,", "def members_day_packed_timed(T, h,", 1)
    packed = packed.replace("out = members_stages(", "_c0 = _cycles()\n    out = members_stages_timed(T, ", 1)
    ret = "    return recorded, reading, msgs, ties, strength, departed, len(conta), n_unpriced"
    assert ret in packed
    packed = packed.replace(ret, f"    T[{len(STAGES) - 1}] += _cycles() - _c0\n" + ret, 1)
    # the packing stage counts from the end of members_stages_timed's last mark
    packed = packed.replace("    (recorded, q, chat, ids,", "    _c0 = _cycles()\n    (recorded, q, chat, ids,", 1)
    return body, packed


def timed_kernels():
    body, packed = _timed_source()
    ns = dict(vars(D))
    ns["_cycles"] = _cycles
    exec(compile(body, "<members_stages_timed>", "exec"), ns)
    ns["members_stages_timed"] = njit(ns["members_stages_timed"])
    exec(compile(packed, "<members_day_packed_timed>", "exec"), ns)
    return njit(ns["members_day_packed_timed"])


def cycles_per_second() -> float:
    @njit
    def now():
        return _cycles()
    now()
    c0, t0 = now(), time.perf_counter()
    while time.perf_counter() - t0 < 0.2:
        pass
    return (now() - c0) / (time.perf_counter() - t0)


def profile_size(n: int, days: int, warmup: int, packed_timed, hz: float, windows: int = 5) -> dict:
    """Stage timers over ``windows`` windows of ``days`` days each; per stage the least CPU
    ns per member-step over the windows (the cycle counter runs in wall time: a window in
    which another process took the core shows it, the least one is the stage's cost). The
    twin model runs the real fused call over the same days (CPU time, best window)."""
    model = build(n, agent_views=n <= 10_000)
    twin = build(n, agent_views=n <= 10_000)
    for _ in range(warmup):
        model.step()
        twin.step()
    orig = D.members_day_packed
    best = np.full(len(STAGES), np.inf)
    best_fused, best_day = np.inf, np.inf
    members = 0
    for _ in range(windows):
        T = np.zeros(len(STAGES))
        ms = [0]

        def timed(*a, ms=ms, T=T):
            ms[0] += int((a[7] == 1).sum())  # status
            return packed_timed(T, *a)
        fused_cpu = [0.0]

        def fused(*a, fused_cpu=fused_cpu):
            c0 = time.process_time()
            try:
                return orig(*a)
            finally:
                fused_cpu[0] += time.process_time() - c0
        D.members_day_packed = timed
        try:
            for _ in range(days):
                model.step()
        finally:
            D.members_day_packed = orig
        D.members_day_packed = fused
        c0 = time.process_time()
        try:
            for _ in range(days):
                twin.step()
        finally:
            D.members_day_packed = orig
        day_cpu = time.process_time() - c0
        m = max(ms[0], 1)
        members += m
        best = np.minimum(best, 1e9 * T / hz / m)
        best_fused = min(best_fused, 1e9 * fused_cpu[0] / m)
        best_day = min(best_day, 1e9 * day_cpu / m)
    assert model.timeseries().equals(twin.timeseries()), "the timed copy left the trajectory"
    stages = {s: round(float(best[j]), 1) for j, s in enumerate(STAGES)}
    return {"size": n, "days": days * windows, "members_per_day": round(members / days / windows, 1),
            "stages_ns_per_member_step": stages, "sum_of_stages": round(sum(stages.values()), 1),
            "fused_call_ns_per_member_step": round(best_fused, 1),
            "whole_day_ns_per_member_step": round(best_day, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 1000])
    ap.add_argument("--days", type=int, default=40, help="days per window")
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from qunsim.kernels import warm_up

    warm_up()
    packed_timed = timed_kernels()
    hz = cycles_per_second()
    profile_size(150, 20, 3, packed_timed, hz, 1)  # compiles the timed copy
    for n in args.sizes:
        res = profile_size(n, args.days, args.warmup, packed_timed, hz, args.windows)
        if args.json:
            print(json.dumps(res))
            continue
        print(f"size {n:,}: {res['members_per_day']} members a day over {res['days']} days "
              f"(cycle counter {hz / 1e9:.2f} GHz)")
        for k, v in sorted(res["stages_ns_per_member_step"].items(), key=lambda kv: -kv[1]):
            print(f"  {k:36s} {v:8.1f} ns")
        for k in ("sum_of_stages", "fused_call_ns_per_member_step", "whole_day_ns_per_member_step"):
            print(f"  {k:36s} {res[k]:8.1f} ns")


if __name__ == "__main__":
    main()
