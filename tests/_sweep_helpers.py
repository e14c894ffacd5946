"""Scaffolding shared by the sweep tests that interrupt, kill and resume sweeps
(tests/test_sweep_run.py, tests/test_sweep_store.py)."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

import qunsim as qs


def write(path: Path, text: str) -> Path:
    """Write ``text`` (dedented) to ``path``; return the path."""
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def assert_same_runs(a, b) -> None:
    """Same runs, each once, identical values (ordered by run id, not by finishing order)."""
    assert a.summary["run_id"].is_unique and b.summary["run_id"].is_unique
    pd.testing.assert_frame_equal(a.summary, b.summary, check_like=True)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_like=True)
    pd.testing.assert_frame_equal(a.design, b.design)


class CtrlCAt(cf.Executor):
    """Runs each call in-process at once; 'Ctrl-C' (KeyboardInterrupt) arrives on the
    ``nth`` submission."""

    def __init__(self, nth: int):
        self.nth = nth
        self.n = 0

    def submit(self, fn, /, *args, **kwargs):
        self.n += 1
        if self.n == self.nth:
            raise KeyboardInterrupt
        f = cf.Future()
        f.set_result(fn(*args, **kwargs))
        return f


def child_env() -> dict[str, str]:
    """The environment of a child Python process that imports this same qunsim."""
    return {**os.environ, "PYTHONPATH": str(Path(qs.__file__).parents[1])}


@contextlib.contextmanager
def lock_held_elsewhere(out: Path) -> Iterator[subprocess.Popen]:
    """Another process holds the lock of the sweep directory ``out`` (as a running sweep
    does) for the length of the block; then it is SIGKILLed: no clean-up, the kernel drops
    its lock and its lock file stays."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from qunsim.sweep.store import Store
        with Store({str(out)!r}).lock():
            print("locked", flush=True)
            time.sleep(60)
    """)], stdout=subprocess.PIPE, env=child_env())
    try:
        assert holder.stdout.readline().strip() == b"locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def descendants(pid: int) -> set[int]:
    """The process ids below ``pid`` (children, grandchildren ...), from /proc."""
    parents: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        for c in parents.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def watch_until_committed(proc: subprocess.Popen, out: Path, commits: int, timeout: float = 120) -> set[int]:
    """Wait until the sweep run by ``proc`` into ``out`` has ``commits`` commit records (or
    ``proc`` ended, or ``timeout`` seconds passed); return every descendant process seen."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        seen |= descendants(proc.pid)
        if (out / "commits").is_dir() and len(list((out / "commits").glob("*.json"))) >= commits:
            break
        time.sleep(0.005)
    return seen
