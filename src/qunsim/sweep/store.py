"""The sweep store: a directory of Parquet part files, a commit log and a manifest.

Layout::

    OUT/
      manifest.json            provenance (written first, updated at the end of each session)
      design.parquet           every planned run: run_id, point, replicate, seed, axis values
      summary/part-B.parquet   one row per finished run (design columns + summary statistics)
      timeseries/part-B.parquet  tidy time series (run_id, step, metrics) of the same runs
      failures/part-B.parquet  runs that raised: design columns, error, traceback
      commits/B.json           the commit record of batch B: which runs it holds

Results are written in small batches as runs finish. Each file is written to a temporary
name and renamed into place (atomic on POSIX and Windows), and a batch counts only once its
commit record exists, which is written last. A crash therefore never leaves a half-written
file counted as done: on resume, parts without a commit record are deleted and their runs
run again.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Store", "atomic_write_bytes", "atomic_write_json"]

_PARTS = ("summary", "timeseries", "failures")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, default=_json_default).encode())


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def _atomic_parquet(path: Path, df: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    df.to_parquet(tmp, index=False)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    """Read and write one sweep directory (see the module docstring for the layout)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # ------------------------------------------------------------------ paths
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def design_path(self) -> Path:
        return self.root / "design.parquet"

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def create(self) -> None:
        for d in (*_PARTS, "commits"):
            (self.root / d).mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ manifest, design
    def read_manifest(self) -> dict:
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def write_manifest(self, manifest: dict) -> None:
        atomic_write_json(self.manifest_path, manifest)

    def write_design(self, runs: pd.DataFrame) -> None:
        _atomic_parquet(self.design_path, runs)

    def read_design(self) -> pd.DataFrame:
        return pd.read_parquet(self.design_path)

    @contextlib.contextmanager
    def lock(self):
        """Hold ``OUT/.lock`` while writing: a second process resuming the same sweep is refused
        (it would delete this one's uncommitted parts). A lock left by a killed process on this
        host is stale and taken over."""
        import socket

        from qunsim.sweep.executors import SweepError

        path = self.root / ".lock"
        me = {"pid": os.getpid(), "host": socket.gethostname()}
        if path.exists():
            try:
                other = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                other = {}
            if other.get("host") == me["host"]:
                if other.get("pid") != me["pid"] and _pid_alive(int(other.get("pid", -1))):
                    raise SweepError(f"another sweep process (pid {other['pid']}) is writing {self.root}; "
                                     f"wait for it or stop it first")
            elif other:
                raise SweepError(f"{self.root} is locked by a sweep on host {other.get('host')} "
                                 f"(pid {other.get('pid')}); if no sweep is running there, delete {path}")
        atomic_write_json(path, me)
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    # ------------------------------------------------------------------ commit log
    def commits(self) -> list[dict]:
        """Commit records in batch order (their names sort in the order they were written)."""
        d = self.root / "commits"
        if not d.is_dir():
            return []
        out = []
        for p in sorted(d.glob("*.json")):
            out.append(json.loads(p.read_text(encoding="utf-8")))
        return out

    def status(self) -> tuple[set[str], dict[str, dict]]:
        """``(done, failed)``: run ids finished; failed run ids (not since finished) -> record."""
        done: set[str] = set()
        failed: dict[str, dict] = {}
        for c in self.commits():
            for rid in c["ok"]:
                done.add(rid)
                failed.pop(rid, None)
            for rid in c["failed"]:
                if rid not in done:
                    failed[rid] = {"batch": c["batch"]}
        return done, failed

    def cleanup(self) -> int:
        """Delete part files of uncommitted batches and stray temporary files."""
        committed = {c["batch"] for c in self.commits()}
        n = 0
        for sub in (*_PARTS, "commits"):
            d = self.root / sub
            if not d.is_dir():
                continue
            for p in d.iterdir():
                stray = p.name.startswith(".") and p.name.endswith(".tmp")
                orphan = p.suffix == ".parquet" and p.stem.removeprefix("part-") not in committed
                if stray or orphan:
                    with contextlib.suppress(FileNotFoundError):
                        p.unlink()
                    n += 1
        return n

    def next_batch_prefix(self, session: int) -> str:
        return f"s{session:03d}"

    def write_batch(self, batch: str, summary: list[dict], timeseries: list[pd.DataFrame],
                    failures: list[dict], timings: dict[str, float]) -> None:
        """Write one batch's parts, then its commit record (the commit point)."""
        if timeseries:
            _atomic_parquet(self.root / "timeseries" / f"part-{batch}.parquet",
                            pd.concat(timeseries, ignore_index=True))
        if failures:
            _atomic_parquet(self.root / "failures" / f"part-{batch}.parquet", pd.DataFrame(failures))
        if summary:
            _atomic_parquet(self.root / "summary" / f"part-{batch}.parquet", pd.DataFrame(summary))
        atomic_write_json(self.root / "commits" / f"{batch}.json", {
            "batch": batch,
            "ok": [s["run_id"] for s in summary],
            "failed": [f["run_id"] for f in failures],
            "seconds": timings,
        })

    # ------------------------------------------------------------------ reading parts
    def read_parts(self, kind: str, columns: list[str] | None = None,
                   filters: Any = None) -> pd.DataFrame:
        """Concatenate the committed part files of ``summary``, ``timeseries`` or ``failures``."""
        frames = []
        for c in self.commits():
            p = self.root / kind / f"part-{c['batch']}.parquet"
            if p.is_file():
                frames.append(pd.read_parquet(p, columns=columns, filters=filters))
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=columns) if columns else pd.DataFrame()
        return pd.concat(frames, ignore_index=True)
