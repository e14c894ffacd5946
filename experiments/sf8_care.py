"""SF8 — private care of at-risk members lowers churn, at operator cost.

Claim: private care (私信关怀) of at-risk members lowers churn, at operator cost.

Design: the ``care`` activity policy with an operator capacity of ``c`` contacts a day
(``c = 0``: no care). Each day the operator writes, one to one, to the members with the lowest
satisfaction among those below 0 (each at most once a week); a contact is 2 units of positive
trust evidence and lifts satisfaction by 0.5 (the policy's defaults). Care is private: it adds
no message to any group. The community: 150 founding members, 3,000 prospects, 8 exposures a
day, 8% chatters and no spammers in the population — a growing community in which members
still leave, mostly dissatisfied — otherwise the default calibration. Replicate r of every capacity uses the
same seed (common random numbers), so arms are compared by paired differences.

Measures, per replicate: the leaving hazard (leaves per member-day), members who left
dissatisfied or by contagion, mean and final active members; operator capacity used (per
day and in total); and the cost per member kept: extra capacity spent over extra members at
the end, against no care.

Run: ``python experiments/sf8_care.py`` (full: capacities 0, 2, 5, 10, 20 a day, 10
replicates x 365 days, ~2 min on one core) or ``--smoke`` (capacities 0 and 15; 6
replicates x 120 days, ~8 s). Writes ``docs/figures/sf8_care.png`` and ``sf8_care.json``
(``--out`` to change the directory).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _levers_stats import paired_diff, study_cli  # noqa: E402
from _validation import mean_ci, savefig, seed_list, setup_matplotlib  # noqa: E402

import qunsim as qs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIGURE = "sf8_care.png"
SCENARIO = {
    "community.n_seed": 150,
    "community.n_prospects": 3000,
    "community.chatter_share": 0.08,
    "community.spammer_share": 0.0,
    "dynamics.inflow": 8.0,
}
FULL = dict(capacities=(0, 2, 5, 10, 20), replicates=10, steps=365)
SMOKE = dict(capacities=(0, 15), replicates=6, steps=120)
METRICS = ("leave_hazard", "unhappy_leaves", "mean_active", "final_active", "capacity_per_day",
           "capacity_total", "contacts")


def run_one(capacity: float, seed: int, steps: int) -> tuple[dict, pd.DataFrame]:
    """One replicate with ``capacity`` care contacts a day (0: no care policy at all)."""
    over = {"activity.care": {"capacity": float(capacity)}} if capacity > 0 else {}
    res = qs.simulate(rng=seed, steps=steps, **SCENARIO, **over)
    ts = res.timeseries
    act = ts["active"].iloc[1:]
    row = {
        "capacity": capacity, "seed": seed,
        "leave_hazard": float(ts["leaves"].iloc[1:].sum() / max(act.sum(), 1)),
        "unhappy_leaves": int(ts["leaves_dissatisfied"].sum() + ts["leaves_contagion"].sum()),
        "mean_active": float(act.mean()),
        "final_active": int(ts["active"].iloc[-1]),
        "capacity_per_day": float(ts["operator_capacity_used"].iloc[1:].mean()),
        "capacity_total": float(ts["operator_capacity_used"].sum()),
        "contacts": int(ts["care_contacts"].sum()) if "care_contacts" in ts else 0,
    }
    series = pd.DataFrame({"capacity": capacity, "seed": seed, "step": ts["step"], "active": ts["active"]})
    return row, series


def run(smoke: bool = False, replicates: int | None = None, steps: int | None = None,
        capacities=None, out: str | Path = ROOT / "docs" / "figures", figure: bool = True) -> dict:
    """Run the study; return its data (also written to ``out/sf8_care.json``).

    Returns ``runs`` (a DataFrame, one row per capacity and replicate), ``by_capacity`` (mean
    and 95% CI per measure), ``tests`` (paired comparisons of each capacity with no care),
    ``cost_per_member_kept`` and ``holds``.
    """
    spec = dict(SMOKE if smoke else FULL)
    caps = tuple(capacities or spec["capacities"])
    if 0 not in caps:
        caps = (0, *caps)
    T = steps or spec["steps"]
    seeds = seed_list(replicates, spec["replicates"], base=800)
    t0 = time.perf_counter()
    out_rows, series = [], []
    for c in caps:
        for seed in seeds:
            row, s = run_one(c, seed, T)
            out_rows.append(row)
            series.append(s)
    runs = pd.DataFrame(out_rows)
    ts = pd.concat(series, ignore_index=True)
    by_cap = {float(c): {m: mean_ci(g[m]) for m in METRICS} for c, g in runs.groupby("capacity")}
    tests, cost = {}, {}
    for c in caps:
        if c == 0:
            continue
        tests[float(c)] = {m: paired_diff(runs, "capacity", c, 0, m)
                           for m in ("leave_hazard", "unhappy_leaves", "final_active", "capacity_total")}
        kept = tests[float(c)]["final_active"]["diff"]
        # capacity spent per extra member at the end (None when care kept nobody on average)
        cost[float(c)] = float(by_cap[float(c)]["capacity_total"]["mean"] / kept) if kept > 0 else None
    top = float(max(caps))
    holds = bool(tests[top]["leave_hazard"]["p_less"] < 0.05 and by_cap[top]["capacity_total"]["mean"] > 0)
    res = {"claim": "SF8", "smoke": smoke, "capacities": [float(c) for c in caps], "replicates": len(seeds),
           "steps": T, "scenario": SCENARIO, "by_capacity": by_cap, "tests": tests,
           "cost_per_member_kept": cost, "holds": holds, "seconds": round(time.perf_counter() - t0, 1)}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if figure:
        res["figure"] = str(_figure(runs, ts, by_cap, T, out))
    (out / "sf8_care.json").write_text(json.dumps(res, indent=2, default=float))
    res["runs"] = runs
    res["timeseries"] = ts
    return res


def _figure(runs, ts, by_cap, steps, out: Path) -> Path:
    plt = setup_matplotlib()
    from scipy import stats

    fig, axes = plt.subplots(1, 3, figsize=(17, 5.5))
    caps = sorted(by_cap)
    cmap = plt.get_cmap("viridis")
    ax = axes[0]
    for i, c in enumerate(caps):
        g = ts[ts["capacity"] == c].pivot(index="step", columns="seed", values="active")
        m = g.mean(axis=1).to_numpy()
        n = g.shape[1]
        col = "tab:red" if c == 0 else cmap(0.15 + 0.75 * i / max(len(caps) - 1, 1))
        if n > 1:
            half = stats.t.ppf(0.975, n - 1) * g.std(axis=1, ddof=1).to_numpy() / np.sqrt(n)
            ax.fill_between(g.index, m - half, m + half, color=col, alpha=0.15, lw=0)
        ax.plot(g.index, m, color=col, lw=2, label="no care" if c == 0 else f"care, {c:g} contacts/day")
    ax.set(title="Active members (mean, 95% CI)", xlabel="day", ylabel="members")
    ax.legend(fontsize=10)

    def line(ax, metric, scale, **kw):
        m = np.array([by_cap[c][metric]["mean"] for c in caps]) * scale
        lo = np.array([by_cap[c][metric]["lo"] for c in caps]) * scale
        hi = np.array([by_cap[c][metric]["hi"] for c in caps]) * scale
        ax.errorbar(caps, m, yerr=[m - lo, hi - m], fmt="o-", lw=2, capsize=5, **kw)

    line(axes[1], "leave_hazard", 1000, color="tab:red")
    axes[1].set(title="Churn: leaves per 1,000 member-days", xlabel="care capacity (contacts a day)",
                ylabel="leaves / 1,000 member-days")
    line(axes[2], "capacity_per_day", 1.0, color="tab:blue")
    axes[2].set(title="Operator cost: capacity used per day", xlabel="care capacity (contacts a day)",
                ylabel="capacity units a day")
    n = runs["seed"].nunique()
    fig.suptitle(f"SF8: private care of at-risk members — {n} paired replicates x {steps} days",
                 fontsize=14)
    fig.tight_layout()
    return savefig(fig, out, FIGURE)


def _report(res: dict) -> str:
    lines = [f"SF8 care ({'smoke' if res['smoke'] else 'full'}: capacities {res['capacities']}, "
             f"{res['replicates']} replicates x {res['steps']} days, {res['seconds']} s)"]
    for c, st in res["by_capacity"].items():
        lines.append(f"  capacity {c:g}: " + ", ".join(
            f"{m} {v['mean']:.4g} [{v['lo']:.4g}, {v['hi']:.4g}]" for m, v in st.items()
            if m in ("leave_hazard", "final_active", "capacity_per_day")))
    for c, t in res["tests"].items():
        d = t["leave_hazard"]
        lines.append(f"  capacity {c:g} - none, leave_hazard: {d['diff']:.4g} [{d['lo']:.4g}, {d['hi']:.4g}] "
                     f"(paired one-sided p = {d['p_less']:.2g}); capacity per member kept: "
                     f"{res['cost_per_member_kept'][c] or float('nan'):.4g}")
    lines.append(f"  claim holds: {res['holds']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    return study_cli(__doc__, run, _report, argv)


if __name__ == "__main__":
    raise SystemExit(main())
