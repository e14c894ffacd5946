"""Experiments at scale: config-driven parameter sweeps (docs/sweeps.md).

``qunsim.sweep`` is both this package and a function: ``qs.sweep(spec, out, ...)`` runs a
sweep (see :func:`qunsim.sweep.runner.sweep`). The rest:

- :func:`load_sweep`, :class:`SweepSpec` — sweep files (``spec``)
- :func:`make_design`, :func:`make_runs`, :func:`run_seed` — designs and seeds (``design``)
- :func:`open_executor`, :class:`SerialExecutor` — executors (``executors``)
- :func:`load_results`, :func:`replicate_means`, :func:`sobol_indices` — analysis
- :func:`evaluate` — one run as a plain function (EMA Workbench, SALib)

Heavy modules (scipy.stats.qmc, tqdm, pyarrow, dask) load on first use, so ``import qunsim``
stays fast.
"""

from __future__ import annotations

import sys
import types

from qunsim.sweep.executors import SweepError
from qunsim.sweep.spec import Axis, SweepSpec, load_sweep

__all__ = [
    "sweep",
    "load_sweep",
    "SweepSpec",
    "Axis",
    "SweepError",
    "StoreError",
    "make_design",
    "make_runs",
    "run_seed",
    "open_executor",
    "SerialExecutor",
    "load_results",
    "SweepResults",
    "replicate_means",
    "sobol_indices",
    "evaluate",
]

_LAZY = {
    "StoreError": "qunsim.sweep.store",
    "make_design": "qunsim.sweep.design",
    "make_runs": "qunsim.sweep.design",
    "run_seed": "qunsim.sweep.design",
    "open_executor": "qunsim.sweep.executors",
    "SerialExecutor": "qunsim.sweep.executors",
    "load_results": "qunsim.sweep.analysis",
    "SweepResults": "qunsim.sweep.analysis",
    "replicate_means": "qunsim.sweep.analysis",
    "sobol_indices": "qunsim.sweep.analysis",
    "evaluate": "qunsim.sweep.interop",
}


def sweep(spec, out, **kwargs):
    """Run a sweep; see :func:`qunsim.sweep.runner.sweep`."""
    from qunsim.sweep.runner import sweep as _sweep

    return _sweep(spec, out, **kwargs)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qunsim.sweep' has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """Lets ``qs.sweep(...)`` call the function while ``qunsim.sweep.*`` stays a package."""

    def __call__(self, spec, out, **kwargs):
        return sweep(spec, out, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
