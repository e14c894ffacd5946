"""The branch report: one self-contained HTML page from a ``qunsim branch --out DIR`` directory.

The page answers *"what happens if we change this now?"*: the shared history to the branch
day, the arms (their labels and what each changes), which arm does best after the branch day
on each outcome with paired differences to the first arm (the baseline) and their 95%
intervals, the fan of arms for the key metrics, when scheduled policies switched on and off,
and the provenance (seeds, pairing, replicates, versions). Figures are embedded; nothing is
fetched from the network. It uses the run and sweep reports' page machinery
(:mod:`qunsim.report`).
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["is_branch_dir", "check_branch_dir", "branch_report", "arm_changes", "BRANCH_OUTCOMES"]

#: after-branch outcomes of the report's table: (summary column, label, more is better?, the
#: registered metric whose format shows it)
BRANCH_OUTCOMES = (
    ("active_mean_after", "Active members, mean after the branch", +1, "active"),
    ("final_active", "Active members at the end", +1, "active"),
    ("low_quality_share_after", "Low-quality share, mean after the branch", -1, "low_quality_share"),
    ("final_expert_retention", "Expert retention at the end", +1, "expert_retention"),
    ("leave_hazard_after", "Leave hazard after the branch", -1, "churn_rate"),
    ("revenue_after", "Revenue after the branch", +1, "revenue_cumulative"),
    ("final_trust_mean", "Mean trust at the end", +1, "trust_mean"),
)
#: time-series columns drawn as fans, when present
FAN_METRICS = ("active", "low_quality_share", "expert_retention", "revenue_cumulative")
_FAN_WORDS = {"active": "Active members", "low_quality_share": "Low-quality share of messages",
              "expert_retention": "Expert retention", "revenue_cumulative": "Cumulative revenue"}


def is_branch_dir(path: str | Path) -> bool:
    """True when ``path`` is a directory written by ``qunsim branch --out`` (it holds branch.json)."""
    return (Path(path) / "branch.json").is_file()


def check_branch_dir(path: str | Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Read a branch directory's ``branch.json``, ``timeseries.parquet`` and ``summary.csv``.

    Raises ValueError with one paragraph naming the file and what was expected when one is
    missing, unreadable or inconsistent (e.g. a run interrupted before its tables were written).
    """
    path = Path(path)
    hint = (f"rerun `qunsim branch FILE --out {path}` with the same arguments: it skips the arms "
            "already written and writes the tables again")
    try:
        meta = json.loads((path / "branch.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"the branch directory {path} has an unreadable branch.json ({e}); {hint}") from None
    need = ("branch_at", "steps", "replicates", "seeds", "strategies")
    if not isinstance(meta, dict) or any(k not in meta for k in need):
        raise ValueError(f"{path / 'branch.json'} is not a branch manifest: expected the keys "
                         f"{', '.join(need)} (written by `qunsim branch --out`); {hint}")
    tables = {}
    for name, read in (("timeseries.parquet", pd.read_parquet), ("summary.csv", pd.read_csv)):
        f = path / name
        if not f.is_file():
            raise ValueError(f"the branch directory {path} is incomplete: {name} is missing (the run "
                             f"stopped before its tables were written?); {hint}")
        try:
            tables[name] = read(f)
        except Exception as e:  # noqa: BLE001 - any damage to the file: one paragraph, not a traceback
            raise ValueError(f"the branch directory {path} holds a damaged {name} ({type(e).__name__}: "
                             f"{e}); {hint}") from None
    ts, summ = tables["timeseries.parquet"], tables["summary.csv"]
    arms = [str(a) for a in meta["strategies"]]
    for name, df, cols in (("timeseries.parquet", ts, ("arm", "replicate", "step", "active")),
                           ("summary.csv", summ, ("arm", "replicate"))):
        miss = [c for c in cols if c not in df.columns]
        if miss:
            raise ValueError(f"{path / name} lacks the column(s) {miss} of a branch table; {hint}")
        found = set(df["arm"].astype(str))
        if found != set(arms) or df["replicate"].nunique() != int(meta["replicates"]):
            raise ValueError(f"{path / name} does not match branch.json: it holds the arms "
                             f"{sorted(found)} × {df['replicate'].nunique()} replicates, branch.json "
                             f"names {arms} × {meta['replicates']}; {hint}")
    return meta, ts, summ


# --------------------------------------------------------------------------- words


def _flat(d: Any, prefix: str = "") -> dict:
    if not isinstance(d, dict):
        return {prefix: d}
    out = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def arm_changes(base: dict, arm: dict) -> list[str]:
    """What an arm changes relative to the base scenario, in plain words (HTML).

    ``base`` and ``arm`` are config dicts (``Config.to_dict()``); only the sections an arm may
    change are compared.

    >>> base = {"activity": {"reward": {"bonus": 0.3}}, "dynamics": {"inflow": 2.0}}
    >>> arm = {"activity": {"reward": {"bonus": 0.5}, "curation": {"overload_relief": 0.5}},
    ...        "dynamics": {"inflow": 2.0}}
    >>> for x in arm_changes(base, arm): print(x)
    sets <code>activity.reward.bonus</code> to 0.5 (base 0.3)
    adds the activity policy <b>curation</b>: Curation (沉淀内容 / 置顶): digests and pinned posts, so readers see the best first.<br><span class=p>overload relief 0.5</span>
    """
    from qunsim.branching import RUNTIME_SECTIONS
    from qunsim.policies.base import resolve_class
    from qunsim.report import _doc_line, _e, _num, _param_words

    out = []
    for sec in RUNTIME_SECTIONS:
        b, a = dict(base.get(sec) or {}), dict(arm.get(sec) or {})
        if sec == "dynamics":
            fb, fa = _flat(b), _flat(a)
            for k in fa:
                if fa[k] != fb.get(k):
                    out.append(f"sets <code>{_e(sec + '.' + k)}</code> to {_e(_num(fa[k]))} "
                               f"(base {_e(_num(fb.get(k)))})")
            continue
        on = lambda t: isinstance(t, dict) and t.get("enabled", True)  # noqa: E731
        for name in [*b, *(n for n in a if n not in b)]:
            tb, ta = b.get(name), a.get(name)
            if on(tb) and not on(ta):
                out.append(f"removes the {sec} policy <b>{_e(name)}</b>")
            elif on(ta) and not on(tb):
                try:
                    line = _doc_line(resolve_class(sec, name, ta, import_user=False))
                except Exception:  # noqa: BLE001 - describing only
                    line = "user policy"
                from qunsim.policies.schedule import SCHEDULE_KEYS, _why

                params = {k: v for k, v in ta.items() if k not in ("class", "enabled", *SCHEDULE_KEYS)}
                pw = _param_words(params)
                try:
                    when = _why({k: ta[k] for k in SCHEDULE_KEYS if k in ta}).strip(" ()")
                except Exception:  # noqa: BLE001 - describing only
                    when = ""
                out.append(f"adds the {sec} policy <b>{_e(name)}</b>: {_e(line)}"
                           + (f" <i>Switched on {_e(when)}.</i>" if when else "")
                           + (f"<br><span class=p>{pw}</span>" if pw else ""))
            elif on(ta) and tb != ta:
                fb, fa = _flat(tb), _flat(ta)
                for k in [*fa, *(k for k in fb if k not in fa)]:
                    if fa.get(k) != fb.get(k):
                        out.append(f"sets <code>{_e(f'{sec}.{name}.{k}')}</code> to {_e(_num(fa.get(k)))} "
                                   f"(base {_e(_num(fb.get(k)))})")
    return out


def _fmt(reg: str, v: float) -> str:
    from qunsim import registry

    return registry.fmt(reg, v)


def _fmt_diff(reg: str, v: float) -> str:
    from qunsim import registry

    if reg == "churn_rate":  # a daily rate: show it per 30 days too
        if v != v:
            return "–"
        return f"{v * 100:+.2f} pp/day".replace("-", "−")
    return registry.fmt_diff(reg, v)


# --------------------------------------------------------------------------- numbers


def _with_derived(summ: pd.DataFrame, ts: pd.DataFrame) -> pd.DataFrame:
    """The summary with outcomes read off the time series (the final expert retention)."""
    s = summ.copy()
    s["arm"] = s["arm"].astype(str)
    if "expert_retention" in ts and "final_expert_retention" not in s:
        last = ts.sort_values("step").groupby(["arm", "replicate"], sort=False)["expert_retention"].last()
        s["final_expert_retention"] = [float(last.get((a, r), np.nan)) for a, r in zip(s["arm"], s["replicate"], strict=True)]
    return s


def _outcomes(s: pd.DataFrame) -> list[tuple]:
    out = []
    for col, lab, sense, reg in BRANCH_OUTCOMES:
        if col not in s:
            continue
        v = pd.to_numeric(s[col], errors="coerce")
        if col.startswith("revenue") and not float(v.abs().sum()):
            continue  # no monetization in this branch
        out.append((col, lab, sense, reg))
    return out


def paired_table(s: pd.DataFrame, arms: list[str], outcomes: list[tuple], level: float = 0.95) -> dict:
    """``{(arm, column): paired difference to arms[0]}`` (qunsim.stats.paired_difference,
    matched by replicate)."""
    from qunsim.stats import paired_difference

    base = arms[0]
    out = {}
    for arm in arms[1:]:
        for col, *_ in outcomes:
            a = s[s["arm"] == arm].set_index("replicate")[col]
            b = s[s["arm"] == base].set_index("replicate")[col]
            reps = sorted(set(a.index) & set(b.index))
            out[(arm, col)] = paired_difference(a.loc[reps].to_numpy(float), b.loc[reps].to_numpy(float), level)
    return out


def _clear(d: dict) -> int:
    """+1 interval above 0, -1 below, 0 includes 0 (or no interval)."""
    lo, hi = d.get("low"), d.get("high")
    if lo is None or hi is None or lo != lo or hi != hi:
        return 0
    return 1 if lo > 0 else (-1 if hi < 0 else 0)


def _net(s, a: str, b: str, outcomes) -> int:
    """Outcomes on which arm ``a`` is clearly better than arm ``b`` minus those on which it is
    clearly worse, paired by replicate."""
    vs = paired_table(s, [b, a], outcomes)
    return sum(_clear(vs[(a, col)]) * sense for col, _, sense, _ in outcomes)


def _rank_arms(s, arms: list[str], outcomes, score: dict) -> tuple[list[str], dict]:
    """The arms, best first, and each contender's head-to-head wins. An arm's ``score`` is its outcomes clearly better than the
    baseline minus those clearly worse. Among the arms with a positive score the order is by
    head-to-head wins (a Copeland count: arm a beats arm b when, paired by replicate, a is
    clearly better on more outcomes than it is clearly worse), then by score; the rest follow
    by score. Counting wins against the baseline alone would rank an arm that is clearly
    better on one more outcome above an arm that beats it head to head on most of them."""
    contenders = [a for a in arms if score[a] > 0]
    wins = {a: 0 for a in contenders}
    for i, a in enumerate(contenders):
        for b in contenders[i + 1:]:
            n = _net(s, a, b, outcomes)
            if n > 0:
                wins[a] += 1
            elif n < 0:
                wins[b] += 1
    top = sorted(contenders, key=lambda a: (-wins[a], -score[a]))
    return top + sorted((a for a in arms if score[a] <= 0), key=lambda a: -score[a]), wins


def _verdict(s, arms, labels, outcomes, diffs, meta) -> str:
    from qunsim.report import _e, _plural

    base = arms[0]
    after = int(meta["steps"]) - int(meta["branch_at"])
    lab = lambda a: labels.get(a, a)  # noqa: E731
    parts = [f"<p class=goal><b>The question:</b> the community ran one history to day "
             f"{int(meta['branch_at'])}; from that same day it continues for {after} more days under "
             f"{_plural(len(arms), 'arm')}. Which intervention does best after day {int(meta['branch_at'])}? "
             f"Each arm is compared with <b>{_e(lab(base))}</b> (the first arm, the baseline), replicate by "
             f"replicate: replicate <i>r</i> of every arm continued the same history with the same seed, so "
             f"the differences are paired.</p>"]
    # wins: for each arm, the outcomes where it is clearly better or worse than the baseline
    score, counts = {}, {}
    lines = []
    for arm in arms[1:]:
        better, worse = [], []
        for col, lbl, sense, reg in outcomes:
            d = diffs[(arm, col)]
            c = _clear(d) * sense
            word = f"{lbl.lower()} {_e(_fmt_diff(reg, d['mean']))}"
            (better if c > 0 else worse if c < 0 else []).append(word)
        score[arm] = len(better) - len(worse)
        counts[arm] = (len(better), len(worse))
        txt = f"<li><b>{_e(lab(arm))}</b> vs {_e(lab(base))}: "
        if better:
            txt += "clearly better on " + "; ".join(better)
        if worse:
            txt += ("; " if better else "") + "clearly worse on " + "; ".join(worse)
        if not better and not worse:
            txt += "no outcome differs clearly (every 95% interval includes 0)"
        lines.append(txt + ".</li>")
    # best arm on each outcome (by mean), with whether it clearly beats the baseline
    best_rows = []
    for col, lbl, sense, reg in outcomes:
        means = s.groupby("arm")[col].mean()
        top = max(arms, key=lambda a: sense * float(means.get(a, np.nan)) if means.get(a) == means.get(a) else -np.inf)
        if top == base:
            note = "the baseline itself"
        else:
            c = _clear(diffs[(top, col)]) * sense
            note = "clearly better than the baseline" if c > 0 else "not clearly different from the baseline"
        best_rows.append(f"<tr><td class=l>{_e(lbl)}</td><td class=l><b>{_e(lab(top))}</b></td>"
                         f"<td>{_e(_fmt(reg, float(means[top])))}</td><td class=l>{_e(note)}</td></tr>")
    ranked, wins = _rank_arms(s, arms[1:], outcomes, score)
    # a tie: the same balance against the baseline and the same head-to-head wins
    tied = [a for a in ranked if (score[a], wins.get(a)) == (score[ranked[0]], wins.get(ranked[0]))] if ranked else []
    if len(tied) > 1 and score[ranked[0]] > 0:
        head = (f"<p class=winner>After day {int(meta['branch_at'])}, "
                + " and ".join(f"<b>{_e(lab(a))}</b>" for a in tied)
                + f" do equally well against {_e(lab(base))} on balance ("
                + "; ".join(f"{_e(lab(a))}: clearly better on {counts[a][0]} of {len(outcomes)} outcomes, "
                            f"clearly worse on {counts[a][1]}" for a in tied)
                + "); the head-to-head comparison below tells them apart.</p>")
    elif ranked and score[ranked[0]] > 0:
        nb, nw = counts[ranked[0]]
        beaten = [a for a in ranked[1:] if score[a] > 0 and score[a] >= score[ranked[0]]]
        h2h_note = "" if not beaten else (
            "; head to head it is the better on balance (below), although "
            + " and ".join(f"<b>{_e(lab(a))}</b> is clearly better than {_e(lab(base))} on "
                           f"{counts[a][0]} of {len(outcomes)} outcomes and clearly worse on {counts[a][1]}"
                           for a in beaten))
        head = (f"<p class=winner>After day {int(meta['branch_at'])}, <b>{_e(lab(ranked[0]))}</b> does best: "
                f"against {_e(lab(base))} it is clearly better on {nb} of {len(outcomes)} outcomes and clearly "
                f"worse on {nw}" + (h2h_note if beaten else "" if len(ranked) < 2 else
                f" (the runner-up, {_e(lab(ranked[1]))}: better on {counts[ranked[1]][0]}, worse on "
                f"{counts[ranked[1]][1]})") + ".</p>")
    elif ranked and all(score[a] < 0 for a in ranked):
        head = (f"<p class=winner>After day {int(meta['branch_at'])}, no intervention beats "
                f"<b>{_e(lab(base))}</b>: every arm is clearly worse on more outcomes than it is better.</p>")
    else:
        head = (f"<p class=winner>After day {int(meta['branch_at'])}, no arm differs clearly from "
                f"<b>{_e(lab(base))}</b> on balance with {_plural(int(meta['replicates']), 'replicate')}; "
                "more replicates would narrow the intervals.</p>")
    parts.append(head)
    parts.append("<ul>" + "".join(lines) + "</ul>")
    rivals = [a for a in ranked[1:] if score[a] > 0]
    if ranked and score[ranked[0]] > 0 and rivals:  # several arms beat the baseline: head to head
        top = ranked[0]
        vs = paired_table(s, [top, *rivals], outcomes)
        h2h = []
        for r in rivals:
            better, worse = [], []
            for col, lbl, sense, reg in outcomes:
                d = vs[(r, col)]  # rival minus top
                c = -_clear(d) * sense
                word = f"{lbl.lower()} {_e(_fmt_diff(reg, -d['mean']))}"
                (better if c > 0 else worse if c < 0 else []).append(word)
            txt = f"<li><b>{_e(lab(top))}</b> <i>minus</i> <b>{_e(lab(r))}</b>: "
            txt += ("clearly better on " + "; ".join(better)) if better else "clearly better on no outcome"
            txt += ("; clearly worse on " + "; ".join(worse)) if worse else "; clearly worse on none"
            h2h.append(txt + ".</li>")
        parts.append("<p><b>Head to head</b> (also paired by replicate):</p><ul>" + "".join(h2h) + "</ul>")
    parts.append("<table class=best><tr><th class=l>outcome</th><th class=l>best arm (mean)</th>"
                 "<th>its mean</th><th class=l>vs the baseline</th></tr>" + "".join(best_rows) + "</table>")
    parts.append("<p class=note>\"Clearly\": the 95% paired t interval of the difference excludes 0. "
                 "Outcomes are measured over the days after the branch (means, hazards, revenue) or on "
                 "the last day (at the end).</p>")
    return "".join(parts)


def _diff_table(s, arms, labels, outcomes, diffs) -> str:
    from qunsim.report import _e, _num
    from qunsim.stats import mean_ci

    head = "".join(f"<th>{_e(lbl)}<br><span class=ci>{'more' if sense > 0 else 'less'} is better</span></th>"
                   for _, lbl, sense, _ in outcomes)
    rows = []
    for arm in arms:
        cells = []
        for col, _, _, reg in outcomes:
            vals = s[s["arm"] == arm][col].to_numpy(float)
            r = mean_ci(vals)
            fin = vals[np.isfinite(vals)]
            if len(fin) and (fin >= 0).all() and r["n"] > 1:  # a t interval of a count, rate or share stays in range
                r["low"] = max(r["low"], 0.0)
                if reg in ("low_quality_share", "expert_retention") and (fin <= 1).all():
                    r["high"] = min(r["high"], 1.0)
            ci = (f"<br><span class=ci>[{_e(_fmt(reg, r['low']))}, {_e(_fmt(reg, r['high']))}]</span>"
                  if r["n"] > 1 else "")
            cells.append(f"<td>{_e(_fmt(reg, r['mean']))}{ci}</td>")
        rows.append(f"<tr><td class=l><b>{_e(labels.get(arm, arm))}</b><br><span class=ci>{_e(arm)}</span></td>"
                    + "".join(cells) + "</tr>")
    means = ("<p><b>Each arm</b> (mean over replicates, 95% t interval)</p><table class=arms>"
             f"<tr><th class=l>arm</th>{head}</tr>" + "".join(rows) + "</table>")
    rows = []
    for arm in arms[1:]:
        cells = []
        n = 0
        for col, _, sense, reg in outcomes:
            d = diffs[(arm, col)]
            n = max(n, d["n"])
            c = _clear(d)
            ci = (f"<br><span class=ci>[{_e(_fmt_diff(reg, d['low']))}, {_e(_fmt_diff(reg, d['high']))}]</span>"
                  if d["low"] == d["low"] else "")
            cls = (" class=clear" if c else "")
            tag = "" if not c else (" ▲" if c * sense > 0 else " ▼")
            cells.append(f"<td{cls} data-clear=\"{c * sense}\">{_e(_fmt_diff(reg, d['mean']))}{tag}{ci}</td>")
        rows.append(f"<tr><td class=l>{_e(labels.get(arm, arm))} <i>minus</i> {_e(labels.get(arms[0], arms[0]))}"
                    f"<br><span class=ci>{_num(n)} pairs</span></td>" + "".join(cells) + "</tr>")
    diff = ("<p><b>Paired differences</b> (each arm minus the baseline, replicate by replicate; "
            "in brackets the 95% paired t interval; bold: it excludes 0; ▲ better, ▼ worse)</p>"
            f"<table class=diff><tr><th class=l>comparison</th>{head}</tr>" + "".join(rows) + "</table>")
    return diff + means


# --------------------------------------------------------------------------- page


def _from_file(meta: dict) -> dict:
    """The arms and base of a branch whose branch.json lacks them, from its strategies file
    (when it still exists and validates); ``{}`` otherwise."""
    from qunsim.branching import _branch_spec, _describe_run

    try:
        spec, _ = _branch_spec(Path(meta["file"]))
        d = _describe_run(spec, [str(a) for a in meta["strategies"]], meta.get("overrides") or None)
    except Exception:  # noqa: BLE001 - the file moved or changed: report without it
        return {}
    return {**{k: d[k] for k in ("arms", "base_config", "base_source")}, "arms_from_file": True}


def branch_report(path: Path, title: str | None = None) -> str:
    """The HTML of the branch report of ``path`` (see the module docstring)."""
    from qunsim import __version__
    from qunsim.branching import BranchResult, plot_branch_fan
    from qunsim.policies.schedule import describe_periods, schedule_tables
    from qunsim.report import _e, _fig_html, _git_commit, _kv, _num, _page, _plural

    path = Path(path)
    meta, ts, summ = check_branch_dir(path)
    arms = [str(a) for a in meta["strategies"]]
    info = meta.get("arms") or {}
    if not info and meta.get("file"):  # written before branch.json recorded the arms: read the file
        meta = {**_from_file(meta), **meta}
        info = meta.get("arms") or {}
    labels = {a: (info.get(a) or {}).get("label") or a for a in arms}
    ts = ts.assign(arm=ts["arm"].astype(str))
    s = _with_derived(summ, ts)
    outcomes = _outcomes(s)
    diffs = paired_table(s, arms, outcomes)
    b = int(meta["branch_at"])
    R = int(meta["replicates"])
    res = BranchResult(ts, summ, b, labels, list(meta["seeds"]))

    # the question
    base_cfg = meta.get("base_config")
    q = [f"<p>One history of the community ran from day 0 to day {b} "
         + (f"(base scenario <code>{_e(meta.get('base_source'))}</code>)" if meta.get("base_source") else "")
         + f", once per replicate ({_plural(R, 'replicate')}). From day {b} the same history continues under "
         f"each arm to day {_num(int(meta['steps']))}:</p><ul>"]
    for a in arms:
        rec = info.get(a) or {}
        ch = arm_changes(base_cfg, rec["config"]) if isinstance(base_cfg, dict) and rec.get("config") else None
        what = ("changes nothing: the history carries on as it was" if ch == [] else
                "; ".join(ch) if ch else "what it changes is not recorded in branch.json")
        desc = f" <span class=p>{_e(rec['description'])}</span>" if rec.get("description") else ""
        q.append(f"<li><b>{_e(labels[a])}</b> (<code>{_e(a)}</code>{', the baseline' if a == arms[0] else ''}): "
                 f"{what}.{desc}</li>")
    q.append("</ul>")
    if meta.get("arms_from_file"):
        q.append(f"<p class=note>branch.json of this directory does not record the arms; their labels and "
                 f"changes are read from the strategies file <code>{_e(meta['file'])}</code> as it is now.</p>")
    if meta.get("overrides"):
        q.append("<p>Every run also sets: " + _e("; ".join(f"{k} = {v}" for k, v in meta["overrides"].items()))
                 + ".</p>")
    if isinstance(base_cfg, dict):
        from qunsim.config import load_config
        from qunsim.report import describe_scenario

        try:
            q.append("<details><summary>The base scenario in words</summary>" + "".join(
                f"<p>{_e(x)}</p>" for x in describe_scenario(load_config(base_cfg), int(meta["steps"])))
                + "</details>")
        except Exception:  # noqa: BLE001 - a base that no longer validates: the rest still reports
            pass

    # figures
    figs = []
    for m in FAN_METRICS:
        if m in ts and not (m.startswith("revenue") and not float(ts[m].abs().sum())):
            figs.append((f"fan_{m}", lambda m=m: plot_branch_fan(
                res, m, labels=labels, history_days=max(b // 2, 10),
                title=f"{_FAN_WORDS[m]}: arms after the branch on day {b} (median, 10–90% of {R} replicates)")))
    import matplotlib.pyplot as plt

    parts = []
    for name, make in figs:
        m = name[len("fan_"):]
        fig = make()
        try:
            parts.append(_fig_html(name, fig, (
                f"{_FAN_WORDS[m]}. Top: the shared history (black) and each arm after day {b} (median and "
                f"10–90% band over the replicates). Bottom: each arm minus {labels[arms[0]]}, paired by "
                "replicate (median and 10–90% band).")))
        finally:
            plt.close(fig)
    fig_html = "\n".join(parts)

    # policy periods
    per = []
    for a in arms:
        rec = info.get(a) or {}
        trig = {}
        if isinstance(base_cfg, dict) and rec.get("config"):
            try:
                trig = schedule_tables({**base_cfg, **rec["config"]})
            except Exception:  # noqa: BLE001 - describing only
                trig = {}
        sub = ts[ts["arm"] == a]
        if rec.get("config"):  # the arms' tables share columns: keep this arm's scheduled policies
            other = [c for c in sub.columns if str(c).startswith("policy_") and str(c).endswith("_active")
                     and str(c)[len("policy_"):-len("_active")] not in trig]
            sub = sub.drop(columns=other)
        by_rep = [tuple(describe_periods(g.sort_values("step"), trig))
                  for _, g in sub.groupby("replicate", sort=True)]
        if not by_rep or not by_rep[0]:
            continue
        same = all(x == by_rep[0] for x in by_rep)
        note = (f"the same in all {R} replicates" if same else
                f"replicate 1 of {R}; other replicates switched on other days")
        per.append(f"<li><b>{_e(labels[a])}</b> ({_e(note)}): " + " ".join(_e(x) for x in by_rep[0]) + "</li>")
    periods = ("<ul>" + "".join(per) + "</ul>" if per else
               "<p>No arm has a scheduled or triggered policy: every policy of an arm is on from the branch "
               "day to the end.</p>")

    prov = _kv([
        ("results directory", str(path.resolve())),
        ("strategies file", meta.get("file", "not recorded")),
        ("branch day", b),
        ("last day", meta["steps"]),
        ("replicates", R),
        ("seeds (one per replicate)", ", ".join(map(str, meta["seeds"]))),
        ("pairing", f"{meta.get('pairing', 'common')}: replicate r of every arm starts from the same history "
                    "and continues with the same generator seed (common random numbers)"),
        ("overrides for every run", json.dumps(meta.get("overrides") or {}, ensure_ascii=False)),
        ("branch run", f"{meta.get('created', 'time not recorded')}; qunsim {meta.get('qunsim_version', '?')}, "
                       f"python {meta.get('python', '?')}, numpy {meta.get('numpy_version', '?')}, "
                       f"pandas {meta.get('pandas_version', '?')}"),
        ("report built", f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; qunsim {__version__}, "
                         f"git {_git_commit() or 'unknown'}, python {platform.python_version()}"),
    ])
    if isinstance(base_cfg, dict):
        prov += ("<details><summary>branch.json</summary><pre>"
                 f"{_e(json.dumps(meta, indent=1, ensure_ascii=False, default=str))}</pre></details>")

    sections = [
        ("verdict", "Which intervention does best after the branch", _verdict(s, arms, labels, outcomes, diffs, meta)),
        ("numbers", "Paired differences to the baseline", _diff_table(s, arms, labels, outcomes, diffs)),
        ("question", "The question: one history, several futures", "".join(q)),
        ("figures", "The fan of arms after the branch", fig_html),
        ("periods", "When scheduled policies were on", periods),
        ("provenance", "Provenance", prov),
    ]
    name = Path(str(meta.get("file", path.name))).stem
    return _page(title or f"Branch review: {name}",
                 f"One history to day {b}, then {_plural(len(arms), 'arm')} × {_plural(R, 'replicate')} "
                 f"to day {_num(int(meta['steps']))} (common random numbers)", sections)
