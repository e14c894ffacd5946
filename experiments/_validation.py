"""Shared helpers of the engine's validation studies: replicate statistics and figures.

Every study reports effects over independent replicates (one seed each) with 95% confidence
intervals: Student-t intervals for means, Welch intervals (and one-sided Welch p-values) for
differences of means, Wilson intervals for proportions, and exposure-based (Poisson) leaving
hazards from the member table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from qunsim import stats as qstats

__all__ = ["study_main", "print_cells_and_effects", "parse_dynamics_sets",
    "mean_ci",
    "diff_ci",
    "paired_ci",
    "wilson_ci",
    "leave_hazard",
    "seed_list",
    "savefig",
    "setup_matplotlib",
]

UNHAPPY = ("dissatisfied", "contagion")


def mean_ci(x: Iterable[float], level: float = 0.95) -> dict:
    """Mean of replicates with a Student-t confidence interval (:func:`qunsim.stats.mean_ci`,
    with the keys these studies print: ``mean, lo, hi, n``; NaN bounds below two replicates).

    >>> r = mean_ci([1.0, 2.0, 3.0])
    >>> r["mean"], round(r["lo"], 3), round(r["hi"], 3), r["n"]
    (2.0, -0.484, 4.484, 3)
    """
    r = qstats.mean_ci(x, level)
    lo, hi = (r["low"], r["high"]) if r["n"] >= 2 else (float("nan"), float("nan"))
    return {"mean": r["mean"], "lo": lo, "hi": hi, "n": r["n"]}


def diff_ci(a: Iterable[float], b: Iterable[float], level: float = 0.95) -> dict:
    """Difference of means ``mean(a) - mean(b)`` with a Welch interval and one-sided p-values
    (:func:`qunsim.stats.diff_ci`). ``p_greater`` tests H1: mean(a) > mean(b).

    >>> r = diff_ci([5.0, 6.0, 7.0, 6.5], [1.0, 2.0, 1.5, 2.5])
    >>> r["diff"], r["lo"] > 0, r["p_greater"] < 0.01
    (4.375, True, True)
    """
    r = qstats.diff_ci(list(a), list(b), level)
    return {"diff": r["mean"], "lo": r["low"], "hi": r["high"], "p_greater": r["p_greater"],
            "p_less": r["p_less"], "n_a": r["n_a"], "n_b": r["n_b"]}


def paired_ci(a: Iterable[float], b: Iterable[float], level: float = 0.95) -> dict:
    """Mean of the paired differences ``a[i] - b[i]`` (replicate ``i`` of both arms run with
    the same seed, or branched from the same model) with a paired t interval and one-sided
    p-values (:func:`qunsim.stats.paired_difference`), under the keys of :func:`diff_ci`.

    >>> r = paired_ci([3.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    >>> round(r["diff"], 3), round(r["lo"], 3), r["p_greater"] < 0.05, r["paired"], r["n_a"]
    (2.333, 0.899, True, True, 3)
    """
    r = qstats.paired_difference(list(a), list(b), level)
    return {"diff": r["mean"], "lo": r["low"], "hi": r["high"], "p_greater": r["p_greater"],
            "p_less": r["p_less"], "n_a": r["n"], "n_b": r["n"], "paired": True}


def wilson_ci(k: int, n: int, level: float = 0.95) -> dict:
    """Proportion ``k / n`` with a Wilson score interval (:func:`qunsim.stats.wilson`).

    >>> r = wilson_ci(0, 50)
    >>> r["p"], r["lo"], round(r["hi"], 3)
    (0.0, 0.0, 0.071)
    """
    r = qstats.wilson(k, n, level)
    return {"p": r["p"], "lo": r["low"], "hi": r["high"], "n": r["n"]}


def leave_hazard(members, roles: Sequence[str], steps: int, by: str = "initial_role",
                 reasons: Sequence[str] = UNHAPPY) -> tuple[float, float]:
    """Leaving hazard of members whose ``by`` column is in ``roles``: (events, member-days).

    Events are departures for one of ``reasons`` (by default the member's own choice:
    dissatisfaction or contagion); exposure is each member's days in the community up to
    ``steps`` (the end of the run). The hazard is ``events / member_days`` per day.
    """
    mm = members[members[by].astype(str).isin(list(roles))]
    if len(mm) == 0:
        return 0.0, 0.0
    end = np.where(mm["leave_step"].to_numpy() >= 0, mm["leave_step"].to_numpy(), steps)
    exposure = float(np.maximum(end - mm["join_step"].to_numpy(), 0).sum())
    events = float(mm["leave_reason"].astype(str).isin(list(reasons)).sum())
    return events, exposure


def seed_list(seeds, default: int, base: int = 0) -> list[int]:
    """``seeds`` as a list: an int means that many seeds ``base, base+1, ...``; None the default."""
    if seeds is None:
        seeds = default
    if isinstance(seeds, (int, np.integer)):
        return [base + i for i in range(int(seeds))]
    return [int(s) for s in seeds]


def setup_matplotlib():
    """Import pyplot with a non-interactive backend and slide-sized fonts; return ``plt``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 11,
        "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.dpi": 100, "savefig.dpi": 150,
        "axes.grid": True, "grid.alpha": 0.3,
    })
    return plt


def savefig(fig, out: Path | str, name: str) -> Path:
    """Save ``fig`` as ``out/name`` (PNG), creating ``out``; close it; return the path."""
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def fmt_ci(r: dict, digits: int = 3) -> str:
    """``mean [lo, hi]`` of a :func:`mean_ci` or ``diff [lo, hi]`` of a :func:`diff_ci` result."""
    m = r.get("mean", r.get("diff", r.get("p")))
    return f"{m:.{digits}f} [{r['lo']:.{digits}f}, {r['hi']:.{digits}f}]"


def print_cells_and_effects(res: dict) -> None:
    """Print a study's per-condition estimates and its effects (with one-sided p-values)."""
    cells = res.get("cells", res.get("conditions", {}))
    width = max((len(n) for n in cells), default=0) + 2
    for n, st in cells.items():
        print(f"{n:{width}s}" + "  ".join(f"{k}={fmt_ci(v, 2)}" for k, v in st.items()))
    for k, v in res.get("effects", {}).items():
        extra = f"  p>={v['p_greater']:.3g} p<={v['p_less']:.3g}" if "p_greater" in v else ""
        print(f"{k}: {fmt_ci(v, 3)}{extra}")


def study_main(doc: str, run, report=print_cells_and_effects, *, drop: Sequence[str] = (),
               steps: bool = False, seeds_flag: str = "--seeds") -> None:
    """The validation studies' shared command line: ``--smoke``, ``--seeds`` (or the study's
    own name for it), optionally ``--steps``, ``--out`` and ``--json`` (keys in ``drop`` are
    left out of the JSON)."""
    import argparse
    import json

    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="small, fast version (the tests' size)")
    ap.add_argument(seeds_flag, dest="seeds", type=int, default=None, help="replicates")
    if steps:
        ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("docs/figures"))
    ap.add_argument("--json", type=Path, default=None, help="write the results as JSON here")
    a = ap.parse_args()
    kw = {"steps": a.steps} if steps else {}
    res = run(smoke=a.smoke, seeds=a.seeds, out=a.out, verbose=True, **kw)
    report(res)
    if a.json:
        a.json.write_text(json.dumps({k: v for k, v in res.items() if k not in drop}, indent=1))
    print(f"figure: {res['figure']}  ({res['seconds']:.0f}s)")


def parse_dynamics_sets(items: Sequence[str]) -> dict:
    """``--set dynamics.KEY=VALUE`` arguments as dotted overrides (TOML values); a clear
    ``SystemExit`` for anything else.

    >>> parse_dynamics_sets(["dynamics.welcome_rate=0.01", "dynamics.seed_members_lurk=true"])
    {'dynamics.welcome_rate': 0.01, 'dynamics.seed_members_lurk': True}
    >>> parse_dynamics_sets(["dynamics.content_bounce=3"])
    Traceback (most recent call last):
    SystemExit: --set 'dynamics.content_bounce=3': invalid config (defaults): `dynamics.content_bounce` must be less than or equal to 1, got 3
    """
    import tomllib

    import qunsim.config as C

    extra = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep or not key.startswith("dynamics.") or key.split(".", 1)[1] not in C.Dynamics.model_fields:
            raise SystemExit(f"--set {item!r}: expected dynamics.KEY=VALUE with KEY a [dynamics] key")
        try:
            extra[key] = tomllib.loads(f"v = {val}")["v"]
        except tomllib.TOMLDecodeError:
            raise SystemExit(f"--set {item!r}: {val!r} is not a TOML value (a number, true or false)") from None
        try:
            C.load_config().override({key: extra[key]})
        except C.ConfigError as e:
            raise SystemExit(f"--set {item!r}: {e}") from None
    return extra


def parse_role_scales(items: Sequence[str]) -> dict:
    """``--scale roles.ROLE.ATTR=FACTOR`` arguments as ``{"roles.ROLE.ATTR": factor}``; a clear
    ``SystemExit`` for an unknown role or attribute or a factor that is not a positive number.

    >>> parse_role_scales(["roles.chatter.post_rate=0.75"])
    {'roles.chatter.post_rate': 0.75}
    """
    import qunsim.config as C
    from qunsim.state import ROLE_ORDER

    out = {}
    for item in items:
        key, sep, val = item.partition("=")
        parts = key.split(".")
        if (not sep or len(parts) != 3 or parts[0] != "roles" or parts[1] not in ROLE_ORDER
                or parts[2] not in C.RoleParams.model_fields):
            raise SystemExit(f"--scale {item!r}: expected roles.ROLE.ATTR=FACTOR with ROLE one of "
                             f"{list(ROLE_ORDER)} and ATTR a role attribute")
        try:
            f = float(val)
        except ValueError:
            f = float("nan")
        if not (f > 0 and f < float("inf")):
            raise SystemExit(f"--scale {item!r}: the factor must be a positive number")
        out[key] = f
    return out


def scaled_roles(scale: dict, roles=None) -> dict:
    """Dotted overrides that scale role attributes: ``scale`` is ``{"roles.ROLE.ATTR":
    factor}`` (:func:`parse_role_scales`), each attribute's mean and sd times its factor, read
    from ``roles`` (a loaded config's ``roles``: tables or ``RoleParams``; by default the
    knowledge community's default role table).

    >>> scaled_roles({"roles.regular.need": 0.9})
    {'roles.regular.need': {'mean': 5.8500000000000005, 'sd': 1.8}}
    """
    from qunsim.config import default_roles

    roles = default_roles("knowledge") if roles is None else roles
    out = {}
    for key, f in scale.items():
        _, role, attr = key.split(".")
        rp = roles[role]
        d = rp[attr] if isinstance(rp, dict) else getattr(rp, attr)
        mean, sd = (d["mean"], d["sd"]) if isinstance(d, dict) else (d.mean, d.sd)
        out[key] = {"mean": float(mean) * f, "sd": float(sd) * f}
    return out
