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


#: Summary metrics that are shares in [0, 1].
_UNIT_METRICS = {"mean_churn_rate", "final_expert_retention", "mean_low_quality_share",
                 "final_low_quality_share", "final_trust_mean"}


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
    from qunsim.plotting import _mean_ci

    rows = []
    groups = [(None, summary)] if by is None else list(summary.groupby(by, sort=False))
    for g, sub in groups:
        for m in metrics:
            if m not in sub.columns:
                continue
            vals = pd.to_numeric(sub[m], errors="coerce").to_numpy(dtype=float)
            mean, lo, hi, n = _mean_ci(vals, ci)
            fin = vals[np.isfinite(vals)]
            if len(fin) and (fin >= 0).all():  # a t interval of a count or rate stays >= 0
                lo = max(lo, 0.0)
                if m in _UNIT_METRICS and (fin <= 1).all():
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
.p{color:#444;font-size:.93em}details{margin:.6em 0}pre{background:#f7f7f7;padding:.8em;overflow-x:auto;
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


_RUN_HEADLINES = [
    ("final_active", "Active members at the end"),
    ("peak_active", "Peak active members"),
    ("peak_step", "Day of the peak"),
    ("total_joined", "Members ever joined"),
    ("total_left", "Members who left"),
    ("survival_ratio", "Active at the end / at the start"),
    ("mean_churn_rate", "Mean churn rate (share of members a day)"),
    ("final_expert_retention", "Expert retention at the end (share of experts ever joined)"),
    ("mean_low_quality_share", "Mean low-quality share of messages"),
    ("mean_gresham_index", "Mean Gresham index (>1: good members leave faster)"),
    ("final_trust_mean", "Mean trust at the end"),
    ("messages_per_day", "Messages a day"),
    ("revenue_total", "Total revenue (currency)"),
    ("revenue_per_member", "Revenue per member ever joined (currency)"),
    ("phases_seen", "Lifecycle phases seen"),
]


def run_story(summary: dict, ts: pd.DataFrame | None = None) -> list[str]:
    """What a single run shows, in a few plain sentences (from its summary statistics).

    Examples
    --------
    >>> s = {"steps": 100, "final_active": 80, "peak_active": 120, "peak_step": 40,
    ...      "total_joined": 150, "total_left": 70, "left_dissatisfied": 60, "left_contagion": 10,
    ...      "final_expert_retention": 0.25, "mean_gresham_index": 2.0, "phases_seen": "introduction|growth|decline"}
    >>> for line in run_story(s, None): print(line)
    Membership peaked at 120 on day 40 and ended at 80 after 100 days (introduction → growth → decline).
    150 people joined over the run and 70 left, most of them dissatisfied (86%).
    Of the experts who ever joined, 25% were still members at the end.
    On average the best quarter of members (by post quality) left 2.0× as fast as the worst quarter: good money was being driven out (劣币驱逐良币).
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
    g = summary.get("mean_gresham_index")
    if g is not None:
        if g > 1.2:
            out.append(f"On average the best quarter of members (by post quality) left {g:.1f}× as fast as the "
                       "worst quarter: good money was being driven out (劣币驱逐良币).")
        elif g < 1 / 1.2:
            out.append(f"On average the worst quarter of members (by post quality) left {1 / g:.1f}× as fast as "
                       "the best quarter: the community kept its good members.")
        else:
            out.append("The best and the worst quarters of members (by post quality) left at about the same rate.")
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
    for key, label in _RUN_HEADLINES:
        if key in s:
            v = s[key]
            if key == "phases_seen":
                v = str(v).replace("|", " → ")
            elif key.startswith("revenue") and not float(v):
                continue
            rows.append(f"<tr><th class=l>{_e(label)}</th><td>{_e(_num(v))}</td></tr>")
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


def _axis_words(sw: Any) -> str:
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
        items.append(f"<li><b>{_e(_short(a))}</b> (<code>{_e(a)}</code>): {_e(shown)}{detail}</li>")
    return "<ul>" + "".join(items) + "</ul>" if items else "<p>No axis: every run repeats one scenario.</p>"


def _sweep_report(sweep_dir: Path, title: str | None) -> str:
    from qunsim.plotting import HEADLINE_METRICS, load_sweep, metric_label, sweep_figures

    sw = load_sweep(sweep_dir)
    m = sw.manifest
    bases = _base_configs(m)
    cfg = next(iter(bases.values())) if bases else None
    steps = m.get("steps")
    n_rep = m.get("replicates")
    fig_html, _ = _figures_html(sweep_figures(sw))
    scen = ("".join(f"<p>{_e(x)}</p>" for x in describe_scenario(cfg, steps)) if cfg is not None
            else "<p>The base configuration is not recorded in the manifest.</p>")
    if len(bases) > 1:
        src = m.get("base_source") if isinstance(m.get("base_source"), dict) else {}
        scen = (f"<p>The sweep compares {len(bases)} scenarios (axis <code>base</code>): "
                + ", ".join(f"<b>{_e(k)}</b> ({_e(src.get(k, ''))})" for k in bases)
                + f". In words, the first (<b>{_e(next(iter(bases)))}</b>):</p>" + scen)
    design = m.get("design") or {}
    scen += (f"<p>This sweep (<b>{_e(m.get('name', sweep_dir.name))}</b>) varies {_plural(len(sw.axes), 'axis', 'axes')} "
             f"({_e(design.get('kind', 'grid'))} design, {_num(m.get('n_points', len(sw.points)))} points × "
             f"{_num(n_rep)} replicates = {_num(m.get('n_runs', sw.planned))} runs):</p>" + _axis_words(sw))
    fixed = (m.get("sweep") or {}).get("fixed") or {}
    if fixed:
        scen += "<p>Fixed for every run: " + _e("; ".join(f"{k} = {v}" for k, v in fixed.items())) + ".</p>"
    mets = [k for k in HEADLINE_METRICS if k in sw.summary.columns
            and pd.api.types.is_numeric_dtype(sw.summary[k])
            and not (k.startswith("revenue") and float(sw.summary[k].abs().sum()) == 0)]
    tab = headline_table(sw.summary, "point_label", mets)
    points = sw.points
    shown = points[:25]
    head = "".join(f"<th>{_e(metric_label(k))}</th>" for k in mets)
    body = []
    for p in shown:
        cells = []
        for k in mets:
            r = tab[(tab["group"] == p) & (tab["metric"] == k)]
            cells.append("<td>–</td>" if r.empty else
                         f"<td>{_ci_cell(r['mean'].iloc[0], r['lower'].iloc[0], r['upper'].iloc[0], int(r['n'].iloc[0]))}</td>")
        n = int(tab[tab["group"] == p]["n"].max()) if (tab["group"] == p).any() else 0
        body.append(f"<tr><td class=l>{_e(p)}</td><td>{n}</td>{''.join(cells)}</tr>")
    numbers = (f"<table><tr><th class=l>design point</th><th>runs</th>{head}</tr>{''.join(body)}</table>"
               "<p class=note>Mean over replicates; in brackets the 95% confidence interval of the mean "
               "(Student t; clipped to the metric's range, e.g. at 0 for counts and rates).</p>")
    if len(points) > len(shown):
        numbers += f"<p class=note>{len(points) - len(shown)} more design points are in the sweep's summary table.</p>"
    numbers += _best_words(tab, mets)
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
    sections = [
        ("scenario", "Scenario and design", scen),
        ("policies", "Policies of the scenario" + ("s" if len(bases) > 1 else ""), pol),
        ("numbers", "Headline numbers", numbers),
        ("figures", "Figures", fig_html),
        ("provenance", "Provenance", prov),
    ]
    return _page(title or f"Strategy review: {m.get('name', sweep_dir.name)}",
                 f"{_plural(len(points), 'design point')} × {_plural(n_rep, 'replicate')}, {_num(steps)} days each",
                 sections)


def _base_configs(manifest: dict) -> dict[str, Any]:
    """The sweep's base scenario(s) as ``{label: Config}`` (one entry unless it sweeps ``base``)."""
    from qunsim.config import load_config

    base = manifest.get("base_config")
    if not isinstance(base, dict) or not base:
        return {}
    if "community" in base or not all(isinstance(v, dict) for v in base.values()):
        return {"base": load_config(base)}
    return {str(k): load_config(v) for k, v in base.items()}


def _best_words(tab: pd.DataFrame, mets: list[str]) -> str:
    """Which design point is best on each metric, and whether its interval clears the runner-up."""
    from qunsim.plotting import HEADLINE_METRICS, metric_label

    if tab["group"].nunique() < 2:
        return ""
    items = []
    for k in mets:
        t = tab[tab["metric"] == k].dropna(subset=["mean"])
        if len(t) < 2:
            continue
        hib = HEADLINE_METRICS.get(k, True)
        t = t.sort_values("mean", ascending=not hib)
        a, b = t.iloc[0], t.iloc[1]
        clear = (a["lower"] > b["upper"]) if hib else (a["upper"] < b["lower"])
        if a["mean"] == b["mean"]:
            verdict = "tied with the runner-up"
        elif clear and a["n"] > 1:
            verdict = "the 95% intervals do not overlap"
        else:
            verdict = "the 95% intervals overlap: not a clear winner"
        items.append(f"<li>{_e(metric_label(k, unit=False))} ({'higher' if hib else 'lower'} is better): "
                     f"best <b>{_e(a['group'])}</b> ({_e(_num(a['mean']))}), runner-up {_e(b['group'])} "
                     f"({_e(_num(b['mean']))}); {verdict}.</li>")
    return "<p><b>Best design point per metric</b></p><ul>" + "".join(items) + "</ul>" if items else ""


def build_report(results_dir: str | Path, out: str | Path, *, title: str | None = None) -> Path:
    """Write the strategy-review HTML page of a run or sweep directory.

    Parameters
    ----------
    results_dir : path
        A directory written by ``qunsim run`` (``timeseries.parquet``, ``summary.json``, ...)
        or by ``qunsim sweep`` (``manifest.json``).
    out : path
        The HTML file to write (parent directories are created).
    title : str, optional

    Returns
    -------
    Path
        ``out``.
    """
    from qunsim.plotting import is_run_dir

    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(2, "no such results directory", str(results_dir))
    if (results_dir / "manifest.json").is_file():
        page = _sweep_report(results_dir, title)
    elif is_run_dir(results_dir):
        page = _run_report(results_dir, title)
    else:
        raise ValueError(f"{results_dir} holds neither a run (timeseries.parquet and summary.json from "
                         "`qunsim run --out`) nor a sweep (manifest.json from `qunsim sweep --out`)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
