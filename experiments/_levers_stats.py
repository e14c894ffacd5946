"""Paired comparisons for the lever studies (SF4 gates, SF8 care, Ren & Kraut moderation).

Every arm of these studies runs replicate r with the same seed (common random numbers: the
same population, graph and founding members), so arms are compared by paired differences.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from qunsim import stats

__all__ = ["paired_diff", "format_tests", "study_cli"]


def paired_diff(runs: pd.DataFrame, arm_col: str, a, b, metric: str, level: float = 0.95) -> dict:
    """Mean of ``metric(a) - metric(b)`` over seeds run in both arms, with a paired t interval
    and one-sided p-values (``p_greater``: H1 a > b; ``p_less``: H1 a < b), from
    :func:`qunsim.stats.paired_difference`.

    >>> df = pd.DataFrame({"arm": ["x", "x", "x", "y", "y", "y"], "seed": [1, 2, 3, 1, 2, 3],
    ...                    "v": [5.0, 7.0, 6.0, 4.0, 5.0, 5.5]})
    >>> r = paired_diff(df, "arm", "x", "y", "v")
    >>> round(r["diff"], 3), r["n"], r["p_greater"] < 0.1
    (1.167, 3, True)
    """
    wide = runs.pivot_table(index="seed", columns=arm_col, values=metric)
    both = wide[[a, b]].dropna()
    r = stats.paired_difference(both[a].to_numpy(dtype=float), both[b].to_numpy(dtype=float), level)
    return {"diff": r["mean"], "lo": r["low"], "hi": r["high"], "p_greater": r["p_greater"],
            "p_less": r["p_less"], "n": r["n"]}


def format_tests(tests: dict) -> list[str]:
    """One report line per paired test: difference, 95% CI and both one-sided p-values.

    >>> format_tests({"x": {"diff": 1.0, "lo": 0.5, "hi": 1.5, "p_less": 0.99, "p_greater": 0.01}})
    ['  x: diff 1 [0.5, 1.5], p_less 0.99, p_greater 0.01']
    """
    return [f"  {k}: diff {d['diff']:.4g} [{d['lo']:.4g}, {d['hi']:.4g}], "
            f"p_less {d['p_less']:.2g}, p_greater {d['p_greater']:.2g}" for k, d in tests.items()]


def study_cli(doc: str, run: Callable, report: Callable[[dict], str], argv=None, seed: int | None = None) -> int:
    """The studies' shared command line: ``--smoke``, ``--replicates``, ``--steps``, ``--out``,
    and ``--seed`` (default ``seed``) for a study whose ``run`` takes one."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="small and fast (the test suite's size)")
    ap.add_argument("--replicates", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    if seed is not None:
        ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "figures"))
    a = ap.parse_args(argv)
    kw = {"seed": a.seed} if seed is not None else {}
    print(report(run(a.smoke, a.replicates, a.steps, out=a.out, **kw)))
    return 0
