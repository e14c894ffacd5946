"""Figures for strategy reviews: matplotlib, imported lazily.

Every figure function returns the :class:`matplotlib.figure.Figure` it drew on and takes an
optional ``ax`` (an Axes, or a sequence of Axes for multi-panel figures) so that figures can
be composed. Colours come from one colour-blind-safe palette (Okabe & Ito 2008) with a fixed
colour per role across every figure; trust levels use a light-to-dark ramp that reads in grey
scale too.

Inputs are the library's own results:

* a :class:`~qunsim.RunResult` (from :func:`~qunsim.simulate` or :func:`~qunsim.load_run`),
* a time-series frame (one run, or several runs stacked with a ``run_id`` column, the tidy
  layout of a sweep's ``timeseries``), or a list of RunResults treated as replicates,
* a member table (survival curves), a sweep summary frame (policy comparison, heatmap),
* a NetworkX graph from :meth:`~qunsim.CommunityModel.graph` (network snapshot).

Across replicates, a line is the mean over runs and the band is the ``ci`` confidence
interval of that mean (Student t), so bands narrow as replicates are added.

``plot_run_dir`` and ``plot_sweep_dir`` draw the standard figures of a result directory
(``qunsim plot``) in PNG and SVG.

The package is split by topic — :mod:`~qunsim.plotting.timeseries`,
:mod:`~qunsim.plotting.members` (survival), :mod:`~qunsim.plotting.monetization`,
:mod:`~qunsim.plotting.compare` (strategies and design points),
:mod:`~qunsim.plotting.decision` (verdict figures: replicate strips, lever effects,
interactions, option time series), :mod:`~qunsim.plotting.network`, and
:mod:`~qunsim.plotting.files` (result directories). Figures compute no statistics: they
draw what :mod:`qunsim.stats` and :mod:`qunsim.decision` computed, and never re-simulate
(except the network snapshot of a run directory, which needs the graph and replays the run).
Labels, units and percent axes come from the metric registry (:mod:`qunsim.registry`).
"""

from __future__ import annotations

from qunsim.plotting._style import (  # noqa: F401
    _LABELS,
    _PERCENT,
    FIGURE_FORMATS,
    OKABE_ITO,
    REASON_COLORS,
    ROLE_COLORS,
    TRUST_COLORS,
    _fmt,
    _mean_ci,
    _num,
    _short,
    _strip_cjk,
    metric_label,
    save_figure,
)
from qunsim.plotting.compare import plot_heatmap, plot_policy_comparison
from qunsim.plotting.decision import (
    plot_interactions,
    plot_main_effects,
    plot_option_timeseries,
    plot_outcome_strips,
)
from qunsim.plotting.files import (  # noqa: F401
    HEADLINE_METRICS,
    SweepView,
    _run_figures,
    is_run_dir,
    load_sweep,
    network_snapshot,
    plot_run_dir,
    plot_sweep_dir,
    sweep_figures,
)
from qunsim.plotting.members import kaplan_meier, member_durations, plot_survival
from qunsim.plotting.monetization import plot_funnel, plot_monetization, plot_revenue_by_rung
from qunsim.plotting.network import plot_network
from qunsim.plotting.timeseries import (
    plot_active_by_role,
    plot_gresham,
    plot_leaves_by_reason,
    plot_timeseries,
    plot_trust_levels,
    plot_value_overload,
    replicate_band,
)

__all__ = [
    "OKABE_ITO",
    "ROLE_COLORS",
    "TRUST_COLORS",
    "REASON_COLORS",
    "FIGURE_FORMATS",
    "replicate_band",
    "kaplan_meier",
    "member_durations",
    "plot_active_by_role",
    "plot_timeseries",
    "plot_survival",
    "plot_gresham",
    "plot_value_overload",
    "plot_trust_levels",
    "plot_leaves_by_reason",
    "plot_funnel",
    "plot_revenue_by_rung",
    "plot_monetization",
    "plot_policy_comparison",
    "plot_heatmap",
    "plot_outcome_strips",
    "plot_main_effects",
    "plot_interactions",
    "plot_option_timeseries",
    "plot_network",
    "save_figure",
    "plot_run_dir",
    "plot_sweep_dir",
    "metric_label",
]
