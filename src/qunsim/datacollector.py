"""The model's :class:`mesa.DataCollector`, carrying every column of the daily time series.

:class:`~qunsim.CommunityModel` records one row of metrics a day (``model.timeseries()``).
Mesa's tools (``mesa.batch_run``, ``SolaraViz`` plots) read ``model.datacollector`` instead,
so that collector holds the same columns: every metric of the row, policy metrics and
revenue by rung included. A column that first appears on a later day (revenue from a rung
nobody bought before) is 0 on the days before, as in ``model.timeseries()``.

The lifecycle ``phase`` column and the Gresham interval ``gresham_low``/``gresham_high`` of
``model.timeseries()`` are not carried: they are computed from the whole run (a day's phase
depends on the days after it; the interval pools a trailing window), not readings of that day.

Examples
--------
>>> import mesa, qunsim as qs
>>> m = qs.CommunityModel(rng=2, **{"community.n_seed": 40, "community.n_prospects": 200,
...                                "monetization.ladder": {}})
>>> m.run_for(5)
>>> df = m.datacollector.get_model_vars_dataframe()
>>> ts = m.timeseries()
>>> sorted(set(ts.columns) - set(df.columns))
['gresham_high', 'gresham_low', 'phase', 'step']
>>> bool((df["revenue"].to_numpy() == ts["revenue"].to_numpy()).all()), len(df)
(True, 6)
"""

from __future__ import annotations

from functools import partial

import mesa

__all__ = ["TimeseriesCollector"]

_SKIP = frozenset({"step"})  # mesa's own index (model.time) carries the day


def _latest(key: str, model) -> object:
    return model.metrics.latest(key, 0.0)


class TimeseriesCollector(mesa.DataCollector):
    """A ``mesa.DataCollector`` whose model reporters are the columns of the day's metrics row.

    Bound to a model (``model``), it is a view of the model's
    :class:`~qunsim.metrics.MetricsCollector` store: ``collect`` only records the day (``model.time``) and
    ``model_vars`` is read from the store when asked (nothing is copied daily). Unbound, it
    copies ``model.metrics.rows[-1]`` on each ``collect``. Either way, a column that
    appears on a later day is 0 on the days before, so every column of ``model_vars`` has
    one value per collection (what ``mesa.batch_run`` expects).
    """

    def __init__(self, model=None) -> None:
        self._model = model
        self._own_vars: dict = {}
        self._own_reporters: dict = {}
        self._cache: tuple | None = None
        super().__init__(model_reporters={})

    @property
    def _metrics(self):
        return self._model.metrics if self._model is not None else None

    # model_vars / model_reporters: the store's columns when bound
    @property
    def model_vars(self) -> dict:
        mc = self._metrics
        if mc is None:
            return self._own_vars
        n = min(mc.n, len(self._collection_steps))
        if self._cache is None or self._cache[0] != (n, mc.n):
            names = [c for c in (*mc.columns, *mc.extra_columns()) if c not in _SKIP]
            self._cache = ((n, mc.n), {c: mc.column_values(c)[:n] for c in names})
        return self._cache[1]

    @model_vars.setter
    def model_vars(self, value) -> None:
        if self._metrics is None:
            self._own_vars = value
        # bound: the store is the record (a checkpoint restores it with the model)

    @property
    def model_reporters(self) -> dict:
        if self._metrics is None:
            return self._own_reporters
        return {c: partial(_latest, c) for c in (*self._metrics.columns, *self._metrics.extra_columns())
                if c not in _SKIP}

    @model_reporters.setter
    def model_reporters(self, value) -> None:
        if self._metrics is None:
            self._own_reporters = value

    def collect(self, model) -> None:
        """Record today's row: the day (bound), or a copy of ``model.metrics.rows[-1]``."""
        if self._metrics is not None:
            self._collection_steps.append(model.time)
            return
        rows = model.metrics.rows
        row = rows[-1] if rows else {}
        n_before = len(self._collection_steps)
        for key in row:
            if key in _SKIP or key in self.model_vars:
                continue
            self.model_reporters[key] = partial(_latest, key)
            self.model_vars[key] = [0.0] * n_before
        self._collection_steps.append(model.time)
        for key, values in self.model_vars.items():
            values.append(row.get(key, 0.0))
