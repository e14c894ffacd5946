"""Ren & Kraut's moderation contrast: no moderation vs community-level vs personalised.

Claim (after Ren & Kraut, "Agent-based modeling to inform online community design", 2014):
removing off-topic chatter for everyone (community-level moderation) raises the value of what
members read, so they stay, but it cuts the message volume and costs the commitment of the
members whose posts are removed; personalised filtering (each reader hides chatter from their
own feed) keeps the volume and the moderated members' commitment, and retains about as well.

Design: a knowledge community with many chatters (15% of the population, no spammers),
150 founding members, 3,000 prospects and 8 exposures a day; otherwise the default
calibration. Three arms, replicate r of each with the same seed (paired):

- ``none``: no moderation;
- ``community``: ``activity.chatter_moderation`` in mode ``community`` — 80% of off-topic
  posts (quality below 0.2) removed before anyone reads them; each removal is negative trust
  evidence (0.5) and a utility cost (0.3) for its author;
- ``personal``: the same policy in mode ``personal`` — each reader's filter hides 80% of the
  off-topic posts from their own feed, and readers keep it on only when it helps them;
  nothing is removed and authors feel nothing.

Measures, per replicate: messages per day that members read (after moderation), and posts
members make per day; retention as the leaving hazard (leaves per member-day) and active
members at the end; commitment as the mean trust of active members (all, and the chatters —
the moderated authors — apart), and the founding non-chatters still active at the end.
Reported as means with 95% t intervals and paired differences.

Run: ``python experiments/ren_kraut_moderation.py`` (full: 10 replicates x 365 days, ~2 min
on one core) or ``--smoke`` (6 replicates x 120 days, ~10 s). Writes
``docs/figures/ren_kraut_moderation.png`` and ``ren_kraut_moderation.json``.
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
FIGURE = "ren_kraut_moderation.png"
SCENARIO = {
    "community.n_seed": 150,
    "community.n_prospects": 3000,
    "community.chatter_share": 0.15,
    "community.spammer_share": 0.0,
    "dynamics.inflow": 8.0,
}
ARMS = {
    "none": {},
    "community": {"activity.chatter_moderation": {"mode": "community", "precision": 0.8}},
    "personal": {"activity.chatter_moderation": {"mode": "personal", "precision": 0.8}},
}
FULL = dict(replicates=10, steps=365)
SMOKE = dict(replicates=6, steps=120)
METRICS = ("messages_per_day", "posts_per_day", "leave_hazard", "final_active", "trust_mean",
           "trust_chatters", "trust_others", "founder_retention")


def run_one(arm: str, seed: int, steps: int) -> tuple[dict, pd.DataFrame]:
    """One replicate of ``arm`` (``none``, ``community`` or ``personal``)."""
    res = qs.simulate(rng=seed, steps=steps, **SCENARIO, **ARMS[arm])
    ts, mem = res.timeseries, res.members
    act_days = ts["active"].iloc[1:]
    active = mem[mem["status"] == "active"]
    chat = active["initial_role"].astype(str) == "chatter"
    founders = mem[(mem["join_step"] == 0) & (mem["initial_role"].astype(str) != "chatter")]
    row = {
        "arm": arm, "seed": seed,
        "messages_per_day": float(ts["messages"].iloc[1:].mean()),
        "posts_per_day": float((ts["messages"] + ts["removed_messages"]).iloc[1:].mean()),
        "leave_hazard": float(ts["leaves"].iloc[1:].sum() / max(act_days.sum(), 1)),
        "final_active": int(ts["active"].iloc[-1]),
        "trust_mean": float(active["trust"].mean()) if len(active) else np.nan,
        "trust_chatters": float(active.loc[chat, "trust"].mean()) if chat.any() else np.nan,
        "trust_others": float(active.loc[~chat, "trust"].mean()) if (~chat).any() else np.nan,
        "founder_retention": float((founders["status"] == "active").mean()) if len(founders) else np.nan,
    }
    series = pd.DataFrame({"arm": arm, "seed": seed, "step": ts["step"], "active": ts["active"],
                           "messages": ts["messages"], "trust_mean": ts["trust_mean"]})
    return row, series


def run(smoke: bool = False, replicates: int | None = None, steps: int | None = None,
        out: str | Path = ROOT / "docs" / "figures", figure: bool = True) -> dict:
    """Run the study; return its data (also written to ``out/ren_kraut_moderation.json``).

    Returns ``runs`` (a DataFrame, one row per arm and replicate), ``by_arm`` (mean and 95% CI
    per measure), ``tests`` (paired differences between arms) and ``holds``.
    """
    spec = dict(SMOKE if smoke else FULL)
    T = steps or spec["steps"]
    seeds = seed_list(replicates, spec["replicates"], base=1400)
    t0 = time.perf_counter()
    rows, series = [], []
    for arm in ARMS:
        for seed in seeds:
            r, s = run_one(arm, seed, T)
            rows.append(r)
            series.append(s)
    runs = pd.DataFrame(rows)
    ts = pd.concat(series, ignore_index=True)
    by_arm = {arm: {m: mean_ci(runs.loc[runs["arm"] == arm, m]) for m in METRICS} for arm in ARMS}
    d = lambda a, b, m: paired_diff(runs, "arm", a, b, m)  # noqa: E731
    tests = {
        "community_fewer_messages": d("community", "none", "messages_per_day"),
        "personal_keeps_messages": d("personal", "none", "messages_per_day"),
        "community_better_retention": d("community", "none", "leave_hazard"),
        "personal_better_retention": d("personal", "none", "leave_hazard"),
        "personal_vs_community_retention": d("personal", "community", "leave_hazard"),
        "personal_more_commitment": d("personal", "community", "trust_mean"),
        "moderated_authors_commitment": d("personal", "community", "trust_chatters"),
    }
    holds = bool(tests["community_fewer_messages"]["p_less"] < 0.05
                 and tests["personal_vs_community_retention"]["diff"] < 0.5 * abs(
                     tests["community_better_retention"]["diff"])  # personal retains about as well
                 and tests["community_better_retention"]["p_less"] < 0.05
                 and tests["personal_better_retention"]["p_less"] < 0.05
                 and tests["personal_more_commitment"]["p_greater"] < 0.05
                 and tests["moderated_authors_commitment"]["p_greater"] < 0.05)
    res = {"claim": "Ren & Kraut moderation", "smoke": smoke, "replicates": len(seeds), "steps": T,
           "scenario": SCENARIO, "arms": ARMS, "by_arm": by_arm, "tests": tests, "holds": holds,
           "seconds": round(time.perf_counter() - t0, 1)}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if figure:
        res["figure"] = str(_figure(runs, ts, by_arm, T, out))
    (out / "ren_kraut_moderation.json").write_text(json.dumps(res, indent=2, default=float))
    res["runs"] = runs
    res["timeseries"] = ts
    return res


COLOURS = {"none": "tab:red", "community": "tab:blue", "personal": "tab:green"}
LABELS = {"none": "no moderation", "community": "community-level removal", "personal": "personalised filtering"}


def _figure(runs, ts, by_arm, steps, out: Path) -> Path:
    plt = setup_matplotlib()
    from scipy import stats

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    for ax, col, title in ((axes[0, 0], "messages", "Messages members read per day"),
                           (axes[0, 1], "active", "Active members")):
        for arm in ARMS:
            g = ts[ts["arm"] == arm].pivot(index="step", columns="seed", values=col)
            m = g.mean(axis=1).to_numpy()
            n = g.shape[1]
            if n > 1:
                half = stats.t.ppf(0.975, n - 1) * g.std(axis=1, ddof=1).to_numpy() / np.sqrt(n)
                ax.fill_between(g.index, m - half, m + half, color=COLOURS[arm], alpha=0.15, lw=0)
            ax.plot(g.index, m, color=COLOURS[arm], lw=2, label=LABELS[arm])
        ax.set(title=f"{title} (mean, 95% CI)", xlabel="day")
        ax.legend(fontsize=10)
    arms = list(ARMS)
    ax = axes[1, 0]
    r = [by_arm[a]["leave_hazard"] for a in arms]
    ax.bar(range(3), [1000 * v["mean"] for v in r], color=[COLOURS[a] for a in arms], alpha=0.85,
           yerr=[[1000 * (v["mean"] - v["lo"]) for v in r], [1000 * (v["hi"] - v["mean"]) for v in r]], capsize=6)
    ax.set_xticks(range(3), [LABELS[a].replace(" ", "\n", 1) for a in arms])
    ax.set(title="Retention: leaves per 1,000 member-days", ylabel="leaves / 1,000 member-days")
    ax = axes[1, 1]
    w = 0.38
    for j, (metric, lab, hatch) in enumerate((("trust_others", "other members", ""),
                                              ("trust_chatters", "chatters (moderated authors)", "//"))):
        r = [by_arm[a][metric] for a in arms]
        ax.bar(np.arange(3) + (j - 0.5) * w, [v["mean"] for v in r], w, color=[COLOURS[a] for a in arms],
               hatch=hatch, alpha=0.85, edgecolor="k", label=lab,
               yerr=[[v["mean"] - v["lo"] for v in r], [v["hi"] - v["mean"] for v in r]], capsize=4)
    ax.set_xticks(range(3), [LABELS[a].replace(" ", "\n", 1) for a in arms])
    ax.set(title="Commitment: trust of active members at the end", ylabel="trust", ylim=(0, 1.05))
    ax.legend(fontsize=10, loc="lower left")
    n = runs["seed"].nunique()
    fig.suptitle(f"Ren & Kraut: community-level vs personalised moderation of chatter — "
                 f"{n} paired replicates x {steps} days", fontsize=14)
    fig.tight_layout()
    return savefig(fig, out, FIGURE)


def _report(res: dict) -> str:
    lines = [f"Ren & Kraut moderation ({'smoke' if res['smoke'] else 'full'}: {res['replicates']} "
             f"replicates x {res['steps']} days, {res['seconds']} s)"]
    for arm, st in res["by_arm"].items():
        lines.append(f"  {arm}: " + ", ".join(f"{m} {v['mean']:.4g} [{v['lo']:.4g}, {v['hi']:.4g}]"
                                              for m, v in st.items()))
    lines += format_tests(res["tests"])
    lines.append(f"  claim holds: {res['holds']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    return study_cli(__doc__, run, _report, argv)


if __name__ == "__main__":
    raise SystemExit(main())
