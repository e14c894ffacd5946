"""All monetization strategies of ``configs/strategies.toml`` side by side, for a strategy review.

Runs every strategy (no monetization, direct hard sell, gradual private ladder, the same
ladder sold in the group, ads, a monthly membership fee, the ladder with profit sharing) for
a year with paired replicates, and draws revenue (gross and net of commissions) against
churn (leaves per member-day) and members at the end, with 95% confidence intervals.

Run: ``python experiments/strategy_comparison.py`` (10 replicates of the base community, ~8
min on one core) or ``--smoke`` (2 replicates of 60 days of a 60-member community, seconds).
Writes ``docs/figures/strategies.png`` and ``strategies.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation import mean_ci, savefig, setup_matplotlib  # noqa: E402

from qunsim.strategies import compare_strategies, load_strategies  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = ROOT / "configs" / "strategies.toml"
FIGURE = "strategies.png"
METRICS = ("revenue_total", "net_revenue_total", "leave_hazard", "final_active", "seed_retention",
           "paying_share", "revenue_per_member")

FULL = dict(replicates=10, steps=365, overrides=None)
SMOKE = dict(replicates=2, steps=60, overrides={"community.n_seed": 60, "community.n_prospects": 400})


def run(smoke: bool = False, replicates: int | None = None, steps: int | None = None, seed: int = 2026,
        out: str | Path = ROOT / "docs" / "figures") -> dict:
    spec = dict(SMOKE if smoke else FULL)
    R, T = replicates or spec["replicates"], steps or spec["steps"]
    t0 = time.perf_counter()
    table = compare_strategies(STRATEGIES, replicates=R, steps=T, seed=seed, overrides=spec["overrides"])
    labels = {k: s.label for k, s in load_strategies(STRATEGIES).strategies.items()}
    res = {"smoke": smoke, "replicates": R, "steps": T, "seed": seed, "by_strategy": {}}
    for name, g in table.groupby("strategy", sort=False):
        res["by_strategy"][name] = {"label": labels[name], **{m: mean_ci(g[m]) for m in METRICS}}
    res["seconds"] = round(time.perf_counter() - t0, 1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    res["figure"] = str(_figure(res, out))
    (out / "strategies.json").write_text(json.dumps(res, indent=2, default=float))
    return res


def _figure(res: dict, out: Path) -> Path:
    plt = setup_matplotlib()
    names = list(res["by_strategy"])
    cmap = plt.get_cmap("tab10")
    fig, axes = plt.subplots(1, 3, figsize=(19, 6.5), gridspec_kw={"width_ratios": [1, 1, 1.1]})

    def err(r, scale=1.0):
        if r["n"] < 2:
            return None
        return [[(r["mean"] - r["lo"]) * scale], [(r["hi"] - r["mean"]) * scale]]

    for i, name in enumerate(names):
        b = res["by_strategy"][name]
        c = cmap(i % 10)
        for ax, ym in ((axes[0], "leave_hazard"), (axes[1], "final_active")):
            x, y = b["net_revenue_total"], b[ym]
            ys = 1000.0 if ym == "leave_hazard" else 1.0
            ax.errorbar(x["mean"] / 1e3, y["mean"] * ys, xerr=err(x, 1e-3), yerr=err(y, ys), fmt="o",
                        color=c, ms=9, capsize=4, label=b["label"] if ym == "leave_hazard" else None)
        r = b["revenue_total"]
        axes[2].barh(i, r["mean"] / 1e3, xerr=err(r, 1e-3), color=c, capsize=4, alpha=0.85)
    axes[0].set(title="Net revenue vs churn", xlabel="net revenue over the run (thousands)",
                ylabel="leaves per 1,000 member-days")
    axes[1].set(title="Net revenue vs members at the end", xlabel="net revenue over the run (thousands)",
                ylabel="active members at the end")
    axes[2].set_yticks(range(len(names)), [res["by_strategy"][n]["label"] for n in names], fontsize=10)
    axes[2].invert_yaxis()
    axes[2].set(title="Gross revenue (mean, 95% CI)", xlabel="revenue (thousands)")
    fig.suptitle(f"Monetization strategies, {res['replicates']} paired replicates x {res['steps']} days",
                 fontsize=15)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(loc="lower center", ncol=4, fontsize=10, frameon=False)
    return savefig(fig, out, FIGURE)


def redraw(out: str | Path = ROOT / "docs" / "figures") -> Path:
    """Redraw the figure from a saved ``strategies.json``."""
    out = Path(out)
    return _figure(json.loads((out / "strategies.json").read_text()), out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--replicates", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default=str(ROOT / "docs" / "figures"))
    a = ap.parse_args(argv)
    res = run(a.smoke, a.replicates, a.steps, a.seed, a.out)
    print(f"strategies ({res['replicates']} replicates x {res['steps']} days, {res['seconds']} s)")
    for name, b in res["by_strategy"].items():
        print(f"  {name:24s} revenue {b['revenue_total']['mean']:10.1f}  net {b['net_revenue_total']['mean']:10.1f}  "
              f"hazard/1000 {1000 * b['leave_hazard']['mean']:6.2f}  final active {b['final_active']['mean']:6.1f}  "
              f"paying {b['paying_share']['mean']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
