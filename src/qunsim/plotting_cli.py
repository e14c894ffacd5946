"""``qunsim plot RESULTS_DIR [--out DIR]`` and ``qunsim report RESULTS_DIR --out FILE``.

Both accept a run directory (``qunsim run --out``) or a sweep directory (``qunsim sweep --out``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def _kind(path: Path) -> str:
    from qunsim.cli import UsageError
    from qunsim.plotting import is_run_dir

    if not path.exists():
        raise UsageError(f"results directory {path} does not exist; give the --out directory of "
                         "`qunsim run` or `qunsim sweep`")
    if not path.is_dir():
        raise UsageError(f"{path} is a file; give the results directory written by `qunsim run --out` "
                         "or `qunsim sweep --out`")
    if (path / "branch.json").is_file():
        return "branch"
    if (path / "manifest.json").is_file():
        return "sweep"
    if is_run_dir(path):
        return "run"
    raise UsageError(f"{path} holds neither a run (timeseries.parquet and summary.json, from `qunsim run "
                     "--out`) nor a sweep (manifest.json, from `qunsim sweep --out`)")


def _formats(text: str) -> tuple[str, ...]:
    from qunsim.cli import UsageError

    fmts = tuple(f.strip().lower().lstrip(".") for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in ("png", "svg", "pdf")]
    if bad or not fmts:
        raise UsageError(f"qunsim plot: --formats expects a comma-separated list of png, svg, pdf; got {text!r}")
    return fmts


def _cmd_plot(args: argparse.Namespace) -> int:
    from qunsim.cli import UsageError
    from qunsim.plotting import plot_run_dir, plot_sweep_dir

    path = Path(args.results)
    kind = _kind(path)
    if kind == "branch":
        raise UsageError(f"qunsim plot: {path} is a branch directory (branch.json); its fan figures are "
                         f"drawn by `qunsim branch` (fan_*.png) and embedded by `qunsim report {path}`")
    out = Path(args.out) if args.out else path / "figures"
    fmts = _formats(args.formats)
    try:
        if kind == "run":
            files = plot_run_dir(path, out, formats=fmts, network=not args.no_network)
        else:
            files = plot_sweep_dir(path, out, formats=fmts)
    except ValueError as e:
        raise UsageError(f"qunsim plot ({path}): {e}") from None
    names = sorted({f.stem for f in files})
    print(f"wrote {len(names)} figures ({', '.join(fmts)}) to {out}: {', '.join(names)}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from qunsim.cli import UsageError
    from qunsim.report import build_report

    path = Path(args.results)
    _kind(path)
    out = Path(args.out) if args.out else path / "report.html"
    if out.is_dir():
        raise UsageError(f"qunsim report: --out {out} is a directory; give a file name such as {out / 'report.html'}")
    try:
        build_report(path, out, title=args.title)
    except ValueError as e:
        raise UsageError(f"qunsim report ({path}): {e}") from None
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB, self-contained: open it in any browser, offline)")
    if (out.parent / "verdict.json").is_file() and (path / "manifest.json").is_file():
        import json

        v = json.loads((out.parent / "verdict.json").read_text(encoding="utf-8"))
        best = v["options"][0]
        print(f"verdict: {v['recommended']} (P(meets goal) {best['p_goal']['p']:.0%}, "
              f"P(collapse) {best['p_collapse']['p']:.0%}); wrote {out.parent / 'verdict.json'}")
    return 0


def register(subparsers) -> None:
    """Add the ``plot`` and ``report`` sub-commands to ``qunsim``'s parser."""
    p = subparsers.add_parser("plot", help="draw the standard figures of a run or sweep directory",
                              description="Draw the standard figures of a run directory (qunsim run --out) "
                                          "or a sweep directory (qunsim sweep --out).")
    p.add_argument("results", help="results directory")
    p.add_argument("--out", default=None, help="output directory (default RESULTS_DIR/figures)")
    p.add_argument("--formats", default="png,svg", help="comma-separated: png, svg, pdf (default png,svg)")
    p.add_argument("--no-network", action="store_true",
                   help="skip the network snapshot of a run (it replays the run to rebuild the graph)")
    p.set_defaults(func=_cmd_plot)

    r = subparsers.add_parser("report", help="write a self-contained HTML strategy-review report",
                              description="Write one self-contained HTML page (figures embedded, scenario "
                                          "and policies in plain words, headline numbers with confidence "
                                          "intervals, provenance) from a run or sweep directory.")
    r.add_argument("results", help="results directory")
    r.add_argument("--out", default=None,
                   help="HTML file to write (default RESULTS_DIR/report.html); a sweep's verdict.json "
                        "is written next to it")
    r.add_argument("--title", default=None, help="page title")
    r.set_defaults(func=_cmd_report)
