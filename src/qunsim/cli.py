"""Command line: ``qunsim run | sweep | plot | report``.

Every bad input ends in a one-paragraph message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main", "UsageError"]


class UsageError(Exception):
    """A user-facing error: printed as one paragraph, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage + exits 2; keep it to one paragraph
        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def _cmd_run(args: argparse.Namespace) -> int:
    import qunsim as qs
    from qunsim.simulation import save_run

    overrides = _parse_sets(args.set)
    cfg = qs.load_config(args.config, overrides=overrides)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UsageError(f"output directory {out} is not empty; pass --force to overwrite its run files")
    res = qs.simulate(cfg, rng=args.seed, steps=args.steps, progress=not args.no_progress,
                      **_gexf_args(args))
    save_run(res, out)
    s = res.summary
    print(f"ran {s['steps']} days of {cfg.source} (seed {args.seed}): active {s['final_active']} "
          f"(peak {s['peak_active']} on day {s['peak_step']}), joined {s['total_joined']}, "
          f"left {s['total_left']}; phases {s['phases_seen'].replace('|', ' -> ')}")
    print(f"wrote {out}/timeseries.parquet, members.parquet, summary.json, config.toml")
    if args.gexf:
        print(f"wrote {args.gexf} (dynamic GEXF, snapshots every {args.gexf_every} days)")
    if args.plots:
        from qunsim.plotting import plot_run_dir

        files = plot_run_dir(out, out / "figures")
        print(f"wrote {len({f.stem for f in files})} figures to {out / 'figures'}")
    return 0


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
    r.add_argument("--steps", type=int, default=None, help="days to simulate (default: the config's run.steps)")
    r.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    r.add_argument("--out", required=True, help="output directory")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="dotted override, repeatable")
    r.add_argument("--plots", action="store_true", help="also draw the standard figures")
    r.add_argument("--force", action="store_true", help="overwrite run files in a non-empty --out")
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
    for mod in ("qunsim.sweep.cli", "qunsim.plotting_cli", "qunsim.dashboard.cli"):
        try:
            m = __import__(mod, fromlist=["register"])
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
            continue
        regs.append(m.register)
    return regs


def main(argv: list[str] | None = None) -> int:
    from qunsim.config import ConfigError

    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except (UsageError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as e:
        print(f"error: {e.strerror or e}: {e.filename}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
