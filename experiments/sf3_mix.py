"""SF3 Mix: a 5/20/75 expert/contributor/regular mix retains better than all experts and
than all regulars.

Claim: a healthy community needs people who ask and people who answer. An
all-expert community falls silent (nobody asks, nobody answers: experts answer at the base
rate only), and an all-regular community is a pool of low-value posts. We run the knowledge
community with three compositions of the core roles (``community.composition``; chatter
and spammer shares stay at their defaults) over the same seeds (paired replicates: the
effects are means of per-seed differences, paired t intervals) and compare

* retention: the share of everyone who ever joined who is still active at the end;
* the active community at the end;
* mean tenure: member-days per member who joined.

The horizon is 540 days: the all-expert community booms first and starves later, and at
some seeds (and with more attention, less need or lower post rates) it is still level with
the mix after one year; by day 540 it has starved at every seed tried.

Run: ``python experiments/sf3_mix.py`` (24 seeds × 540 days). ``--smoke`` is the same design
(the tests run it): with 8 seeds the mix's lead in members over all regulars had no margin
with 20% more people (+96 [−10, 203] at fresh seeds).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation import mean_ci, paired_ci, savefig, seed_list, setup_matplotlib, study_main  # noqa: E402

import qunsim as qs  # noqa: E402

FIGURE = "sf3_mix.png"
STEPS = 540  # the all-expert community booms first and starves later (after a year at some seeds)
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "knowledge_community.toml"
MIXES = {
    "mix 5/20/75": {"expert": 0.05, "contributor": 0.20, "regular": 0.75},
    "all experts": {"expert": 1.0, "contributor": 0.0, "regular": 0.0},
    "all regulars": {"expert": 0.0, "contributor": 0.0, "regular": 1.0},
}


def measure(res: qs.RunResult, steps: int) -> dict:
    ts, m = res.timeseries, res.members
    end = np.where(m["leave_step"].to_numpy() >= 0, m["leave_step"].to_numpy(), steps)
    tenure = (end - m["join_step"].to_numpy()).mean() if len(m) else 0.0
    return {
        "retention": float((m["status"] == "active").mean()) if len(m) else 0.0,
        "final_active": float(ts["active"].iloc[-1]),
        "mean_tenure": float(tenure),
        "value_density": float(ts["value_density"].iloc[1:].mean()),
        "messages_per_day": float(ts["messages"].iloc[1:].mean()),
        "active_curve": ts["active"].to_numpy().tolist(),
    }


def run(smoke: bool = False, seeds=None, out: Path = Path("docs/figures"), *, steps: int | None = None,
        verbose: bool = False) -> dict:
    """Three compositions over seeds; returns per-mix CIs and mix-vs-extreme differences."""
    seeds = seed_list(seeds, 24)
    steps = steps or STEPS
    t0 = time.time()
    runs = {}
    for name, comp in MIXES.items():
        runs[name] = [measure(qs.simulate(CONFIG, rng=s, steps=steps, **{"community.composition": comp}), steps)
                      for s in seeds]
        if verbose:
            print(f"{name} done ({time.time() - t0:.0f}s)", flush=True)
    keys = ("retention", "final_active", "mean_tenure", "value_density", "messages_per_day")
    cells = {n: {k: mean_ci([r[k] for r in rs]) for k in keys} for n, rs in runs.items()}
    eff = {}
    for other in ("all experts", "all regulars"):
        for k in ("retention", "final_active", "mean_tenure"):
            eff[f"mix - {other}: {k}"] = paired_ci([r[k] for r in runs["mix 5/20/75"]], [r[k] for r in runs[other]])
    result = {"claim": "SF3 mix: 5/20/75 retains better than all experts and than all regulars",
              "seeds": seeds, "steps": steps, "cells": cells, "effects": eff, "seconds": time.time() - t0}
    if out is not None:
        result["figure"] = str(_figure(runs, cells, steps, Path(out)))
    return result


def _figure(runs, cells, steps, out: Path) -> Path:
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
    colors = {"mix 5/20/75": "tab:green", "all experts": "tab:purple", "all regulars": "tab:gray"}
    days = np.arange(steps + 1)
    for n, rs in runs.items():
        axes[0].plot(days, np.mean([r["active_curve"] for r in rs], 0), color=colors[n], lw=2, label=n)
    axes[0].set_yscale("log")
    axes[0].set(xlabel="day", ylabel="active members (mean over seeds, log scale)", title="Community size")
    axes[0].legend()
    names = list(runs)
    m = np.array([cells[n]["retention"]["mean"] for n in names])
    lo = np.array([cells[n]["retention"]["lo"] for n in names])
    hi = np.array([cells[n]["retention"]["hi"] for n in names])
    axes[1].bar(range(len(names)), m, yerr=[m - lo, hi - m], capsize=5, color=[colors[n] for n in names])
    axes[1].set_xticks(range(len(names)), names)
    axes[1].set(ylabel="share of joiners still active at the end (0–1)", ylim=(0, 1.0),
                title="Retention (95% CI)")
    fig.suptitle(f"SF3 Member mix: expert/contributor/regular composition and retention "
                 f"({len(next(iter(runs.values())))} seeds, {steps} days)", fontsize=15)
    fig.tight_layout()
    return savefig(fig, out, FIGURE)


def _main() -> None:
    study_main(__doc__, run, steps=True)

if __name__ == "__main__":
    _main()
