"""``qunsim compare STRATEGIES.toml --out DIR``: run a strategies file on the sweep engine and
write its report.

A strategies file is a sweep whose one lever is the strategy (see :mod:`qunsim.strategies`):
the runs go through the same engine as ``qunsim sweep`` (local process pool or Dask,
resumable with ``--resume``, the same Parquet store), replicate *r* of every strategy runs
with the same seed (common random numbers), and the report (``DIR/report.html``, with
``DIR/verdict.json`` next to it) opens with the verdict.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def _cmd_compare(args: argparse.Namespace) -> int:
    from qunsim.cli import UsageError
    from qunsim.config import ConfigError
    from qunsim.sweep.cli import _cmd_sweep
    from qunsim.sweep.spec import load_sweep

    spec = load_sweep(args.strategies)
    if spec.base_key != "strategy":
        raise ConfigError(f"invalid strategies ({args.strategies}): no `[strategies.NAME]` table; "
                          f"`qunsim compare` runs a strategies file (a sweep file runs with `qunsim sweep`)")
    args.sweep = args.strategies
    rc = _cmd_sweep(args)
    if rc not in (0, 1) or args.dry_run or args.no_report:
        return rc
    from qunsim.report import build_report

    out = Path(args.out) / "report.html"
    try:
        build_report(args.out, out)
    except ValueError as e:
        raise UsageError(f"qunsim compare ({args.out}): the runs finished but the report failed: {e}") from None
    print(f"wrote {out} and {out.parent / 'verdict.json'}")
    return rc


def register(subparsers) -> None:
    """Add the ``compare`` sub-command to ``qunsim``'s parser."""
    from qunsim.sweep.cli import _positive_float, _positive_int

    p = subparsers.add_parser(
        "compare", help="compare strategies (a strategies file) with paired replicates and a verdict",
        description="Run every strategy of a strategies file on the sweep engine (same seeds for "
                    "replicate r of every strategy) and write DIR/report.html and DIR/verdict.json. "
                    "See docs/sweeps.md.")
    p.add_argument("strategies", help="strategies TOML file")
    p.add_argument("--out", required=True, help="output directory (empty, or a comparison to --resume)")
    p.add_argument("--workers", type=_positive_int, default=None, help="worker processes (default: usable cores)")
    p.add_argument("--executor", choices=["serial", "local", "dask"], default=None,
                   help="serial, local process pool (default) or dask")
    p.add_argument("--scheduler", default=None, metavar="ADDR", help="address of a Dask scheduler; implies --executor dask")
    p.add_argument("--resume", action="store_true", help="finish the comparison in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--flush-seconds", type=_positive_float, default=5.0, metavar="S",
                   help="commit finished runs at least every S seconds (default 5)")
    p.add_argument("--timeout", type=_positive_float, default=None, metavar="S",
                   help="stop and record as failed any run taking longer than S seconds (local pool)")
    p.add_argument("--dry-run", action="store_true", help="validate the file and show the design; run nothing")
    p.add_argument("--no-report", action="store_true", help="run only; write the report later with `qunsim report DIR`")
    p.set_defaults(func=_cmd_compare)
