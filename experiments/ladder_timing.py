"""Ladder timing — does opening the monetization ladder at maturity pay, against opening it at once?

Question (a phase-aware strategy): over two years, does a gradual ladder opened once the
community is mature earn more, with less churn, than the same ladder opened on day 0?

Design: the strategies ``at_once`` and ``at_maturity`` of
``configs/strategies_ladder_timing.toml`` (base ``configs/monetization_ladder.toml``: 200
founding members, 3,000 prospects, the gradual trust-gated ladder 免费 / 9.9 / 99 / 299 / 499
with private paid offers), run for 730 days with common random numbers (replicate r of both
strategies uses the same seed), so differences are paired. ``at_maturity`` switches the whole
ladder on by a declarative trigger: ``when = { metric = "active", above = 300, for_days = 14 }``
(more than 300 members on each of 14 days in a row; nothing is sold before).

Measures, per replicate: total revenue over the two years; churn as the leaving hazard
(leaves per member-day, growth-neutral) and the unhappy leaving hazard (dissatisfied or
contagion only); the founding members' retention; members at the end; the day the ladder
opened. Reported as means with 95% t intervals and paired differences (paired t test), with
one-sided p-values in the direction asked (more revenue, less churn). Sensitivity: the
maturity threshold at 250 and 350 members (``at_maturity`` rerun with the same seeds).

Run: ``python experiments/ladder_timing.py`` (full: 20 replicates, both strategies plus the
two thresholds; about 2 minutes on one core) or ``--smoke`` (3 replicates of 400 days, no sensitivity;
about 15 s). Writes ``docs/figures/ladder_timing.png`` and ``ladder_timing.json`` (``--out``
to change the directory).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _levers_stats import study_cli  # noqa: E402
from _validation import mean_ci, savefig, setup_matplotlib  # noqa: E402

from qunsim.stats import band, one_sided_p  # noqa: E402
from qunsim.strategies import compare_strategies, paired_difference  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = ROOT / "configs" / "strategies_ladder_timing.toml"
FIGURE = "ladder_timing.png"
ONCE, MATURE = "at_once", "at_maturity"
METRICS = ("revenue_total", "net_revenue_total", "leave_hazard", "unhappy_leave_hazard",
           "seed_retention", "final_active", "total_joined")

FULL = dict(replicates=20, steps=730, sensitivity=(250, 350))
SMOKE = dict(replicates=3, steps=400, sensitivity=())


def opening_days(ts: pd.DataFrame) -> pd.Series:
    """First day the ladder was on, per replicate of ``at_maturity`` (NaN: never opened)."""
    g = ts[ts["strategy"] == MATURE]
    out = {}
    for r, x in g.groupby("replicate"):
        on = x.loc[x["policy_ladder_active"] > 0.5, "step"]
        out[r] = float(on.iloc[0]) if len(on) else float("nan")
    return pd.Series(out, name="opening_day")


def run(smoke: bool = False, replicates: int | None = None, steps: int | None = None, seed: int = 2026,
        out: str | Path = ROOT / "docs" / "figures", figure: bool = True, tables: bool = False):
    """Run the study; return the results (also written to ``out/ladder_timing.json``), with
    ``tables=True`` as ``(results, summary table, time series)``."""
    spec = dict(SMOKE if smoke else FULL)
    R = replicates or spec["replicates"]
    T = steps or spec["steps"]
    t0 = time.perf_counter()
    table, ts = compare_strategies(STRATEGIES, replicates=R, steps=T, seed=seed,
                                   strategies=[ONCE, MATURE], timeseries=True)
    opened = opening_days(ts)
    res: dict = {"study": "ladder_timing", "smoke": smoke, "replicates": R, "steps": T, "seed": seed,
                 "trigger": {"metric": "active", "above": 300, "for_days": 14},
                 "opening_day": {"mean": float(np.nanmean(opened)) if opened.notna().any() else None,
                                 "min": float(np.nanmin(opened)) if opened.notna().any() else None,
                                 "max": float(np.nanmax(opened)) if opened.notna().any() else None,
                                 "never_opened": int(opened.isna().sum()),
                                 "by_replicate": [None if np.isnan(v) else int(v) for v in opened]},
                 "by_strategy": {}, "maturity_minus_at_once": {}}
    for name in (ONCE, MATURE):
        g = table[table["strategy"] == name]
        res["by_strategy"][name] = {m: mean_ci(g[m]) for m in METRICS}
    for m in METRICS:
        res["maturity_minus_at_once"][m] = paired_difference(table, MATURE, ONCE, m)
    d = res["maturity_minus_at_once"]
    res["p_more_revenue"] = one_sided_p(d["revenue_total"], greater=True)
    res["p_less_churn"] = one_sided_p(d["leave_hazard"], greater=False)
    res["answer"] = ("yes" if res["p_more_revenue"] < 0.05 and res["p_less_churn"] < 0.05 else
                     "no: it earns less" if d["revenue_total"]["ci_high"] < 0 else
                     "not shown")
    res["sensitivity"] = {}
    for thr in spec["sensitivity"]:
        alt = compare_strategies(STRATEGIES, replicates=R, steps=T, seed=seed, strategies=[MATURE],
                                 overrides={"monetization.ladder.when.above": float(thr)}, timeseries=True)
        alt_table, alt_ts = alt
        both = pd.concat([table[table["strategy"] == ONCE], alt_table], ignore_index=True)
        od = opening_days(alt_ts)
        res["sensitivity"][str(thr)] = {
            "opening_day_mean": float(np.nanmean(od)) if od.notna().any() else None,
            "never_opened": int(od.isna().sum()),
            **{m: paired_difference(both, MATURE, ONCE, m) for m in ("revenue_total", "leave_hazard",
                                                                     "final_active")}}
    res["seconds"] = round(time.perf_counter() - t0, 1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if figure:
        res["figure"] = str(_figure(table, ts, opened, out))
    (out / "ladder_timing.json").write_text(json.dumps(res, indent=2, default=float))
    return (res, table, ts) if tables else res


LABELS = {ONCE: "ladder open from day 0", MATURE: "ladder opened at maturity (>300 members for 14 days)"}
COLOURS = {ONCE: "tab:red", MATURE: "tab:green"}


def _band(ax, ts, name, col, scale=1.0):
    """The strategy's mean of ``col`` over replicates by day, with its 95% t interval."""
    sub = ts[ts["strategy"] == name]
    b = band(sub.assign(_v=sub[col] * scale), "_v")
    if int(b["n"].max()) > 1:
        ax.fill_between(b["step"], b["lower"], b["upper"], color=COLOURS[name], alpha=0.2, lw=0)
    ax.plot(b["step"], b["mean"], color=COLOURS[name], lw=2, label=LABELS[name])

def _figure(table, ts, opened, out: Path) -> Path:
    plt = setup_matplotlib()
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    days = opened.dropna()
    for ax in axes[0]:
        if len(days):  # the days the ladder opened under the trigger (min-max), and their mean
            ax.axvspan(days.min(), days.max(), color="tab:green", alpha=0.08, lw=0)
            ax.axvline(days.mean(), color="tab:green", ls=":", lw=1.5)
    ax = axes[0, 0]
    for name in (ONCE, MATURE):
        _band(ax, ts, name, "revenue_cumulative", 1e-3)
    ax.set(title="Cumulative revenue (mean, 95% CI)", xlabel="day", ylabel="revenue (thousands)")
    ax.legend(loc="upper left", fontsize=10)
    ax = axes[0, 1]
    for name in (ONCE, MATURE):
        _band(ax, ts, name, "active")
    ax.axhline(300, color="grey", lw=0.8, ls="--")
    ax.set(title="Active members (green band: days the trigger opened the ladder)", xlabel="day",
           ylabel="members")
    ax = axes[1, 0]
    for i, metric in enumerate(("leave_hazard", "unhappy_leave_hazard")):
        for j, name in enumerate((ONCE, MATURE)):
            r = mean_ci(table.loc[table["strategy"] == name, metric] * 1000.0)
            err = [[r["mean"] - r["lo"]], [r["hi"] - r["mean"]]] if r["n"] > 1 else None
            ax.bar(i * 3 + j, r["mean"], color=COLOURS[name], yerr=err, capsize=6, alpha=0.85,
                   label=LABELS[name] if i == 0 else None)
    ax.set_xticks([0.5, 3.5], ["all leaves", "unhappy (dissatisfied, contagion)"])
    ax.set(title="Churn: leaves per 1,000 member-days (mean, 95% CI)", ylabel="leaves / 1,000 member-days")
    ax.legend(loc="lower center", fontsize=9)
    ax = axes[1, 1]
    a = table[table["strategy"] == MATURE].set_index("replicate")
    b = table[table["strategy"] == ONCE].set_index("replicate")
    diff = (a["revenue_total"] - b["revenue_total"]) * 1e-3
    never = opened.reindex(diff.index).isna().to_numpy()
    ax.scatter(diff.index[~never], diff.to_numpy()[~never], color="tab:green", zorder=3)
    if never.any():  # replicates in which the trigger never fired: nothing was sold
        ax.scatter(diff.index[never], diff.to_numpy()[never], facecolors="none", edgecolors="tab:green",
                   zorder=3, label="ladder never opened")
    d = paired_difference(table, MATURE, ONCE, "revenue_total")
    ax.axhspan(d["ci_low"] * 1e-3, d["ci_high"] * 1e-3, color="tab:green", alpha=0.15, lw=0,
               label=f"mean {d['mean'] * 1e-3:.1f}k, 95% CI [{d['ci_low'] * 1e-3:.1f}, {d['ci_high'] * 1e-3:.1f}]")
    ax.axhline(d["mean"] * 1e-3, color="tab:green")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(list(diff.index))
    ax.set(title=f"Paired difference in revenue over {int(ts['step'].max())} days (maturity − at once)",
           xlabel="replicate (same seed)",
           ylabel="revenue difference (thousands)")
    ax.legend(loc="best", fontsize=10)
    n = table["replicate"].nunique()
    fig.suptitle(f"Ladder timing: open at maturity or at once? — {n} paired replicates, {int(ts['step'].max())} days", fontsize=15)
    fig.tight_layout()
    return savefig(fig, out, FIGURE)


def _report(res: dict) -> str:
    od = res["opening_day"]
    lines = [f"Ladder timing ({'smoke' if res['smoke'] else 'full'}: {res['replicates']} replicates x "
             f"{res['steps']} days, {res['seconds']} s); ladder opened at maturity on day "
             f"{od['mean']:.0f} on average (range {od['min']:.0f}-{od['max']:.0f}; never: {od['never_opened']})"
             if od["mean"] is not None else "ladder never opened"]
    for name, st in res["by_strategy"].items():
        s = ", ".join(f"{m} {v['mean']:.4g} [{v['lo']:.4g}, {v['hi']:.4g}]" for m, v in st.items()
                      if m in ("revenue_total", "leave_hazard", "seed_retention", "final_active"))
        lines.append(f"  {name}: {s}")
    for m in ("revenue_total", "leave_hazard", "unhappy_leave_hazard", "seed_retention", "final_active"):
        d = res["maturity_minus_at_once"][m]
        lines.append(f"  maturity - at once, {m}: {d['mean']:.4g} [{d['ci_low']:.4g}, {d['ci_high']:.4g}] "
                     f"(paired p = {d['p_value']:.2g})")
    for thr, dd in res.get("sensitivity", {}).items():
        lines.append(f"  threshold {thr} (opens ~day {dd['opening_day_mean']}): " + ", ".join(
            f"{m} {v['mean']:.4g} [{v['ci_low']:.4g}, {v['ci_high']:.4g}]" for m, v in dd.items()
            if isinstance(v, dict)))
    lines.append(f"  one-sided p: more revenue {res['p_more_revenue']:.2g}, less churn "
                 f"{res['p_less_churn']:.2g}; answer: {res['answer']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    return study_cli(__doc__, run, _report, argv, seed=2026)


if __name__ == "__main__":
    raise SystemExit(main())
