"""The validation suite: does the model reproduce what is known about online communities?

:func:`validate` measures every anchor of ``qunsim/data/anchors.toml`` — empirical
regularities (participation inequality, newcomers and replies, freemium conversion, stable
relationships, group size), textbook results (Granovetter's riot, Watts's cascade window) and
the stylised facts SF1–SF9 — and writes ``validation.json`` (per anchor: source, measured value
with its interval, tolerance band, pass) and ``validation.html`` (a table and the figures).

Anchors measured on the package alone: participation, economics, structure, Granovetter.
Watts and SF1–SF9 run the studies of the repository's ``experiments/`` folder (their
measuring code and figures); without that folder (an installed wheel) they are reported as
not run, never as passed.

Command line: ``qunsim validate [--smoke] --out DIR [--only ID,ID] [--seeds N]``.
"""

from __future__ import annotations

import html
import json
import math
import shutil
import time
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_anchors", "participation_settings", "everyone_posts", "validate", "granovetter_riot", "mean_ci"]

GROUPS = ("participation", "economics", "structure", "textbook", "stylised")


def _anchor_file() -> dict:
    text = resources.files("qunsim").joinpath("data/anchors.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_anchors() -> list[dict]:
    """The anchors (published numbers, citations, bands) shipped in ``qunsim/data/anchors.toml``."""
    return _anchor_file()["anchor"]


PARTICIPATION_KEYS = ("lurker_share", "lurker_rate", "propensity_sd", "propensity_max", "first_post_rate",
                      "welcome_boost", "welcome_commitment", "welcome_rate", "follow_up_rate",
                      "seed_members_lurk")


def participation_settings() -> dict:
    """The participation keys of ``[dynamics]`` at the engine's defaults, as dotted overrides.

    The participation anchors are measured at the defaults, so passing these changes nothing;
    they are what to write in a scenario to pin the calibration (docs/participation.md).

    >>> participation_settings()["dynamics.lurker_share"]
    0.9
    """
    from qunsim.config import Dynamics

    return {f"dynamics.{k}": Dynamics.model_fields[k].default for k in PARTICIPATION_KEYS}


def everyone_posts() -> dict:
    """Dotted overrides that switch participation inequality off: every member posts at their
    role's rate, no first-post floor, no welcome (the rest of the calibration unchanged).

    >>> everyone_posts()["dynamics.lurker_share"]
    0.0
    """
    return {f"dynamics.{k}": 0.0 for k in PARTICIPATION_KEYS if k != "seed_members_lurk"}


def mean_ci(x, level: float = 0.95) -> dict:
    """Mean over replicates with a Student-t interval (NaNs dropped).

    >>> r = mean_ci([1.0, 2.0, 3.0]); r["mean"], round(r["lo"], 3), r["n"]
    (2.0, -0.484, 3)
    """
    from scipy import stats

    a = np.asarray([v for v in x if v is not None], dtype=float)
    a = a[np.isfinite(a)]
    n = len(a)
    if n == 0:
        return {"mean": float("nan"), "lo": float("nan"), "hi": float("nan"), "n": 0}
    m = float(a.mean())
    if n < 2:
        return {"mean": m, "lo": m, "hi": m, "n": n}
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * a.std(ddof=1) / math.sqrt(n))
    return {"mean": m, "lo": m - half, "hi": m + half, "n": n}


def _repo_root() -> Path | None:
    """The source checkout holding ``experiments/`` and ``configs/`` (None for a wheel)."""
    here = Path(__file__).resolve()
    for p in here.parents:
        if (p / "experiments").is_dir() and (p / "configs").is_dir():
            return p
    return None


# ------------------------------------------------------------------------------ measurements


def _participation_runs(smoke: bool, seeds: int | None) -> tuple[list[dict], list[Any]]:
    """Default-scenario runs: participation, strong ties and group sizes per seed."""
    import qunsim as qs
    from qunsim.validation.participation import participation, run_recording_first_days

    n = seeds or (5 if smoke else 10)  # the smoke size: half the seeds, the same runs
    steps = 365
    over = {"run.agent_views": False}
    rows, models = [], []
    for s in range(n):
        m = qs.CommunityModel(rng=10_000 + s, **over)
        biggest = [0]

        def note_groups(m, biggest=biggest):
            biggest[0] = max(biggest[0], int(m.group_sizes().max()) if m.n_groups else 0)

        first_days = run_recording_first_days(m, steps, note_groups)
        r = participation(m, first_day_posts=first_days)
        st = m.state
        act = st.status == qs.Status.ACTIVE
        r["strong_ties_p99"] = float(np.percentile(st.strong_ties[act], 99)) if act.any() else 0.0
        r["largest_group"] = biggest[0]
        r["seed"] = 10_000 + s
        r["steps"] = steps
        rows.append(r)
        models.append(m)
    return rows, models


def _conversion(smoke: bool, seeds: int | None) -> dict:
    import qunsim as qs

    root = _repo_root()
    if root is None or not (root / "configs" / "freemium.toml").is_file():
        return {"status": "not run", "detail": "configs/freemium.toml not found (needs the source checkout)"}
    n = seeds or (3 if smoke else 10)
    shares = []
    for s in range(n):
        res = qs.simulate(root / "configs" / "freemium.toml", rng=20_000 + s,
                          steps=365, **{"run.agent_views": False})
        m = res.members
        shares.append(float((m["spend"] > 0).mean()))
    return {"values": shares}


def granovetter_riot(n: int = 100) -> dict:
    """Granovetter's riot in the model's threshold contagion, on a complete graph of ``n``.

    Thresholds are ``0, 1, ..., n-1`` people (as fractions of one's ``n - 1`` neighbours,
    half a person below each count so float rounding cannot matter); nobody leaves for any
    other reason (need 0, no arrivals). The one at 0, the instigator, leaves on day 0 (an
    operator-forced departure: the model's contagion needs one departure to start); each day
    the next one's threshold is met: all ``n`` leave. Raise the threshold of the one at 1 to
    2: only the instigator leaves.

    >>> r = granovetter_riot(20)
    >>> r["uniform"], r["perturbed"]
    (20, 1)
    """
    import networkx as nx

    import qunsim as qs

    def run(th):
        g = nx.complete_graph(n)
        for i in g:
            g.nodes[i].update(member=True, role="regular", threshold=float(th[i]), need=0.0)
        over = {"dynamics.contagion_window": 0, "dynamics.inflow": 0.0, "dynamics.referral_rate": 0.0,
                "dynamics.hazard_base": 0.0, "community.leader_tie_share": 0.0, "run.agent_views": False,
                "community.group_cap": max(n, 2), "dynamics.chatter_conversion": 0.0}
        m = qs.CommunityModel(rng=0, graph=g, **over)
        m.remove_members([0], "forced")  # the instigator riots on their own (threshold 0)
        left = []
        for _ in range(n + 5):
            m.step()
            left.append(int((m.state.status != qs.Status.ACTIVE).sum()))
        return left

    th = np.array([0.0] + [(i - 0.5) / (n - 1) for i in range(1, n)])
    uni = run(th)
    th2 = th.copy()
    th2[1] = 1.5 / (n - 1)
    per = run(th2)
    return {"uniform": uni[-1], "perturbed": per[-1], "uniform_curve": uni, "perturbed_curve": per}


def _experiment(anchor: dict, smoke: bool, out: Path) -> dict:
    """Run the study named by an anchor (experiments/NAME.py) and apply its criteria."""
    import importlib.util
    import sys

    from qunsim.validation.stylised import CRITERIA

    root = _repo_root()
    name = anchor["experiment"]
    path = root / "experiments" / f"{name}.py" if root else None
    if path is None or not path.is_file():
        return {"status": "not run", "detail": f"experiments/{name}.py not found (needs the source checkout)"}
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(f"qunsim_validate_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    kw = dict(anchor.get("smoke", {})) if smoke else {}
    figdir = out / "figures"
    res = mod.run(out=figdir, **kw)
    crit = CRITERIA[anchor["id"]](res)
    held = sum(bool(ok) for _, ok in crit)
    fig = res.get("figure")
    return {"values": [1.0 if held == len(crit) else 0.0], "criteria": [{"criterion": c, "holds": bool(ok)} for c, ok in crit],
            "detail": f"{held}/{len(crit)} criteria hold", "figure": str(Path(fig).relative_to(out)) if fig else None}


# ------------------------------------------------------------------------------ the suite


def _record(anchor: dict, values: list[float] | None, **extra) -> dict:
    rec = {k: anchor[k] for k in ("id", "group", "title", "source", "published", "value", "band", "measure")}
    if values is None:
        rec.update(status=extra.pop("status", "not run"), passed=None, measured=None)
        rec.update(extra)
        return rec
    ci = mean_ci(values)
    lo, hi = anchor["band"]
    ok = bool(lo <= ci["mean"] <= hi) if math.isfinite(ci["mean"]) else False
    rec.update(measured={**ci, "values": [float(v) for v in values]}, passed=ok, status="pass" if ok else "fail")
    rec.update(extra)
    return rec


# the newcomer anchors, measured on first posting days, and the same measure on the first
# posting days with one post (Joyce & Kraut's unit; docs/validation.md)
_SINGLE_POST = {"newcomer_reply_rate": "single_reply_rate", "return_unreplied": "single_return_unreplied",
                "return_replied": "single_return_replied", "reply_effect": "single_reply_effect"}


def _single_post_record(anchor_id: str, runs: list[dict]) -> dict:
    """``{"single_post": mean [95% CI] over runs}`` for a newcomer anchor, else ``{}``: reported
    beside the anchor, not a pass criterion."""
    key = _SINGLE_POST.get(anchor_id)
    if key is None or key not in runs[0]:
        return {}
    return {"single_post": mean_ci([r[key] for r in runs])}


def validate(smoke: bool = False, out: str | Path | None = None, *, only: list[str] | None = None,
             seeds: int | None = None, verbose: bool = False) -> dict:
    """Measure the anchors (all, or the ids in ``only``) and write the report to ``out``.

    Parameters
    ----------
    smoke : small, fast sizes (the test suite's); the full sizes otherwise.
    out : directory for ``validation.json``, ``validation.html`` and ``figures/``.
    only : anchor ids or groups to run (e.g. ``["participation", "granovetter_riot"]``).
    seeds : replicates of the package's own measurements (default 3 smoke, 10 full).

    Returns
    -------
    dict with ``anchors`` (one record each), ``passed``, ``failed``, ``not_run``.
    """
    anchors = load_anchors()
    if only:
        want = set(only)
        unknown = want - {a["id"] for a in anchors} - set(GROUPS)
        if unknown:
            from qunsim.config import ConfigError

            raise ConfigError(f"unknown anchor(s) {sorted(unknown)}; expected ids {[a['id'] for a in anchors]} "
                              f"or groups {list(GROUPS)}")
        anchors = [a for a in anchors if a["id"] in want or a["group"] in want]
    outp = Path(out) if out is not None else None
    if outp is not None:
        (outp / "figures").mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    records, cache = [], {}
    for a in anchors:
        t = time.time()
        if verbose:
            print(f"validate: {a['id']} ...", flush=True)
        if a["group"] in ("participation", "structure"):
            if "runs" not in cache:
                cache["runs"], _ = _participation_runs(smoke, seeds)
            key = {"stable_relationships": "strong_ties_p99", "group_cap": "largest_group"}.get(a["id"], a["id"])
            detail = f"{len(cache['runs'])} runs of the default scenario, {cache['runs'][0]['steps']} days"
            single = _single_post_record(a["id"], cache["runs"])
            if single:
                sp = single["single_post"]
                detail += (f"; on single-post first days (Joyce & Kraut's unit; reported, not a criterion) "
                           f"{sp['mean']:.3g} [{sp['lo']:.3g}, {sp['hi']:.3g}]")
            rec = _record(a, [r[key] for r in cache["runs"]], detail=detail, **single)
        elif a["id"] == "freemium_conversion":
            c = _conversion(smoke, seeds)
            rec = _record(a, c.get("values"), **{k: v for k, v in c.items() if k != "values"},
                          **({"detail": f"{len(c['values'])} one-year runs of configs/freemium.toml"}
                             if "values" in c else {}))
        elif a["id"] == "granovetter_riot":
            g = granovetter_riot()
            cache["granovetter"] = g
            rec = _record(a, [g["uniform"] - g["perturbed"]],
                          detail=f"uniform thresholds: {g['uniform']} of 100 leave; one raised: {g['perturbed']}")
        elif "experiment" in a:
            if outp is None:
                rec = _record(a, None, status="not run", detail="studies need an output directory for their figures")
            else:
                e = _experiment(a, smoke, outp)
                rec = _record(a, e.pop("values", None), **e)
        else:  # pragma: no cover - an anchor without a measurement is a data-file error
            raise ValueError(f"anchor {a['id']!r} has no measurement")
        rec["seconds"] = round(time.time() - t, 1)
        records.append(rec)
    report = {
        "smoke": smoke, "seconds": round(time.time() - t0, 1),
        "passed": sum(r["status"] == "pass" for r in records),
        "failed": sum(r["status"] == "fail" for r in records),
        "not_run": sum(r["status"] == "not run" for r in records),
        "participation_settings": participation_settings(),
        "anchors": records,
    }
    if outp is not None:
        figs = _figures(records, cache, outp)
        report["figures"] = figs
        (outp / "validation.json").write_text(json.dumps(report, indent=1, default=float), encoding="utf-8")
        (outp / "validation.html").write_text(_html(report), encoding="utf-8")
    return report


# ------------------------------------------------------------------------------ report


def _figures(records: list[dict], cache: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    files = []
    meas = [r for r in records if r["group"] in ("participation", "economics", "structure") and r["measured"]]
    if meas:
        ncol = min(5, len(meas))
        nrow = int(math.ceil(len(meas) / ncol))
        fig, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol, 3.3 * nrow), squeeze=False)
        for ax in axes.flat[len(meas):]:
            ax.axis("off")
        for ax, r in zip(axes.flat, meas, strict=False):
            lo, hi = r["band"]
            m = r["measured"]
            top = max(hi, m["hi"], r["value"]) * 1.15 or 1.0
            ax.axhspan(lo, min(hi, top), color="tab:green", alpha=0.15, label="tolerance band")
            ax.axhline(r["value"], color="k", ls="--", lw=1, label="published")
            ax.scatter(np.zeros(len(m["values"])) + 0.15, m["values"], s=12, color="0.5", label="runs")
            ax.errorbar([0], [m["mean"]], yerr=[[m["mean"] - m["lo"]], [m["hi"] - m["mean"]]], fmt="o",
                        color="tab:blue" if r["passed"] else "tab:red", capsize=4, label="mean, 95% CI")
            ax.set_xlim(-0.6, 0.6)
            ax.set_ylim(0, top)
            ax.set_xticks([])
            ax.set_title(r["id"].replace("_", "\n"), fontsize=9)
        axes[0][0].legend(fontsize=7, loc="lower left")
        fig.suptitle("empirical anchors: measured (blue pass / red fail) vs published (dashed) and band (green)", fontsize=10)
        fig.tight_layout()
        fig.savefig(out / "figures" / "anchors.png", dpi=110)
        plt.close(fig)
        files.append("figures/anchors.png")
    g = cache.get("granovetter")
    if g:
        fig, ax = plt.subplots(figsize=(5, 3.4))
        ax.plot(range(1, len(g["uniform_curve"]) + 1), g["uniform_curve"], label="thresholds 0, 1, ..., 99")
        ax.plot(range(1, len(g["perturbed_curve"]) + 1), g["perturbed_curve"], label="the one at 1 raised to 2")
        ax.set_xlabel("day")
        ax.set_ylabel("members who left")
        ax.set_title("Granovetter's riot in the model's threshold contagion", fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "figures" / "granovetter.png", dpi=110)
        plt.close(fig)
        files.append("figures/granovetter.png")
    files += [r["figure"] for r in records if r.get("figure")]
    return files


def _html(report: dict) -> str:
    def fmt(x):
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return "–"
        return f"{x:.3g}" if isinstance(x, float) else str(x)

    rows = []
    for r in report["anchors"]:
        m = r["measured"]
        val = f"{fmt(m['mean'])} [{fmt(m['lo'])}, {fmt(m['hi'])}] (n={m['n']})" if m else "–"
        cls = {"pass": "pass", "fail": "fail"}.get(r["status"], "none")
        crit = ""
        if r.get("criteria"):
            crit = "<ul>" + "".join(f"<li>{'✔' if c['holds'] else '✘'} {html.escape(c['criterion'])}</li>"
                                    for c in r["criteria"]) + "</ul>"
        rows.append(f"<tr class='{cls}'><td>{html.escape(r['id'])}</td><td><b>{html.escape(r['title'])}</b><br>"
                    f"<small>{html.escape(r['published'])}</small>{crit}</td><td>{val}</td>"
                    f"<td>[{fmt(r['band'][0])}, {fmt(r['band'][1])}]</td><td>{fmt(r['value'])}</td>"
                    f"<td class='st'>{r['status'].upper()}</td><td><small>{html.escape(r.get('detail', ''))}</small></td>"
                    f"<td><small>{html.escape(r['source'])}</small></td></tr>")
    figs = "".join(f"<figure><img src='{html.escape(f)}' alt='{html.escape(f)}'><figcaption>{html.escape(f)}</figcaption></figure>"
                   for f in report.get("figures", []))
    size = "smoke" if report["smoke"] else "full"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>qunsim validation</title>
<style>body{{font-family:sans-serif;margin:1.5em;max-width:1400px}} table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:4px 6px;vertical-align:top}} tr.pass td.st{{background:#d7f5d7}}
tr.fail td.st{{background:#f8d0d0}} tr.none td.st{{background:#eee}} ul{{margin:2px 0 0 0;padding-left:1.2em}}
figure{{display:inline-block;margin:8px}} img{{max-width:1300px;border:1px solid #ddd}}</style></head><body>
<h1>qunsim validation ({size} size)</h1>
<p>{report['passed']} passed, {report['failed']} failed, {report['not_run']} not run, in {report['seconds']:.0f} s.
A measured value passes when its mean over runs lies inside the tolerance band; a study passes when all its criteria hold.</p>
<table><tr><th>anchor</th><th>what</th><th>measured (95% CI)</th><th>band</th><th>published</th><th>status</th><th>how</th><th>source</th></tr>
{''.join(rows)}</table><h2>Figures</h2>{figs}</body></html>"""


# ------------------------------------------------------------------------------ CLI


def _cmd_validate(args) -> int:
    from qunsim.cli import UsageError

    out = Path(args.out)
    if out.exists() and (out / "validation.json").exists() and not args.force:
        raise UsageError(f"{out} already holds a validation report; pass --force to overwrite it")
    if out.exists() and args.force and (out / "figures").is_dir():
        shutil.rmtree(out / "figures")
    only = [x.strip() for x in args.only.split(",") if x.strip()] if args.only else None
    rep = validate(args.smoke, out, only=only, seeds=args.seeds, verbose=True)
    print_report(rep, out)
    return 0 if rep["failed"] == 0 else 1


def print_report(rep: dict, out: Path, note: str = "") -> None:
    """One line per anchor (status, measured mean [95% CI], band, how), then the counts."""
    for r in rep["anchors"]:
        m = r["measured"]
        val = f"{m['mean']:.3g} [{m['lo']:.3g}, {m['hi']:.3g}]" if m else "-"
        print(f"  {r['status'].upper():8s} {r['id']:22s} measured {val:28s} band {r['band']}  {r.get('detail', '')}")
    print(f"{rep['passed']} passed, {rep['failed']} failed, {rep['not_run']} not run ({rep['seconds']:.0f}s){note}; "
          f"wrote {out}/validation.json, validation.html")


def register(subparsers) -> None:
    v = subparsers.add_parser("validate", help="check the model against published anchors")
    v.add_argument("--smoke", action="store_true", help="small, fast sizes (as in the test suite)")
    v.add_argument("--out", required=True, help="output directory")
    v.add_argument("--only", default=None, help="comma-separated anchor ids or groups (participation, "
                   "economics, structure, textbook, stylised)")
    v.add_argument("--seeds", type=int, default=None, help="replicates of the package's own measurements")
    v.add_argument("--force", action="store_true", help="overwrite a report in --out")
    v.set_defaults(func=_cmd_validate)
