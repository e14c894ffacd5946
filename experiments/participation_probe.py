"""Participation probe: the participation measures of the default scenario at a trial calibration.

For trying a participation setting before a full robustness run: ``N`` seeds × 365 days of
the default scenario (the validation's runs, seeds 10,000+), the setting given by ``--set
dynamics.KEY=VALUE`` and ``--scale roles.ROLE.ATTR=FACTOR`` (a role attribute's mean and sd
scaled) on top of the defaults, and for it the mean [95% CI] over seeds of

* the content measures: never posted, top-1% and top-10% shares, and the share of all posts
  written by chatters (灌水; what most dilutes the superusers' share);
* the newcomer measures on both units: every first posting day (the anchors' unit) and the
  first posting days with exactly one post (Joyce & Kraut's unit, one first post): reply rate,
  return within 30 days without / with a reply, and their difference;
* the active members at the end.

``--compare`` runs the defaults first, on the same seeds, and reports each setting's paired
differences from them.

Run: ``python experiments/participation_probe.py --set dynamics.welcome_rate=0.01
[--scale roles.regular.need=0.9] --seeds 20 [--compare] [--workers 2] [--json FILE]``. 20 seeds
take about 2.5 minutes on 2 workers.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MEASURES = ("never_posted", "top1_share", "top10_share", "chatter_post_share",
            "newcomer_reply_rate", "return_unreplied", "return_replied", "reply_effect",
            "single_reply_rate", "single_return_unreplied", "single_return_replied", "single_reply_effect",
            "single_post_share", "final_active")


def one_run(seed: int, over: dict, steps: int = 365) -> dict:
    """The measures of one run of the default scenario with the dotted overrides ``over``."""
    import qunsim as qs
    from qunsim.validation.participation import participation, run_recording_first_days

    m = qs.CommunityModel(rng=seed, **{"run.agent_views": False, **over})
    first = run_recording_first_days(m, steps)
    r = participation(m, first_day_posts=first)
    r["final_active"] = float((m.state.status == qs.Status.ACTIVE).sum())
    return {k: float(r[k]) for k in MEASURES}


def probe(over: dict, seeds: list[int], workers: int = 1, steps: int = 365) -> list[dict]:
    """:func:`one_run` for every seed (in worker processes when ``workers > 1``)."""
    if workers <= 1:
        return [one_run(s, over, steps) for s in seeds]
    with ProcessPoolExecutor(workers) as ex:
        return list(ex.map(one_run, seeds, [over] * len(seeds), [steps] * len(seeds)))


def summarise(rows: list[dict], base: list[dict] | None = None) -> dict:
    """Mean [95% CI] per measure; with ``base`` (the defaults on the same seeds) also the
    paired difference from it."""
    from _validation import mean_ci, paired_ci

    out = {}
    for k in MEASURES:
        rec = {"value": mean_ci([r[k] for r in rows])}
        if base is not None:
            rec["vs_default"] = paired_ci([r[k] for r in rows], [b[k] for b in base])
        out[k] = rec
    return out


def main() -> None:
    from _validation import fmt_ci, parse_dynamics_sets, parse_role_scales, scaled_roles

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", default=[], metavar="dynamics.KEY=VALUE",
                    help="a [dynamics] value on top of the defaults (repeatable; TOML values)")
    ap.add_argument("--scale", action="append", default=[], metavar="roles.ROLE.ATTR=FACTOR",
                    help="a role attribute's mean and sd scaled, on top of the defaults (repeatable)")
    ap.add_argument("--seeds", type=int, default=10, help="runs (seeds 10,000 + i); default 10")
    ap.add_argument("--steps", type=int, default=365)
    ap.add_argument("--compare", action="store_true", help="also run the defaults and report paired differences")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    if a.seeds < 2 or a.steps < 31:
        raise SystemExit("--seeds must be at least 2 and --steps at least 31 (the 30-day return window)")
    over = {**parse_dynamics_sets(a.set), **scaled_roles(parse_role_scales(a.scale))}
    seeds = [10_000 + i for i in range(a.seeds)]
    base = probe({}, seeds, a.workers, a.steps) if a.compare and over else None
    rows = probe(over, seeds, a.workers, a.steps)
    res = {"settings": over, "seeds": seeds, "steps": a.steps, "measures": summarise(rows, base),
           "runs": rows, **({"default_runs": base} if base is not None else {})}
    print(f"settings {over or 'the defaults'}: {len(seeds)} seeds x {a.steps} days")
    for k, rec in res["measures"].items():
        extra = f"   vs default {fmt_ci(rec['vs_default'])}" if "vs_default" in rec else ""
        print(f"  {k:24s} {fmt_ci(rec['value'])}{extra}")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
