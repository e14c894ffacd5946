"""SF7 Word of mouth (口碑): online reach turns a churn wave into a collapse of arrivals.

Claim: an unhappy leaver tells about 6 people offline but can reach thousands
online (``dynamics.wom_reach``). Raising the reach from offline to online turns a churn
wave into a collapse of arrivals.

Design: for each seed, run the knowledge community to day ``S`` (growth phase) with the
default offline reach, then branch the model (``copy.deepcopy``) four ways: reach offline
(6) or online (2,000) × wave or no wave. The reach is switched at the branch point (the
branch's ``model.p`` is replaced by a copy of the dynamics with the new ``wom_reach``), so
all four branches share the same history and differ only in what follows. In a *wave*
branch the community has a bad patch: every member's need (value a day needed to stay) is
multiplied by ``SHOCK_NEED`` for ``SHOCK_DAYS`` days, then restored — a churn wave of
unhappy leavers, who spread word of mouth through the engine's own mechanism. Arrivals
after the wave are compared with the no-wave branch of the same seed and reach:

* wave size: departures in the wave branch minus the no-wave branch, over the shock days;
* arrival ratio: joins in the ``H`` days after the shock began, wave branch / no-wave;
* exposure-arrival ratio: the same for arrivals through content channels only (referrals
  also fall because the community is smaller).

The word-of-mouth effect is the drop of the arrival ratio from offline to online reach,
paired by seed.

Run: ``python experiments/sf7_word_of_mouth.py`` (24 seeds, H = 90). ``--smoke`` is the same
design (the tests run it): with 8 seeds and H = 60 the effect had no margin at fresh seeds.
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation import (  # noqa: E402
    diff_ci,
    mean_ci,
    paired_ci,
    savefig,
    seed_list,
    setup_matplotlib,
    study_main,
)

import qunsim as qs  # noqa: E402

FIGURE = "sf7_word_of_mouth.png"
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "knowledge_community.toml"
REACH = {"offline (6)": 6.0, "online (2000)": 2000.0}
SHOCK_DAY = 150
SHOCK_NEED = 3.0
SHOCK_DAYS = 15


def _branch(base, reach: float, wave: bool, horizon: int):
    m = copy.deepcopy(base)
    m.p = m.p.model_copy(update={"wom_reach": float(reach)})
    if wave:
        need = m.state.need.copy()
        m.state.need *= np.float32(SHOCK_NEED)
        m.run_for(SHOCK_DAYS)
        m.state.need[:] = need  # the bad patch ends (newcomers keep their own need)
        m.run_for(horizon - SHOCK_DAYS)
    else:
        m.run_for(horizon)
    ts = m.timeseries()
    exposure = int(((m.state.join_step > SHOCK_DAY) & (m.state.entry_path == qs.state.EntryPath.EXPOSURE)).sum())
    return ts, exposure


def one_seed(seed: int, horizon: int) -> dict:
    """Run to the shock day, branch four ways (reach × wave), return per-reach outcomes."""
    base = qs.CommunityModel(CONFIG, rng=seed, **{"dynamics.wom_reach": REACH["offline (6)"]})
    base.run_for(SHOCK_DAY)
    after = slice(SHOCK_DAY + 1, SHOCK_DAY + 1 + horizon)
    wave = slice(SHOCK_DAY + 1, SHOCK_DAY + 1 + SHOCK_DAYS)
    out = {}
    for name, reach in REACH.items():
        a, ea = _branch(base, reach, True, horizon)
        b, eb = _branch(base, reach, False, horizon)
        ja, jb = float(a["joins"].iloc[after].sum()), float(b["joins"].iloc[after].sum())
        out[name] = {
            "wave_leavers": float(a["leaves"].iloc[wave].sum() - b["leaves"].iloc[wave].sum()),
            "joins_wave": ja, "joins_control": jb,
            "arrival_ratio": ja / max(jb, 1.0),
            "exposure_ratio": ea / max(eb, 1.0),
            "active_ratio": float(a["active"].iloc[-1] / max(b["active"].iloc[-1], 1)),
            "joins_curve_shock": a["joins"].to_numpy().tolist(),
            "joins_curve_control": b["joins"].to_numpy().tolist(),
        }
    return out


def run(smoke: bool = False, seeds=None, out: Path = Path("docs/figures"), *, horizon: int | None = None,
        verbose: bool = False) -> dict:
    """Paired shock/control runs at offline and online reach; returns CIs and the WOM effect."""
    seeds = seed_list(seeds, 24)
    H = horizon or 90
    t0 = time.time()
    runs = {name: [] for name in REACH}
    for s in seeds:
        for name, r in one_seed(s, H).items():
            runs[name].append(r)
        if verbose:
            print(f"seed {s} done ({time.time() - t0:.0f}s)", flush=True)
    keys = ("wave_leavers", "joins_wave", "joins_control", "arrival_ratio", "exposure_ratio", "active_ratio")
    cells = {n: {k: mean_ci([r[k] for r in rs]) for k in keys} for n, rs in runs.items()}
    off, on = list(REACH)
    eff = {
        "online - offline: arrival ratio after the wave": diff_ci(
            [r["arrival_ratio"] for r in runs[on]], [r["arrival_ratio"] for r in runs[off]]),
        "online - offline: arrival ratio, paired by seed": paired_ci(
            [r["arrival_ratio"] for r in runs[on]], [r["arrival_ratio"] for r in runs[off]]),
        "online / offline: joins after the wave (per-seed ratio)": mean_ci(
            [a["joins_wave"] / max(b["joins_wave"], 1.0) for a, b in zip(runs[on], runs[off], strict=True)]),
        "online / offline: joins without a wave (per-seed ratio)": mean_ci(
            [a["joins_control"] / max(b["joins_control"], 1.0) for a, b in zip(runs[on], runs[off], strict=True)]),
        "online - offline: exposure-arrival ratio": diff_ci(
            [r["exposure_ratio"] for r in runs[on]], [r["exposure_ratio"] for r in runs[off]]),
        "online - offline: active ratio at the end": diff_ci(
            [r["active_ratio"] for r in runs[on]], [r["active_ratio"] for r in runs[off]]),
        "online - offline: wave size (extra leavers)": diff_ci(
            [r["wave_leavers"] for r in runs[on]], [r["wave_leavers"] for r in runs[off]]),
    }
    result = {"claim": "SF7 word of mouth: online reach turns a churn wave into a collapse of arrivals",
              "seeds": seeds, "shock_day": SHOCK_DAY, "shock_need": SHOCK_NEED, "shock_days": SHOCK_DAYS,
              "horizon": H, "cells": cells, "effects": eff, "seconds": time.time() - t0}
    if out is not None:
        result["figure"] = str(_figure(runs, cells, H, Path(out)))
    return result


def _figure(runs, cells, H, out: Path) -> Path:
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.5))
    colors = dict(zip(runs, ("tab:green", "tab:red"), strict=True))
    lo_day = SHOCK_DAY - 20
    for name, rs in runs.items():
        for kind, ls, label in (("control", ":", "no wave"), ("shock", "-", "wave")):
            c = np.mean([r[f"joins_curve_{kind}"] for r in rs], 0)
            sm = pd.Series(c).rolling(7, min_periods=1).mean().to_numpy()
            days = np.arange(len(c))
            sel = days >= lo_day
            axes[0].plot(days[sel], sm[sel], color=colors[name], ls=ls, lw=2, label=f"{name}, {label}")
    axes[0].axvspan(SHOCK_DAY, SHOCK_DAY + SHOCK_DAYS, color="0.85", label=f"churn wave (need ×{SHOCK_NEED:g})")
    axes[0].set(xlabel="day", ylabel="joins per day (trailing 7-day mean over seeds)", title="Arrivals")
    axes[0].legend(fontsize=10)
    names = list(runs)
    m = np.array([cells[n]["arrival_ratio"]["mean"] for n in names])
    lo = np.array([cells[n]["arrival_ratio"]["lo"] for n in names])
    hi = np.array([cells[n]["arrival_ratio"]["hi"] for n in names])
    axes[1].bar(range(2), m, yerr=[m - lo, hi - m], capsize=5, color=[colors[n] for n in names])
    axes[1].axhline(1.0, color="k", lw=0.8)
    axes[1].set_xticks(range(2), [f"word-of-mouth reach\n{n}" for n in names])
    axes[1].set(ylabel=f"joins in {H} days after the wave / control", ylim=(0, 1.2),
                title="Arrivals after the wave, relative to no wave (95% CI)")
    fig.suptitle(f"SF7 Word of mouth: offline vs online reach of unhappy leavers "
                 f"({len(next(iter(runs.values())))} seeds, wave on day {SHOCK_DAY})", fontsize=15)
    fig.tight_layout()
    return savefig(fig, out, FIGURE)


def _main() -> None:
    study_main(__doc__, run)

if __name__ == "__main__":
    _main()
