"""Strategy-review report: one self-contained HTML page from a run or a sweep directory.

``qunsim report RESULTS_DIR --out report.html`` writes a page that opens offline with nothing
else installed: the figures are embedded as base64 PNG, the styles are inline, and nothing
is fetched from the network. It states the scenario and its policies in plain words, the
headline numbers (with confidence intervals across replicates, for a sweep), and the
provenance (seeds, versions, git commit, timestamps, the resolved configuration).
"""

from __future__ import annotations

import base64
import html
import io
import json
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["build_report", "describe_scenario", "describe_policies", "headline_table", "run_story"]

_ROLE_WORDS = {"expert": "experts (大咖)", "contributor": "contributors (中咖)", "regular": "regulars (普通人)"}
_NETWORK_WORDS = {"er": "random (Erdős–Rényi)", "ws": "small-world (Watts–Strogatz)",
                  "ba": "scale-free (Barabási–Albert)", "sbm": "clustered (stochastic block)",
                  "edgelist": "given edge-list", "file": "given graph file"}


def _plural(n: Any, word: str, plural: str | None = None) -> str:
    """``_plural(1, "group")`` -> '1 group'; ``_plural(2, "axis", "axes")`` -> '2 axes'."""
    return f"{_num(n)} {word if n == 1 else (plural or word + 's')}"


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _num(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != v:  # NaN
            return "–"
        if v == int(v) and abs(v) < 1e9:
            return f"{int(v):,}"
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


# --------------------------------------------------------------------------- plain words


def describe_scenario(cfg: Any, steps: int | None = None) -> list[str]:
    """The scenario of a config in plain sentences.

    Parameters
    ----------
    cfg : Config or dict
        A resolved configuration (``Config`` or its ``to_dict()``).
    steps : int, optional
        Days simulated (default: the config's ``run.steps``).

    Returns
    -------
    list of str

    Examples
    --------
    >>> from qunsim import load_config
    >>> cfg = load_config({"community": {"name": "demo", "goal": "knowledge", "n_seed": 80}})
    >>> describe_scenario(cfg, steps=30)[0][:62]
    'A knowledge community ("demo") starts with 80 invited seed mem'
    """
    d = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg)
    c = d.get("community", {})
    net = d.get("network", {})
    dyn = d.get("dynamics", {})
    run = d.get("run", {})
    comp = c.get("composition", {})
    tot = sum(comp.values()) or 1.0
    mix = ", ".join(f"{comp[k] / tot:.0%} {_ROLE_WORDS.get(k, k)}" for k in comp)
    out = [
        f"A {c.get('goal', '?')} community (\"{c.get('name', '?')}\") starts with {_num(c.get('n_seed'))} "
        f"invited seed members and {_num(c.get('n_prospects'))} people outside who could join; "
        f"{_num(steps if steps is not None else run.get('steps'))} days are simulated, one step a day.",
        f"Members join with the mix {mix}; {c.get('chatter_share', 0):.0%} of the population chat a lot "
        f"with little information (灌水) and {c.get('spammer_share', 0):.0%} post ads."
        + (f" {c['moderators']} moderator(s) help the owner." if c.get("moderators") else ""),
    ]
    if c.get("structure") == "ring":
        out.append(f"Leadership is a ring of {c.get('n_leaders')} balanced leaders.")
    else:
        out.append(f"Leadership is a pyramid: one soul figure (灵魂人物) tied to about "
                   f"{c.get('leader_tie_share', 0):.0%} of members.")
    out.append(
        f"People know each other through a {_NETWORK_WORDS.get(net.get('kind'), net.get('kind', '?'))} "
        f"social graph with about {_num(net.get('mean_degree'))} acquaintances each; messages go to "
        f"{_plural(c.get('n_groups', 1), 'group')} of at most {_num(c.get('group_cap'))} members.")
    if dyn:
        out.append(
            f"About {_num(dyn.get('inflow'))} outsiders a day come across the community through content; "
            f"members with strong trust invite friends (referral rate {_num(dyn.get('referral_rate'))} a day); "
            f"an unhappy leaver tells {_num(dyn.get('wom_reach'))} people (word of mouth).")
        lurk = float(dyn.get("lurker_share") or 0.0)
        if lurk > 0 or float(dyn.get("propensity_sd") or 0.0) > 0:
            founders = "" if dyn.get("seed_members_lurk") else " (the seed members post at their role's rate)"
            out.append(
                f"Most members read without posting: {lurk:.0%} of the contributors and regulars who join are "
                f"lurkers{founders}, and a few superusers write most of the content.")
        else:
            out.append("Every member posts at their role's rate (participation inequality switched off).")
    return out


def _doc_line(cls: type) -> str:
    doc = (cls.__doc__ or "").strip().splitlines()
    return doc[0].strip() if doc else cls.__name__


def _param_words(params: dict) -> str:
    parts = []
    for k, v in params.items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            items = []
            for x in v:
                name = x.get("name", "")
                rest = ", ".join(f"{kk.replace('_', ' ')} {_num(vv)}" for kk, vv in x.items() if kk != "name")
                items.append(f"<li><b>{_e(name)}</b>: {_e(rest)}</li>")
            parts.append(f"{_e(k.replace('_', ' '))}:<ul>{''.join(items)}</ul>")
        elif isinstance(v, (list, tuple)):
            parts.append(f"{_e(k.replace('_', ' '))} {_e(', '.join(map(_num, v)) or 'none')}")
        else:
            parts.append(f"{_e(k.replace('_', ' '))} {_e(_num(v))}")
    flat = "; ".join(p for p in parts if "<ul>" not in p)
    lists = "".join(p for p in parts if "<ul>" in p)
    return flat + ("<br>" if flat and lists else "") + lists


def describe_policies(cfg: Any) -> dict[str, list[str]]:
    """The policies of a config, by family, as HTML list items in plain words.

    Each item is the policy's own one-line description followed by its parameters.

    Examples
    --------
    >>> from qunsim import load_config
    >>> pol = describe_policies(load_config().override({"gate.fee": {"price": 99}}))
    >>> sorted(pol), pol["gate"][0][:17]
    (['activity', 'gate', 'monetization'], '<b>fee</b>: Entry')
    """
    from qunsim.policies.base import resolve_class

    d = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg)
    out: dict[str, list[str]] = {}
    for family in ("gate", "activity", "monetization"):
        items = []
        for name, table in (d.get(family) or {}).items():
            table = dict(table or {})
            enabled = table.pop("enabled", True)
            table.pop("class", None)
            try:
                cls = resolve_class(family, name, d[family][name], import_user=False)  # runs no user code
                line = _doc_line(cls)
            except Exception:  # noqa: BLE001 - a user class that no longer imports: still report it
                line = "user policy"
            off = "" if enabled else " <i>(switched off)</i>"
            params = _param_words(table)
            items.append(f"<b>{_e(name)}</b>{off}: {_e(line)}" + (f"<br><span class=p>{params}</span>" if params else ""))
        out[family] = items
    return out


# --------------------------------------------------------------------------- numbers


def headline_table(summary: pd.DataFrame, by: str | None, metrics: Sequence[str], ci: float = 0.95) -> pd.DataFrame:
    """Mean and Student-t interval of each metric, per group of runs.

    Parameters
    ----------
    summary : DataFrame
        One row per run.
    by : str or None
        Column naming the group (design point); None pools every run.
    metrics : sequence of str
    ci : float

    Returns
    -------
    DataFrame
        Columns ``group, metric, n, mean, lower, upper``. Intervals of non-negative metrics
        are clipped at 0, and those of shares at 1.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"p": ["a", "a", "a"], "x": [1.0, 2.0, 3.0]})
    >>> t = headline_table(s, "p", ["x"])
    >>> t[["group", "n", "mean"]].values.tolist(), round(float(t["upper"][0]), 3)
    ([['a', 3, 2.0]], 4.484)
    """
    from qunsim.registry import get as metric_info
    from qunsim.stats import mean_ci

    rows = []
    groups = [(None, summary)] if by is None else list(summary.groupby(by, sort=False))
    for g, sub in groups:
        for m in metrics:
            if m not in sub.columns:
                continue
            vals = pd.to_numeric(sub[m], errors="coerce").to_numpy(dtype=float)
            r = mean_ci(vals, ci)
            mean, lo, hi, n = r["mean"], r["low"], r["high"], r["n"]
            fin = vals[np.isfinite(vals)]
            if len(fin) and (fin >= 0).all():  # a t interval of a count or rate stays >= 0
                lo = max(lo, 0.0)
                if metric_info(m).format in ("pct", "rate") and (fin <= 1).all():
                    hi = min(hi, 1.0)
            rows.append({"group": "all runs" if g is None else g, "metric": m, "n": n, "mean": mean,
                         "lower": lo, "upper": hi})
    return pd.DataFrame(rows, columns=["group", "metric", "n", "mean", "lower", "upper"])


def _ci_cell(mean: float, lo: float, hi: float, n: int) -> str:
    if n > 1:
        return f"{_num(mean)}<br><span class=ci>[{_num(lo)}, {_num(hi)}]</span>"
    return _num(mean)


# --------------------------------------------------------------------------- html


_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1.2em;color:#222;line-height:1.45}
h1{font-size:1.9em;margin-bottom:.1em}h2{margin-top:1.8em;border-bottom:2px solid #0072B2;padding-bottom:.15em}
.sub{color:#555;margin-top:0}figure{margin:1.6em 0;page-break-inside:avoid}
figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#444;font-size:.95em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}th,td{border:1px solid #ddd;padding:.35em .6em;
text-align:right;vertical-align:top}th{background:#f3f6fa}td.l,th.l{text-align:left}.ci{color:#666;font-size:.88em}
.p{color:#444;font-size:.93em}.verdict .winner{font-size:1.15em}.goal{background:#f3f6fa;padding:.5em .7em}
.bad{color:#b00;font-size:.85em}.warn{color:#8a5a00;font-size:.85em}td.clear{font-weight:bold}details{margin:.6em 0}pre{background:#f7f7f7;padding:.8em;overflow-x:auto;
font-size:.85em}.kv td{text-align:left}.note{color:#555;font-size:.92em}.toc a{margin-right:1em}
"""

_FIG_CAPTIONS = {
    "active_by_role": "Active members by role over time; shaded backgrounds mark lifecycle phases.",
    "flows": "Joins (up) and leaves by reason (down) per period.",
    "survival_by_role": "Kaplan–Meier survival of membership by the role members joined as; "
                        "ticks mark members still active (censored).",
    "survival_by_cohort": "Kaplan–Meier survival by entry cohort: do later joiners stay as long as the seed?",
    "gresham": "Gresham's law check: low-quality share and expert retention (top); the Gresham index "
               "(bottom) above 1 means the best members leave faster than the worst.",
    "value_overload": "Value per message read, share of messages left unread, and message volume.",
    "trust_levels": "Distribution of active members over trust levels (none, weak, strong).",
    "monetization": "Monetization funnel and cumulative revenue by source.",
    "network": "The active members' social graph: colour = role, size = trust.",
    "active_by_point": "Active members over time for each design point (mean and 95% CI over replicates).",
    "lever_effects": "Each lever value minus the lever's first value, paired over the other levers, the "
                     "uncertainty scenarios and the replicates (same seeds), with 95% intervals.",
    "revenue_by_point": "Cumulative revenue over time for each design point (mean and 95% CI over replicates).",
}


def _fig_html(name: str, fig: Any, caption: str) -> str:
    from PIL import Image  # a matplotlib dependency

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    buf.seek(0)
    with Image.open(buf) as im:  # a 256-colour palette: a third of the size, same look for plots
        q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small = io.BytesIO()
    q.save(small, "PNG", optimize=True)
    data = base64.b64encode(small.getvalue()).decode("ascii")
    return (f'<figure id="fig-{_e(name)}" data-figure="{_e(name)}"><img alt="{_e(caption)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{_e(caption)}</figcaption></figure>')


def _caption(name: str) -> str:
    from qunsim.plotting import metric_label

    if name in _FIG_CAPTIONS:
        return _FIG_CAPTIONS[name]
    if name.startswith("compare_"):
        m = name[len("compare_"):]
        return f"{metric_label(m)} for each design point: runs (dots), mean and 95% CI over replicates."
    if name.startswith("outcome_"):
        m = name[len("outcome_"):]
        return (f"{metric_label(m, unit=False)}: every run of each option (crosses: collapsed runs), with "
                "the median, the 25–75% box and the 5–95% line.")
    if name.startswith("over_time_"):
        m = name[len("over_time_"):]
        return (f"{metric_label(m, unit=False)} over time for each option: the median run and the 5–95% "
                "spread of its replicates, over every uncertainty scenario.")
    if name.startswith("interaction_"):
        return ("Lever × uncertainty: the objective's mean per lever value across one uncertainty; lines "
                "that cross mean the best option depends on it.")
    if name.startswith("heatmap_"):
        m = name[len("heatmap_"):]
        return f"{metric_label(m)}, mean over replicates, across the first two sweep axes."
    return name.replace("_", " ")


def _figures_html(figs: list[tuple[str, Any]]) -> tuple[str, list[str]]:
    import matplotlib.pyplot as plt

    parts, names = [], []
    for name, make in figs:
        fig = make()
        try:
            parts.append(_fig_html(name, fig, _caption(name)))
        finally:
            plt.close(fig)
        names.append(name)
    return "\n".join(parts), names


def _kv(rows: list[tuple[str, Any]]) -> str:
    return "<table class=kv>" + "".join(f"<tr><th class=l>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows) + "</table>"


def _policies_html(cfg: Any) -> str:
    pol = describe_policies(cfg)
    words = {"gate": "Entry gates (门槛)", "activity": "Activity policies", "monetization": "Monetization (变现)"}
    out = []
    for fam, items in pol.items():
        if items:
            out.append(f"<p><b>{words[fam]}</b></p><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
        else:
            out.append(f"<p><b>{words[fam]}</b>: none.</p>")
    return "".join(out)


def _git_commit() -> str | None:
    import subprocess

    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                           cwd=Path(__file__).resolve().parent)
        return r.stdout.strip() or None if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _page(title: str, subtitle: str, sections: list[tuple[str, str, str]]) -> str:
    toc = "".join(f'<a href="#{sid}">{_e(h)}</a>' for sid, h, _ in sections)
    body = "".join(f'<h2 id="{sid}">{_e(h)}</h2>{content}' for sid, h, content in sections)
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'><title>{_e(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1><p class=sub>{_e(subtitle)}</p>"
            f"<p class=toc>{toc}</p>{body}</body></html>\n")


#: Summary metrics in a run report's table (labels, units and formats from :mod:`qunsim.registry`).
_RUN_HEADLINES = ("final_active", "peak_active", "peak_step", "total_joined", "total_left",
                  "survival_ratio", "mean_churn_rate", "churn_30d", "final_expert_retention",
                  "mean_low_quality_share", "gresham_hr", "final_trust_mean", "messages_per_day",
                  "revenue_total", "revenue_per_member", "final_phase", "phases_seen")


def run_story(summary: dict, ts: pd.DataFrame | None = None) -> list[str]:
    """What a single run shows, in a few plain sentences (from its summary statistics).

    Examples
    --------
    >>> s = {"steps": 100, "final_active": 80, "peak_active": 120, "peak_step": 40,
    ...      "total_joined": 150, "total_left": 70, "left_dissatisfied": 60, "left_contagion": 10,
    ...      "final_expert_retention": 0.25, "gresham_hr": 2.0, "gresham_hr_low": 1.4, "gresham_hr_high": 2.9,
    ...      "phases_seen": "introduction|growth|decline"}
    >>> for line in run_story(s, None): print(line)
    Membership peaked at 120 on day 40 and ended at 80 after 100 days (introduction → growth → decline).
    150 people joined over the run and 70 left, most of them dissatisfied (86%).
    Of the experts who ever joined, 25% were still members at the end.
    Over the run the best quarter of members (by post quality) left 2.0× as fast as the worst quarter (95% CI 1.4–2.9×): good money was being driven out (劣币驱逐良币).
    """
    out = []
    start = int(ts["active"].iloc[0]) if ts is not None and len(ts) else None
    phases = str(summary.get("phases_seen", "")).replace("|", " → ")
    if "peak_active" in summary:
        first = f"Starting from {start:,} members, membership" if start is not None else "Membership"
        out.append(f"{first} peaked at {_num(summary['peak_active'])} on day {_num(summary.get('peak_step'))} and "
                   f"ended at {_num(summary.get('final_active'))} after {_num(summary.get('steps'))} days"
                   + (f" ({phases})." if phases else "."))
    left = summary.get("total_left", 0)
    if left:
        reasons = {k[len("left_"):]: v for k, v in summary.items() if k.startswith("left_") and v}
        top = max(reasons, key=reasons.get) if reasons else None
        tail = f", most of them {top} ({reasons[top] / left:.0%})" if top else ""
        out.append(f"{_num(summary.get('total_joined'))} people joined over the run and {_num(left)} left{tail}.")
    if "final_expert_retention" in summary:
        out.append(f"Of the experts who ever joined, {summary['final_expert_retention']:.0%} were still members at the end.")
    g, lo, hi = (summary.get(k) for k in ("gresham_hr", "gresham_hr_low", "gresham_hr_high"))
    if g is not None and lo is not None and hi is not None:
        ci = f" (95% CI {lo:.2g}–{hi:.2g}×)"
        if not lo < hi:
            out.append("Too few members left to compare how fast the best and the worst quarters "
                       "(by post quality) leave.")
        elif lo > 1:
            out.append(f"Over the run the best quarter of members (by post quality) left {g:.1f}× as fast as the "
                       f"worst quarter{ci}: good money was being driven out (劣币驱逐良币).")
        elif hi < 1:
            out.append(f"Over the run the worst quarter of members (by post quality) left {1 / g:.1f}× as fast as "
                       f"the best quarter{ci}: the community kept its good members.")
        else:
            out.append(f"The best and the worst quarters of members (by post quality) left at rates that "
                       f"cannot be told apart (hazard ratio {g:.2g}{ci}).")
    rev = summary.get("revenue_total")
    if rev:
        out.append(f"Revenue totalled {_num(float(rev))}, {_num(float(summary.get('revenue_per_member', 0)))} "
                   "per member ever joined.")
    return out


def _run_report(run_dir: Path, title: str | None) -> str:
    from qunsim import __version__
    from qunsim.plotting import _run_figures, network_snapshot, plot_network
    from qunsim.simulation import load_run

    res = load_run(run_dir)
    s = res.summary
    steps = int(res.timeseries["step"].max()) if len(res.timeseries) else 0
    figs = _run_figures(res)
    snap = network_snapshot(res)
    if snap is not None:
        g, day, why = snap
        figs.append(("network", lambda: plot_network(g, title=f"Who is connected to whom on day {day} ({why})")))
    fig_html, _ = _figures_html(figs)
    rows = []
    from qunsim import registry

    for key in _RUN_HEADLINES:
        if key in s:
            v = s[key]
            if key.startswith("revenue") and not float(v):
                continue
            text = registry.fmt(key, v)
            if key == "gresham_hr" and s.get("gresham_hr_low", 1.0) < s.get("gresham_hr_high", 1.0):
                text += f" (95% CI {registry.fmt(key, s['gresham_hr_low'])}–{registry.fmt(key, s['gresham_hr_high'])})"
            elif key == "gresham_hr":
                text += " (too few leaves to estimate)"
            rows.append(f"<tr><th class=l>{_e(registry.label(key))}</th><td>{_e(text)}</td></tr>")
    reasons = [(k[len("left_"):], s[k]) for k in s if k.startswith("left_") and s[k]]
    why_left = ", ".join(f"{_num(v)} {r}" for r, v in reasons) or "nobody left"
    from qunsim.policies.schedule import describe_periods, schedule_tables  # when policies were on
    periods = describe_periods(res.timeseries, schedule_tables(res.config))
    story = "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in run_story(s, res.timeseries) + periods) + "</ul>"
    numbers = (f"<table>{''.join(rows)}</table><p>Why members left: {_e(why_left)}.</p>"
               "<p class=note>One run: these numbers carry no confidence interval. Run a sweep with "
               "replicates (<code>qunsim sweep</code>) to see how much they vary between seeds.</p>")
    scen = "".join(f"<p>{_e(x)}</p>" for x in describe_scenario(res.config, steps))
    prov = _kv([
        ("results directory", str(run_dir.resolve())),
        ("configuration source", res.config.source),
        ("seed", res.seed if res.seed is not None else "not recorded"),
        ("days simulated", steps),
        ("run files written", datetime.fromtimestamp((run_dir / "summary.json").stat().st_mtime, UTC)
         .strftime("%Y-%m-%d %H:%M UTC")),
        ("report built", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("qunsim version (report)", __version__),
        ("git commit (report)", _git_commit() or "unknown"),
        ("python", platform.python_version()),
    ]) + ("<details><summary>Resolved configuration (config.toml)</summary><pre>"
          f"{_e((run_dir / 'config.toml').read_text())}</pre></details>")
    name = res.config.get("community.name", "community")
    sections = [
        ("summary", "What happened", story),
        ("scenario", "Scenario", scen),
        ("policies", "Policies under test", _policies_html(res.config)),
        ("numbers", "Headline numbers", numbers),
        ("figures", "Figures", fig_html),
        ("provenance", "Provenance", prov),
    ]
    return _page(title or f"Strategy review: {name}",
                 f"A single run of {steps} days (seed {res.seed}) from {run_dir.name}", sections)


def _axis_words(sw: Any, decision: tuple | None = None) -> str:
    from qunsim.plotting import _fmt, _short

    resolved = (sw.manifest.get("sweep") or {}).get("resolved") or {}
    axes_spec = resolved.get("axes") or {}
    items = []
    for a in sw.axes:
        vals = list(dict.fromkeys(sw.summary[a].tolist()))
        spec = axes_spec.get(a)
        detail = ""
        if isinstance(spec, dict) and spec.get("labels") and spec.get("values") is not None:
            pairs = [f"{lab} = {json.dumps(v, ensure_ascii=False)}" for lab, v in zip(spec["labels"], spec["values"], strict=False)]
            detail = f" <span class=p>({_e('; '.join(pairs))})</span>"
        shown = ", ".join(_fmt(v) for v in vals[:12]) + (f", … ({len(vals)} values)" if len(vals) > 12 else "")
        role = ""
        if decision is not None:
            role = " — <i>uncertainty</i>" if a in decision[2]["uncertainties"] else " — <i>lever</i>"
        items.append(f"<li><b>{_e(_short(a))}</b> (<code>{_e(a)}</code>){role}: {_e(shown)}{detail}</li>")
    return "<ul>" + "".join(items) + "</ul>" if items else "<p>No axis: every run repeats one scenario.</p>"


def _sweep_report(sweep_dir: Path, title: str | None) -> tuple[str, dict | None]:
    from qunsim.decision import sweep_verdict
    from qunsim.plotting import load_sweep, sweep_figures
    from qunsim.registry import headline

    sw = load_sweep(sweep_dir)
    m = sw.manifest
    decision = sweep_verdict(sweep_dir)
    bases = _base_configs(m)
    cfg = next(iter(bases.values())) if bases else None
    steps = m.get("steps")
    n_rep = m.get("replicates")
    fig_html, _ = _figures_html(sweep_figures(sw, decision=decision))
    scen = ("".join(f"<p>{_e(x)}</p>" for x in describe_scenario(cfg, steps)) if cfg is not None
            else "<p>The base configuration is not recorded in the manifest.</p>")
    strategies = decision is not None and decision[2].get("base_key") == "strategy"
    if len(bases) > 1:
        src = m.get("base_source") if isinstance(m.get("base_source"), dict) else {}
        what = "strategies" if strategies else "scenarios (axis <code>base</code>)"
        scen = (f"<p>The sweep compares {len(bases)} {what}: "
                + ", ".join(f"<b>{_e(k)}</b> ({_e(src.get(k, ''))})" for k in bases)
                + f". In words, the first (<b>{_e(next(iter(bases)))}</b>):</p>" + scen)
    design = m.get("design") or {}
    scen += (f"<p>This sweep (<b>{_e(m.get('name', sweep_dir.name))}</b>) varies {_plural(len(sw.axes), 'axis', 'axes')} "
             f"({_e(design.get('kind', 'grid'))} design, {_num(m.get('n_points', len(sw.points)))} points × "
             f"{_num(n_rep)} replicates = {_num(m.get('n_runs', sw.planned))} runs):</p>" + _axis_words(sw, decision))
    fixed = (m.get("sweep") or {}).get("fixed") or {}
    if fixed:
        scen += "<p>Fixed for every run: " + _e("; ".join(f"{k} = {v}" for k, v in fixed.items())) + ".</p>"
    if decision is not None:
        mets = [k for k in decision[2]["outcomes"]["metrics"] if k in sw.summary.columns]
    else:
        mets = [k for k in headline(sw.summary.columns) if pd.api.types.is_numeric_dtype(sw.summary[k])
                and not (k.startswith("revenue") and float(sw.summary[k].abs().sum()) == 0)]
    numbers = _points_table(sw, mets, decision)
    if len(sw.failures):
        numbers += f"<p class=note>{len(sw.failures)} run(s) failed and are left out (see <code>qs.load_results(dir).failures</code>).</p>"
    sessions = m.get("sessions") or []
    prov_rows = [
        ("results directory", str(sweep_dir.resolve())),
        ("sweep", m.get("name")),
        ("fingerprint", m.get("fingerprint")),
        ("status", f"{m.get('status')}: {len(sw.summary)} of {sw.planned} runs finished, {len(sw.failures)} failed"),
        ("root seed", m.get("root_seed")),
        ("seeds", m.get("seeds")),
        ("pairing", decision[2]["pairing"] if decision is not None else "–"),
        ("base scenario", m.get("base_source")),
        ("created", m.get("created")),
        ("updated", m.get("updated")),
    ]
    for s_ in sessions:
        git = s_.get("git") or {}
        prov_rows.append((f"session {s_.get('session')}",
                          f"{s_.get('started')} → {s_.get('ended')}; qunsim {s_.get('qunsim_version')}; "
                          f"git {git.get('commit', '?')}{' (uncommitted changes)' if git.get('dirty') else ''}; "
                          f"python {s_.get('python')}; executor {(s_.get('executor') or {}).get('executor')} × "
                          f"{(s_.get('executor') or {}).get('workers')}; ran {s_.get('ran_ok')} ok, "
                          f"{s_.get('ran_failed')} failed"))
    if sessions and sessions[-1].get("packages"):
        prov_rows.append(("packages", ", ".join(f"{k} {v}" for k, v in sessions[-1]["packages"].items())))
    prov_rows.append(("report built", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")))
    prov = _kv(prov_rows)
    sweep_text = (m.get("sweep") or {}).get("text")
    if sweep_text:
        prov += f"<details><summary>Sweep file</summary><pre>{_e(sweep_text)}</pre></details>"
    for label, c in bases.items():
        name = "Base configuration" + (f" <b>{_e(label)}</b>" if len(bases) > 1 else "")
        prov += f"<details><summary>{name}</summary><pre>{_e(c.to_toml())}</pre></details>"
    if len(bases) > 1:
        pol = "".join(f"<h3>{_e(label)}</h3>{_policies_html(c)}" for label, c in bases.items())
    else:
        pol = _policies_html(cfg) if cfg is not None else "<p>The base configuration is not recorded.</p>"
    sections = []
    if decision is not None:
        sections.append(("verdict", "Verdict", _verdict_html(*decision)))
    sections += [
        ("figures", "Figures", fig_html),
        ("numbers", "Every design point", numbers),
        ("scenario", "Scenario and design", scen),
        ("policies", ("Strategies" if strategies else "Policies of the scenario" + ("s" if len(bases) > 1 else "")), pol),
        ("provenance", "Provenance", prov),
    ]
    page = _page(title or f"Strategy review: {m.get('name', sweep_dir.name)}",
                 f"{_plural(len(sw.points), 'design point')} × {_plural(n_rep, 'replicate')}, {_num(steps)} days each",
                 sections)
    return page, (decision[0] if decision is not None else None)


def _pct(w: dict) -> str:
    """``p [low–high]`` of a Wilson dict, as percentages."""
    if w.get("p") is None:
        return "–"
    return f"{w['p']:.0%} <span class=ci>[{w['low']:.0%}–{w['high']:.0%}]</span>"


def _verdict_html(v: dict, runs: pd.DataFrame, dec: dict) -> str:
    """The first screen: the recommendation under the stated goal, the options ranked, the
    paired differences, and when the recommendation changes."""
    from qunsim import registry

    goal = v["goal"]
    obj = v["objective"]["metric"]
    best = v["options"][0]
    coll = dec["outcomes"].get("collapse") or {}
    from qunsim.sweep.spec import Goal, Outcomes

    o_words = Outcomes({}, coll.get("active_below"), coll.get("survival_below"), coll.get("when", "end")).describe()
    if goal.get("implicit"):
        g_words = (f"no <code>[goal]</code> in the sweep file, so options are ranked by the chance of not "
                   f"collapsing, then by the median {_e(registry.label(obj, unit=False).lower())}")
    else:
        g = Goal(obj, goal.get("sense", 1), goal.get("max_p_collapse"),
                 {k: tuple(x) for k, x in (goal.get("require") or {}).items()})
        g_words = _e(g.describe())
    n_scen = v["changes"]["n_scenarios"]
    reps = int(runs["replicate"].nunique()) if "replicate" in runs else 0
    pairing = ("replicate <i>r</i> of every option ran with the same seed in every scenario (common random "
               "numbers), so the differences below are paired" if v["pairing"] == "common" else
               "runs have independent seeds, so the differences below are unpaired (Welch intervals)")
    q = best["metrics"][obj]
    parts = [f"<p class=goal><b>Goal:</b> {g_words}. <b>Collapse:</b> {_e(o_words)}.</p>"]
    all_fail = not best["within_risk_limit"]
    limit = goal.get("max_p_collapse")
    head = (f"No option keeps P(collapse) within the limit{f' of {limit:.0%}' if limit is not None else ''}. "
            "Meets the goal most often:" if all_fail else "Recommended:")
    parts.append(
        f"<p class=winner>{head} <b>{_e(best['option'])}</b> — meets the goal in {_pct(best['p_goal'])} of its "
        f"runs, P(collapse) {_pct(best['p_collapse'])}; median {_e(registry.label(obj, unit=False).lower())} "
        f"{_e(registry.fmt(obj, q['q50']))} (5–95% of runs: {_e(registry.fmt(obj, q['q05']))} to "
        f"{_e(registry.fmt(obj, q['q95']))}).</p>")
    if all_fail:  # the trade-off in words: the most successful option is not the safest one
        safest = min(v["options"], key=lambda o: o["p_collapse"]["p"])
        if safest["option"] != best["option"]:
            parts.append(
                f"<p class=winner>Least likely to collapse: <b>{_e(safest['option'])}</b> — P(collapse) "
                f"{_pct(safest['p_collapse'])}, meets the goal in {_pct(safest['p_goal'])} of its runs. "
                "Neither is safe under this goal: choosing between them trades the chance of success "
                "for the risk of collapse.</p>")
    for o in v["options"][1:]:
        if not o["within_risk_limit"] and best["within_risk_limit"] and o["p_goal"]["p"] > best["p_goal"]["p"]:
            pc = o["p_collapse"]
            close = pc["low"] <= limit
            parts.append(
                f"<p>Note: <b>{_e(o['option'])}</b> meets the goal more often ({_pct(o['p_goal'])}) but "
                f"collapses in {_pct(pc)} of its runs, over the limit of {limit:.0%}"
                + ("; its interval includes the limit, so more replicates would tell whether it is "
                   "truly over." if close else ".") + "</p>")
    parts.append(f"<p class=note>Over {_plural(n_scen, 'uncertainty scenario')} × {_plural(reps, 'replicate')} "
                 f"per option ({_num(v['n_runs'])} runs); {pairing}. Intervals are 95%: Wilson for "
                 "probabilities, Student t for means and paired differences.</p>")
    # options ranked
    rows = []
    for o in v["options"]:
        qo = o["metrics"][obj]
        reg = v["regret"].get(o["option"], {})
        flag = "" if o["within_risk_limit"] else (
            " <span class=bad>over the collapse limit"
            + (" (its interval includes it)" if o["p_collapse"]["low"] <= (goal.get("max_p_collapse") or 0) else "")
            + "</span>")
        bim = any(mm.get("bimodal") for mm in o["metrics"].values())
        rows.append(
            f"<tr><td>{o['rank']}</td><td class=l><b>{_e(o['option'])}</b>{flag}"
            + (" <span class=warn>outcomes split in two</span>" if bim else "") + "</td>"
            f"<td>{_pct(o['p_goal'])}</td><td>{_pct(o['p_collapse'])}</td>"
            f"<td>{_e(registry.fmt(obj, qo['q50']))}<br><span class=ci>{_e(registry.fmt(obj, qo['q05']))} to "
            f"{_e(registry.fmt(obj, qo['q95']))}</span></td>"
            f"<td>{_e(registry.fmt(obj, reg.get('max_regret')))}</td><td>{_e(registry.fmt(obj, reg.get('mean_regret')))}</td></tr>")
    parts.append("<table class=verdict><tr><th>rank</th><th class=l>option</th><th>P(meets goal)</th>"
                 f"<th>P(collapse)</th><th>{_e(registry.label(obj, unit=False))}<br>median, 5–95%</th>"
                 "<th>regret<br>worst</th><th>regret<br>mean</th></tr>" + "".join(rows) + "</table>")
    parts.append("<p class=note>Regret: in each uncertainty scenario, the option's shortfall in "
                 f"{_e(registry.label(obj, unit=False).lower())} (mean over replicates) from the best option there; "
                 "worst case and mean over scenarios. The ranking puts options within the collapse limit first, "
                 "then orders them by P(meets goal), then (options over the limit) the less likely to collapse "
                 "first, then by the median objective.</p>")
    # paired differences
    if v["differences"]:
        mets = list(dec["outcomes"]["metrics"])
        head = "".join(f"<th>{_e(registry.label(k, unit=False))}</th>" for k in mets) + "<th>P(collapse)</th>"
        body = []
        for d in v["differences"]:
            cells = []
            for k in [*mets, "collapse"]:
                r = d["metrics"].get(k) or {}
                f = (lambda x: registry.fmt_diff("seed_retention", x).replace(".0 pp", " pp")) if k == "collapse" else (lambda x, k=k: registry.fmt_diff(k, x))
                if r.get("mean") is None:
                    cells.append("<td>–</td>")
                    continue
                lo, hi = r.get("low"), r.get("high")
                clear = lo is not None and hi is not None and (lo > 0 or hi < 0)
                ci = f"<br><span class=ci>[{_e(f(lo))}, {_e(f(hi))}]</span>" if lo is not None and hi is not None else ""
                cells.append(f"<td{' class=clear' if clear else ''}>{_e(f(r['mean']))}{ci}</td>")
            body.append(f"<tr><td class=l>{_e(best['option'])} <i>minus</i> {_e(d['vs'])}<br>"
                        f"<span class=ci>{d['n_pairs']} {'pairs' if v['pairing'] == 'common' else 'runs each'}</span></td>"
                        + "".join(cells) + "</tr>")
        parts.append("<p><b>Differences</b> (recommended option minus each other; bold: the 95% interval "
                     "excludes 0)</p><table class=diff><tr><th class=l>comparison</th>" + head + "</tr>"
                     + "".join(body) + "</table>")
    # when it changes
    ch = v["changes"]
    if not v["uncertainties"]:
        parts.append("<p><b>When the recommendation changes:</b> the sweep varies no uncertainty, so this "
                     "verdict holds for the one scenario simulated only.</p>")
    elif ch["n_changed"] == 0:
        parts.append(f"<p><b>When the recommendation changes:</b> never — <b>{_e(best['option'])}</b> is also the "
                     f"best choice in each of the {ch['n_scenarios']} uncertainty scenarios on its own.</p>")
    else:
        alts = ", ".join(f"<b>{_e(k)}</b> ({n} of {ch['n_scenarios']})" for k, n in ch["alternatives"].items())
        txt = (f"<p><b>When the recommendation changes:</b> in {ch['n_changed']} of {ch['n_scenarios']} "
               f"uncertainty scenarios another option is best on its own: {alts}.")
        if ch.get("rule"):
            box = ch["box"]
            txt += (f" Scenario discovery (PRIM) finds them where <b>{_e(ch['rule'])}</b>: that box holds "
                    f"{box['coverage']:.0%} of those scenarios, and {box['density']:.0%} of the scenarios in it "
                    f"change the answer.")
        parts.append(txt + "</p>")
    return "<div class=verdict>" + "".join(parts) + "</div>"


_SORT_JS = ("<script>document.querySelectorAll('table.sortable th').forEach(function(th,i){th.title='sort';"
            "th.style.cursor='pointer';th.onclick=function(){var t=th.closest('table'),b=t.tBodies[0],"
            "r=Array.from(b.rows).slice(1),d=th.dataset.d=th.dataset.d==='a'?'d':'a';r.sort(function(x,y){"
            "var p=x.cells[i].dataset.v||x.cells[i].textContent,q=y.cells[i].dataset.v||y.cells[i].textContent,"
            "a=parseFloat(p),c=parseFloat(q),s=(isNaN(a)||isNaN(c))?p.localeCompare(q):a-c;return d==='a'?s:-s});"
            "r.forEach(function(x){b.appendChild(x)})}})</script>")


def _points_table(sw: Any, mets: list[str], decision: tuple | None) -> str:
    """Every design point, one row each (sortable: click a column head): replicates, P(collapse)
    and each metric's mean with its t interval."""
    from qunsim.decision import collapsed
    from qunsim.registry import label

    s = sw.summary
    tab = headline_table(s, "point_label", mets)
    coll = (decision[2]["outcomes"].get("collapse") if decision is not None else None)
    col = pd.Series(collapsed(s, coll), index=s.index) if coll else None
    head = "".join(f"<th>{_e(label(k))}</th>" for k in mets)
    body = []
    for p in sw.points:
        cells = []
        for k in mets:
            r = tab[(tab["group"] == p) & (tab["metric"] == k)]
            cells.append("<td>–</td>" if r.empty else
                         f"<td data-v=\"{r['mean'].iloc[0]}\">{_ci_cell(r['mean'].iloc[0], r['lower'].iloc[0], r['upper'].iloc[0], int(r['n'].iloc[0]))}</td>")
        sel = s["point_label"] == p
        n = int(sel.sum())
        pc = ""
        if col is not None:
            k_ = int(col[sel].sum())
            pc = f"<td data-v=\"{k_ / max(n, 1)}\">{k_}/{n}</td>"
        body.append(f"<tr><td class=l>{_e(p)}</td><td>{n}</td>{pc}{''.join(cells)}</tr>")
    pc_head = "<th>collapsed</th>" if col is not None else ""
    return (f"<table class=sortable><tbody><tr><th class=l>design point</th><th>runs</th>{pc_head}{head}</tr>"
            f"{''.join(body)}</tbody></table>" + _SORT_JS +
            "<p class=note>Every design point of the sweep (click a column head to sort). Mean over replicates; "
            "in brackets the 95% confidence interval of the mean (Student t; clipped to the metric's range, e.g. "
            "at 0 for counts and rates). The verdict and the figures show the spread of the runs, not only these "
            "means. Per-run numbers: <code>qs.load_results(dir).summary</code>.</p>")


def _base_configs(manifest: dict) -> dict[str, Any]:
    """The sweep's base scenario(s) as ``{label: Config}`` (one entry unless it sweeps ``base``)."""
    from qunsim.config import load_config

    base = manifest.get("base_config")
    if not isinstance(base, dict) or not base:
        return {}
    if "community" in base or not all(isinstance(v, dict) for v in base.values()):
        return {"base": load_config(base)}
    return {str(k): load_config(v) for k, v in base.items()}


def build_report(results_dir: str | Path, out: str | Path, *, title: str | None = None) -> Path:
    """Write the strategy-review HTML page of a run or sweep directory.

    Parameters
    ----------
    results_dir : path
        A directory written by ``qunsim run`` (``timeseries.parquet``, ``summary.json``, ...),
        by ``qunsim sweep`` (``manifest.json``) or by ``qunsim branch`` (``branch.json``).
    out : path
        The HTML file to write (parent directories are created).
    title : str, optional

    Returns
    -------
    Path
        ``out``. For a sweep with levers the verdict is also written, as ``verdict.json`` next
        to ``out`` (objective, goal, options ranked with P(goal), P(collapse) and intervals,
        paired differences, regret, pairing, the scenarios where the answer changes).
    """
    from qunsim.plotting import is_run_dir

    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(2, "no such results directory", str(results_dir))
    verdict = None
    from qunsim.branch_report import branch_report, is_branch_dir

    if is_branch_dir(results_dir):  # `qunsim branch --out`: one history, several arms
        page = branch_report(results_dir, title)
    elif (results_dir / "manifest.json").is_file():
        page, verdict = _sweep_report(results_dir, title)
    elif is_run_dir(results_dir):
        page = _run_report(results_dir, title)
    else:
        raise ValueError(f"{results_dir} holds neither a run (timeseries.parquet and summary.json from "
                         "`qunsim run --out`), a sweep (manifest.json from `qunsim sweep --out`) nor a "
                         "branch (branch.json from `qunsim branch --out`)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(out, page)
    if verdict is not None:
        _write_atomic(out.parent / "verdict.json", json.dumps(verdict, indent=1, ensure_ascii=False) + "\n")
    return out


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file: a failure leaves the old file whole."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
