"""The sweep store: a directory of Parquet part files, a commit log and a manifest.

Layout::

    OUT/
      manifest.json            provenance; written first, updated at each session's start and end
      design.parquet           every planned run: run_id, point, replicate, seed, axis values
      summary/part-B.parquet   one row per finished run (design columns + summary statistics)
      timeseries/part-B.parquet  tidy time series (run_id, step, metrics) of the same runs
      failures/part-B.parquet  runs that raised: design columns, error, traceback
      commits/B.json           the commit record of batch B: its runs and each part's checksum
      damaged/                 files that failed verification, moved aside by ``--resume``
      .lock                    held (``flock``) by the one process writing the sweep

Results are written in small batches as runs finish. Each file is written to a temporary
name, fsynced and renamed into place, and a batch counts only once its commit record exists,
which is written last and holds the size and SHA-256 of every part file of the batch (and a
checksum of itself). Reading verifies: a part that is missing, truncated or altered makes its
batch *damaged* and the batch's runs *lost*. ``--resume`` moves damaged files to ``damaged/``
and runs the lost runs again; :func:`qunsim.load_results` refuses a damaged sweep (or, if
asked, warns and returns only the verified runs). The manifest lists every batch committed at
the end of the last session, so a deleted commit record is noticed too.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from qunsim.sweep.executors import SweepError

__all__ = ["Store", "StoreError", "Verification", "atomic_write_bytes", "atomic_write_json", "file_sha256"]

_PARTS = ("summary", "timeseries", "failures")
_KNOWN = {"manifest.json", "design.parquet", ".lock", ".lock.excl", "damaged", "commits", *_PARTS}
FORMAT = 2  # commit record format: 2 = with part checksums

# Testing hook: when set, called as ``_HOOK(event, path)`` at every write point of the store
# ("begin" before a file is written, "tmp" once its temporary is on disk, "done" after the
# rename, "unlock" before the lock file is removed). The kill/disk-full tests use it.
_HOOK = None


def _event(event: str, path: Path) -> None:
    if _HOOK is not None:
        _HOOK(event, Path(path))


class StoreError(SweepError):
    """A sweep directory is damaged or unreadable. One paragraph: the file, what is wrong, what to do."""


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _write_file(f, data: bytes) -> None:
    f.write(data)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsync and ``os.replace``.

    An ``OSError`` (disk full, permission) leaves ``path`` as it was and no temporary behind.
    """
    path = Path(path)
    _event("begin", path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as f:
            _write_file(f, data)
            f.flush()
            os.fsync(f.fileno())
        _event("tmp", path)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    _event("done", path)


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, default=_json_default).encode()


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, _json_bytes(obj))


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def _record_check(rec: dict) -> str:
    body = {k: v for k, v in rec.items() if k != "check"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=_json_default).encode()).hexdigest()


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


def _batch_order(p: Path) -> tuple:
    """Batches sort by session, then sequence number (``s012-000034``), numerically."""
    try:
        a, b = p.stem[1:].split("-")
        return (0, int(a), int(b), p.stem)
    except ValueError:
        return (1, 0, 0, p.stem)


def _ids(ids: list[str], n: int = 8) -> str:
    ids = sorted(ids)
    return ", ".join(ids[:n]) + (f" and {len(ids) - n} more" if len(ids) > n else "")


@dataclass
class Damage:
    """A batch that failed verification: why, its files, and the runs it held (if known)."""

    batch: str
    reason: str
    files: list[Path] = field(default_factory=list)
    ok: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass
class Verification:
    """What a sweep directory holds, checked against the checksums of its commit records."""

    good: list[dict]  # verified commit records, batch order
    damaged: list[Damage]
    done: set[str]  # run ids with a verified result
    failed: dict[str, dict]  # run ids whose verified last attempt failed -> {"batch"}

    @property
    def lost(self) -> list[str]:
        """Runs whose committed result (or failure record) is damaged or missing."""
        out = set()
        for d in self.damaged:
            out |= set(d.ok) | set(d.failed)
        return sorted(out - self.done - set(self.failed))

    def describe(self, root: Path, n: int = 3) -> str:
        parts = [f"{d.reason}" for d in self.damaged[:n]]
        more = f" (and {len(self.damaged) - n} more damaged batches)" if len(self.damaged) > n else ""
        return "; ".join(parts) + more


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
        """The manifest, checked for the keys a sweep needs; :class:`StoreError` if damaged."""
        p = self.manifest_path
        try:
            m = json.loads(p.read_bytes())
        except FileNotFoundError:
            raise StoreError(f"{p} is missing: this directory holds no readable sweep manifest") from None
        except (OSError, ValueError) as e:
            what = f"cannot be read: {e.strerror}" if isinstance(e, OSError) else f"not valid JSON: {e}"
            raise StoreError(f"{p} is damaged ({what}); the sweep's results may be intact: "
                             f"`qunsim sweep SWEEP.toml --out {self.root} --resume` with the sweep file "
                             f"that made it rebuilds the manifest from the commit records") from None
        if not isinstance(m, dict):
            raise StoreError(f"{p} is damaged (expected a JSON object, got {type(m).__name__}); "
                             f"`qunsim sweep SWEEP.toml --out {self.root} --resume` rebuilds it")
        if "check" in m and m["check"] != _record_check(m):  # older manifests have no checksum
            raise StoreError(f"{p} is damaged (it was altered: its checksum does not match); "
                             f"`qunsim sweep SWEEP.toml --out {self.root} --resume` with the sweep file "
                             f"that made it rebuilds it from the commit records")
        need = {"fingerprint": str, "n_runs": int, "axes": list, "sessions": list, "name": str}
        for k, t in need.items():
            if not isinstance(m.get(k), t):
                raise StoreError(f"{p} is damaged (key `{k}` missing or not a {t.__name__}); "
                                 f"`qunsim sweep SWEEP.toml --out {self.root} --resume` with the sweep "
                                 f"file that made it rebuilds it from the commit records")
        return m

    def write_manifest(self, manifest: dict) -> None:
        """Write the manifest with a checksum of itself (``check``)."""
        body = json.loads(_json_bytes({k: v for k, v in manifest.items() if k != "check"}))
        body["check"] = _record_check(body)
        atomic_write_bytes(self.manifest_path, _json_bytes(body))

    def write_design(self, runs: pd.DataFrame, data: bytes | None = None) -> str:
        """Write ``design.parquet``; return its SHA-256."""
        data = parquet_bytes(runs) if data is None else data
        atomic_write_bytes(self.design_path, data)
        return hashlib.sha256(data).hexdigest()

    def read_design(self, sha256: str | None = None) -> pd.DataFrame:
        """``design.parquet``; :class:`StoreError` if missing, unreadable or not ``sha256``."""
        p = self.design_path
        if not p.is_file():
            raise StoreError(f"{p} is missing; `qunsim sweep SWEEP.toml --out {self.root} --resume` "
                             f"rewrites it from the sweep file")
        if sha256 is not None and file_sha256(p) != sha256:
            raise StoreError(f"{p} is damaged (its checksum differs from the one in manifest.json); "
                             f"`qunsim sweep SWEEP.toml --out {self.root} --resume` rewrites it")
        try:
            df = pd.read_parquet(p)
        except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds
            raise StoreError(f"{p} is damaged ({type(e).__name__}: {e}); "
                             f"`qunsim sweep SWEEP.toml --out {self.root} --resume` rewrites it") from None
        if not {"run_id", "seed", "point", "replicate"} <= set(df.columns):
            raise StoreError(f"{p} is damaged (no run_id/seed/point/replicate columns); "
                             f"`qunsim sweep SWEEP.toml --out {self.root} --resume` rewrites it")
        return df

    # ------------------------------------------------------------------ the lock
    @contextlib.contextmanager
    def lock(self):
        """Hold ``OUT/.lock`` (``flock``) while this process writes the sweep.

        A second process is refused at once (:class:`SweepError`); the kernel releases the lock
        when its holder exits, however it exits, so a killed sweep leaves no stale lock.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            with self._lock_excl():
                yield
            return
        path = self.root / ".lock"
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                raise SweepError(f"cannot write in the output directory {self.root}: {e.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise SweepError(self._locked_message(path)) from None
            except OSError:  # a filesystem without flock (some network mounts)
                os.close(fd)
                with self._lock_excl():
                    yield
                return
            # a holder removes the file as it releases: make sure ours is still the one in place
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        try:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                         "since": time.time()}).encode())
            yield
        finally:
            try:
                _event("unlock", path)
                with contextlib.suppress(OSError):
                    path.unlink()
            finally:
                os.close(fd)

    def _locked_message(self, path: Path) -> str:
        try:
            other = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            other = {}
        who = (f"pid {other.get('pid')} on host {other.get('host')}" if isinstance(other, dict) and other
               else "another process")
        return (f"another sweep process ({who}) is writing {self.root}; wait for it to finish or stop "
                f"it first (a killed process releases the lock by itself)")

    @contextlib.contextmanager
    def _lock_excl(self):
        """Where ``flock`` is missing: an exclusive-create file naming its owner; a file left
        by a process of this host that is gone is stale and taken over."""
        path = self.root / ".lock.excl"
        me = {"pid": os.getpid(), "host": socket.gethostname()}
        for _ in range(2):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
                break
            except FileExistsError:
                try:
                    other = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    other = {}
                if other.get("host") == me["host"] and not _pid_alive(int(other.get("pid", -1))):
                    path.unlink(missing_ok=True)  # stale: its process is gone
                    continue
                raise SweepError(self._locked_message(path)) from None
        else:
            raise SweepError(self._locked_message(path))
        os.write(fd, json.dumps(me).encode())
        os.close(fd)
        try:
            yield
        finally:
            path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ commit log
    def _read_commit(self, p: Path) -> dict:
        """A commit record, schema- and checksum-checked; ValueError(reason) otherwise."""
        try:
            rec = json.loads(p.read_bytes())
        except (OSError, ValueError) as e:
            raise ValueError(f"its commit record {p.name} is unreadable ({type(e).__name__})") from None
        if not isinstance(rec, dict):
            raise ValueError(f"its commit record {p.name} is not a JSON object")
        if rec.get("format") != FORMAT:
            raise ValueError(f"its commit record {p.name} has no part checksums (format "
                             f"{rec.get('format')!r}, expected {FORMAT}: written by an older qunsim)")
        for k, t in (("batch", str), ("ok", list), ("failed", list), ("parts", dict), ("check", str)):
            if not isinstance(rec.get(k), t):
                raise ValueError(f"its commit record {p.name} lacks key `{k}` ({t.__name__})")
        if rec["batch"] != p.stem or _record_check(rec) != rec["check"]:
            raise ValueError(f"its commit record {p.name} was altered (its own checksum does not match)")
        return rec

    def _batch_files(self, batch: str) -> list[Path]:
        out = [self.root / "commits" / f"{batch}.json"]
        out += [self.root / k / f"part-{batch}.parquet" for k in _PARTS]
        return [p for p in out if p.exists()]

    def _ids_in_parts(self, batch: str) -> tuple[list[str], list[str]]:
        """Best effort: run ids in a damaged batch's part files (for the message)."""
        found = {}
        for kind in ("summary", "failures"):
            p = self.root / kind / f"part-{batch}.parquet"
            try:
                found[kind] = sorted(set(pd.read_parquet(p, columns=["run_id"])["run_id"]))
            except Exception:  # noqa: BLE001
                found[kind] = []
        return found["summary"], found["failures"]

    def verify(self, committed: dict | None = None) -> Verification:
        """Check every commit record and part file (sizes and SHA-256).

        ``committed`` is the manifest's ``committed`` table (batch -> its run ids): a batch it
        lists whose commit record is gone is damaged too.
        """
        good: list[dict] = []
        damaged: list[Damage] = []
        d = self.root / "commits"
        seen = set()
        records = sorted(d.glob("*.json"), key=_batch_order) if d.is_dir() else []
        for p in records:
            batch = p.stem
            seen.add(batch)
            try:
                rec = self._read_commit(p)
            except ValueError as e:
                known = (committed or {}).get(batch) or {}
                ok, failed = known.get("ok"), known.get("failed")
                if ok is None:
                    ok, failed = self._ids_in_parts(batch)
                damaged.append(Damage(batch, f"batch {batch}: {e}", self._batch_files(batch), list(ok), list(failed or [])))
                continue
            problem = None
            if rec["ok"] and "summary" not in rec["parts"] or rec["failed"] and "failures" not in rec["parts"]:
                problem = f"its commit record {p.name} names no part for its runs"
            for kind, info in rec["parts"].items():
                if problem:
                    break
                try:
                    f = self.root / kind / f"part-{batch}.parquet"
                    if kind not in _PARTS or not isinstance(info, dict):
                        problem = f"its commit record {p.name} names an unknown part {kind!r}"
                    elif not f.is_file():
                        problem = f"{kind}/{f.name} is missing"
                    elif f.stat().st_size != info.get("bytes"):
                        problem = (f"{kind}/{f.name} was truncated or altered ({f.stat().st_size} bytes, "
                                   f"{info.get('bytes')} were written)")
                    elif file_sha256(f) != info.get("sha256"):
                        problem = f"{kind}/{f.name} was altered (checksum mismatch)"
                except OSError as e:
                    problem = f"{kind}/part-{batch}.parquet cannot be read ({e.strerror})"
            if problem:
                damaged.append(Damage(batch, f"batch {batch}: {problem}", self._batch_files(batch),
                                      list(rec["ok"]), list(rec["failed"])))
            else:
                good.append(rec)
        for batch, known in sorted((committed or {}).items()):
            if batch not in seen:
                damaged.append(Damage(batch, f"batch {batch}: its commit record commits/{batch}.json is missing",
                                      self._batch_files(batch), list(known.get("ok", [])),
                                      list(known.get("failed", []))))
        done: set[str] = set()
        failed: dict[str, dict] = {}
        for c in good:
            for rid in c["ok"]:
                done.add(rid)
                failed.pop(rid, None)
            for rid in c["failed"]:
                if rid not in done:
                    failed[rid] = {"batch": c["batch"]}
        return Verification(good, damaged, done, failed)

    def commits(self) -> list[dict]:
        """Verified commit records in batch order."""
        return self.verify().good

    def status(self) -> tuple[set[str], dict[str, dict]]:
        """``(done, failed)`` of the verified batches."""
        v = self.verify()
        return v.done, v.failed

    @staticmethod
    def committed_table(v: Verification) -> dict:
        """The manifest's record of the verified batches: batch -> its ok and failed run ids."""
        return {c["batch"]: {"ok": c["ok"], "failed": c["failed"]} for c in v.good}

    def quarantine(self, damage: list[Damage]) -> list[str]:
        """Move the files of damaged batches to ``damaged/`` (nothing is deleted)."""
        moved = []
        if not damage:
            return moved
        stamp = time.strftime("%Y%m%dT%H%M%S")
        dest, i = self.root / "damaged" / stamp, 1
        while dest.exists():
            i += 1
            dest = self.root / "damaged" / f"{stamp}-{i}"
        for d in damage:
            for f in d.files:
                target = dest / f.relative_to(self.root)
                target.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f, target)
                    moved.append(str(target.relative_to(self.root)))
        return moved

    def cleanup(self) -> int:
        """Delete part files of batches without a commit record, and stray temporary files.

        Damaged batches must have been moved aside first (:meth:`quarantine`): a part whose
        commit record exists is kept, verified or not.
        """
        d = self.root / "commits"
        committed = {p.stem for p in d.glob("*.json")} if d.is_dir() else set()
        n = 0
        for p in self.root.iterdir() if self.root.is_dir() else []:
            if p.is_file() and p.name.startswith(".") and p.name.endswith(".tmp"):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                n += 1
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

    def is_skeleton(self) -> bool:
        """Nothing here but what a sweep writes before its first commit (a failed or killed start)."""
        if not self.root.is_dir():
            return True
        for p in self.root.iterdir():
            tmp = p.name.startswith(".") and p.name.endswith(".tmp")
            if tmp:
                continue
            if p.name not in _KNOWN or p.name == "damaged":
                return False
            if p.is_dir() != (p.name in (*_PARTS, "commits")):  # e.g. a directory named manifest.json
                return False
            if p.is_dir():  # only temporaries; part files (of no batch) too, but no commit record
                for q in p.iterdir():
                    tmp = q.name.startswith(".") and q.name.endswith(".tmp")
                    part = p.name != "commits" and q.name.startswith("part-") and q.suffix == ".parquet"
                    if not (tmp or part) or not q.is_file():
                        return False
        with contextlib.suppress(StoreError):
            m = self.read_manifest()
            if m.get("committed") or m.get("done"):
                return False
        return True

    def remove_skeleton(self) -> None:
        """Remove what :meth:`is_skeleton` found (only the store's own names)."""
        import shutil

        for p in list(self.root.iterdir()):
            if p.name in (".lock", ".lock.excl"):
                continue
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()

    def commit_fingerprints(self) -> set[str]:
        """The sweep fingerprints named by the readable commit records."""
        out = set()
        d = self.root / "commits"
        for p in sorted(d.glob("*.json")) if d.is_dir() else []:
            with contextlib.suppress(ValueError):
                out.add(self._read_commit(p).get("fingerprint"))
        return out

    def next_batch_prefix(self, session: int) -> str:
        return f"s{session:03d}"

    def last_session(self) -> int:
        """The highest session number in any batch name on disk (0 if none)."""
        n = 0
        for sub in (*_PARTS, "commits"):
            d = self.root / sub
            for p in d.iterdir() if d.is_dir() else []:
                name = p.name.removeprefix("part-")
                if name.startswith("s") and "-" in name:
                    with contextlib.suppress(ValueError):
                        n = max(n, int(name[1:name.index("-")]))
        return n

    def write_batch(self, batch: str, summary: list[dict], timeseries: list[pd.DataFrame],
                    failures: list[dict], timings: dict[str, float], fingerprint: str | None = None) -> None:
        """Write one batch's parts, then its commit record with their checksums (the commit point)."""
        path = self.root / "commits" / f"{batch}.json"
        if path.exists():  # never replace a committed batch (or its parts)
            raise FileExistsError(errno.EEXIST, "a commit record of that name exists", str(path))
        parts = {}
        frames = {"timeseries": pd.concat(timeseries, ignore_index=True) if timeseries else None,
                  "failures": pd.DataFrame(failures) if failures else None,
                  "summary": pd.DataFrame(summary) if summary else None}
        for kind, df in frames.items():
            if df is None:
                continue
            data = parquet_bytes(df)
            atomic_write_bytes(self.root / kind / f"part-{batch}.parquet", data)
            parts[kind] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "rows": len(df)}
        rec = {
            "format": FORMAT,
            "batch": batch,
            "fingerprint": fingerprint,
            "ok": [s["run_id"] for s in summary],
            "failed": [f["run_id"] for f in failures],
            "parts": parts,
            "seconds": timings,
        }
        rec["check"] = _record_check(rec)
        atomic_write_json(path, rec)

    # ------------------------------------------------------------------ reading parts
    def read_parts(self, kind: str, columns: list[str] | None = None,
                   filters: Any = None, batches: list[dict] | None = None) -> pd.DataFrame:
        """Concatenate the verified part files of ``summary``, ``timeseries`` or ``failures``."""
        frames = []
        for c in self.commits() if batches is None else batches:
            if kind not in c["parts"]:
                continue
            p = self.root / kind / f"part-{c['batch']}.parquet"
            try:
                frames.append(pd.read_parquet(p, columns=columns, filters=filters))
            except Exception as e:  # noqa: BLE001 - changed after verification, or a bad column
                if isinstance(e, (KeyError, ValueError)) and columns and p.is_file():
                    raise
                raise StoreError(f"{p} cannot be read ({type(e).__name__}: {e}); it changed after it "
                                 f"was verified: run `qunsim sweep SWEEP.toml --out {self.root} --resume`") from None
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=columns) if columns else pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------------ reading a sweep back
    def open_verified(self, lost: str = "raise") -> tuple[dict, Verification, list[str]]:
        """Manifest and verification for reading; ``lost`` = "raise" or "warn" on lost runs.

        Returns ``(manifest, verification, lost_ids)``. Raises :class:`StoreError` when the
        manifest or design is damaged, or when runs are lost and ``lost="raise"``.
        """
        if lost not in ("raise", "warn"):
            raise ValueError(f"lost must be 'raise' or 'warn', got {lost!r}")
        m = self.read_manifest()
        design = self.read_design(m.get("design_sha256"))
        v = self.verify(m.get("committed"))
        lost_ids = set(v.lost)
        reasons = [v.describe(self.root)] if v.damaged else []
        if m.get("status") in ("complete", "complete_with_failures"):
            gone = set(design["run_id"]) - v.done - set(v.failed)
            if gone - lost_ids:
                reasons.append(f"manifest.json says the sweep is {m['status']} but "
                               f"{len(gone - lost_ids)} of its runs have no committed result")
            lost_ids |= gone
        lost_ids = sorted(lost_ids)
        if lost_ids or v.damaged:  # a damaged batch whose runs cannot be named still counts
            which = f"{len(lost_ids)} run(s) ({_ids(lost_ids)})" if lost_ids else "the runs of damaged batches"
            msg = (f"the sweep in {self.root} has lost {which}: "
                   f"{'; '.join(reasons)}. `qunsim sweep SWEEP.toml --out {self.root} --resume` moves "
                   f"the damaged files to damaged/ and runs them again")
            if lost == "raise":
                raise StoreError(msg + "; load_results(path, lost=\"warn\") reads the verified runs only")
            import warnings

            warnings.warn(msg + "; returning the verified runs only", UserWarning, stacklevel=3)
        return m, v, lost_ids


def is_disk_full(e: OSError) -> bool:
    return e.errno in (errno.ENOSPC, errno.EDQUOT)
