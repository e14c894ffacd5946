"""SF2 Goal fit: the same high message volume keeps a social community alive but drives
experts out of a knowledge community.

Claim: activity is good only when it serves the community's goal. We run the
knowledge and the social scenario (configs/knowledge_community.toml, social_community.toml)
at low chatter (5% chatters, contagion 1) and high chatter (30% chatters, contagion 3: the
group floods with messages) over the same seeds, and compare expert retention (active
experts / experts ever joined), core retention (the share of members who joined as experts
or contributors — the members who supply the information — still active at the end) and
community survival (active members at the end, and the end-to-peak ratio). The goal-fit
effect is the interaction: the change from low to high chatter is worse in the knowledge
community than in the social one (high minus low chatter paired by seed).

The community's size is reported (active members at the end, also on the log scale) but is
not a criterion: it is not the knowledge community's goal. Flooded with chatter, the
knowledge community loses its core and lives on as a chat group of chatters and regulars,
who are content with chat; in the second year it is the *larger* one (docs/validation.md,
SF2), so the size effect changes sign with the horizon.

Run: ``python experiments/sf2_goal_fit.py`` (full: 24 seeds × 365 days, ~45 s),
``--steps 730`` for the second year (~3 min: the social community grows to ~17,000
members) or ``--smoke`` (24 seeds × 300 days).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation import diff_ci, mean_ci, savefig, seed_list, setup_matplotlib, study_main  # noqa: E402

import qunsim as qs  # noqa: E402

FIGURE = "sf2_goal_fit.png"
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
GOALS = {"knowledge": CONFIGS / "knowledge_community.toml", "social": CONFIGS / "social_community.toml"}
CHATTER = {
    "low": {"community.chatter_share": 0.05, "dynamics.chatter_contagion": 1.0},
    "high": {"community.chatter_share": 0.30, "dynamics.chatter_contagion": 3.0},
}


def core_retention(res: qs.RunResult) -> float:
    """The share of the core members (joined as experts or contributors: the members who
    supply the information) still active at the end."""
    m = res.members
    core = m[m["initial_role"].isin(["expert", "contributor"])]
    return float((core["status"] == "active").mean()) if len(core) else 0.0


def measure(res: qs.RunResult) -> dict:
    ts = res.timeseries
    return {
        "messages_per_day": float(ts["messages"].iloc[1:].mean()),
        "final_active": float(ts["active"].iloc[-1]),
        "log_final_active": float(np.log(max(ts["active"].iloc[-1], 1))),
        "survival": float(ts["active"].iloc[-1] / max(ts["active"].max(), 1)),
        "expert_retention": float(ts["expert_retention"].iloc[-1]),
        "core_retention": core_retention(res),
        "active_expert_curve": ts["active_expert"].to_numpy().tolist(),
        "active_curve": ts["active"].to_numpy().tolist(),
    }


def run(smoke: bool = False, seeds=None, out: Path = Path("docs/figures"), *, steps: int | None = None,
        verbose: bool = False) -> dict:
    """Goal × chatter design over seeds; returns per-cell CIs and the goal-fit effects."""
    seeds = seed_list(seeds, 24)
    steps = steps or (300 if smoke else 365)
    t0 = time.time()
    runs: dict[str, list[dict]] = {}
    for goal, path in GOALS.items():
        for level, o in CHATTER.items():
            runs[f"{goal}/{level}"] = [measure(qs.simulate(path, rng=s, steps=steps, **o)) for s in seeds]
            if verbose:
                print(f"{goal}/{level} done ({time.time() - t0:.0f}s)", flush=True)
    keys = ("messages_per_day", "final_active", "survival", "expert_retention", "core_retention")
    cells = {n: {k: mean_ci([r[k] for r in rs]) for k in keys} for n, rs in runs.items()}

    def col(n, k):
        return np.array([r[k] for r in runs[n]])

    eff = {}
    for k in ("expert_retention", "core_retention", "final_active", "log_final_active", "survival"):
        dk = col("knowledge/high", k) - col("knowledge/low", k)  # paired by seed
        ds = col("social/high", k) - col("social/low", k)
        eff[f"knowledge: high - low chatter, {k}"] = mean_ci(dk) | {"paired": True}
        eff[f"social: high - low chatter, {k}"] = mean_ci(ds) | {"paired": True}
        eff[f"goal fit (social change - knowledge change), {k}"] = diff_ci(ds, dk)
    eff["high chatter: expert retention, social - knowledge"] = diff_ci(
        col("social/high", "expert_retention"), col("knowledge/high", "expert_retention"))
    result = {"claim": "SF2 goal fit: high message volume keeps a social community alive but drives "
                       "experts out of a knowledge community",
              "seeds": seeds, "steps": steps, "cells": cells, "effects": eff,
              "runs": {n: [{k: v for k, v in r.items() if not k.endswith("_curve")} for r in rs]
                       for n, rs in runs.items()},
              "seconds": time.time() - t0}
    if out is not None:
        result["figure"] = str(_figure(runs, cells, steps, Path(out)))
    return result


def _figure(runs, cells, steps, out: Path) -> Path:
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.5))
    days = np.arange(steps + 1)
    style = {"knowledge/low": ("tab:blue", "-"), "knowledge/high": ("tab:blue", "--"),
             "social/low": ("tab:orange", "-"), "social/high": ("tab:orange", "--")}
    for n, rs in runs.items():
        c, ls = style[n]
        axes[0].plot(days, np.mean([r["active_curve"] for r in rs], 0), color=c, ls=ls, lw=2,
                     label=f"{n} ({cells[n]['messages_per_day']['mean']:.0f} msgs/day)")
        axes[1].plot(days, np.mean([r["active_expert_curve"] for r in rs], 0), color=c, ls=ls, lw=2, label=n)
    axes[0].set_yscale("log")
    axes[1].set_yscale("symlog", linthresh=1.0)
    axes[0].set(xlabel="day", ylabel="active members (mean over seeds, log scale)", title="Community size")
    axes[1].set(xlabel="day", ylabel="active experts (mean over seeds, log scale)", title="Experts")
    axes[0].legend(fontsize=10)
    ax = axes[2]
    names = list(runs)
    for j, (k, label) in enumerate((("expert_retention", "experts"), ("core_retention", "experts + contributors"))):
        m = np.array([cells[n][k]["mean"] for n in names])
        lo = np.array([cells[n][k]["lo"] for n in names])
        hi = np.array([cells[n][k]["hi"] for n in names])
        x = np.arange(4) + (j - 0.5) * 0.4
        bars = ax.bar(x, m, width=0.38, yerr=[m - lo, hi - m], capsize=3, color=[style[n][0] for n in names],
                      alpha=0.95 if j == 0 else 0.5, edgecolor="black", linewidth=0.5)
        for b, n in zip(bars, names, strict=True):
            if n.endswith("high"):
                b.set_hatch("//")
        bars[0].set_label(label)
    ax.set_xticks(range(4), names, rotation=20, ha="right")
    ax.set(ylabel="share still active at the end (0–1)", ylim=(0, 1.1), title="Retention (95% CI)")
    ax.legend(fontsize=10, loc="upper left")
    fig.suptitle(f"SF2 Goal fit: chatter keeps a social community alive, drives experts out of a "
                 f"knowledge community ({len(next(iter(runs.values())))} seeds, {steps} days)", fontsize=15)
    fig.tight_layout()
    return savefig(fig, out, FIGURE)


def _main() -> None:
    study_main(__doc__, run, steps=True)

if __name__ == "__main__":
    _main()
