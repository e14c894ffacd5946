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

    New columns are added as they appear, their earlier days filled with 0, so every column
    of ``model_vars`` has one value per collection (what ``mesa.batch_run`` expects).
    """

    def __init__(self) -> None:
        super().__init__(model_reporters={})

    def collect(self, model) -> None:
        """Append the model's latest metrics row (``model.metrics.rows[-1]``)."""
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
