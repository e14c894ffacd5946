"""Robustness of the participation calibration: anchors and stylised facts at fresh seeds and
at nearby parameter values.

Claim checked: at the default calibration (realistic participation, docs/participation.md)
the participation anchors (never posted, top-1% and top-10% content shares, reply rate to
newcomers' first posts, return within 30 days with and without a reply, the reply effect) lie
inside their tolerance bands, and the smoke-size criteria of the stylised-fact studies SF1–SF9
hold — not only at the seeds the calibration was tuned on, but at fresh seeds and with
attention, need, post rates and the population each moved by ±20%.

Conditions (each a full set of anchors and SF smoke studies):

* ``study seeds``: the anchors' own seeds (10,000+) and the studies' own smoke seeds;
* ``fresh seeds``: seeds never used in calibration (anchors 40,000+; every study's seeds +
  5,000);
* ``attention x0.8`` / ``x1.2``, ``need x0.8`` / ``x1.2``, ``post rates x0.8`` / ``x1.2``:
  the mean and sd of that attribute scaled in every role, in every scenario the studies load
  (fresh seeds);
* ``population x0.8`` / ``x1.2``: ``community.n_seed`` and ``community.n_prospects`` scaled
  (fresh seeds).

``--settings everyone_posts`` runs the same checks with participation switched off
(:func:`qunsim.validation.everyone_posts`); ``--set dynamics.KEY=VALUE`` (repeatable) tries
another value of a ``[dynamics]`` key on top of the settings.

The perturbations are applied to every model the studies build (a wrapper around the config
loader of :mod:`qunsim.model`), and the settings as the defaults of ``[dynamics]``, so that
each study runs unchanged. Each condition runs in its own process.

Run: ``python experiments/participation_robustness.py [--smoke] [--settings default|everyone_posts]
[--workers 2] [--json docs/figures/participation_robustness.json]``; ``--only SF3,anchors`` and
``--conditions "fresh seeds,need x1.2"`` run a subset (for iterating on one study), and every
study's estimates per condition are kept in the JSON. Full: 5 seeds × 365 days
of the default scenario per condition for the anchors, and the SF smoke studies (70–110 CPU
seconds per condition). Smoke: two conditions, the anchors only (the same 5 × 365-day runs).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

STUDIES = {"SF1": "sf1_gresham", "SF2": "sf2_goal_fit", "SF3": "sf3_mix", "SF4": "sf4_gates",
           "SF5": "sf5_ladder", "SF6": "sf6_soul_figure", "SF7": "sf7_word_of_mouth", "SF8": "sf8_care",
           "SF9": "sf9_lifecycle"}
PARTICIPATION = ("never_posted", "top1_share", "top10_share", "newcomer_reply_rate", "return_unreplied",
                 "return_replied", "reply_effect")
# the newcomer anchors measured on first posting days with one post (Joyce & Kraut's unit),
# reported beside the anchors (measured on every first posting day), against the same bands
SINGLE_POST = {"newcomer_reply_rate": "single_reply_rate", "return_unreplied": "single_return_unreplied",
               "return_replied": "single_return_replied", "reply_effect": "single_reply_effect"}
FRESH = 5_000  # added to every study seed in the fresh-seed conditions
ROLE_ATTRS = {"attention": "attention", "need": "need", "post rates": "post_rate"}


def conditions(smoke: bool) -> list[dict]:
    out = [{"name": "study seeds", "fresh": False}, {"name": "fresh seeds", "fresh": True}]
    if smoke:
        return out
    for label in ("attention", "need", "post rates"):
        for f in (0.8, 1.2):
            out.append({"name": f"{label} x{f:g}", "fresh": True, "role_attr": ROLE_ATTRS[label], "factor": f})
    for f in (0.8, 1.2):
        out.append({"name": f"population x{f:g}", "fresh": True, "population": f})
    return out


def _perturbation(cond: dict, cfg) -> dict:
    """Dotted overrides that apply a condition's perturbation to a loaded config."""
    from _validation import scaled_roles

    factors: dict = {}  # "roles.ROLE.ATTR" -> factor on its mean and sd
    if "role_attr" in cond:
        for role in cfg.roles:
            factors[f"roles.{role}.{cond['role_attr']}"] = cond["factor"]
    for key, f in cond.get("scale", {}).items():  # --scale roles.ROLE.ATTR=F, on top
        if key.split(".")[1] in cfg.roles:
            factors[key] = factors.get(key, 1.0) * f
    over = scaled_roles(factors, cfg.roles)
    if "population" in cond:
        f = cond["population"]
        com = cfg.community
        over["community.n_seed"] = max(1, int(round(com.n_seed * f)))
        over["community.n_prospects"] = int(round(com.n_prospects * f))
    return over


def restated_defaults(cfg, settings: dict, old: dict) -> dict:
    """Of the ``settings`` (dotted ``[dynamics]`` values replacing the engine's defaults), those
    a loaded config still has at the old default: a scenario file that restates a default
    (configs/knowledge_community.toml writes out ``inflow`` and ``referral_rate``) follows the
    new value, as it would if the default and the file were changed together; a value a
    scenario sets on purpose (SF4's ``inflow`` 8) is kept.

    >>> import qunsim as qs
    >>> cfg = qs.load_config().override({"dynamics.inflow": 8.0})
    >>> restated_defaults(cfg, {"dynamics.inflow": 7.0, "dynamics.referral_rate": 0.02},
    ...                   {"dynamics.inflow": 3.0, "dynamics.referral_rate": 0.05})
    {'dynamics.referral_rate': 0.02}
    """
    out = {}
    for k, v in settings.items():
        cur = getattr(cfg.dynamics, k.split(".", 1)[1])
        if cur == old[k] and cur != v:
            out[k] = v
    return out


def _install(settings: dict, cond: dict) -> None:
    """In this process: participation settings as the [dynamics] defaults, the condition's
    perturbation on every config a model loads, and fresh seeds for the studies."""
    import qunsim.config as C
    import qunsim.model as M

    if getattr(M, "_qunsim_robustness_installed", False):  # patches would stack up
        raise RuntimeError("participation_robustness: a condition was already installed in this process")
    M._qunsim_robustness_installed = True
    old = {k: C.Dynamics.model_fields[k.split(".", 1)[1]].default for k in settings}
    for k, v in settings.items():
        C.Dynamics.model_fields[k.split(".", 1)[1]].default = v
    C.Dynamics.model_rebuild(force=True)
    C.ScenarioModel.model_fields["dynamics"].default = C.Dynamics()
    C.ScenarioModel.model_rebuild(force=True)
    perturb = "role_attr" in cond or "population" in cond or cond.get("scale")
    if perturb or settings:
        load = M.load_config

        def perturbed(config=None, overrides=None):
            cfg = load(config, overrides)
            if getattr(cfg, "_qunsim_perturbed", False):
                return cfg
            cfg = cfg.override(restated_defaults(cfg, settings, old))
            if perturb:
                cfg = cfg.override(_perturbation(cond, cfg))
            object.__setattr__(cfg, "_qunsim_perturbed", True)
            return cfg

        M.load_config = perturbed
    if cond["fresh"]:
        import _validation as V

        plain = V.seed_list

        def fresh(seeds, default, base=0):
            return [s + FRESH for s in plain(seeds, default, base)]

        V.seed_list = fresh


def _anchors(smoke: bool, cond: dict) -> tuple[dict, dict]:
    """The anchors (mean [95% CI], band, pass) and, reported beside them, the four newcomer
    measures on first posting days with one post (Joyce & Kraut's unit; :data:`SINGLE_POST`)
    against the same bands."""
    import qunsim as qs
    from qunsim.validation import load_anchors, mean_ci
    from qunsim.validation.participation import participation, run_recording_first_days

    n, steps = 5, 365  # the smoke validation's runs (the full one has 10 seeds)
    base = 40_000 if cond["fresh"] else 10_000
    over = {"run.agent_views": False}
    runs = []
    for s in range(n):
        m = qs.CommunityModel(rng=base + s, **over)
        first_days = run_recording_first_days(m, steps)  # the same run as run_for(steps)
        runs.append(participation(m, first_day_posts=first_days))
    bands = {a["id"]: a["band"] for a in load_anchors()}

    def cell(key, band):
        ci = mean_ci([r[key] for r in runs])
        lo, hi = band
        return {**ci, "band": [lo, hi], "pass": bool(math.isfinite(ci["mean"]) and lo <= ci["mean"] <= hi)}

    return ({k: cell(k, bands[k]) for k in PARTICIPATION},
            {k: cell(key, bands[k]) for k, key in SINGLE_POST.items()})


def _compact(x, depth: int = 0):
    """A study's result without its per-day curves and per-run lists (kept: estimates)."""
    if isinstance(x, dict):
        return {str(k): _compact(v, depth + 1) for k, v in x.items() if depth < 4}
    if isinstance(x, (list, tuple)):
        return [_compact(v, depth + 1) for v in x] if len(x) <= 30 else f"<{len(x)} values>"
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    return x if isinstance(x, (int, float, str, bool)) or x is None else str(x)


def _studies(cond: dict, out: Path, only: list[str] | None = None) -> dict:
    import importlib.util

    from qunsim.validation.stylised import CRITERIA

    res_all = {}
    for sf, name in STUDIES.items():
        if only and sf not in only:
            continue
        spec = importlib.util.spec_from_file_location(f"robust_{name}", HERE / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        kw = {"smoke": True, "out": out}
        if sf == "SF5" and cond["fresh"]:
            kw["seed"] = 2026 + FRESH
        t = time.time()
        with contextlib.redirect_stdout(io.StringIO()):
            res = mod.run(**kw)
        crit = CRITERIA[sf](res)
        res_all[sf] = {"pass": all(ok for _, ok in crit), "failed": [c for c, ok in crit if not ok],
                       "criteria": len(crit), "seconds": round(time.time() - t, 1),
                       "result": _compact({k: v for k, v in res.items() if k not in ("figure", "runs")})}
    return res_all


def run_condition(args: tuple) -> dict:
    smoke, settings, cond, figdir, only = args
    _install(settings, cond)
    t = time.time()
    anchors = only is None or "anchors" in only
    import os

    rec = {"condition": cond["name"], "pid": os.getpid(), "anchors": {}, "single_post": {}}
    if anchors:
        rec["anchors"], rec["single_post"] = _anchors(smoke, cond)
    if not smoke:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            rec["studies"] = _studies(cond, Path(tmp), only)
    rec["seconds"] = round(time.time() - t, 1)
    return rec


def run(smoke: bool = False, settings: str = "default", workers: int = 1,
        out: Path = ROOT / "docs" / "figures", figure: bool = True, partial: str | Path | None = None,
        only: list[str] | None = None, names: list[str] | None = None, extra: dict | None = None,
        scale: dict | None = None) -> dict:
    """Run every condition; return per-condition anchors (mean, CI, band, pass) and SF verdicts.

    ``only`` (e.g. ``["SF3", "anchors"]``) restricts the checks, ``names`` the conditions (for
    iterating on one study); the full run uses neither. ``extra``: ``[dynamics]`` values on
    top of the settings; ``scale``: ``{"roles.ROLE.ATTR": factor}``, a role attribute's mean
    and sd scaled in every scenario, in every condition (on top of its own perturbation)."""
    from qunsim.validation import everyone_posts

    sett = everyone_posts() if settings == "everyone_posts" else {}
    sett = {**sett, **(extra or {})}
    conds = conditions(smoke)
    if names:
        unknown = sorted(set(names) - {c["name"] for c in conds})
        if unknown:
            raise SystemExit(f"--conditions: unknown condition(s) {unknown}; expected some of "
                             f"{[c['name'] for c in conds]}")
        conds = [c for c in conds if c["name"] in names]
    if scale:
        conds = [{**c, "scale": dict(scale)} for c in conds]
    jobs = [(smoke, sett, c, None, only) for c in conds]
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: the patches never leak, no fork of threads
    if workers > 1:
        # one fresh process per condition (max_tasks_per_child=1): _install patches the process,
        # and a reused worker would carry the previous condition's perturbation and seed shift
        with ProcessPoolExecutor(workers, mp_context=ctx, max_tasks_per_child=1) as ex:
            recs = list(ex.map(run_condition, jobs))
    else:
        recs = []
        for j in jobs:  # one process per condition all the same: the patches must not leak
            with ProcessPoolExecutor(1, mp_context=ctx) as ex:
                recs.append(ex.submit(run_condition, j).result())
            if partial:  # what is done so far, should the run be stopped
                Path(partial).write_text(json.dumps({"settings": settings, "conditions": recs}, indent=1,
                                                    default=float), encoding="utf-8")
    res = {"claim": "participation robustness", "smoke": smoke, "settings": settings,
           "participation_settings": sett, "extra": dict(extra or {}), "conditions": recs}
    if recs[0]["anchors"]:
        res["anchors_pass_everywhere"] = {k: all(r["anchors"][k]["pass"] for r in recs) for k in PARTICIPATION}
    if not smoke:
        res["studies_pass_everywhere"] = {sf: all(r["studies"][sf]["pass"] for r in recs)
                                          for sf in recs[0]["studies"]}
    if figure:
        res["figure"] = str(_figure(res, Path(out)))
    return res


def markdown(res: dict) -> str:
    """The SF verdicts of a run as a markdown table (✔, or ✘ k/n with the failed criteria)."""
    recs = res["conditions"]
    sfs = [*recs[0].get("studies", {})]
    lines = ["| condition | " + " | ".join(sfs) + " | claims that fail |",
             "|---|" + "---|" * len(sfs) + "---|"]
    for r in recs:
        st = r["studies"]
        cells = ["✔" if st[sf]["pass"] else f"✘ {st[sf]['criteria'] - len(st[sf]['failed'])}/{st[sf]['criteria']}"
                 for sf in sfs]
        fails = "; ".join(f"{sf}: " + ", ".join(st[sf]["failed"]) for sf in sfs if st[sf]["failed"]) or "—"
        lines.append(f"| {r['condition']} | " + " | ".join(cells) + f" | {fails} |")
    return "\n".join(lines)


ANCHOR_HEADS = ("never posted", "top 1%", "top 10%", "reply rate", "return, no reply", "return, reply", "effect")
SINGLE_HEADS = ("reply rate", "return, no reply", "return, reply", "effect")


def _shown(rec: dict) -> str:
    """An anchor cell's mean to two decimals, or three where two would round it onto the other
    side of its band's edge (a 0.447 against a band from 0.45 shows as 0.447, not 0.45).

    >>> _shown({"mean": 0.447, "band": [0.45, 0.95], "pass": False}), _shown({"mean": 0.51, "band": [0.45, 0.95], "pass": True})
    ('0.447', '0.51')
    """
    two = f"{rec['mean']:.2f}"
    band = rec.get("band")
    if band and (band[0] <= float(two) <= band[1]) != bool(rec["pass"]):
        return f"{rec['mean']:.3f}"
    return two


def _ci_table(res: dict, part: str, keys, heads, label: str = "condition") -> str:
    """A markdown table of ``res["conditions"][i][part]``: mean [95% CI] of each of ``keys``
    per condition, ✘ where the mean is outside the band (conditions without ``part`` left out)."""
    lines = [f"| {label} | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    for r in res["conditions"]:
        a = r.get(part) or {}
        if not a:
            continue
        cells = [f"{_shown(a[k])} [{a[k]['lo']:.2f}, {a[k]['hi']:.2f}]{'' if a[k]['pass'] else ' ✘'}"
                 for k in keys]
        lines.append(f"| {r['condition']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def anchor_markdown(res: dict) -> str:
    """The participation anchors of a run as a markdown table: mean [95% CI] per condition,
    ✘ where the mean is outside the band (the table docs/validation.md shows).

    >>> rec = {"condition": "c", "anchors": {k: {"mean": 0.5, "lo": 0.4, "hi": 0.6, "pass": k != "reply_effect"}
    ...                                      for k in PARTICIPATION}}
    >>> print(anchor_markdown({"conditions": [rec]}).splitlines()[-1])
    | c | 0.50 [0.40, 0.60] | 0.50 [0.40, 0.60] | 0.50 [0.40, 0.60] | 0.50 [0.40, 0.60] | 0.50 [0.40, 0.60] | 0.50 [0.40, 0.60] | 0.50 [0.40, 0.60] ✘ |
    """
    return _ci_table(res, "anchors", PARTICIPATION, ANCHOR_HEADS)


def single_post_markdown(res: dict) -> str:
    """The newcomer measures on single first posts (Joyce & Kraut's unit), in the form of
    :func:`anchor_markdown`: mean [95% CI], ✘ outside the anchor's band (reported, not
    counted as anchor cells).

    >>> rec = {"condition": "c", "single_post": {k: {"mean": 0.1, "lo": 0.0, "hi": 0.2, "pass": k != "reply_effect"}
    ...                                          for k in SINGLE_POST}}
    >>> print(single_post_markdown({"conditions": [rec]}).splitlines()[-1])
    | c | 0.10 [0.00, 0.20] | 0.10 [0.00, 0.20] | 0.10 [0.00, 0.20] | 0.10 [0.00, 0.20] ✘ |
    """
    return _ci_table(res, "single_post", SINGLE_POST, SINGLE_HEADS, "condition (single first posts)")


def cell_counts(res: dict) -> str:
    """How many anchor x condition and study x condition cells pass, in one line.

    >>> recs = [{"anchors": {"a": {"pass": True}, "b": {"pass": False}},
    ...          "studies": {"SF1": {"pass": True}, "SF2": {"pass": True}}}] * 2
    >>> cell_counts({"conditions": recs})
    'anchors: 2 of 4 cells pass; studies: 4 of 4 cells pass'
    """
    out = []
    for part, label in (("anchors", "anchors"), ("studies", "studies"),
                        ("single_post", "newcomer measures on single first posts (reported)")):
        cells = [v["pass"] for r in res["conditions"] for v in r.get(part, {}).values()]
        if cells:
            out.append(f"{label}: {sum(cells)} of {len(cells)} cells pass")
    return "; ".join(out)


def _figure(res: dict, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    recs = res["conditions"]
    cols = (list(PARTICIPATION) if recs[0]["anchors"] else []) + [*recs[0].get("studies", {})]
    grid = np.zeros((len(recs), len(cols)))
    for i, r in enumerate(recs):
        for j, c in enumerate(cols):
            grid[i, j] = r["anchors"][c]["pass"] if c in r["anchors"] else r["studies"][c]["pass"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.62 * len(cols), 0.9 + 0.38 * len(recs)))
    ax.imshow(grid, cmap=matplotlib.colors.ListedColormap(["#f2a3a3", "#a8dba8"]), vmin=0, vmax=1, aspect="auto")
    for i, r in enumerate(recs):
        for j, c in enumerate(cols):
            txt = _shown(r["anchors"][c]) if c in r["anchors"] else \
                f"{r['studies'][c]['criteria'] - len(r['studies'][c]['failed'])}/{r['studies'][c]['criteria']}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(cols)), [c.replace("_", "\n") for c in cols], fontsize=7)
    ax.set_yticks(range(len(recs)), [r["condition"] for r in recs], fontsize=8)
    extra = res.get("extra") or {}
    shown = "" if not extra else " + " + ", ".join(f"{k.split('.', 1)[1]}={v}" for k, v in extra.items())
    sep = "\n" if extra else " "
    ax.set_title(f"participation robustness ({res['settings']} settings{shown}):{sep}green = inside band / all criteria hold",
                 fontsize=9)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"participation_robustness{'_smoke' if res['smoke'] else ''}_{res['settings']}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--settings", choices=("default", "everyone_posts"), default="default",
                    help="the engine's defaults (realistic participation) or participation switched off")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", default=None)
    ap.add_argument("--out", default=str(ROOT / "docs" / "figures"))
    ap.add_argument("--only", default=None,
                    help="comma-separated checks to run, e.g. SF3,SF9 or anchors (default: all)")
    ap.add_argument("--conditions", default=None,
                    help="comma-separated condition names, e.g. 'fresh seeds,need x1.2' (default: all ten)")
    ap.add_argument("--no-figure", action="store_true", help="do not draw the summary figure")
    ap.add_argument("--set", action="append", default=[], metavar="dynamics.KEY=VALUE",
                    help="a [dynamics] value on top of the settings (repeatable; TOML values), for trying a calibration")
    ap.add_argument("--scale", action="append", default=[], metavar="roles.ROLE.ATTR=FACTOR",
                    help="scale a role attribute's mean and sd in every scenario (repeatable), for trying a calibration")
    a = ap.parse_args()
    from _validation import parse_dynamics_sets, parse_role_scales

    extra = parse_dynamics_sets(a.set)
    scale = parse_role_scales(a.scale)
    only = [x.strip() for x in a.only.split(",")] if a.only else None
    if only:
        bad = sorted(set(only) - set(STUDIES) - {"anchors"})
        if bad:
            raise SystemExit(f"--only: unknown check(s) {bad}; expected some of {['anchors', *STUDIES]}")
    names = [x.strip() for x in a.conditions.split(",")] if a.conditions else None
    res = run(a.smoke, a.settings, a.workers, Path(a.out), figure=not a.no_figure,
              partial=f"{a.json}.partial" if a.json else None, only=only, names=names, extra=extra,
              scale=scale)
    for r in res["conditions"]:
        an = " ".join(f"{k}={v['mean']:.2f}{'' if v['pass'] else '(FAIL)'}" for k, v in r["anchors"].items())
        st = " ".join(f"{k}:{'ok' if v['pass'] else 'FAIL[' + '; '.join(v['failed']) + ']'}"
                      for k, v in r.get("studies", {}).items())
        print(f"{r['condition']:18s} {an}\n{'':18s} {st} ({r['seconds']:.0f}s)", flush=True)
    if res["conditions"][0]["anchors"]:
        print(anchor_markdown(res))
        print(single_post_markdown(res))
    if res["conditions"][0].get("studies"):
        print(markdown(res))
    print(cell_counts(res))
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1, default=float), encoding="utf-8")


if __name__ == "__main__":
    main()
