"""One run from a config: ``simulate`` -> :class:`RunResult`, and saving/loading it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from qunsim.config import Config, load_config
from qunsim.metrics import summarize

__all__ = ["RunResult", "simulate", "save_run", "load_run"]


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
             steps: int | None = None, graph: Any = None, **overrides: Any) -> RunResult:
    """Build a :class:`~qunsim.CommunityModel`, run it and return its tables.

    Parameters
    ----------
    config : Config, TOML path, dict or None (defaults).
    rng : int seed (recorded in the result) or Generator.
    steps : days to run (default: the config's ``run.steps``).
    graph : optional ``networkx.Graph`` of the community (members and prospects), or the path
        of a GraphML/GEXF/edge-list file: replaces the generated graph (see
        docs/community_graph.md). ``meta["graph"]`` then records its size and hash.
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
    if n:
        model.run_for(n)
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


def save_run(res: RunResult, out: str | Path) -> Path:
    """Write ``timeseries.parquet``, ``members.parquet``, ``summary.json`` and ``config.toml``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    res.timeseries.to_parquet(out / "timeseries.parquet", index=False)
    res.members.to_parquet(out / "members.parquet", index=False)
    (out / "summary.json").write_text(json.dumps({"seed": res.seed, **res.summary, **res.meta}, indent=2))
    (out / "config.toml").write_text(res.config.to_toml())
    return out


def load_run(path: str | Path) -> RunResult:
    """Read a directory written by :func:`save_run` (or ``qunsim run --out``)."""
    path = Path(path)
    ts = pd.read_parquet(path / "timeseries.parquet")
    members = pd.read_parquet(path / "members.parquet")
    summary = json.loads((path / "summary.json").read_text())
    cfg = load_config(path / "config.toml")
    seed = summary.pop("seed", None)
    return RunResult(ts, members, summary, cfg, seed)
