"""qunsim (群 sim): agent-based simulation of online communities.

Public API: :func:`load_config`, :class:`Config`, :class:`CommunityModel`, :func:`simulate`
-> :class:`RunResult`, the enums :class:`Role`, :class:`Status`, :class:`TrustLevel`.
"""

from qunsim.config import Config, ConfigError, load_config
from qunsim.model import CommunityModel
from qunsim.simulation import RunResult, load_run, save_run, simulate
from qunsim.state import EntryPath, LeaveReason, Role, Status, Tier, TrustLevel
from qunsim import sweep  # a callable package: qs.sweep(spec, out, ...)
from qunsim.sweep import evaluate, load_results

__version__ = "0.1.0"

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
    "__version__",
]
