"""SF7 Word of mouth (口碑): online reach turns a churn wave into a collapse of arrivals.

Claim (DESIGN §2.5): an unhappy leaver tells about 6 people offline but can reach thousands
online (``dynamics.wom_reach``). Raising the reach from offline to online turns a churn
wave into a collapse of arrivals.

Design: for each seed and each reach (6 = offline, 2,000 = online), run the knowledge
community to day ``S`` (growth phase), then branch the model (``copy.deepcopy``). In the
*shock* branch the community has a bad patch: every member's need (value a day needed to
stay) is multiplied by ``SHOCK_NEED`` for ``SHOCK_DAYS`` days, then restored — a churn wave
of unhappy leavers, who spread word of mouth through the engine's own mechanism. The
*control* branch runs on unchanged. Arrivals after the wave are compared with the control
of the same seed and reach:

* wave size: departures in the shock branch minus the control's, over the shock days;
* arrival ratio: joins in the ``H`` days after the shock began, shock branch / control.

The word-of-mouth effect is the drop of the arrival ratio from offline to online reach.

Run: ``python experiments/sf7_word_of_mouth.py`` (full: 10 seeds, H = 90) or ``--smoke``
(6 seeds, H = 60).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qunsim as qs  # noqa: E402
from _validation import diff_ci, fmt_ci, mean_ci, savefig, seed_list, setup_matplotlib  # noqa: E402

FIGURE = "sf7_word_of_mouth.png"
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "knowledge_community.toml"
REACH = {"offline (6)": 6.0, "online (2000)": 2000.0}
SHOCK_DAY = 150
SHOCK_NEED = 3.0
SHOCK_DAYS = 10


def one_pair(reach: float, seed: int, horizon: int) -> dict:
    """Run to the shock day, branch, shock one branch, run both; joins and leaves by day."""
    model = qs.CommunityModel(CONFIG, rng=seed, **{"dynamics.wom_reach": reach})
    model.run_for(SHOCK_DAY)
    control = copy.deepcopy(model)
    need = model.state.need.copy()
    model.state.need *= np.float32(SHOCK_NEED)
    model.run_for(SHOCK_DAYS)
    model.state.need[:] = need  # the bad patch ends (newcomers keep their own need)
    model.run_for(horizon - SHOCK_DAYS)
    control.run_for(horizon)
    a, b = model.timeseries(), control.timeseries()
    after = slice(SHOCK_DAY + 1, SHOCK_DAY + 1 + horizon)
    wave = slice(SHOCK_DAY + 1, SHOCK_DAY + 1 + SHOCK_DAYS)
    ja, jb = float(a["joins"].iloc[after].sum()), float(b["joins"].iloc[after].sum())
    return {
        "wave_leavers": float(a["leaves"].iloc[wave].sum() - b["leaves"].iloc[wave].sum()),
        "joins_shock": ja, "joins_control": jb,
        "arrival_ratio": ja / max(jb, 1.0),
        "active_ratio": float(a["active"].iloc[-1] / max(b["active"].iloc[-1], 1)),
        "joins_before": float(a["joins"].iloc[SHOCK_DAY - 29:SHOCK_DAY + 1].sum()),
        "joins_curve_shock": a["joins"].to_numpy().tolist(),
        "joins_curve_control": b["joins"].to_numpy().tolist(),
    }


def run(smoke: bool = False, seeds=None, out: Path = Path("docs/figures"), *, horizon: int | None = None,
        verbose: bool = False) -> dict:
    """Paired shock/control runs at offline and online reach; returns CIs and the WOM effect."""
    seeds = seed_list(seeds, 6 if smoke else 10)
    H = horizon or (60 if smoke else 90)
    t0 = time.time()
    runs = {}
    for name, reach in REACH.items():
        runs[name] = [one_pair(reach, s, H) for s in seeds]
        if verbose:
            print(f"{name} done ({time.time() - t0:.0f}s)", flush=True)
    keys = ("wave_leavers", "joins_before", "joins_shock", "joins_control", "arrival_ratio", "active_ratio")
    cells = {n: {k: mean_ci([r[k] for r in rs]) for k in keys} for n, rs in runs.items()}
    off, on = list(REACH)
    eff = {
        "online - offline: arrival ratio after the wave": diff_ci(
            [r["arrival_ratio"] for r in runs[on]], [r["arrival_ratio"] for r in runs[off]]),
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
    lo_day = SHOCK_DAY - 60
    for name, rs in runs.items():
        for kind, ls in (("control", ":"), ("shock", "-")):
            c = np.mean([r[f"joins_curve_{kind}"] for r in rs], 0)
            k = 7
            sm = np.convolve(c, np.ones(k) / k, mode="same")
            days = np.arange(len(c))
            sel = days >= lo_day
            axes[0].plot(days[sel], sm[sel], color=colors[name], ls=ls, lw=2, label=f"{name}, {kind}")
    axes[0].axvspan(SHOCK_DAY, SHOCK_DAY + SHOCK_DAYS, color="0.85", label="churn wave (need ×3)")
    axes[0].set(xlabel="day", ylabel="joins per day (7-day mean over seeds)", title="Arrivals")
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
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("docs/figures"))
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    res = run(smoke=a.smoke, seeds=a.seeds, out=a.out, verbose=True)
    for n, s in res["cells"].items():
        print(f"{n:14s} " + "  ".join(f"{k}={fmt_ci(v, 2)}" for k, v in s.items()))
    for k, v in res["effects"].items():
        print(f"{k}: {fmt_ci(v, 3)}  p>={v['p_greater']:.3g} p<={v['p_less']:.3g}")
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))
    print(f"figure: {res['figure']}  ({res['seconds']:.0f}s)")


if __name__ == "__main__":
    _main()
