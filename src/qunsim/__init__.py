"""qunsim (群 sim): agent-based simulation of online communities.

Public API: :func:`load_config`, :class:`Config`, :class:`CommunityModel`, :func:`simulate`
-> :class:`RunResult`, the enums :class:`Role`, :class:`Status`, :class:`TrustLevel`.
"""

from qunsim import sweep  # a callable package: qs.sweep(spec, out, ...)
from qunsim.branching import branch
from qunsim.config import Config, ConfigError, load_config
from qunsim.model import CommunityModel
from qunsim.simulation import RunResult, load_run, save_run, simulate
from qunsim.state import EntryPath, LeaveReason, Role, Status, Tier, TrustLevel
from qunsim.sweep import evaluate, load_results

__version__ = "0.1.0"

_PLOTS = (
    "plot_active_by_role", "plot_timeseries", "plot_survival", "plot_gresham", "plot_value_overload",
    "plot_trust_levels", "plot_leaves_by_reason", "plot_funnel", "plot_revenue_by_rung",
    "plot_monetization", "plot_policy_comparison", "plot_heatmap", "plot_network",
    "plot_outcome_strips", "plot_main_effects", "plot_interactions", "plot_option_timeseries",
    "plot_run_dir", "plot_sweep_dir", "kaplan_meier",
)

__all__ = [
    "Config",
    "ConfigError",
    "load_config",
    "CommunityModel",
    "RunResult",
    "simulate",
    "save_run",
    "load_run",
    "Role",
    "Status",
    "TrustLevel",
    "LeaveReason",
    "EntryPath",
    "Tier",
    "sweep",
    "load_results",
    "evaluate",
    "branch",
    *_PLOTS,
    "build_report",
    "calibrate",
    "__version__",
]


def __getattr__(name: str):
    # figures and reports load on first use: `import qunsim` stays free of matplotlib
    if name in _PLOTS:
        from qunsim import plotting

        return getattr(plotting, name)
    if name == "build_report":
        from qunsim.report import build_report

        return build_report
    if name == "calibrate":
        from qunsim.calibration import calibrate

        return calibrate
    raise AttributeError(f"module 'qunsim' has no attribute {name!r}")
