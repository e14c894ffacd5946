"""``qunsim dashboard [SCENARIO.toml] [--port N]``: serve the dashboard on 127.0.0.1."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys

__all__ = ["register"]


def register(sub) -> None:
    d = sub.add_parser("dashboard", help="watch a community live and turn its levers (web page on 127.0.0.1)",
                       description="Serve the live dashboard (Mesa SolaraViz) of a scenario on this machine "
                                   "only (127.0.0.1). Open the printed address in a browser; stop with Ctrl-C.")
    d.add_argument("config", nargs="?", default=None, help="scenario TOML file (default: the built-in defaults)")
    d.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0 picks a free one)")
    d.add_argument("--seed", type=int, default=0, help="seed of the first run (a control on the page too)")
    d.add_argument("--compare", action="store_true", help="two lever settings side by side on the same seed")
    d.add_argument("--prospects", type=int, default=None, metavar="N",
                   help="people outside who could join (overrides community.n_prospects)")
    d.add_argument("--interval", type=int, default=50, metavar="MS", help="milliseconds between frames (default 50)")
    d.add_argument("--days-per-frame", type=int, default=1, metavar="N",
                   help="days simulated between two redraws (default 1; Mesa's render interval)")
    d.add_argument("--graph-every", type=int, default=None, metavar="DAYS",
                   help="days between redraws of the social graph (default: 1 up to 300 members, "
                        "one more per 300)")
    d.add_argument("--lever", action="append", metavar="NAME=VALUE", default=[],
                   help="starting value of a lever, repeatable (e.g. moderation=0.9; b_gate_fee=80 for run B)")
    d.set_defaults(func=_cmd_dashboard)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The page's charts (Vega-Lite) ask solara's asset proxy for `vega@5`, `vega-lite@5` and
# `vega-embed@6`; the offline copies (package `solara-assets`) are stored under their full
# versions. Aliases in solara's cache let the page load without the internet.
_VEGA_ALIASES = {"vega@5": "vega@5.", "vega-lite@5": "vega-lite@5.", "vega-embed@6": "vega-embed@6."}


def offline_assets() -> list[str]:
    """Make solara's asset cache answer the unversioned Vega requests from the offline copies.

    Returns the aliases created (idempotent: an alias already there is left alone).
    """
    try:
        from solara.server import settings
    except ModuleNotFoundError:
        return []
    cache = settings.assets.proxy_cache_dir
    made = []
    if not cache.is_dir():
        return made
    for alias, prefix in _VEGA_ALIASES.items():
        target = cache / alias
        if target.exists():
            continue
        found = sorted(p for p in cache.iterdir() if p.name.startswith(prefix) and p.is_dir())
        if not found:
            continue
        try:
            target.symlink_to(found[-1].name, target_is_directory=True)
            made.append(alias)
        except OSError:
            pass  # read-only cache: the page then fetches the files online
    return made


def _parse_levers(items: list[str], compare: bool) -> dict:
    import tomllib

    from qunsim.cli import UsageError
    from qunsim.dashboard.levers import LEVERS
    from qunsim.hints import did_you_mean

    names = {lv.name: lv for lv in LEVERS}
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        base = key.removeprefix("b_") if compare else key
        if not sep or base not in names:
            known = sorted(names) + ([f"b_{n}" for n in sorted(names)] if compare else [])
            hint = did_you_mean(key, known) if sep else ""
            raise UsageError(f"--lever expects NAME=VALUE with NAME one of {sorted(names)}"
                             f"{' (b_NAME for run B)' if compare else ''}, got {item!r}{hint}")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            raise UsageError(f"--lever {key}: {raw!r} is not a number or true/false") from None
        lv = names[base]
        ok = isinstance(value, bool) if lv.kind == "bool" else (
            isinstance(value, (int, float)) and not isinstance(value, bool) and lv.lo <= value <= lv.hi)
        if not ok:
            want = "true or false" if lv.kind == "bool" else f"a number in [{lv.lo:g}, {lv.hi:g}]"
            raise UsageError(f"--lever {key} must be {want}, got {raw.strip()!r}")
        out[key] = int(value) if lv.kind == "int" else value
    return out


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from qunsim.cli import UsageError
    from qunsim.config import load_config

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}")
    if args.prospects is not None and args.prospects < 0:
        raise UsageError(f"--prospects must be >= 0, got {args.prospects}")
    if not 1 <= args.interval <= 10_000:
        raise UsageError(f"--interval must be between 1 and 10000 ms, got {args.interval}")
    if not 1 <= args.days_per_frame <= 100:
        raise UsageError(f"--days-per-frame must be between 1 and 100, got {args.days_per_frame}")
    if args.graph_every is not None and not 1 <= args.graph_every <= 365:
        raise UsageError(f"--graph-every must be between 1 and 365 days, got {args.graph_every}")
    cfg = load_config(args.config)  # a bad scenario fails here, in one paragraph
    levers = _parse_levers(args.lever, args.compare)
    if args.prospects is not None:
        cfg = cfg.override({"community.n_prospects": args.prospects})
    try:
        import solara  # noqa: F401
        import solara.server  # noqa: F401
    except ModuleNotFoundError:
        raise UsageError('the dashboard needs the `viz` extra: pip install "qunsim[viz]"') from None
    offline_assets()
    port = args.port or _free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise UsageError(f"port {port} on 127.0.0.1 is in use; pass another --port (or 0 for a free one)") from None
    env = dict(os.environ)
    env.update({
        "QUNSIM_DASHBOARD_SCENARIO": os.path.abspath(args.config) if args.config else "",
        "QUNSIM_DASHBOARD_SEED": str(args.seed),
        "QUNSIM_DASHBOARD_COMPARE": "1" if args.compare else "",
        "QUNSIM_DASHBOARD_PROSPECTS": "" if args.prospects is None else str(args.prospects),
        "QUNSIM_DASHBOARD_INTERVAL": str(args.interval),
        "QUNSIM_DASHBOARD_RENDER": str(args.days_per_frame),
        "QUNSIM_DASHBOARD_LEVERS": json.dumps(levers),
        "QUNSIM_DASHBOARD_GRAPH_EVERY": "" if args.graph_every is None else str(args.graph_every),
        "MPLBACKEND": "Agg",
    })
    print(f"qunsim dashboard of {cfg.source}: http://127.0.0.1:{port}/ (Ctrl-C stops it)", flush=True)
    argv = [sys.executable, "-m", "solara", "run", "qunsim.dashboard.viz", "--host", "127.0.0.1",
            "--port", str(port), "--production", "--no-open", "--log-level", "warning"]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)  # the server replaces this process: Ctrl-C / kill stop it
    return 0  # pragma: no cover
