"""The one place the kernels' compiler is configured.

Every compiled kernel is decorated with :func:`njit`: numba's ``njit`` with an on-disk cache
(``cache=True``: the first process compiles a kernel on its first call, later processes load
the machine code from ``__pycache__``), the GIL released, and numpy's floating-point error
model (a division by zero gives ``inf``/``nan`` as in numpy instead of raising). Compilation
is lazy: importing qunsim compiles nothing.

Importing this module also tunes the allocator so that the day's large temporaries are
reused from one day to the next (:mod:`qunsim._malloc`; ``QUNSIM_MALLOC_TUNING=0`` turns it
off).

Set ``NUMBA_DISABLE_JIT=1`` in the environment to run every kernel as plain Python (slow,
but a debugger and ``print`` work inside kernels); results are the same.
"""

from __future__ import annotations

from numba import njit as _njit

from qunsim._malloc import keep_freed_memory

keep_freed_memory()

__all__ = ["njit"]


def njit(fn):
    """Compile ``fn`` lazily, in nopython mode, with the on-disk cache."""
    return _njit(cache=True, nogil=True, error_model="numpy")(fn)
