"""The on-disk kernel cache follows the whole package: a cached kernel that calls a kernel of
another file is compiled afresh when that other file changes (numba alone keys a kernel by its
own file, so the caller would keep the old callee's code)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CALLEE = """
from qunsim._jit import njit


@njit
def value(x):
    return x + {k}
"""

CALLER = """
from qunsim._jit import njit
from kpkg.callee import value


@njit
def twice(x):
    return 2 * value(x)
"""

RUN = """
import sys
from pathlib import Path
import qunsim._jit as jit
root = Path(sys.argv[1]) / "kpkg"
if sys.argv[2] == "stamped":
    jit.stamped_roots().append(root.resolve())
sys.path.insert(0, sys.argv[1])
from kpkg.caller import twice
print(twice(1), sum(twice.stats.cache_hits.values()))
"""


def _run(tmp: Path, mode: str) -> tuple[int, int]:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_DISABLE_JIT", "NUMBA_CACHE_DIR")}
    proc = subprocess.run([sys.executable, "-c", RUN, str(tmp), mode], capture_output=True, text=True,
                          env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr
    value, hits = proc.stdout.split()
    return int(value), int(hits)


def _write(tmp: Path, k: int) -> None:
    pkg = tmp / "kpkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "callee.py").write_text(textwrap.dedent(CALLEE.format(k=k)))
    (pkg / "caller.py").write_text(textwrap.dedent(CALLER))


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="no cache without the compiler")
def test_editing_a_callee_recompiles_its_cached_callers(tmp_path):
    _write(tmp_path, 1)
    assert _run(tmp_path, "stamped")[0] == 4          # compiled and cached: 2 * (1 + 1)
    assert _run(tmp_path, "stamped") == (4, 1)        # a later process loads it from the cache
    _write(tmp_path, 10)                              # only the callee's file changes
    assert _run(tmp_path, "stamped")[0] == 22         # the caller follows: 2 * (1 + 10)


def test_package_stamp_changes_with_any_compiled_file(tmp_path):
    import qunsim._jit as jit

    _write(tmp_path, 1)
    root = tmp_path / "kpkg"
    a = jit.package_stamp(root)
    assert jit.package_stamp(root) == a
    (root / "notes.py").write_text("x = 1\n")          # a file without compiled code: same stamp
    assert jit.package_stamp(root) == a
    (root / "callee.py").write_text(CALLEE.format(k=2))
    assert jit.package_stamp(root) != a


def test_qunsim_kernels_are_stamped():
    from numba.core import caching

    import qunsim._jit as jit

    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    assert getattr(impl._locator_classes[0], "_qunsim", False)
    root = jit.stamped_roots()[0]
    assert (root / "kernels" / "day.py").exists() and jit._root_of(str(root / "kernels" / "day.py")) == root
    assert jit._root_of(caching.__file__) is None      # numba's own (and users') functions are left alone


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="no cache without the compiler")
def test_numba_alone_keeps_the_stale_callee(tmp_path):
    """Why the stamp exists: without it (a package not in ``stamped_roots``), numba's per-file
    cache loads the caller compiled against the old callee. If a numba release fixes this,
    this test fails and qunsim's locator can go."""
    _write(tmp_path, 1)
    assert _run(tmp_path, "plain")[0] == 4
    _write(tmp_path, 10)
    assert _run(tmp_path, "plain") == (4, 1)           # stale: 2 * (1 + 1) from the cache
