"""Command line: ``qunsim run | sweep | plot | report``.

Every bad input ends in a one-paragraph message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from qunsim.config import MAX_STEPS

__all__ = ["main", "UsageError", "bounded_int", "scheduler_address"]

MAX_SEED = 2**63 - 1  # seeds are stored as int64


class UsageError(Exception):
    """A user-facing error: printed as one paragraph, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage + exits 2; keep it to one paragraph
        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def _cmd_run(args: argparse.Namespace) -> int:
    import qunsim as qs
    from qunsim.simulation import _write_run, check_run_dir_writable, staged_run_dir

    overrides = _parse_sets(args.set)
    cfg = qs.load_config(args.config, overrides=overrides)
    out = Path(args.out)
    try:  # refuse a bad --out before simulating, not after
        check_run_dir_writable(out, replace=args.force)
    except (FileExistsError, NotADirectoryError) as e:
        raise UsageError(f"output directory {out} {e.strerror}") from None
    res = qs.simulate(cfg, rng=args.seed, steps=args.steps, graph=args.graph,
                      progress=not args.no_progress, **_gexf_args(args))
    # written into a temporary sibling, renamed into place when complete: a failure part-way
    # leaves no half-written run, and --force replaces the old run only then
    try:
        with staged_run_dir(out, replace=args.force) as tmp:
            _write_run(res, tmp)
            n_figures = 0
            if args.plots:
                from qunsim.plotting import plot_run_dir

                files = plot_run_dir(tmp, tmp / "figures")
                n_figures = len({f.stem for f in files})
    except OSError as e:
        what = f" ({e.filename})" if e.filename and Path(e.filename).name != out.name else ""
        kept = " (the run already there is unchanged)" if args.force and out.is_dir() else ""
        raise UsageError(f"cannot write the run to {out}: {e.strerror or e}{what}; nothing was "
                         f"written{kept}") from None
    if args.graph:
        gi = res.meta["graph"]
        print(f"community graph {args.graph}: {gi['nodes']} nodes, {gi['edges']} ties, "
              f"{gi['initial_members']} initial members (sha256 {gi['sha256'][:12]})")
    s = res.summary
    print(f"ran {s['steps']} days of {cfg.source} (seed {args.seed}): active {s['final_active']} "
          f"(peak {s['peak_active']} on day {s['peak_step']}), joined {s['total_joined']}, "
          f"left {s['total_left']}; phases {s['phases_seen'].replace('|', ' -> ')}")
    print(f"wrote {out}/timeseries.parquet, members.parquet, summary.json, config.toml")
    if args.gexf:
        print(f"wrote {args.gexf} (dynamic GEXF, snapshots every {args.gexf_every} days)")
    if args.plots:
        print(f"wrote {n_figures} figures to {out / 'figures'}")
    return 0


def bounded_int(low: int, high: int, what: str):
    """An argparse ``type``: an integer in [low, high], else a one-line error naming the range."""

    def parse(text: str) -> int:
        try:
            v = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expects {what}, an integer from {low} to {high}, got {text!r}") from None
        if not low <= v <= high:
            raise argparse.ArgumentTypeError(f"expects {what}, an integer from {low} to {high}, got {v}")
        return v

    parse.__name__ = what  # argparse names the type in its messages
    return parse


_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def scheduler_address(text: str) -> str:
    """An argparse ``type`` for a Dask scheduler address: ``tcp://host:port`` (or tls/ws/wss/ucx),
    or ``host:port``; anything else is refused with a one-line error.

    Examples
    --------
    >>> scheduler_address("tcp://10.0.0.5:8786")
    'tcp://10.0.0.5:8786'
    >>> scheduler_address("localhost:8786")
    'localhost:8786'
    """
    import re

    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    if scheme == "inproc" and rest:
        return text
    m = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})", rest)
    if (sep and scheme not in _SCHEMES) or m is None or not 0 < int(m.group(2)) < 65536:
        raise argparse.ArgumentTypeError(
            f"expects a Dask scheduler address like tcp://host:8786 (schemes: "
            f"{', '.join(_SCHEMES)}) or host:port, got {text!r}")
    return text


def _gexf_args(args: argparse.Namespace) -> dict:
    if not args.gexf:
        return {}
    if args.gexf_every < 1:
        raise UsageError(f"--gexf-every must be a whole number of days >= 1, got {args.gexf_every}")
    parent = Path(args.gexf).resolve().parent
    if not parent.is_dir():
        raise UsageError(f"--gexf {args.gexf}: directory {parent} does not exist")
    return {"gexf": args.gexf, "gexf_every": args.gexf_every}


def _parse_sets(items: list[str] | None) -> dict:
    import tomllib

    out = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set expects KEY=VALUE (e.g. community.chatter_share=0.3), got {item!r}")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        out[key.strip()] = value
    return out


def build_parser() -> argparse.ArgumentParser:
    from qunsim import __version__

    p = _Parser(prog="qunsim", description="Agent-based simulation of online communities.")
    p.add_argument("--version", action="version", version=f"qunsim {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    r = sub.add_parser("run", help="run one scenario and write its tables")
    r.add_argument("config", help="scenario TOML file")
    r.add_argument("--steps", type=bounded_int(0, MAX_STEPS, "a number of days"), default=None,
                   help="days to simulate (default: the config's run.steps)")
    r.add_argument("--seed", type=bounded_int(0, MAX_SEED, "a seed"), default=0, help="random seed (default 0)")
    r.add_argument("--out", required=True, help="output directory")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="dotted override, repeatable")
    r.add_argument("--plots", action="store_true", help="also draw the standard figures")
    r.add_argument("--force", action="store_true",
                   help="replace the run in --out (only once the new run is complete)")
    r.add_argument("--graph", metavar="FILE", default=None,
                   help="your community's graph (.graphml, .gexf or an edge list) instead of a generated one")
    r.add_argument("--gexf", metavar="PATH", help="also write the social graph over time as a dynamic GEXF (Gephi)")
    r.add_argument("--gexf-every", type=int, default=7, metavar="DAYS", help="days between graph snapshots (default 7)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar (it is shown only in a terminal)")
    r.set_defaults(func=_cmd_run)
    for register in _extensions():
        register(sub)
    return p


def _extensions():
    """Sub-commands defined next to their subsystems (sweep, plot, report)."""
    regs = []
    for mod in ("qunsim.sweep.cli", "qunsim.compare_cli", "qunsim.plotting_cli", "qunsim.branching",
                "qunsim.calibration", "qunsim.validation", "qunsim.dashboard.cli"):
        try:
            m = __import__(mod, fromlist=["register"])
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
            continue
        regs.append(m.register)
    return regs


def main(argv: list[str] | None = None) -> int:
    """The ``qunsim`` command: run it with ``argv`` (None: the program's own arguments) and
    return the exit code (0 done, 2 bad input, 130 interrupted)."""
    code = _run(argv)
    if code == 130 and argv is None:  # the program itself (not a library call) was interrupted
        _exit_promptly(code)
    return code


def _exit_promptly(code: int, grace: float = 10.0) -> None:
    """After Ctrl-C the program must end. Everything it wrote is committed by now (a sweep's
    store is marked "interrupted" before this point); if the interpreter's own exit (joining
    the threads of a stopped worker pool) still has not finished after ``grace`` seconds, the
    process ends with ``code`` anyway instead of hanging."""
    import threading

    sys.stdout.flush()
    sys.stderr.flush()
    timer = threading.Timer(grace, os._exit, args=(code,))
    timer.daemon = True
    timer.start()


def _run(argv: list[str] | None) -> int:
    from qunsim.config import ConfigError

    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        try:
            return int(args.func(args) or 0)
        except SystemExit as e:  # plug-in code calling sys.exit must not pass for success
            raise UsageError(f"the command stopped: code it ran called sys.exit({e.code!r}) "
                             f"(a plug-in policy?); no output was written") from None
    except (UsageError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # any OSError on an input or output path: name the path
        where = " -> ".join(str(f) for f in (e.filename, e.filename2) if f)
        why = e.strerror or str(e) or type(e).__name__
        print(f"error: {why}: {where}" if where else f"error: {why}", file=sys.stderr)
        return 2


def _drop_script_directory() -> None:
    """``python -m qunsim.cli`` puts the current directory first on sys.path; the ``qunsim``
    command does not. Drop it so both import plug-ins from the same places (PYTHONPATH and
    installed packages), never silently from whatever directory the command runs in."""
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]


if __name__ == "__main__":  # pragma: no cover
    _drop_script_directory()
    sys.exit(main())
