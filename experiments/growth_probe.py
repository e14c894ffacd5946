"""Growth probe: does chatter shrink the knowledge community, under a growth setting?

SF1's size claim (experiments/sf1_gresham.py) on its own: the unmoderated ``baseline`` and
``chatty`` conditions of SF1 over the same seeds, with optional ``[dynamics]`` values and a
role attribute scaled in every role or the population scaled (founders and prospects: the
robustness conditions' perturbations). Reports the
paired difference chatty − baseline (mean over seeds with a paired t 95% CI) of four sizes:
the mean over the run, the last day, day 300 (the smoke design's horizon) and the peak.

This is the probe behind docs/validation.md's choice of the growth mix and of
``habituation``: with most growth through content channels, the fading inflow brings the
decline, and how steeply the baseline declines in its second year decides whether a chatty
community is smaller over two years.

Run: ``python experiments/growth_probe.py`` (24 seeds × 730 days, about 1.5 minutes on 2
cores), e.g. ``--set dynamics.habituation=1.2`` or ``--perturb attention=0.8``;
``--smoke`` for 3 seeds × 60 days.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation import fmt_ci, paired_ci, parse_dynamics_sets, scaled_roles  # noqa: E402
from sf1_gresham import CONDITIONS, CONFIG  # noqa: E402

import qunsim as qs  # noqa: E402
from qunsim.config import RoleParams  # noqa: E402

SIZES = ("mean_active", "final_active", "active_day300", "peak_active")


def sizes(res: qs.RunResult) -> dict:
    """The four community sizes of one run (active members; day 300 is the last day in runs
    shorter than that)."""
    a = res.timeseries["active"]
    return {"mean_active": float(a.iloc[1:].mean()), "final_active": float(a.iloc[-1]),
            "active_day300": float(a.iloc[min(300, len(a) - 1)]), "peak_active": float(a.max())}


def _one(job: tuple) -> dict:
    condition, seed, steps, extra, perturb = job
    cfg = qs.load_config(CONFIG).override({**extra, **CONDITIONS[condition]})
    if perturb:
        attr, f = perturb
        if attr == "population":  # the founders and the prospects, as the robustness study's condition
            com = cfg.community
            cfg = cfg.override({"community.n_seed": max(1, int(round(com.n_seed * f))),
                                "community.n_prospects": int(round(com.n_prospects * f))})
        else:
            cfg = cfg.override(scaled_roles({f"roles.{r}.{attr}": f for r in cfg.roles}, cfg.roles))
    return sizes(qs.simulate(cfg, rng=seed, steps=steps))


def run(seeds: int = 24, seed0: int = 0, steps: int = 730, extra: dict | None = None,
        perturb: tuple[str, float] | None = None, workers: int = 2) -> dict:
    """Run ``baseline`` and ``chatty`` over seeds ``seed0 .. seed0 + seeds - 1``; return the
    per-arm means and the paired differences of :data:`SIZES`."""
    extra = dict(extra or {})
    t0 = time.time()
    seed_ids = list(range(seed0, seed0 + seeds))
    jobs = [(c, s, steps, extra, perturb) for c in ("baseline", "chatty") for s in seed_ids]
    if workers > 1:
        with ProcessPoolExecutor(workers) as ex:
            out = list(ex.map(_one, jobs))
    else:
        out = [_one(j) for j in jobs]
    base, chatty = out[:seeds], out[seeds:]
    return {
        "settings": extra, "perturb": list(perturb) if perturb else None, "seeds": seed_ids, "steps": steps,
        "baseline": {k: float(np.mean([r[k] for r in base])) for k in SIZES},
        "chatty": {k: float(np.mean([r[k] for r in chatty])) for k in SIZES},
        "chatty_minus_baseline": {k: paired_ci([r[k] for r in chatty], [r[k] for r in base]) for k in SIZES},
        "runs": {"baseline": base, "chatty": chatty},
        "seconds": time.time() - t0,
    }


def _perturbation(text: str | None) -> tuple[str, float] | None:
    if not text:
        return None
    attr, sep, val = text.partition("=")
    if not sep or (attr not in RoleParams.model_fields and attr != "population"):
        raise SystemExit(f"--perturb {text!r}: expected ATTR=FACTOR with ATTR a role attribute (e.g. attention=0.8) "
                         "or population")
    try:
        f = float(val)
    except ValueError:
        f = float("nan")
    if not (0 < f < float("inf")):
        raise SystemExit(f"--perturb {text!r}: the factor must be a positive number")
    return attr, f


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="3 seeds x 60 days")
    ap.add_argument("--seeds", type=int, default=24)
    ap.add_argument("--seed0", type=int, default=0, help="first seed (fresh seeds: e.g. 1000)")
    ap.add_argument("--steps", type=int, default=730)
    ap.add_argument("--set", action="append", default=[], metavar="dynamics.KEY=VALUE")
    ap.add_argument("--perturb", default=None, metavar="ATTR=FACTOR",
                    help="scale a role attribute's mean and sd in every role, e.g. attention=0.8; "
                         "population=F scales the founders and the prospects")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    if a.seeds < 2 or a.steps < 1 or a.workers < 1:
        raise SystemExit("--seeds must be at least 2 (a paired interval), --steps and --workers at least 1")
    seeds, steps = (3, 60) if a.smoke else (a.seeds, a.steps)
    res = run(seeds, a.seed0, steps, parse_dynamics_sets(a.set), _perturbation(a.perturb), a.workers)
    print(f"settings {res['settings'] or 'defaults'}, perturbation {res['perturb'] or 'none'}, "
          f"{seeds} seeds x {steps} days ({res['seconds']:.0f}s)")
    for k in SIZES:
        print(f"  {k:14s} baseline {res['baseline'][k]:7.1f}  chatty {res['chatty'][k]:7.1f}  "
              f"chatty - baseline {fmt_ci(res['chatty_minus_baseline'][k], 1)}")
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
