"""Reading a sweep back: tidy frames, replicate means with confidence intervals, Sobol indices."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qunsim.sweep.store import Store

__all__ = ["SweepResults", "load_results", "replicate_means", "sobol_indices"]

_DESIGN_COLS = ("run_id", "point", "replicate", "seed")


class SweepResults:
    """A sweep directory as tidy pandas frames (read lazily, once).

    Attributes
    ----------
    manifest : dict — provenance (``manifest.json``).
    lost : run ids whose committed results failed verification (empty unless opened with
        ``lost="warn"``).
    design : one row per planned run: ``run_id, point, replicate, seed`` and axis values.
    summary : one row per finished run: the design columns and the run's summary statistics.
    timeseries : tidy: ``run_id, step`` and the kept metrics, for finished runs.
    failures : runs whose last attempt raised: design columns, ``error``, ``traceback``.
    axes : the swept dotted keys.
    """

    def __init__(self, path: str | Path, *, lost: str = "raise"):
        self.path = Path(path)
        self._store = Store(self.path)
        if not self._store.exists():
            raise FileNotFoundError(2, "no sweep here (manifest.json missing)", str(self.path / "manifest.json"))
        # every part file is checked against its commit record's checksum; only verified
        # batches are read, and lost runs raise (or, with lost="warn", warn and are listed)
        self.manifest, self._verified, self.lost = self._store.open_verified(lost)

    def __repr__(self) -> str:
        return (f"SweepResults({str(self.path)!r}: {len(self.summary)}/{len(self.design)} runs done, "
                f"{len(self.failures)} failed)")

    @cached_property
    def design(self) -> pd.DataFrame:
        return self._store.read_design()

    @property
    def axes(self) -> list[str]:
        return list(self.manifest["axes"])

    @cached_property
    def summary(self) -> pd.DataFrame:
        df = self._store.read_parts("summary", batches=self._verified.good)
        if df.empty:
            return self.design.iloc[:0].copy()
        return df.drop_duplicates("run_id", keep="last").sort_values("run_id").reset_index(drop=True)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        return self.load_timeseries()

    def load_timeseries(self, columns: list[str] | None = None, run_ids: list[str] | None = None) -> pd.DataFrame:
        """Time series of some columns and/or runs only (for sweeps too big to load whole)."""
        cols = None if columns is None else list(dict.fromkeys(["run_id", "step", *columns]))
        filters = None if run_ids is None else [("run_id", "in", list(run_ids))]
        df = self._store.read_parts("timeseries", columns=cols, filters=filters, batches=self._verified.good)
        if df.empty:
            return df
        ok = set(self.summary["run_id"])
        df = df[df["run_id"].isin(ok)].drop_duplicates(["run_id", "step"], keep="last")
        return df.sort_values(["run_id", "step"]).reset_index(drop=True)

    def timeseries_with_axes(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Time series joined with each run's point, replicate and axis values (for plots)."""
        ts = self.timeseries if columns is None else self.load_timeseries(columns)
        design = self.design[["run_id", "point", "replicate", *self.axes]]
        if "run_id" not in ts.columns:  # no time series kept (keep.timeseries = [])
            return pd.DataFrame(columns=["run_id", "step", *design.columns[1:]])
        return ts.merge(design, on="run_id", how="left")

    @cached_property
    def failures(self) -> pd.DataFrame:
        df = self._store.read_parts("failures", batches=self._verified.good)
        if df.empty:
            return pd.DataFrame(columns=[*self.design.columns, "error", "traceback"])
        df = df[~df["run_id"].isin(set(self.summary["run_id"]))]
        return df.drop_duplicates("run_id", keep="last").sort_values("run_id").reset_index(drop=True)

    @property
    def missing(self) -> pd.DataFrame:
        """Planned runs with neither a result nor a recorded failure (an interrupted sweep)."""
        seen = set(self.summary["run_id"]) | set(self.failures["run_id"])
        return self.design[~self.design["run_id"].isin(seen)].reset_index(drop=True)

    def replicate_means(self, metrics: list[str] | str | None = None, *, by: list[str] | None = None,
                        level: float = 0.95, timeseries: bool = False) -> pd.DataFrame:
        """Means over replicates with confidence intervals; see :func:`replicate_means`."""
        by = self.axes if by is None else list(by)
        if timeseries:
            df = self.timeseries_with_axes().drop(columns=["point", "replicate"])
            return replicate_means(df, by=[*by, "step"], metrics=metrics, level=level)
        return replicate_means(self.summary, by=by, metrics=metrics, level=level)

    def sobol(self, metric: str, **kw: Any) -> pd.DataFrame:
        """Sobol indices of ``metric``; see :func:`sobol_indices`."""
        return sobol_indices(self, metric, **kw)


def load_results(path: str | Path, *, lost: str = "raise") -> SweepResults:
    """Open a sweep directory written by :func:`qunsim.sweep` (complete or not).

    Every part file is verified against the checksum in its commit record. Runs whose results
    are damaged or missing are *lost*: with ``lost="raise"`` (default) a
    :class:`~qunsim.sweep.store.StoreError` names them (``qunsim sweep ... --resume`` runs
    them again); with ``lost="warn"`` a warning names them and only verified runs are read
    (listed in ``.lost``).

    Examples
    --------
    >>> import tempfile, qunsim as qs
    >>> spec = {"steps": 4, "replicates": 3, "axes": {"community.chatter_share": [0.0, 0.3]},
    ...         "fixed": {"community.n_seed": 30, "community.n_prospects": 200},
    ...         "keep": {"timeseries": ["active"], "period": 2}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = qs.sweep(spec, d, executor="serial")
    ...     res = qs.load_results(d)
    ...     ts = res.timeseries
    ...     m = res.replicate_means("final_active")
    ...     ts_m = res.replicate_means("active", timeseries=True)
    >>> sorted(ts.columns), ts.step.unique().tolist()
    (['active', 'run_id', 'step'], [0, 2, 4])
    >>> list(m.columns)
    ['community.chatter_share', 'metric', 'n', 'mean', 'sd', 'ci_low', 'ci_high']
    >>> m.n.tolist()
    [3, 3]
    >>> len(ts_m), ts_m.n.unique().tolist()   # 2 points x 3 kept steps, 3 replicates each
    (6, [3])
    """
    return SweepResults(path, lost=lost)


def replicate_means(df: pd.DataFrame, by: list[str], metrics: list[str] | str | None = None,
                    level: float = 0.95) -> pd.DataFrame:
    """Group rows (replicates) by ``by`` and give mean, sd and a Student-t confidence interval.

    Parameters
    ----------
    df : tidy frame (a sweep's ``summary`` or ``timeseries`` joined with the axes).
    by : columns identifying a design point (and ``step`` for time series).
    metrics : numeric columns to summarise (default: every numeric column not in ``by`` and
        not a design column).
    level : confidence level of the interval.

    Returns
    -------
    DataFrame with ``by`` columns, ``metric, n, mean, sd, ci_low, ci_high`` (long form). With
    one replicate the interval is NaN.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [0, 0, 0, 1, 1, 1], "y": [1.0, 2.0, 3.0, 5.0, 5.0, 5.0]})
    >>> r = replicate_means(df, by=["x"], metrics="y")
    >>> r[["x", "n", "mean", "sd"]].to_dict("list")
    {'x': [0, 1], 'n': [3, 3], 'mean': [2.0, 5.0], 'sd': [1.0, 0.0]}
    >>> round(float(r.ci_high.iloc[0]), 4)   # 2 + t(0.975, 2) * 1 / sqrt(3)
    4.4841
    """
    from qunsim.stats import t_halfwidth

    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if isinstance(metrics, str):
        metrics = [metrics]
    if metrics is None:
        skip = set(by) | set(_DESIGN_COLS)
        metrics = [c for c in df.columns if c not in skip and pd.api.types.is_numeric_dtype(df[c])
                   and not pd.api.types.is_bool_dtype(df[c])]
    missing = [m for m in [*by, *metrics] if m not in df.columns]
    if missing:
        raise KeyError(f"no column(s) {missing}; available: {list(df.columns)}")
    long = df[[*by, *metrics]].melt(id_vars=by, var_name="metric", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    g = long.groupby([*by, "metric"], sort=True, dropna=False)["value"]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    n = out["n"].to_numpy(dtype=float)
    half = np.where(n > 1, t_halfwidth(out["sd"].to_numpy(dtype=float), n, level), np.nan)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    order = {m: i for i, m in enumerate(metrics)}
    out = out.sort_values(["metric", *by], key=lambda s: s.map(order) if s.name == "metric" else s)
    return out.reset_index(drop=True)


def _sobol_estimates(y: np.ndarray, d: int, second_order: bool) -> tuple[np.ndarray, np.ndarray]:
    per = d + 2 + (d if second_order else 0)
    if y.size % per:
        raise ValueError(f"{y.size} outputs do not form Saltelli blocks of {per}")
    y = (y - y.mean()) / y.std() if y.std() > 0 else y - y.mean()  # as SALib does
    blocks = y.reshape(-1, per)
    a, b = blocks[:, 0], blocks[:, -1]
    ab = blocks[:, 1:d + 1]
    var = np.var(np.r_[a, b])
    if var == 0:
        return np.zeros(d), np.zeros(d)
    s1 = np.mean(b[:, None] * (ab - a[:, None]), axis=0) / var  # Saltelli et al. 2010
    st = 0.5 * np.mean((a[:, None] - ab) ** 2, axis=0) / var  # Jansen 1999
    return s1, st


def sobol_indices(results: SweepResults | Any, metric: str, *, y: np.ndarray | None = None,
                  level: float = 0.95, n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices of a summary metric from a ``sobol`` design.

    Replicates are averaged per point first. Estimators: Saltelli et al. (2010) for S1, Jansen
    (1999) for ST, outputs standardised as SALib does (so SALib's ``sobol.analyze`` on the same
    outputs gives the same indices); confidence half-widths from a bootstrap over the base
    samples.

    Parameters
    ----------
    results : a :class:`SweepResults` of a sweep whose design kind is ``sobol`` (or its
        :class:`~qunsim.sweep.spec.SweepSpec`, with ``y`` given).
    metric : a column of ``results.summary``.
    y : outputs in design order instead (then ``results`` only supplies the design).
    level, n_boot, seed : bootstrap confidence level, resamples and seed.

    Returns
    -------
    DataFrame: ``parameter, S1, S1_conf, ST, ST_conf``.
    """
    from scipy import stats

    from qunsim.sweep.spec import SweepSpec

    if isinstance(results, SweepSpec):  # outputs computed elsewhere, in design order
        if y is None:
            raise ValueError("sobol_indices(spec, ...) needs the outputs: y=...")
        from qunsim.sweep.design import make_design

        m = {"design": results.design.model_dump(), "axes": results.keys,
             "n_points": len(make_design(results))}
    else:
        m = results.manifest
    if m["design"]["kind"] != "sobol":
        raise ValueError(f"Sobol indices need a sweep with design kind 'sobol', this one is {m['design']['kind']!r}")
    axes, second = list(m["axes"]), bool(m["design"]["second_order"])
    n_points = int(m["n_points"])
    if y is None:
        s = results.summary
        if metric not in s.columns:
            raise KeyError(f"no summary column {metric!r}")
        by_point = s.groupby("point")[metric].mean()
        if len(by_point) != n_points:
            raise ValueError(f"{n_points - len(by_point)} design points have no finished run; "
                             f"resume the sweep before computing Sobol indices")
        y = by_point.sort_index().to_numpy(dtype=float)
    y = np.asarray(y, dtype=float)
    d = len(axes)
    s1, st = _sobol_estimates(y, d, second)
    per = d + 2 + (d if second else 0)
    blocks = y.reshape(-1, per)
    rng = np.random.default_rng(seed)
    boots1, bootst = [], []
    for _ in range(n_boot):
        idx = rng.integers(0, len(blocks), len(blocks))
        b1, bt = _sobol_estimates(blocks[idx].ravel(), d, second)
        boots1.append(b1)
        bootst.append(bt)
    z = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame({"parameter": axes, "S1": s1, "S1_conf": z * np.std(boots1, axis=0, ddof=1),
                         "ST": st, "ST_conf": z * np.std(bootst, axis=0, ddof=1)})
