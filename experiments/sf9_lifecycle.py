"""SF9 Lifecycle (生命周期): a default run passes through introduction, growth, maturity and
decline.

Claim: with the default calibration (configs/knowledge_community.toml) a
community is introduced by its seed members, grows, matures and declines within three years.
Each run's time series is labelled by ``qunsim.metrics.lifecycle_phases`` (the ``phase``
column); a run *passes* when its sequence of spells (``qunsim.metrics.lifecycle_spells``;
before, the study read ``summary["phases_seen"]`` when that listed each phase once, at its first
appearance, and a launch dip before growth made a run fail) contains introduction,
growth, maturity and decline in this order. We report the share of passing seeds (Wilson 95%
CI), the day each phase starts in that order (:func:`ordered_starts`; t 95% CIs), and the peak
and final size.

Run: ``python experiments/sf9_lifecycle.py`` (40 seeds × 1,095 days; ``--smoke`` is the same
design: with 20 seeds a pass share of 0.7 left the Wilson bound below one half). Three years, not two: with 20% more attention or 20% less need the
community is still mature on day 730 at most seeds, and declines in the third year.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation import fmt_ci, mean_ci, savefig, seed_list, setup_matplotlib, study_main, wilson_ci  # noqa: E402

import qunsim as qs  # noqa: E402
from qunsim.metrics import lifecycle_spells  # noqa: E402

FIGURE = "sf9_lifecycle.png"
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "knowledge_community.toml"
ORDER = ("introduction", "growth", "maturity", "decline")
PHASE_COLORS = {"introduction": "#d9ecff", "growth": "#d8f5d0", "maturity": "#fff3c4",
                "decline": "#ffd9d2", "death": "#bbbbbb"}


def in_order(phases: list[str], order=ORDER) -> bool:
    """True when ``order`` is a subsequence of ``phases``.

    >>> in_order(["introduction", "growth", "maturity", "growth", "decline"])
    True
    >>> in_order(["introduction", "growth", "decline", "maturity"])
    False
    >>> in_order(lifecycle_spells(["introduction", "decline", "growth", "maturity", "decline"]))
    True
    """
    it = iter(phases)
    return all(any(p == want for p in it) for want in order)


def ordered_starts(phase_curve, steps, order=ORDER) -> dict:
    """The first day of each phase of ``order`` in the earliest in-order match: introduction's
    first day, then the first growth after it, the first maturity after that and the first
    decline after that (NaN from the first phase not found on). A launch dip labelled
    *decline* before growth does not count as the decline.

    >>> ordered_starts(["introduction", "decline", "growth", "maturity", "decline"], [0, 1, 2, 3, 4])
    {'introduction': 0.0, 'growth': 2.0, 'maturity': 3.0, 'decline': 4.0}
    >>> ordered_starts(["growth", "maturity"], [0, 1])
    {'introduction': nan, 'growth': nan, 'maturity': nan, 'decline': nan}
    """
    out, t = {}, 0
    for want in order:
        while t < len(phase_curve) and phase_curve[t] != want:
            t += 1
        out[want] = float(steps[t]) if t < len(phase_curve) else float("nan")
    return out


def measure(res: qs.RunResult) -> dict:
    ts = res.timeseries
    ph = ts["phase"].to_numpy()
    seq = lifecycle_spells(ph.tolist())  # what summary['phases_seen'] holds, from the column
    return {"passes": in_order(seq), "phases_seen": "|".join(seq),
            "start": ordered_starts(ph.tolist(), ts["step"].to_numpy().tolist()),
            "peak_active": float(ts["active"].max()),
            "peak_day": float(ts["step"].iloc[int(ts["active"].to_numpy().argmax())]),
            "final_active": float(ts["active"].iloc[-1]),
            "active_curve": ts["active"].to_numpy().tolist(), "phase_curve": ph.tolist()}


def run(smoke: bool = False, seeds=None, out: Path = Path("docs/figures"), *, steps: int = 1095,
        verbose: bool = False) -> dict:
    """Default runs over seeds; share passing through the four phases in order, with CIs."""
    seeds = seed_list(seeds, 40)
    t0 = time.time()
    runs = []
    for s in seeds:
        runs.append(measure(qs.simulate(CONFIG, rng=s, steps=steps)))
        if verbose:
            print(f"seed {s}: {runs[-1]['phases_seen']} ({time.time() - t0:.0f}s)", flush=True)
    k = sum(r["passes"] for r in runs)
    result = {
        "claim": "SF9 lifecycle: a default run passes through introduction, growth, maturity and decline",
        "seeds": seeds, "steps": steps,
        "share_all_four_in_order": wilson_ci(k, len(runs)),
        "phase_start_day": {p: mean_ci([r["start"][p] for r in runs]) for p in ORDER},
        "peak_active": mean_ci([r["peak_active"] for r in runs]),
        "peak_day": mean_ci([r["peak_day"] for r in runs]),
        "final_active": mean_ci([r["final_active"] for r in runs]),
        "phases_seen": [r["phases_seen"] for r in runs],
        "seconds": time.time() - t0,
    }
    if out is not None:
        result["figure"] = str(_figure(runs, result, steps, Path(out)))
    return result


def _figure(runs, res, steps, out: Path) -> Path:
    plt = setup_matplotlib()
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(1, 2, figsize=(16, 5.5), gridspec_kw={"width_ratios": [1.3, 1]})
    ax = axes[0]
    # shade a typical run: the passing run whose peak is closest to the median peak
    pool = [r for r in runs if r["passes"]] or runs
    med = float(np.median([r["peak_active"] for r in pool]))
    r0 = min(pool, key=lambda r: abs(r["peak_active"] - med))
    ph = r0["phase_curve"]
    start = 0
    for t in range(1, len(ph) + 1):
        if t == len(ph) or ph[t] != ph[start]:
            ax.axvspan(start, t - 1, color=PHASE_COLORS.get(ph[start], "white"), lw=0)
            start = t
    days = np.arange(len(ph))
    for r in runs:
        ax.plot(days, r["active_curve"], color="0.6", lw=0.7, alpha=0.6)
    ax.plot(days, r0["active_curve"], color="k", lw=2.2)
    handles = [Patch(color=PHASE_COLORS[p], label=p) for p in (*ORDER, "death") if p in set(ph)]
    handles.append(plt.Line2D([], [], color="k", lw=2.2, label="shaded run (median peak)"))
    handles.append(plt.Line2D([], [], color="0.6", lw=0.7, label="other seeds"))
    ax.legend(handles=handles, loc="upper left", fontsize=10)
    ax.set(xlabel="day", ylabel="active members", xlim=(0, steps),
           title="Active members, phases of one run shaded")
    ax = axes[1]
    names = list(ORDER)
    m = np.array([res["phase_start_day"][p]["mean"] for p in names])
    lo = np.array([res["phase_start_day"][p]["lo"] for p in names])
    hi = np.array([res["phase_start_day"][p]["hi"] for p in names])
    lo = np.where(np.isfinite(lo), lo, m)
    hi = np.where(np.isfinite(hi), hi, m)
    ends = np.r_[m[1:], steps]
    ax.barh(range(4), ends - m, left=m, color=[PHASE_COLORS[p] for p in names], edgecolor="k")
    ax.errorbar(m, range(4), xerr=[m - lo, hi - m], fmt="o", color="k", capsize=5)
    ax.set_yticks(range(4), names)
    ax.invert_yaxis()
    sh = res["share_all_four_in_order"]
    ax.set(xlabel="day (bars: mean start of each phase, in order, to the next; dots: start, 95% CI)",
           xlim=(0, steps),
           title=f"All four phases in order: {sh['p']:.0%} of seeds [{sh['lo']:.0%}, {sh['hi']:.0%}]")
    fig.suptitle(f"SF9 Lifecycle of a default knowledge community ({len(runs)} seeds, {steps} days)",
                 fontsize=15)
    fig.tight_layout()
    return savefig(fig, out, FIGURE)


def _report(res: dict) -> None:
    sh = res["share_all_four_in_order"]
    print(f"all four phases in order: {sh['p']:.2f} [{sh['lo']:.2f}, {sh['hi']:.2f}] of {sh['n']} seeds")
    for p, v in res["phase_start_day"].items():
        print(f"  {p} starts on day {fmt_ci(v, 0)}")
    print("peak active", fmt_ci(res["peak_active"], 0), "on day", fmt_ci(res["peak_day"], 0),
          "final", fmt_ci(res["final_active"], 0))


def _main() -> None:
    study_main(__doc__, run, _report)

if __name__ == "__main__":
    _main()
