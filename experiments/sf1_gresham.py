"""SF1 Gresham's law (劣币驱逐良币): chatter drives out experts; moderation reverses it.

Claim: in a knowledge community without moderation, more chatter (a larger
chatter share and stronger chatter contagion) raises the low-quality share of messages,
experts leave faster than chatters (Gresham index > 1, and directly: the leaving hazard of
experts exceeds that of chatters in the member table) and the community declines; spam
moderation (with spammers present), rate limits, curation or chatter moderation reverse it.

Conditions (knowledge_community.toml, all else default):

* ``baseline``      — default chatter share (5%) and contagion (1);
* ``chatty``        — chatter share 25%, chatter contagion 3 (no moderation);
* ``chatty_spam``   — chatty plus 5% spammers (no moderation);
* ``+spam_mod``     — chatty_spam with ``activity.spam_moderation`` (precision 0.9, ban at 3);
* ``+rate_limit``   — chatty with ``activity.rate_limit`` (cap 2 posts a day; the experts and
  contributors — the owner's invited 大咖 and 中咖 — are exempt, as owners exempt their guests);
* ``+curation``     — chatty with ``activity.curation`` (best first, overload relief 0.5);
* ``+chatter_mod``  — chatty with ``activity.chatter_moderation`` (community-level removal).

Each condition is run over the same seeds. Leaving hazards are events per member-day of
members by *initial* role (departures for dissatisfaction or contagion).

Run: ``python experiments/sf1_gresham.py`` (full: 10 seeds × 730 days) or ``--smoke``
(10 seeds × 300 days, fewer conditions).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation import (  # noqa: E402
    diff_ci,
    leave_hazard,
    mean_ci,
    print_cells_and_effects,
    savefig,
    seed_list,
    setup_matplotlib,
    study_main,
)

import qunsim as qs  # noqa: E402

FIGURE = "sf1_gresham.png"
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "knowledge_community.toml"

CHATTY = {"community.chatter_share": 0.25, "dynamics.chatter_contagion": 3.0}
SPAM = {**CHATTY, "community.spammer_share": 0.05}
CONDITIONS: dict[str, dict] = {
    "baseline": {},
    "chatty": CHATTY,
    "chatty_spam": SPAM,
    "+spam_mod": {**SPAM, "activity.spam_moderation": {"precision": 0.9, "ban_after": 3}},
    "+rate_limit": {**CHATTY, "activity.rate_limit": {"cap": 2, "exempt": ["expert", "contributor"]}},
    "+curation": {**CHATTY, "activity.curation": {"overload_relief": 0.5}},
    "+chatter_mod": {**CHATTY, "activity.chatter_moderation": {}},
}
SMOKE_CONDITIONS = ("baseline", "chatty", "chatty_spam", "+spam_mod", "+rate_limit", "+curation")
# each policy is compared with the unmoderated condition it modifies
POLICY_REFERENCE = {"+spam_mod": "chatty_spam", "+rate_limit": "chatty", "+curation": "chatty",
                    "+chatter_mod": "chatty"}


def measure(res: qs.RunResult, steps: int) -> dict:
    """Per-run outcomes: low-quality share, final size, expert retention, Gresham, hazards."""
    ts, m = res.timeseries, res.members
    e_ev, e_ex = leave_hazard(m, ["expert"], steps)
    c_ev, c_ex = leave_hazard(m, ["chatter"], steps)
    return {
        "low_quality_share": float(ts["low_quality_share"].iloc[1:].mean()),
        "final_active": float(ts["active"].iloc[-1]),
        "mean_active": float(ts["active"].iloc[1:].mean()),
        "peak_active": float(ts["active"].max()),
        "expert_retention": float(ts["expert_retention"].iloc[-1]),
        "gresham_index": float(ts["gresham_index"].iloc[1:].mean()),
        "hazard_expert": 1000 * e_ev / max(e_ex, 1.0),  # per 1,000 member-days
        "hazard_chatter": 1000 * c_ev / max(c_ex, 1.0),
        "events_expert": e_ev, "exposure_expert": e_ex,
        "events_chatter": c_ev, "exposure_chatter": c_ex,
        "active_curve": ts["active"].to_numpy().tolist(),
        "lq_curve": ts["low_quality_share"].to_numpy().tolist(),
    }


def pooled_hazard_ratio(runs: list[dict]) -> dict:
    """Expert / chatter hazard pooled over runs, with a 95% CI on the log scale (Poisson counts;
    0.5 added to zero counts)."""
    ae = sum(r["events_expert"] for r in runs)
    ac = sum(r["events_chatter"] for r in runs)
    xe = sum(r["exposure_expert"] for r in runs)
    xc = sum(r["exposure_chatter"] for r in runs)
    ae_, ac_ = max(ae, 0.5), max(ac, 0.5)
    hr = (ae_ / xe) / (ac_ / xc)
    se = np.sqrt(1 / ae_ + 1 / ac_)
    return {"ratio": float(hr), "lo": float(hr * np.exp(-1.96 * se)), "hi": float(hr * np.exp(1.96 * se)),
            "events_expert": ae, "events_chatter": ac}


def run(smoke: bool = False, seeds=None, out: Path = Path("docs/figures"), *, steps: int | None = None,
        conditions=None, verbose: bool = False) -> dict:
    """Run every condition over the seeds and estimate the SF1 effects with 95% CIs.

    Returns a dict with per-condition outcome CIs (``conditions``), the effects (``effects``:
    Welch differences with one-sided p-values), the pooled expert/chatter hazard ratio of the
    chatty condition and the figure path.
    """
    seeds = seed_list(seeds, 24)
    steps = steps or (300 if smoke else 730)
    names = list(conditions or (SMOKE_CONDITIONS if smoke else CONDITIONS))
    t0 = time.time()
    runs: dict[str, list[dict]] = {}
    for name in names:
        runs[name] = [measure(qs.simulate(CONFIG, rng=s, steps=steps, **CONDITIONS[name]), steps)
                      for s in seeds]
        if verbose:
            print(f"{name:14s} done ({time.time() - t0:.0f}s)", flush=True)
    keys = ("low_quality_share", "final_active", "mean_active", "expert_retention", "gresham_index",
            "hazard_expert", "hazard_chatter")
    summary = {n: {k: mean_ci([r[k] for r in runs[n]]) for k in keys} for n in names}

    def col(n, k):
        return [r[k] for r in runs[n]]

    eff: dict[str, dict] = {}
    if "chatty" in runs and "baseline" in runs:
        eff["chatter raises low-quality share (chatty - baseline)"] = diff_ci(
            col("chatty", "low_quality_share"), col("baseline", "low_quality_share"))
        eff["chatter shrinks the community (final active, chatty - baseline)"] = diff_ci(
            col("chatty", "final_active"), col("baseline", "final_active"))
        eff["chatter shrinks the community (mean active, chatty - baseline)"] = diff_ci(
            col("chatty", "mean_active"), col("baseline", "mean_active"))
        eff["chatter drives experts out (expert retention, chatty - baseline)"] = diff_ci(
            col("chatty", "expert_retention"), col("baseline", "expert_retention"))
        eff["chatter drives experts out (expert hazard/1000 days, chatty - baseline)"] = diff_ci(
            col("chatty", "hazard_expert"), col("baseline", "hazard_expert"))
    if "chatty" in runs:
        eff["experts leave faster than chatters (hazard/1000 days, expert - chatter, chatty)"] = diff_ci(
            col("chatty", "hazard_expert"), col("chatty", "hazard_chatter"))
    for pol, ref in POLICY_REFERENCE.items():
        if pol in runs and ref in runs:
            eff[f"{pol} lowers low-quality share ({pol} - {ref})"] = diff_ci(
                col(pol, "low_quality_share"), col(ref, "low_quality_share"))
            eff[f"{pol} keeps members (final active, {pol} - {ref})"] = diff_ci(
                col(pol, "final_active"), col(ref, "final_active"))
            eff[f"{pol} keeps experts (expert retention, {pol} - {ref})"] = diff_ci(
                col(pol, "expert_retention"), col(ref, "expert_retention"))
            eff[f"{pol} keeps experts (expert hazard/1000 days, {pol} - {ref})"] = diff_ci(
                col(pol, "hazard_expert"), col(ref, "hazard_expert"))
    result = {
        "claim": "SF1 Gresham: chatter raises low-quality share and drives experts out; moderation reverses it",
        "seeds": seeds, "steps": steps, "conditions": summary, "effects": eff,
        "hazard_ratio_chatty": pooled_hazard_ratio(runs["chatty"]) if "chatty" in runs else None,
        "runs": {n: [{k: v for k, v in r.items() if not k.endswith("_curve")} for r in rs]
                 for n, rs in runs.items()},
        "seconds": time.time() - t0,
    }
    if out is not None:
        result["figure"] = str(_figure(runs, summary, steps, Path(out)))
    return result


def _bars(ax, names, summary, key, colors):
    m = np.array([summary[n][key]["mean"] for n in names])
    lo = np.array([summary[n][key]["lo"] for n in names])
    hi = np.array([summary[n][key]["hi"] for n in names])
    ax.bar(range(len(names)), m, yerr=[m - lo, hi - m], capsize=4, color=[colors[n] for n in names])
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")


def _figure(runs, summary, steps, out: Path) -> Path:
    plt = setup_matplotlib()
    names = list(runs)
    colors = dict(zip(names, plt.cm.tab10(np.arange(len(names))), strict=False))
    fig, axes = plt.subplots(2, 2, figsize=(15, 11))
    ax = axes[0, 0]
    days = np.arange(steps + 1)
    for n in names:
        a = np.array([r["active_curve"] for r in runs[n]])
        ax.plot(days, a.mean(0), color=colors[n], lw=2, label=n)
    ax.set_yscale("log")
    ax.set(xlabel="day", ylabel="active members (mean over seeds, log scale)", title="Community size")
    ax.legend(fontsize=10)
    _bars(axes[0, 1], names, summary, "low_quality_share", colors)
    axes[0, 1].set(ylabel="low-quality (chatter + spam) share of messages", ylim=(0, 1.05),
                   title="Low-quality share (run mean, 95% CI)")
    ax = axes[1, 0]
    x = np.arange(len(names))
    for j, (key, lab, hatch) in enumerate((("hazard_expert", "experts", None), ("hazard_chatter", "chatters", "//"))):
        m = np.array([summary[n][key]["mean"] for n in names])
        lo = np.array([summary[n][key]["lo"] for n in names])
        hi = np.array([summary[n][key]["hi"] for n in names])
        ax.bar(x + (j - 0.5) * 0.4, m, 0.4, yerr=[m - lo, hi - m], capsize=3, hatch=hatch,
               color=[colors[n] for n in names], alpha=1.0 if j == 0 else 0.45, label=lab)
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set(ylabel="departures per 1,000 member-days", title="Leaving hazard: experts (solid) vs chatters (hatched)")
    ax.legend()
    _bars(axes[1, 1], names, summary, "expert_retention", colors)
    axes[1, 1].set(ylabel="active experts / experts ever joined", ylim=(0, 1.05),
                   title="Expert retention at the end (95% CI)")
    fig.suptitle(f"SF1 Gresham's law in a knowledge community: chatter vs experts, and the levers "
                 f"({len(next(iter(runs.values())))} seeds, {steps} days)", fontsize=15)
    fig.tight_layout()
    return savefig(fig, out, FIGURE)


def _report(res: dict) -> None:
    print_cells_and_effects(res)
    print("pooled expert/chatter hazard ratio (chatty):", res["hazard_ratio_chatty"])


def _main() -> None:
    study_main(__doc__, run, _report, drop=("runs",))

if __name__ == "__main__":
    _main()
