"""Where the staged day with every policy on spends its time, stage by stage and hook by hook.

CPU time (``time.process_time``) per day at 10,000 members (ER mean degree 10), averaged
over ``--days`` days after three warm-up days, for three models side by side: the bare
engine (the fused day), the same model forced through the staged day (``model.fused =
False``: the staged orchestration without any policy) and every policy on
(``run.all_policies()``, the model ``bench_policies`` times). Stage timings nest: the
``on_posting`` hooks run inside *posting*, ``on_messages`` inside *policies on messages*.

    python benchmarks/policies_profile.py [--n 10000] [--days 30]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as R  # noqa: E402  (benchmarks/run.py: the overrides and the policy tables)

STAGES = ("_stage_open_day", "_stage_arrivals", "_stage_posting", "_stage_policies_on_messages",
          "_stage_reading_replies_ties", "_stage_trust_satisfaction_churn", "_stage_chatter_conversion",
          "_stage_bookkeeping", "_stage_close_day", "_segment_reading", "_segment_churn",
          "_segment_bookkeeping", "_segment_join", "_record", "_merge_ties")
HOOKS = ("on_posting", "on_messages", "after_reading", "on_step_end", "metrics")


def _timed(f, acc, key):
    def g(*a, **k):
        t = time.process_time()
        try:
            return f(*a, **k)
        finally:
            acc[key] += time.process_time() - t
    return g


def profile(n: int, days: int) -> dict:
    import qunsim as qs
    from qunsim.kernels import warm_up

    warm_up()
    out = {}
    for label in ("engine", "staged", "all_policies"):
        model = qs.CommunityModel(rng=1, **R.overrides(n, False),
                                  **(R.all_policies() if label == "all_policies" else {}))
        model.fused = label == "engine"
        for _ in range(3):
            model.step()
        acc: dict = collections.defaultdict(float)
        if label != "engine":
            for name in STAGES:  # instance attributes: this model only
                setattr(model, name, _timed(getattr(model, name), acc, name.lstrip("_")))
            for fam in model.policies.values():
                for pol in fam:
                    for hook in HOOKS:
                        f = getattr(pol, hook, None)
                        if f is not None:
                            setattr(pol, hook, _timed(f, acc, f"{type(pol).__name__}.{hook}"))
            model._hook_order = None  # re-read the (now timed) hooks
            model._index_policies()
        member_days, t0 = 0, time.process_time()
        for _ in range(days):
            member_days += int((model.state.status == 1).sum())
            model.step()
        cpu = time.process_time() - t0
        out[label] = {"ms_per_day": 1e3 * cpu / days, "ns_per_member_step": 1e9 * cpu / member_days,
                      "parts_ms_per_day": {k: 1e3 * v / days for k, v in sorted(acc.items(), key=lambda kv: -kv[1])}}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=30)
    a = ap.parse_args()
    res = profile(a.n, a.days)
    base = res["engine"]["ns_per_member_step"]
    for label, r in res.items():
        print(f"{label:13s} {r['ms_per_day']:6.3f} ms/day  {r['ns_per_member_step']:6.0f} ns/member-step  "
              f"{r['ns_per_member_step'] / base:5.2f}x the engine")
    for label in ("staged", "all_policies"):
        print(f"\n{label}: ms/day by stage and policy hook (nested)")
        for k, v in res[label]["parts_ms_per_day"].items():
            if v >= 0.01:
                print(f"  {k:45s} {v:6.3f}")


if __name__ == "__main__":
    main()
