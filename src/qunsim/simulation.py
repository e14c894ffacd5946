"""One run from a config: ``simulate`` -> :class:`RunResult`, and saving/loading it."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from qunsim.config import Config, load_config
from qunsim.metrics import summarize

__all__ = ["RunResult", "simulate", "save_run", "load_run", "staged_run_dir", "RUN_FILES"]

RUN_FILES = ("timeseries.parquet", "members.parquet", "summary.json", "config.toml")
"""The files of a run directory (``qunsim run --out``); ``figures/`` may be there too."""
_RUN_OUTPUTS = frozenset(RUN_FILES) | {"figures"}


@dataclass
class RunResult:
    """The outcome of one run.

    timeseries : one row per step (step 0 = initial state)
    members : one row per member ever joined
    summary : run-level statistics (dict of scalars)
    config : the resolved :class:`Config`
    seed : the seed the model was built with
    """

    timeseries: pd.DataFrame
    members: pd.DataFrame
    summary: dict
    config: Config
    seed: int | None
    meta: dict = field(default_factory=dict)


def simulate(config: Config | str | Path | dict | None = None, *, rng: Any = None,
             steps: int | None = None, graph: Any = None, progress: bool = False,
             gexf: str | Path | None = None, gexf_every: int = 7, **overrides: Any) -> RunResult:
    """Build a :class:`~qunsim.CommunityModel`, run it and return its tables.

    Parameters
    ----------
    config : Config, TOML path, dict or None (defaults).
    rng : int seed (recorded in the result) or Generator.
    steps : days to run (default: the config's ``run.steps``).
    graph : optional ``networkx.Graph`` of the community (members and prospects), or the path
        of a GraphML/GEXF/edge-list file: replaces the generated graph (see
        docs/community_graph.md). ``meta["graph"]`` then records its size and hash.
    progress : draw a progress bar (only in a terminal or a notebook).
    gexf : path, optional; also write the social graph over time there as a dynamic GEXF
        (snapshots every ``gexf_every`` days; see :mod:`qunsim.graph_history`).
    **overrides : dotted config keys.

    Examples
    --------
    >>> import qunsim as qs
    >>> res = qs.simulate(rng=7, steps=20, **{"community.n_seed": 60, "community.n_prospects": 400})
    >>> len(res.timeseries), res.seed
    (21, 7)
    """
    from qunsim.model import CommunityModel

    cfg = load_config(config)
    if overrides:
        cfg = cfg.override(overrides)
    n = cfg.run.steps if steps is None else int(steps)
    if n < 0:
        raise ValueError(f"steps must be >= 0, got {n}")
    if isinstance(graph, (str, Path)):
        cfg = cfg.override({"network.kind": "file", "network.path": str(Path(graph).resolve())})
        graph = None
    model = CommunityModel(cfg, rng=rng, graph=graph)
    if gexf is not None:
        model.record_graph(every=gexf_every)
    if n:
        model.run_for(n, progress=progress)
    if gexf is not None:
        model.graph_history(gexf)
    ts = model.timeseries()
    members = model.members_frame()
    return RunResult(ts, members, summarize(ts, members), cfg, model.seed, meta=population_meta(model))


def population_meta(model) -> dict:
    """Where the population came from, for a run's provenance: the user graph (source, nodes,
    edges, SHA-256, initial members) when one was given, else the generated graph's size
    parameters (``community.n_seed``, ``community.n_prospects``)."""
    from qunsim.state import EntryPath

    seeds = int((model.state.entry_path == EntryPath.SEED).sum())
    if model.graph_info is not None:
        return {"population": "graph", "graph": {**model.graph_info, "initial_members": seeds}}
    com = model.config.community
    return {"population": "generated", "n_seed": int(com.n_seed), "n_prospects": int(com.n_prospects),
            "network": model.config.network.kind}


def save_run(res: RunResult, out: str | Path, *, replace: bool = False) -> Path:
    """Write ``timeseries.parquet``, ``members.parquet``, ``summary.json`` and ``config.toml``.

    The files are written into a temporary sibling of ``out`` and renamed into place only when
    all are complete, so a failure part-way (a full disk, an interrupt) leaves no half-written
    run and never damages a run already at ``out``.

    Parameters
    ----------
    res : RunResult
    out : directory to create (or an empty one).
    replace : if ``out`` already holds a run, replace it (once the new one is complete). Files
        in it that are not run outputs (say ``notes.txt``) are carried over.

    Raises
    ------
    FileExistsError
        ``out`` is not empty and ``replace`` is False, or it holds something other than a run.
    OSError
        the directory cannot be written (the error names the path).
    """
    with staged_run_dir(out, replace=replace) as tmp:
        _write_run(res, tmp)
    return Path(out)


def _write_run(res: RunResult, out: Path) -> None:
    res.timeseries.to_parquet(out / "timeseries.parquet", index=False)
    res.members.to_parquet(out / "members.parquet", index=False)
    (out / "summary.json").write_text(json.dumps({"seed": res.seed, **res.summary, **res.meta}, indent=2),
                                      encoding="utf-8")
    (out / "config.toml").write_text(res.config.to_toml(), encoding="utf-8")


def _holds_run(d: Path) -> bool:
    return (d / "summary.json").is_file() or (d / "config.toml").is_file()


def check_run_dir_writable(out: str | Path, *, replace: bool = False) -> None:
    """Raise ``FileExistsError``/``NotADirectoryError`` now if :func:`save_run` would refuse ``out``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a directory", str(out))
    for up in Path(os.path.abspath(out)).parents:  # the nearest existing ancestor must be a directory
        if up.exists():
            if not up.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, f"cannot be created: {up} is not a directory", str(out))
            break
    if out.is_dir() and any(out.iterdir()):
        if not replace:
            raise FileExistsError(errno.EEXIST, "directory is not empty (pass --force / replace=True "
                                                "to replace the run in it)", str(out))
        if not _holds_run(out):
            raise FileExistsError(errno.EEXIST, "directory is not empty and holds no qunsim run; "
                                                "refusing to replace it", str(out))


@contextlib.contextmanager
def staged_run_dir(out: str | Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary sibling of ``out``; on success it becomes ``out``.

    If the block raises, the temporary directory is removed and ``out`` is untouched. With
    ``replace``, an existing run at ``out`` is swapped out only after the block completes
    (entries that are not run outputs are copied into the new run first) and then deleted.
    """
    out = Path(os.path.abspath(out))
    check_run_dir_writable(out, replace=replace)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        yield tmp
        _commit(tmp, out, replace)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _commit(tmp: Path, out: Path, replace: bool) -> None:
    check_run_dir_writable(out, replace=replace)  # nothing appeared there meanwhile
    if not (out.is_dir() and any(out.iterdir())):
        os.replace(tmp, out)  # onto nothing or an empty directory: atomic
        return
    for entry in out.iterdir():  # keep what the user put beside the old run
        if entry.name not in _RUN_OUTPUTS and not (tmp / entry.name).exists():
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, tmp / entry.name, symlinks=True)
            else:
                shutil.copy2(entry, tmp / entry.name, follow_symlinks=False)
    old = out.parent / f".{out.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old, out)
        raise
    if old.is_symlink():  # --out was a link to the old run: drop the link, keep its target
        old.unlink()
    else:
        shutil.rmtree(old, ignore_errors=True)


def load_run(path: str | Path) -> RunResult:
    """Read a directory written by :func:`save_run` (or ``qunsim run --out``).

    Reads stored data only: a policy ``class`` named in its config is not imported.
    """
    path = Path(path)
    ts = pd.read_parquet(path / "timeseries.parquet")
    members = pd.read_parquet(path / "members.parquet")
    summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    cfg = load_config(path / "config.toml")
    seed = summary.pop("seed", None)
    return RunResult(ts, members, summary, cfg, seed)
