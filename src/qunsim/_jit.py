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

**The cache follows the whole package.** numba keys a cached kernel by its own source file
only, but a compiled kernel has the kernels it calls from *other* files compiled into it: after
an upgrade or an edit of ``kernels/ties.py`` alone, a cached caller in ``kernels/day.py`` would
keep the old callee's code (seen as a crash, ``'descr' is NULL``, or silently old behaviour).
So every kernel of this package is stamped with a hash of all the package's files that hold
compiled code (:func:`package_stamp`): when any of them changes, every cached kernel of the
package is compiled afresh on its next first call (NUMBA_CACHE_DIR is honoured as usual).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from numba import njit as _njit

from qunsim._malloc import keep_freed_memory

keep_freed_memory()

__all__ = ["njit", "package_stamp", "stamped_roots"]

#: Directories whose kernels are stamped with :func:`package_stamp` of that directory.
_ROOTS: list[Path] = [Path(__file__).resolve().parent]
_MARKERS = (b"qunsim._jit import", b"from numba import", b"import numba")


def stamped_roots() -> list[Path]:
    """The package directories whose kernels share one cache stamp (qunsim's own; a plugin
    package with kernels may append its directory)."""
    return _ROOTS


@functools.cache
def _stamp_of(root: str, files: tuple) -> str:
    h = hashlib.sha256()
    for name, _mtime, _size in files:
        data = (Path(root) / name).read_bytes()
        if any(m in data for m in _MARKERS):
            h.update(name.encode())
            h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


def package_stamp(root: Path) -> str:
    """A hash of the contents of every ``.py`` file under ``root`` that holds compiled code
    (imports this module or numba); recomputed when a file's size or time changes."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for f in sorted(filenames):
            if f.endswith(".py"):
                path = Path(dirpath) / f
                st = path.stat()
                files.append((str(path.relative_to(root)), st.st_mtime_ns, st.st_size))
    return _stamp_of(str(root), tuple(files))


def _root_of(py_file: str) -> Path | None:
    try:
        path = Path(py_file).resolve()
    except OSError:
        return None
    for root in _ROOTS:
        if path.is_relative_to(root):
            return root
    return None


def _install_package_locator() -> None:
    """Put a cache locator in front of numba's: for a kernel under one of
    :func:`stamped_roots` it is numba's own locator (same directory, same file names) whose
    freshness stamp also carries :func:`package_stamp`; other functions are left to numba."""
    try:
        from numba.core import caching
        impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
        base = caching._CacheLocator
    except (ImportError, AttributeError):  # another numba: its own per-file stamps apply
        return  # (tests/test_jit_cache.py fails then, so the change is noticed)
    if any(getattr(c, "_qunsim", False) for c in impl._locator_classes):
        return

    class PackageStampLocator(base):
        _qunsim = True

        def __init__(self, inner, root):
            self._inner, self._root = inner, root

        def ensure_cache_path(self):
            self._inner.ensure_cache_path()

        def get_cache_path(self):
            return self._inner.get_cache_path()

        def get_disambiguator(self):
            return self._inner.get_disambiguator()

        def get_source_stamp(self):
            return (self._inner.get_source_stamp(), package_stamp(self._root))

        @classmethod
        def from_function(cls, py_func, py_file):
            root = _root_of(py_file)
            if root is None:
                return None
            for other in impl._locator_classes:
                if other is cls:
                    continue
                inner = other.from_function(py_func, py_file)
                if inner is not None:
                    return cls(inner, root)
            return None

    impl._locator_classes.insert(0, PackageStampLocator)


_install_package_locator()


def njit(fn):
    """Compile ``fn`` lazily, in nopython mode, with the on-disk cache."""
    return _njit(cache=True, nogil=True, error_model="numpy")(fn)
