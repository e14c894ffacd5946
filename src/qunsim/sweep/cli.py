"""``qunsim sweep SWEEP.toml --out DIR [--workers N] [--executor ...] [--scheduler ADDR] [--resume]``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import warnings

__all__ = ["register"]


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"qunsim sweep: warning: {message}", file=sys.stderr if file is None else file)


def _positive_int(text: str) -> int:
    from qunsim.cli import UsageError

    try:
        v = int(text)
    except ValueError:
        raise UsageError(f"qunsim sweep: --workers expects a whole number >= 1, got {text!r}") from None
    if v < 1:
        raise UsageError(f"qunsim sweep: --workers expects a whole number >= 1, got {v}")
    return v


def _positive_float(text: str) -> float:
    from qunsim.cli import UsageError

    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not v > 0 or v == float("inf"):
        raise UsageError(f"qunsim sweep: expects a number of seconds > 0, got {text!r}")
    return v


def _cmd_sweep(args: argparse.Namespace) -> int:
    from qunsim.cli import UsageError
    from qunsim.sweep.executors import SweepError
    from qunsim.sweep.runner import sweep

    if args.scheduler and args.executor not in (None, "dask"):
        raise UsageError(f"qunsim sweep: --scheduler needs --executor dask, got --executor {args.executor}")
    executor = args.executor or ("dask" if args.scheduler else "local")
    if args.dry_run:
        return _dry_run(args)
    # a batch system's SIGTERM (time limit, scancel) stops as cleanly as Ctrl-C
    main_thread = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, _raise_interrupt) if main_thread else None
    old_show = warnings.showwarning
    warnings.showwarning = _show_warning  # one paragraph, no source line
    try:
        res = sweep(args.sweep, args.out, workers=args.workers, executor=executor,
                    scheduler=args.scheduler, resume=args.resume,
                    progress=False if args.quiet else None, flush_seconds=args.flush_seconds,
                    timeout=args.timeout)
    except SweepError as e:
        raise UsageError(f"qunsim sweep ({args.sweep}): {e}") from None
    except KeyboardInterrupt:
        print(f"interrupted: finished runs are saved in {args.out}; "
              f"run the same command with --resume to finish the rest", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = old_show
        if main_thread:
            signal.signal(signal.SIGTERM, old_term)
    m = res.manifest
    n_done, n_fail = len(res.summary), len(res.failures)
    print(f"sweep {m['name']}: {n_done}/{m['n_runs']} runs done, {n_fail} failed "
          f"({m['n_points']} points x {m['replicates']} replicates, {m['steps']} days) -> {args.out}")
    if n_done + n_fail < m["n_runs"]:  # not every run has a verified result (status says so too)
        print(f"{m['n_runs'] - n_done - n_fail} run(s) have no result (manifest status {m['status']!r}); "
              f"run the same command with --resume to finish them", file=sys.stderr)
        return 1
    if n_fail:
        first = res.failures.iloc[0]
        print(f"first failure: {first['run_id']}: {first['error']} "
              f"(all tracebacks: qs.load_results({str(args.out)!r}).failures); "
              f"--resume retries failed runs", file=sys.stderr)
        return 1
    return 0


def _dry_run(args: argparse.Namespace) -> int:
    from qunsim.sweep.design import make_design
    from qunsim.sweep.runner import _check_keep
    from qunsim.sweep.spec import load_sweep

    spec = load_sweep(args.sweep)
    _check_keep(spec)
    design = make_design(spec)
    print(f"sweep {spec.name} ({spec.source}): {spec.design.kind} design, {len(design)} points x "
          f"{spec.replicates} replicates = {len(design) * spec.replicates} runs of {spec.steps} days, "
          f"root seed {spec.seed}; base "
          + (", ".join(f"{k} = {c.source}" for k, c in spec.bases.items()) if spec.bases else spec.base.source))
    for a in spec.axes:
        vals = sorted(design[a.key].unique().tolist(), key=str)
        shown = ", ".join(str(v) for v in vals[:8]) + (", ..." if len(vals) > 8 else "")
        print(f"  {a.key}: {len(vals)} values ({shown})")
    print("nothing run (--dry-run)")
    return 0


def register(subparsers) -> None:
    """Add the ``sweep`` sub-command to ``qunsim``'s parser."""
    p = subparsers.add_parser("sweep", help="run a parameter sweep from a sweep file",
                              description="Run a parameter sweep; results stream to a "
                                          "Parquet dataset in --out. See docs/sweeps.md.")
    p.add_argument("sweep", help="sweep TOML file")
    p.add_argument("--out", required=True, help="output directory (empty, or a sweep to --resume)")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="worker processes (default: usable cores)")
    p.add_argument("--executor", choices=["serial", "local", "dask"], default=None,
                   help="serial, local process pool (default) or dask")
    from qunsim.cli import scheduler_address

    p.add_argument("--scheduler", type=scheduler_address, default=None, metavar="ADDR",
                   help="address of an existing Dask scheduler (tcp://host:8786); implies --executor dask")
    p.add_argument("--resume", action="store_true", help="finish the sweep in --out: run what is missing or failed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--flush-seconds", type=_positive_float, default=5.0, metavar="S",
                   help="commit finished runs at least every S seconds (default 5): what a crash can lose")
    p.add_argument("--timeout", type=_positive_float, default=None, metavar="S",
                   help="stop and record as failed any run taking longer than S seconds "
                        "(local pool; default: the sweep file's `timeout`, else none)")
    p.add_argument("--dry-run", action="store_true", help="validate the file and show the design; run nothing")
    p.set_defaults(func=_cmd_sweep)
