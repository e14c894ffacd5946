"""Draw every figure of ``qunsim.plotting`` from real runs, for docs/gallery.md.

    .venv/bin/python scripts/make_gallery.py [--out docs/figures/gallery] [--quick]

Runs (about two minutes on one core; ``--quick`` shrinks everything for a smoke test):

* the knowledge community (configs/knowledge_community.toml), seed 0, two years;
* six replicates of it over one year (confidence bands);
* the gradual monetization ladder (configs/monetization_ladder.toml), one year;
* the strategy comparison (configs/strategies.toml), five replicates each;
* a small grid sweep over chatter share x chatter contagion, three replicates per point;
* the strategist's question (configs/strategies/knowledge_review.toml: two strategies over
  four uncertainty scenarios), six paired replicates, for the verdict figures.

Each figure is written as PNG (small, for the docs) next to the gallery page.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import qunsim as qs  # noqa: E402
from qunsim import plotting as qp  # noqa: E402
from qunsim.strategies import compare_strategies  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def shrink_png(path: Path) -> None:
    """Re-save a PNG with a 256-colour palette (about 3x smaller; flat plot colours survive)."""
    from PIL import Image

    with Image.open(path) as im:
        q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    q.save(path, "PNG", optimize=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "figures" / "gallery"))
    ap.add_argument("--quick", action="store_true", help="tiny runs (smoke test)")
    ap.add_argument("--dpi", type=int, default=80)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    small = {"community.n_seed": 40, "community.n_prospects": 400} if quick else {}
    t0 = time.time()
    written: list[Path] = []

    def save(name: str, fig) -> None:
        files = qp.save_figure(fig, out / name, ("png",), dpi=args.dpi)
        for f in files:
            shrink_png(f)
        written.extend(files)
        plt.close(fig)
        print(f"  {name}.png  ({time.time() - t0:.0f} s)", flush=True)

    knowledge = CONFIGS / "knowledge_community.toml"
    print("knowledge community, seed 0", flush=True)
    run = qs.simulate(knowledge, rng=0, steps=40 if quick else None, **small)
    save("active_by_role", qp.plot_active_by_role(run))
    save("flows", qp.plot_leaves_by_reason(run))
    save("survival_by_role", qp.plot_survival(run, by="role"))
    save("survival_by_cohort", qp.plot_survival(run, by="cohort"))
    save("survival_by_entry_path", qp.plot_survival(run, by="entry_path"))
    save("gresham", qp.plot_gresham(run))
    save("value_overload", qp.plot_value_overload(run))
    save("trust_levels", qp.plot_trust_levels(run))
    snap = qp.network_snapshot(run)
    if snap is not None:
        g, day, why = snap
        save("network", qp.plot_network(g, title=f"Who is connected to whom on day {day} ({why})"))

    print("six replicates", flush=True)
    reps = [qs.simulate(knowledge, rng=s, steps=40 if quick else 365, **small) for s in range(6)]
    save("active_by_role_replicates", qp.plot_active_by_role(
        reps, title="Active members by role, six replicates"))
    save("gresham_replicates", qp.plot_gresham(reps))

    print("monetization ladder", flush=True)
    money = qs.simulate(CONFIGS / "monetization_ladder.toml", rng=0, steps=40 if quick else 365, **small)
    save("monetization", qp.plot_monetization(money))

    print("strategy comparison", flush=True)
    table, ts = compare_strategies(CONFIGS / "strategies.toml", replicates=2 if quick else 5,
                                   steps=40 if quick else None, timeseries=True,
                                   overrides=small or None)
    save("policy_comparison_revenue", qp.plot_policy_comparison(
        table, "revenue_total", by="label", higher_is_better=True, ylabel="strategy",
        title="Revenue over a year, by monetization strategy"))
    save("policy_comparison_churn", qp.plot_policy_comparison(
        table, "mean_churn_rate", by="label", higher_is_better=False, ylabel="strategy",
        title="Churn, by monetization strategy"))
    pick = ts[ts["strategy"].isin(["none", "hard_sell", "gradual_ladder"])]
    save("active_by_strategy", qp.plot_timeseries(
        pick, "active", by="strategy", title="Active members under three monetization strategies"))

    print("sweep: chatter share x contagion", flush=True)
    spec = {"name": "gallery_gresham", "base": str(knowledge), "steps": 40 if quick else 365,
            "replicates": 2 if quick else 3, "seed": 7,
            "axes": {"community.chatter_share": [0.0, 0.1, 0.2, 0.3],
                     "dynamics.chatter_contagion": [0.0, 1.0, 3.0]},
            "fixed": small or {"community.n_prospects": 5000},
            "keep": {"timeseries": "all", "period": 5}}
    with tempfile.TemporaryDirectory() as d:
        qs.sweep(spec, d, executor="serial", progress=False)
        sw = qp.load_sweep(d)
        s = sw.summary
        save("heatmap_expert_retention", qp.plot_heatmap(
            s, "community.chatter_share", "dynamics.chatter_contagion", "final_expert_retention",
            title="Experts still there after a year"))
        save("heatmap_gresham", qp.plot_heatmap(
            s, "community.chatter_share", "dynamics.chatter_contagion", "gresham_hr",
            center=1.0, log=bool((s["gresham_hr"] > 0).all()),
            title="Do the best members leave faster? (Gresham index)"))
        one = sw.timeseries[sw.timeseries["dynamics.chatter_contagion"] == 1.0]
        save("low_quality_by_chatter_share", qp.plot_timeseries(
            one, "low_quality_share", by="community.chatter_share",
            title="Low-quality share of messages, by chatter share (contagion 1)"))
    print("strategy review: strict gate + curation + ladder vs lenient + hard sell", flush=True)
    from qunsim.decision import option_bands, sweep_verdict
    from qunsim.sweep.spec import load_sweep

    review = load_sweep(CONFIGS / "strategies" / "knowledge_review.toml")
    review.replicates = 2 if quick else 6
    if quick:
        review.steps = 40
    with tempfile.TemporaryDirectory() as d:
        qs.sweep(review, d, executor="serial", progress=False)
        v, runs, dec = sweep_verdict(d)
        order = [o["option"] for o in v["options"]]
        quant = {o["option"]: o["metrics"]["final_active"] for o in v["options"]}
        save("outcome_strips", qp.plot_outcome_strips(
            runs, "final_active", quantiles=quant, order=order, direction=1,
            title="Active members after a year: every run"))
        save("lever_effects", qp.plot_main_effects(
            v["main_effects"], ["revenue_total", "final_expert_retention", "final_active"],
            directions=dec["outcomes"]["metrics"], names=dec["option_labels"]))
        it = next(i for i in v["interactions"] if i["uncertainty"] == "community.spammer_share")
        save("interaction", qp.plot_interactions(
            it["table"], it["lever"], it["uncertainty"], it["metric"], names=dec["option_labels"],
            order=list(dict.fromkeys(o["levers"]["strategy"] for o in v["options"]))))
        ts = qs.load_results(d).timeseries
        save("over_time_by_option", qp.plot_option_timeseries(
            option_bands(ts, runs, "active"), "active", order=order))
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} figures, {total / 1024:.0f} KB, to {out} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
