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
             steps: int | None = None, progress: bool = False, gexf: str | Path | None = None,
             gexf_every: int = 7, **overrides: Any) -> RunResult:
    """Build a :class:`~qunsim.CommunityModel`, run it and return its tables.

    Parameters
    ----------
    config : Config, TOML path, dict or None (defaults).
    rng : int seed (recorded in the result) or Generator.
    steps : days to run (default: the config's ``run.steps``).
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
    model = CommunityModel(cfg, rng=rng)
    if gexf is not None:
        model.record_graph(every=gexf_every)
    if n:
        model.run_for(n, progress=progress)
    if gexf is not None:
        model.graph_history(gexf)
    ts = model.timeseries()
    members = model.members_frame()
    return RunResult(ts, members, summarize(ts, members), cfg, model.seed)


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
