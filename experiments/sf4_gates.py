"""SF4 — stricter entry gates: slower growth, lower churn, more revenue per member; far too strict
and the community is too small to sustain itself.

Claim: stricter entry gates (门槛) give slower growth, lower churn and higher
revenue per member; far too strict, and the community is too small to sustain itself.

Design: one strictness knob ``s`` in [0, 1] tightens two gates at once —

- an entry fee ``price = 250 s^1.5`` (付费门槛: candidates whose willingness to pay is below
  it stay out; the fee is revenue and a sunk cost that damps leaving), and
- an application process (流程门槛) that catches chatters and spammers with precision ``s``
  and loses a share ``0.3 s`` of impatient candidates.

``s = 0`` is an open door. The community: 150 founding members (who pay nothing), 3,000
prospects, 8 exposures a day through content channels, 10% chatters (no spammers) in the
population, no activity policies; otherwise the default calibration. Replicate r of every
strictness level uses the same seed (common random numbers).

Measures, per replicate: newcomers admitted (growth); the newcomers' leaving hazard over
their first 60 days (leaves per member-day: churn of those the gate let in) and the
community-wide leaving hazard; entry-fee revenue per average active member and in total;
mean and final active members (size). Reported as means with 95% t intervals; the claims are
checked with one-sided paired t tests between the open door, the middle of the range and the
strictest level.

Run: ``python experiments/sf4_gates.py`` (full: 7 levels x 10 replicates x 365 days, ~2 min
on one core) or ``--smoke`` (levels 0, 0.5, 1; 6 replicates x 120 days, ~10 s). Writes
``docs/figures/sf4_gates.png`` and ``sf4_gates.json`` (``--out`` to change the directory).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _levers_stats import format_tests, paired_diff, study_cli  # noqa: E402
from _validation import mean_ci, savefig, seed_list, setup_matplotlib  # noqa: E402

import qunsim as qs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIGURE = "sf4_gates.png"
SCENARIO = {
    "community.n_seed": 150,
    "community.n_prospects": 3000,
    "community.chatter_share": 0.10,
    "community.spammer_share": 0.0,
    "dynamics.inflow": 8.0,
}
FULL = dict(levels=(0.0, 0.15, 0.3, 0.45, 0.6, 0.8, 1.0), replicates=10, steps=365)
SMOKE = dict(levels=(0.0, 0.5, 1.0), replicates=6, steps=120)
NEWCOMER_WINDOW = 60
METRICS = ("joined", "newcomer_hazard", "leave_hazard", "revenue_per_member", "revenue_total",
           "mean_active", "final_active", "bad_intake_share")


def gates(s: float) -> dict:
    """The gate tables of strictness ``s`` (dotted overrides).

    >>> gates(0.0)["gate.fee"], gates(1.0)["gate.process"]["precision"]
    ({'price': 0.0}, 1.0)
    """
    return {"gate.fee": {"price": round(250.0 * s**1.5, 2)},
            "gate.process": {"precision": float(s), "dropout": round(0.3 * s, 4)}}


def run_one(s: float, seed: int, steps: int) -> dict:
    """One replicate at strictness ``s``: the measures of the module docstring."""
    res = qs.simulate(rng=seed, steps=steps, **SCENARIO, **gates(s))
    ts, mem = res.timeseries, res.members
    new = mem[mem["join_step"] > 0]
    js = new["join_step"].to_numpy()
    ls = new["leave_step"].to_numpy()
    end = np.where(ls >= 0, ls, steps)
    exposure = float(np.maximum(np.minimum(end, js + NEWCOMER_WINDOW) - js, 0).sum())
    events = float(((ls >= 0) & (ls - js < NEWCOMER_WINDOW)).sum())
    act = ts["active"].iloc[1:]
    rev = float(ts["revenue"].sum())
    bad = new["initial_role"].astype(str).isin(["chatter", "spammer"]).sum()
    return {
        "strictness": s, "seed": seed,
        "joined": int(len(new)),
        "newcomer_hazard": events / exposure if exposure > 0 else np.nan,
        "leave_hazard": float(ts["leaves"].iloc[1:].sum() / max(act.sum(), 1)),
        "revenue_total": rev,
        "revenue_per_member": rev / max(float(act.mean()), 1.0),
        "mean_active": float(act.mean()),
        "final_active": int(ts["active"].iloc[-1]),
        "bad_intake_share": float(bad / len(new)) if len(new) else np.nan,
    }


def run(smoke: bool = False, replicates: int | None = None, steps: int | None = None,
        levels=None, out: str | Path = ROOT / "docs" / "figures", figure: bool = True) -> dict:
    """Run the study; return its data (also written to ``out/sf4_gates.json``).

    Returns a dict with ``runs`` (one row per level and replicate, a DataFrame),
    ``by_level`` (mean and 95% CI of each measure per level), ``tests`` (one-sided Welch
    comparisons of the claims) and ``holds``.
    """
    spec = dict(SMOKE if smoke else FULL)
    levels = tuple(levels or spec["levels"])
    T = steps or spec["steps"]
    seeds = seed_list(replicates, spec["replicates"], base=400)
    t0 = time.perf_counter()
    runs = pd.DataFrame([run_one(s, seed, T) for s in levels for seed in seeds])
    by_level = {float(s): {m: mean_ci(g[m]) for m in METRICS} for s, g in runs.groupby("strictness")}
    lo, hi = min(levels), max(levels)
    mid = min(levels, key=lambda x: abs(x - 0.5 * (lo + hi)))
    d = lambda a, b, m: paired_diff(runs, "strictness", a, b, m)  # noqa: E731
    tests = {
        "slower_growth": d(mid, lo, "joined"),
        "lower_newcomer_churn": d(mid, lo, "newcomer_hazard"),
        "lower_churn": d(mid, lo, "leave_hazard"),
        "more_revenue_per_member": d(mid, lo, "revenue_per_member"),
        "too_strict_less_revenue_per_member": d(hi, mid, "revenue_per_member"),
        "too_strict_smaller": d(hi, lo, "mean_active"),
    }
    holds = (tests["slower_growth"]["p_less"] < 0.05 and tests["lower_newcomer_churn"]["p_less"] < 0.05
             and tests["lower_churn"]["p_less"] < 0.05
             and tests["more_revenue_per_member"]["p_greater"] < 0.05
             and tests["too_strict_less_revenue_per_member"]["p_less"] < 0.05
             and tests["too_strict_smaller"]["p_less"] < 0.05)
    res = {"claim": "SF4", "smoke": smoke, "levels": list(levels), "replicates": len(seeds), "steps": T,
           "scenario": SCENARIO, "by_level": by_level, "tests": tests, "holds": bool(holds),
           "seconds": round(time.perf_counter() - t0, 1)}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if figure:
        res["figure"] = str(_figure(runs, by_level, T, out))
    (out / "sf4_gates.json").write_text(json.dumps(res, indent=2, default=float))
    res["runs"] = runs
    return res


def _errorline(ax, by_level, metric, scale=1.0, **kw):
    x = np.array(sorted(by_level))
    r = [by_level[s][metric] for s in x]
    m = np.array([v["mean"] for v in r]) * scale
    lo = np.array([v["lo"] for v in r]) * scale
    hi = np.array([v["hi"] for v in r]) * scale
    ax.plot(x, m, "o-", lw=2, **kw)
    ax.fill_between(x, lo, hi, alpha=0.2, color=ax.lines[-1].get_color(), lw=0)


def _figure(runs, by_level, steps, out: Path) -> Path:
    plt = setup_matplotlib()
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    ax = axes[0, 0]
    _errorline(ax, by_level, "joined", color="tab:blue")
    ax.set(title="Growth: newcomers admitted", xlabel="gate strictness s", ylabel=f"newcomers in {steps} days")
    ax = axes[0, 1]
    _errorline(ax, by_level, "newcomer_hazard", 1000, color="tab:red", label=f"newcomers, first {NEWCOMER_WINDOW} days")
    _errorline(ax, by_level, "leave_hazard", 1000, color="tab:purple", label="all members")
    ax.set(title="Churn: leaves per 1,000 member-days", xlabel="gate strictness s", ylabel="leaves / 1,000 member-days")
    ax.legend()
    ax = axes[1, 0]
    _errorline(ax, by_level, "revenue_per_member", color="tab:green", label="per average active member")
    ax.set(title="Entry-fee revenue per member", xlabel="gate strictness s", ylabel="revenue per member")
    ax2 = ax.twinx()
    _errorline(ax2, by_level, "revenue_total", 1e-3, color="tab:olive", label="total (thousands, right)")
    ax2.set_ylabel("total revenue (thousands)")
    ax2.grid(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper right")
    ax = axes[1, 1]
    _errorline(ax, by_level, "mean_active", color="tab:gray", label="mean over the run")
    _errorline(ax, by_level, "final_active", color="black", label="at the end")
    ax.axhline(SCENARIO["community.n_seed"], color="k", ls=":", lw=1, label="founding members")
    ax.set(title="Size: too strict and the community withers", xlabel="gate strictness s", ylabel="active members")
    ax.legend()
    n = runs["seed"].nunique()
    fig.suptitle(f"SF4: entry-gate strictness (fee 250·s^1.5 + screening precision s, dropout 0.3·s) — "
                 f"mean and 95% CI over {n} replicates", fontsize=14)
    fig.tight_layout()
    return savefig(fig, out, FIGURE)


def _report(res: dict) -> str:
    lines = [f"SF4 gates ({'smoke' if res['smoke'] else 'full'}: {len(res['levels'])} levels x "
             f"{res['replicates']} replicates x {res['steps']} days, {res['seconds']} s)"]
    for s, st in res["by_level"].items():
        lines.append(f"  s={s:.2f}: " + ", ".join(
            f"{m} {v['mean']:.4g} [{v['lo']:.4g}, {v['hi']:.4g}]" for m, v in st.items()
            if m in ("joined", "newcomer_hazard", "leave_hazard", "revenue_per_member", "mean_active")))
    lines += format_tests(res["tests"])
    lines.append(f"  claim holds: {res['holds']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    return study_cli(__doc__, run, _report, argv)


if __name__ == "__main__":
    raise SystemExit(main())
