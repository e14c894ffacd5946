"""SF6 Soul figure (灵魂人物): losing the owner of a pyramid community costs more trust and
members than losing one leader of a ring community.

Claim: in a ``pyramid`` community one soul figure is tied to most members
(identity-based attachment runs through it); in a ``ring`` community ``n_leaders`` balanced
leaders share those ties. Removing the pyramid's owner should cost more trust and more
members than removing one of the ring's leaders.

Design: for each seed and structure, run the knowledge community to day ``R`` (after
maturity), then branch the model (``copy.deepcopy``): in one branch a leader leaves
(``model.remove_members([leader], reason="forced")`` — the pyramid's owner, or one of the
ring's four leaders), the other branch is the no-removal control. Both run ``H`` more days.
The cost of the removal is measured against the control of the same seed:

* trust lost: mean member trust, control minus removal, averaged over the 30 days after;
* members lost: active members at day R + H, control minus removal.

Run: ``python experiments/sf6_soul_figure.py`` (12 seeds, R = 300, H = 120). ``--smoke`` is
the same design (the tests run it): with fewer seeds or a shorter horizon the members-lost
difference had no margin at fresh seeds.
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation import diff_ci, mean_ci, savefig, seed_list, setup_matplotlib, study_main  # noqa: E402

import qunsim as qs  # noqa: E402

FIGURE = "sf6_soul_figure.png"
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "knowledge_community.toml"
STRUCTURES = {"pyramid": {"community.structure": "pyramid"},
              "ring": {"community.structure": "ring", "community.n_leaders": 4}}
TRUST_WINDOW = 30


def one_pair(structure: str, seed: int, removal_day: int, horizon: int) -> dict:
    """Run to ``removal_day``, branch, remove one leader in one branch, run both ``horizon`` days."""
    model = qs.CommunityModel(CONFIG, rng=seed, **STRUCTURES[structure])
    model.run_for(removal_day)
    control = copy.deepcopy(model)
    live = model.leaders[model.state.status[model.leaders] == qs.Status.ACTIVE]
    if not len(live):
        raise RuntimeError(f"no active leader left at day {removal_day} (seed {seed}, {structure})")
    leader = int(live[0])  # the pyramid's owner, or the ring's first leader
    tied = int(((model.leader == leader) & (model.state.status == qs.Status.ACTIVE)).sum())
    n_act = int((model.state.status == qs.Status.ACTIVE).sum())
    model.remove_members([leader], reason="forced")
    model.run_for(horizon)
    control.run_for(horizon)
    a, b = model.timeseries(), control.timeseries()
    win = slice(removal_day + 1, removal_day + 1 + TRUST_WINDOW)
    return {
        "tied_share": tied / max(n_act, 1),
        "trust_lost": float((b["trust_mean"].iloc[win] - a["trust_mean"].iloc[win]).mean()),
        "members_lost": float(b["active"].iloc[-1] - a["active"].iloc[-1]),
        "members_lost_share": float((b["active"].iloc[-1] - a["active"].iloc[-1]) / max(n_act, 1)),
        # decomposition of members lost: extra departures (by reason) and missed arrivals
        "extra_leaves": float(a["leaves"].iloc[removal_day + 1:].sum() - b["leaves"].iloc[removal_day + 1:].sum()),
        "extra_leaves_dissatisfied": float(a["leaves_dissatisfied"].iloc[removal_day + 1:].sum()
                                           - b["leaves_dissatisfied"].iloc[removal_day + 1:].sum()),
        "extra_leaves_contagion": float(a["leaves_contagion"].iloc[removal_day + 1:].sum()
                                        - b["leaves_contagion"].iloc[removal_day + 1:].sum()),
        "missed_joins": float(b["joins"].iloc[removal_day + 1:].sum() - a["joins"].iloc[removal_day + 1:].sum()),
        "active_removal": a["active"].to_numpy()[removal_day - 30:].tolist(),
        "active_control": b["active"].to_numpy()[removal_day - 30:].tolist(),
        "trust_removal": a["trust_mean"].to_numpy()[removal_day - 30:].tolist(),
        "trust_control": b["trust_mean"].to_numpy()[removal_day - 30:].tolist(),
    }


def run(smoke: bool = False, seeds=None, out: Path = Path("docs/figures"), *,
        removal_day: int | None = None, horizon: int | None = None, verbose: bool = False) -> dict:
    """Paired removal/control runs for both structures; pyramid-vs-ring cost differences."""
    seeds = seed_list(seeds, 20)
    R = removal_day or 300
    H = horizon or 120
    t0 = time.time()
    runs = {}
    for st in STRUCTURES:
        runs[st] = [one_pair(st, s, R, H) for s in seeds]
        if verbose:
            print(f"{st} done ({time.time() - t0:.0f}s)", flush=True)
    keys = ("tied_share", "trust_lost", "members_lost", "members_lost_share", "extra_leaves",
            "extra_leaves_dissatisfied", "extra_leaves_contagion", "missed_joins")
    cells = {st: {k: mean_ci([r[k] for r in rs]) for k in keys} for st, rs in runs.items()}
    eff = {f"pyramid - ring: {k}": diff_ci([r[k] for r in runs["pyramid"]], [r[k] for r in runs["ring"]])
           for k in ("trust_lost", "members_lost", "members_lost_share")}
    result = {"claim": "SF6 soul figure: removing a pyramid's owner costs more trust and members "
                       "than removing one ring leader",
              "seeds": seeds, "removal_day": R, "horizon": H, "cells": cells, "effects": eff,
              "seconds": time.time() - t0}
    if out is not None:
        result["figure"] = str(_figure(runs, cells, R, Path(out)))
    return result


def _figure(runs, cells, R, out: Path) -> Path:
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.5))
    colors = {"pyramid": "tab:red", "ring": "tab:blue"}
    for st, rs in runs.items():
        n = len(rs[0]["active_removal"])
        days = np.arange(R - 30, R - 30 + n)
        for ax, key in ((axes[0], "trust"), (axes[1], "active")):
            d = np.mean([np.array(r[f"{key}_control"]) - np.array(r[f"{key}_removal"]) for r in rs], 0)
            ax.plot(days, d, color=colors[st], lw=2, label=f"{st}: {'owner' if st == 'pyramid' else '1 of 4 leaders'} removed")
    for ax in axes[:2]:
        ax.axvline(R, color="k", ls=":", lw=1)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel("day (dotted: removal)")
        ax.legend(fontsize=10)
    axes[0].set(ylabel="trust lost (control − removal, 0–1)", title="Mean member trust lost")
    axes[1].set(ylabel="members lost (control − removal)", title="Active members lost")
    names = list(runs)
    x = np.arange(2)
    for j, key in enumerate(("trust_lost", "members_lost_share")):
        m = np.array([cells[n][key]["mean"] for n in names])
        lo = np.array([cells[n][key]["lo"] for n in names])
        hi = np.array([cells[n][key]["hi"] for n in names])
        axes[2].bar(x + (j - 0.5) * 0.38, m, 0.38, yerr=[m - lo, hi - m], capsize=4,
                    color=[colors[n] for n in names], alpha=1.0 if j == 0 else 0.5,
                    hatch=None if j == 0 else "//")
    axes[2].set_xticks(x, [f"{n}\nleft: trust | right: members" for n in names])
    axes[2].set(ylabel="loss vs control (trust 0–1; share of members)", title="Cost of the removal (95% CI)")
    axes[2].axhline(0, color="k", lw=0.8)
    fig.suptitle(f"SF6 Soul figure: losing the pyramid's owner vs one ring leader "
                 f"({len(next(iter(runs.values())))} seeds, removal on day {R})", fontsize=15)
    fig.tight_layout()
    return savefig(fig, out, FIGURE)


def _main() -> None:
    study_main(__doc__, run)

if __name__ == "__main__":
    _main()
