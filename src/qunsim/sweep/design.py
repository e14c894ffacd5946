"""Designs (grid, Latin hypercube, Sobol/Saltelli, CSV) and per-run ids and seeds.

A design is a table of *points* (one column per axis, holding the value or the label of a
categorical value); each point runs ``replicates`` times. A run's id and seed depend only on
its point index and replicate index, so results are the same whatever executor, worker
count or finishing order.

Seeds and pairing: with ``pairing = "common"`` (the default) replicate *r* runs with the same
seed at every point — every lever setting and every uncertainty point — ``run_seed(root, 0,
r)``: common random numbers, so the difference between two lever options in replicate *r* is
a paired difference (the same founding members, graph and arrivals, up to what the levers
change). With ``pairing = "independent"`` each run has its own seed ``run_seed(root, point,
r)``.

A Latin-hypercube design over a sweep with both levers and uncertainties samples the
uncertainties and crosses every sample with every lever setting (the levers' grid), so each
option meets the same uncertainty scenarios.

Examples
--------
>>> from qunsim.sweep.spec import SweepSpec
>>> spec = SweepSpec.from_dict({"steps": 5, "replicates": 2, "seed": 7, "axes": {
...     "community.chatter_share": [0.0, 0.2], "dynamics.chatter_contagion": [1.0, 3.0]}})
>>> make_design(spec)
   point  community.chatter_share  dynamics.chatter_contagion
0      0                      0.0                         1.0
1      1                      0.0                         3.0
2      2                      0.2                         1.0
3      3                      0.2                         3.0
>>> runs = make_runs(spec)
>>> list(runs.columns[:4]), len(runs)
(['run_id', 'point', 'replicate', 'seed'], 8)
>>> runs.run_id.iloc[1], int(runs.seed.iloc[1]) == run_seed(7, 0, 1)
('p000000r001', True)
>>> runs.groupby("replicate").seed.nunique().tolist()    # common random numbers
[1, 1]
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy.stats import qmc

from qunsim.sweep.spec import Axis, SweepSpec

__all__ = ["make_design", "make_runs", "run_seed", "run_id", "design_rng", "axis_levels", "from_unit"]


def run_id(point: int, replicate: int) -> str:
    """The id of a run: ``p{point:06d}r{replicate:03d}``."""
    return f"p{point:06d}r{replicate:03d}"


def run_seed(root: int, point: int, replicate: int) -> int:
    """The seed of one run: a 63-bit integer drawn from ``SeedSequence(root).spawn(...)``.

    ``SeedSequence(root).spawn(P)[point].spawn(R)[replicate]`` is the sequence with spawn key
    ``(point, replicate)``; it is built directly so the seed depends on nothing else.

    >>> ss = np.random.SeedSequence(5).spawn(3)[2].spawn(2)[1]
    >>> run_seed(5, 2, 1) == int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))
    True
    """
    ss = np.random.SeedSequence(root, spawn_key=(int(point), int(replicate)))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))  # fits int64 (Parquet)


def design_rng(root: int) -> np.random.Generator:
    """The generator that samples LHS and Sobol designs (the root sequence itself, which no
    run seed uses: run seeds come from its children)."""
    return np.random.default_rng(np.random.SeedSequence(root))


def axis_levels(a: Axis) -> list:
    """Grid levels of one axis."""
    if not a.is_range:
        return a.design_labels()
    if a.num == 1:
        xs = np.array([a.low])
    elif a.log:
        xs = np.geomspace(a.low, a.high, a.num)
    else:
        xs = np.linspace(a.low, a.high, a.num)
    if a.integer:
        return sorted({int(round(x)) for x in xs})
    return [float(x) for x in xs]


def from_unit(a: Axis, u: np.ndarray) -> list:
    """Map unit-interval samples to axis values (ranges) or labels (categorical axes)."""
    u = np.asarray(u, dtype=float)
    if not a.is_range:
        labels = a.design_labels()
        idx = np.minimum((u * len(labels)).astype(int), len(labels) - 1)
        return [labels[i] for i in idx]
    if a.integer:
        lo, hi = int(math.ceil(a.low)), int(math.floor(a.high))
        return [int(x) for x in np.minimum(lo + np.floor(u * (hi - lo + 1)), hi)]
    if a.log:
        return [float(x) for x in np.exp(np.log(a.low) + u * (np.log(a.high) - np.log(a.low)))]
    return [float(x) for x in a.low + u * (a.high - a.low)]


def _saltelli(a_mat: np.ndarray, b_mat: np.ndarray, second_order: bool) -> np.ndarray:
    """Rows A_j, AB_j^1..AB_j^d, [BA_j^1..BA_j^d], B_j for each j (SALib's order)."""
    n, d = a_mat.shape
    per = d + 2 + (d if second_order else 0)
    out = np.empty((n * per, d))
    r = 0
    for j in range(n):
        out[r] = a_mat[j]
        r += 1
        for i in range(d):
            out[r] = a_mat[j]
            out[r, i] = b_mat[j, i]
            r += 1
        if second_order:
            for i in range(d):
                out[r] = b_mat[j]
                out[r, i] = a_mat[j, i]
                r += 1
        out[r] = b_mat[j]
        r += 1
    return out


def _qmc(engine, gen: np.random.Generator, **kw):
    try:
        return engine(**kw, rng=gen)
    except TypeError:  # scipy < 1.15 calls it `seed`
        return engine(**kw, seed=gen)


def make_design(spec: SweepSpec) -> pd.DataFrame:
    """The design points of a sweep: ``point`` then one column per axis (dotted key)."""
    kind = spec.design.kind
    keys = spec.keys
    if kind == "csv":
        pts = spec.csv_points.copy()
    elif kind == "grid":
        rows = list(itertools.product(*(axis_levels(a) for a in spec.axes)))
        pts = pd.DataFrame(rows, columns=keys)
    else:
        d = len(spec.axes)
        gen = design_rng(spec.seed)
        if kind == "lhs":
            u = _qmc(qmc.LatinHypercube, gen, d=d, scramble=spec.design.scramble).random(spec.design.n)
        else:  # sobol: Saltelli's scheme from a 2d-dimensional Sobol sequence
            ab = _qmc(qmc.Sobol, gen, d=2 * d, scramble=spec.design.scramble).random(spec.design.n)
            u = _saltelli(ab[:, :d], ab[:, d:], spec.design.second_order)
        pts = pd.DataFrame({a.key: from_unit(a, u[:, i]) for i, a in enumerate(spec.axes)})
    if kind == "lhs" and spec.levers and spec.uncertainties:
        # sample the uncertainties only, and cross each sample with every lever setting
        unc = [a for a in spec.axes if a.role == "uncertainty"]
        u = _qmc(qmc.LatinHypercube, design_rng(spec.seed), d=len(unc),
                 scramble=spec.design.scramble).random(spec.design.n)
        samples = pd.DataFrame({a.key: from_unit(a, u[:, i]) for i, a in enumerate(unc)})
        levers = [a for a in spec.axes if a.role == "lever"]
        grid = pd.DataFrame(list(itertools.product(*(axis_levels(a) for a in levers))),
                            columns=[a.key for a in levers])
        pts = grid.merge(samples, how="cross")[keys]
    pts.insert(0, "point", np.arange(len(pts), dtype=np.int64))
    return pts.reset_index(drop=True)


def make_runs(spec: SweepSpec, design: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per run: ``run_id, point, replicate, seed`` and the point's axis values."""
    design = make_design(spec) if design is None else design
    reps = spec.replicates
    idx = np.repeat(np.arange(len(design)), reps)
    out = design.iloc[idx].reset_index(drop=True)
    rep = np.tile(np.arange(reps, dtype=np.int64), len(design))
    points = out["point"].to_numpy()
    out.insert(1, "replicate", rep)
    out.insert(0, "run_id", [run_id(p, r) for p, r in zip(points, rep, strict=True)])
    common = getattr(spec, "pairing", "common") == "common"
    out.insert(3, "seed", np.array([run_seed(spec.seed, 0 if common else p, r)
                                    for p, r in zip(points, rep, strict=True)], dtype=np.int64))
    return out
