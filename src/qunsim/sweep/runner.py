"""Running a sweep: plan, submit, stream results to the store, resume, stop cleanly."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as _dt
import getpass
import hashlib
import itertools
import json
import platform
import socket
import subprocess
import sys
import time
import traceback
import warnings
from concurrent.futures.process import BrokenProcessPool
from importlib import metadata
from pathlib import Path

import pandas as pd

from qunsim.config import Config, ConfigError
from qunsim.sweep.design import make_design, make_runs
from qunsim.sweep.executors import ExecutorHandle, SweepError, open_executor
from qunsim.sweep.plugins import plugin_changes, plugin_sources
from qunsim.sweep.spec import SweepSpec, load_sweep
from qunsim.sweep.store import Damage, Store, StoreError, Verification, is_disk_full, parquet_bytes

__all__ = ["sweep", "run_task", "make_task", "provenance"]

_PACKAGES = ("numpy", "scipy", "pandas", "pyarrow", "networkx", "mesa", "pydantic", "tqdm",
             "dask", "distributed", "SALib")


# ---------------------------------------------------------------------- the worker side


class _ConfigRef:
    """A base config as sent to workers: its plain data and a content key. A worker validates
    each distinct base once and reuses it (a Config unpickles by re-validating, 1-4 ms)."""

    __slots__ = ("key", "data", "source")
    _cache: dict[str, Config] = {}  # per process: key -> Config

    def __init__(self, cfg: Config):
        self.data = cfg.to_dict()
        self.key = hashlib.sha256(json.dumps(self.data, sort_keys=True, default=str).encode()).hexdigest()
        self.source = cfg.source
        self._cache.setdefault(self.key, cfg)

    def get(self) -> Config:
        cfg = self._cache.get(self.key)
        if cfg is None:
            if len(self._cache) >= 16:
                self._cache.pop(next(iter(self._cache)))
            cfg = self._cache[self.key] = Config(self.data, source=self.source)
        return cfg

    def __getstate__(self):
        return (self.key, self.data, self.source)

    def __setstate__(self, state):
        self.key, self.data, self.source = state


def _config_ref(spec: SweepSpec, row: dict) -> _ConfigRef:
    label = row[spec.base_key] if spec.bases else None  # the "base" or "strategy" axis
    refs = spec.__dict__.setdefault("_config_refs", {})
    if label not in refs:
        refs[label] = _ConfigRef(spec.config_for(row))
    return refs[label]


def make_task(spec: SweepSpec, row: dict) -> dict:
    """The picklable description of one run (everything a worker needs)."""
    return {
        "run_id": row["run_id"],
        "seed": int(row["seed"]),
        "steps": spec.steps,
        "config": _config_ref(spec, row),
        "overrides": spec.overrides_for(row),
        "keep_ts": None if spec.keep.timeseries == "all" else list(spec.keep.timeseries),
        "period": spec.keep.period,
        "keep_summary": None if spec.keep.summary == "all" else list(spec.keep.summary),
    }


def run_task(task: dict) -> dict:
    """Run one simulation; never raises for a failing run (the error is returned).

    Returns a dict with ``run_id``, ``ok``, ``seconds`` and either ``summary`` (dict) and
    ``timeseries`` (DataFrame or None) or ``error`` and ``traceback``.
    """
    from qunsim.simulation import simulate

    t0 = time.perf_counter()
    try:
        cfg = task["config"]
        cfg = cfg.get() if isinstance(cfg, _ConfigRef) else cfg
        res = simulate(cfg, rng=task["seed"], steps=task["steps"], **task["overrides"])
        ts = res.timeseries
        keep = task["keep_ts"]
        if keep is not None and len(keep) == 0:
            ts = None
        else:
            if keep is not None:
                ts = ts[["step", *[c for c in keep if c != "step"]]]
            period = task["period"]
            if period > 1:
                last = ts["step"].max()
                ts = ts[(ts["step"] % period == 0) | (ts["step"] == last)]
            ts = ts.reset_index(drop=True)
            ts.insert(0, "run_id", task["run_id"])
        summary = res.summary
        if task["keep_summary"] is not None:
            summary = {k: summary[k] for k in task["keep_summary"]}
        return {"run_id": task["run_id"], "ok": True, "summary": summary, "timeseries": ts,
                "seconds": time.perf_counter() - t0}
    except KeyboardInterrupt:  # the user's Ctrl-C (or SIGTERM): stop the sweep
        raise
    except BaseException as e:  # noqa: BLE001 - a failing run is data, not a crash (SystemExit too)
        return {"run_id": task["run_id"], "ok": False, "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(), "seconds": time.perf_counter() - t0}


# ---------------------------------------------------------------------- provenance


def _git(path: Path) -> dict:
    def git(*args):
        return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()

    try:
        git("ls-files", "--error-unmatch", "__init__.py")  # qunsim's own checkout, not an enclosing repo
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
        return {"commit": commit, "dirty": dirty}
    except Exception:  # noqa: BLE001 - not a git checkout, or no git
        return {"commit": None, "dirty": None}


def provenance() -> dict:
    """Versions, git state of the qunsim source, host and user: who ran what, where."""
    import qunsim

    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001
        user = None
    return {
        "qunsim_version": qunsim.__version__,
        "git": _git(Path(qunsim.__file__).resolve().parent),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "user": user,
        "packages": versions,
    }


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------- the sweep


def _check_keep(spec: SweepSpec) -> None:
    """Names in ``keep`` must be time-series columns / summary keys (checked on a 0-step run)."""
    if spec.keep.timeseries == "all" and spec.keep.summary == "all":
        return
    from qunsim.simulation import simulate

    cols, keys = set(), set()
    for cfg in (spec.bases or {None: spec.base}).values():
        probe = simulate(cfg, rng=0, steps=0)
        cols |= set(probe.timeseries.columns)
        keys |= set(probe.summary)
    for what, names, known in (("timeseries", spec.keep.timeseries, cols),
                               ("summary", spec.keep.summary, keys)):
        if names == "all":
            continue
        bad = [n for n in names if n not in known]
        if bad:
            raise ConfigError(
                f"invalid sweep ({spec.source}): `keep.{what}` names unknown metric(s) {bad}; "
                f"known: {sorted(known)}")


def _inspect(spec: SweepSpec, store: Store, resume: bool, fp: str, plugins: dict) -> tuple[str, dict | None]:
    """What to do with the output directory, read-only: ``(plan, manifest)``.

    Plans: ``fresh`` (nothing there), ``replace`` (the remains of a start that never committed
    a run), ``resume`` (a sweep, ``--resume``), ``rebuild`` (results whose manifest is lost or
    damaged, ``--resume`` with the sweep file that made them). Raises :class:`SweepError`
    (one paragraph) for a directory that cannot be used.
    """
    root = store.root
    if not root.exists():
        return "fresh", None
    if not root.is_dir():
        raise SweepError(f"output path {root} is a file, not a directory")
    try:
        entries = [p for p in root.iterdir() if p.name not in (".lock", ".lock.excl")]
    except OSError as e:
        raise SweepError(f"cannot read the output directory {root}: {e.strerror}") from None
    if not entries:
        return "fresh", None
    if store.is_skeleton():
        return "replace", None
    try:
        manifest = store.read_manifest()
    except StoreError as damaged:
        e = damaged
        has_commits = (root / "commits").is_dir() and any((root / "commits").glob("*.json"))
        if not store.manifest_path.exists() and not has_commits:
            raise SweepError(f"output directory {root} is not empty and holds no sweep; choose another") from None
        if not store.manifest_path.exists():
            e = StoreError(f"{root} holds sweep results (commit records) but no manifest.json; "
                           f"`qunsim sweep SWEEP.toml --out {root} --resume` with the sweep file that "
                           f"made them rebuilds it")
        if not resume:
            raise StoreError(f"{e}. Nothing was changed") from None
        fps = store.commit_fingerprints()
        if fps != {fp}:
            raise StoreError(
                f"{e}; and its commit records do not all name this sweep (fingerprint {fp}; the records "
                f"name {sorted(str(f) for f in fps) or 'none readable'}), so it cannot be rebuilt from "
                f"{spec.source}. Use the sweep file that made it, or another output directory") from None
        return "rebuild", None
    if not resume:
        raise SweepError(
            f"{root} already holds a sweep; pass --resume (resume=True) to finish it, "
            f"or choose another output directory")
    _check_fingerprint(spec, manifest, store, fp)
    _check_plugins(manifest, plugins, store)
    return "resume", manifest


def _check_fingerprint(spec: SweepSpec, manifest: dict, store: Store, fp: str | None = None) -> None:
    fp = fp or spec.fingerprint()
    if manifest.get("fingerprint") != fp:
        raise SweepError(
            f"{store.root} holds a different sweep ({(manifest.get('sweep') or {}).get('source')}, "
            f"fingerprint {manifest.get('fingerprint')}); the sweep file, its base scenario or "
            f"its points changed since it started (now {fp}). Use another output directory.")


def _check_plugins(manifest: dict, plugins: dict, store: Store) -> None:
    if "plugins" not in manifest:  # a sweep started by a qunsim that did not record them
        return
    changes = plugin_changes(manifest["plugins"], plugins)
    if changes:
        raise SweepError(
            f"cannot resume the sweep in {store.root}: the user policy code it runs changed since it "
            f"started ({'; '.join(changes)}); runs of the two versions would be mixed. Restore the "
            f"module as it was, or run the sweep into another output directory")


def _warn_if_code_changed(manifest: dict, sess: dict, store: Store) -> None:
    if not manifest["sessions"]:
        return
    last = manifest["sessions"][-1]
    before = (last.get("qunsim_version"), (last.get("git") or {}).get("commit"))
    now = (sess.get("qunsim_version"), (sess.get("git") or {}).get("commit"))
    if before != now:
        warnings.warn(f"resuming the sweep in {store.root} with a different qunsim "
                      f"(version/commit {before} -> {now}); runs of the two sessions may not be "
                      f"comparable (both are recorded in manifest.json)", stacklevel=3)


def _new_manifest(spec: SweepSpec, runs: pd.DataFrame, fp: str, plugins: dict, design_sha: str) -> dict:
    return {
        "name": spec.name,
        "fingerprint": fp,
        "status": "starting",
        "root_seed": spec.seed,
        "seeds": ("per run in design.parquet: SeedSequence(root_seed, spawn_key=(0, replicate)) at every "
                  "point (pairing = common)" if spec.pairing == "common" else
                  "per run in design.parquet: SeedSequence(root_seed, spawn_key=(point, replicate))"),
        "n_points": int(runs["point"].nunique()),
        "replicates": spec.replicates,
        "n_runs": len(runs),
        "steps": spec.steps,
        "axes": spec.keys,
        "design": spec.design.model_dump(),
        "design_sha256": design_sha,
        "keep": spec.keep.model_dump(),
        "plugins": plugins,
        "sweep": {"source": spec.source, "text": spec.text, "resolved": spec.raw, "fixed": spec.fixed},
        "base_config": ({k: c.to_dict() for k, c in spec.bases.items()} if spec.bases else spec.base.to_dict()),
        "base_source": ({k: c.source for k, c in spec.bases.items()} if spec.bases else spec.base.source),
        "created": _now(),
        "sessions": [],
        "committed": {},
    }


def _prepare(spec: SweepSpec, store: Store, plan: str, manifest: dict | None, runs: pd.DataFrame,
             fp: str, plugins: dict) -> tuple[dict, list[str]]:
    """Bring the directory to a resumable state for ``plan``: ``(manifest, notes)``.

    A new sweep writes its manifest first (atomically), then the directories and the design,
    so a kill at any point leaves either a skeleton (replaced by the next start) or a sweep
    that ``--resume`` finishes.
    """
    notes = []
    if plan == "replace":
        notes.append(f"{store.root} held the start of a sweep that never committed a run (a failed or "
                     f"killed start); it was removed and the sweep started afresh")
        store.remove_skeleton()
        plan = "fresh"
    if plan in ("fresh", "rebuild"):
        data = parquet_bytes(runs)
        new = _new_manifest(spec, runs, fp, plugins, hashlib.sha256(data).hexdigest())
        if plan == "rebuild":
            moved = store.quarantine([Damage("manifest", "", [store.manifest_path])]) \
                if store.manifest_path.exists() else []
            new["rebuilt"] = {"at": _now(), "damaged_manifest": moved[0] if moved else None,
                              "note": "manifest.json was missing or damaged and was rebuilt from the sweep "
                                      "file and the commit records; earlier sessions' provenance is lost"}
            notes.append(f"{store.manifest_path} was missing or damaged: rebuilt from {spec.source} and the "
                         f"commit records (earlier sessions' provenance is lost"
                         + (f"; the damaged file is kept as {moved[0]})" if moved else ")"))
            new["status"] = "running"
        store.write_manifest(new)  # first: from here on the directory is a sweep
        store.create()
        if plan == "fresh":
            store.write_design(runs, data)
            return new, notes
        manifest = new
    store.create()  # a deleted commits/ or part directory comes back
    try:
        old = store.read_design(manifest.get("design_sha256"))
    except StoreError:
        manifest["design_sha256"] = store.write_design(runs)
        notes.append(f"{store.design_path} was missing or damaged: rewritten from {spec.source}")
        return manifest, notes
    if list(old["run_id"]) != list(runs["run_id"]) or list(old["seed"]) != list(runs["seed"]):
        raise SweepError(f"{store.root}/design.parquet does not match the sweep's runs; use another output directory")
    return manifest, notes


def _write_manifest_quietly(store: Store, manifest: dict) -> None:
    """The end-of-session manifest update: best effort (on a full disk it stays as it was)."""
    try:
        store.write_manifest(manifest)
    except OSError as e:
        warnings.warn(f"could not update {store.manifest_path} at the end of the session ({e.strerror}); "
                      f"the committed results are safe, and the next --resume records the sweep's state",
                      UserWarning, stacklevel=3)


def sweep(spec: SweepSpec | str | Path | dict, out: str | Path, *, workers: int | None = None,
          executor: str | cf.Executor = "local", scheduler: str | None = None,
          resume: bool = False, progress: bool | None = None, flush_runs: int = 16,
          flush_seconds: float = 5.0, max_pending: int | None = None,
          timeout: float | None = None):
    """Run a sweep and stream its results to ``out``; return :func:`load_results` of it.

    Parameters
    ----------
    spec : a sweep file, dict or :class:`~qunsim.sweep.spec.SweepSpec`.
    out : output directory (created; must be empty unless ``resume``).
    workers : worker processes (default: usable cores).
    executor : "serial", "local" (process pool, default), "dask", or any
        ``concurrent.futures.Executor`` instance (used as is, not shut down).
    scheduler : Dask scheduler address; without it ``executor="dask"`` starts a LocalCluster.
    resume : finish a sweep already in ``out``: runs only what is missing, failed or lost
        (a result whose files fail verification is moved to ``damaged/`` and run again).
    progress : show a tqdm bar; default only when stderr is a terminal.
    flush_runs, flush_seconds : results are committed every ``flush_runs`` finished runs or
        ``flush_seconds`` seconds, whichever comes first: a crash loses at most that much work;
        fewer, larger part files the longer they are.
    max_pending : runs submitted ahead (default 2 per worker): bounds memory.
    timeout : seconds a run may take (default: the sweep file's ``timeout``, else none). A run
        over time is recorded as failed (``TimeoutError``) and the pool replaced; the runs in
        flight with it run again. Enforced on the local pool only, to within ~timeout/10.

    Returns
    -------
    SweepResults

    Raises
    ------
    ConfigError
        the sweep file is malformed.
    SweepError
        the output directory, executor or resume request is unusable (another process holds
        its lock, a user policy module changed since the sweep started, ...), or results
        could not be written (disk full: what was committed is kept; resume later).
    KeyboardInterrupt
        after a clean stop on Ctrl-C (finished runs are committed; resume later).

    Examples
    --------
    >>> import tempfile, qunsim as qs
    >>> spec = {"steps": 5, "replicates": 2, "axes": {"community.chatter_share": [0.0, 0.3]},
    ...         "fixed": {"community.n_seed": 30, "community.n_prospects": 200}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = qs.sweep(spec, d, executor="serial")
    ...     len(res.summary), len(res.failures), res.manifest["status"]
    (4, 0, 'complete')
    """
    from qunsim.sweep.analysis import load_results

    spec = load_sweep(spec)
    _check_keep(spec)
    store = Store(out)
    fp = spec.fingerprint()
    plugins = plugin_sources(spec)
    runs = make_runs(spec, make_design(spec))

    def owned():
        if isinstance(executor, cf.Executor):
            return contextlib.nullcontext(ExecutorHandle(executor, workers or 1, "custom",
                                                         {"executor": type(executor).__name__}))
        return open_executor(executor, workers, scheduler)

    with contextlib.ExitStack() as stack:
        # the lock comes before anything is read; a directory that does not exist yet is only
        # created once the executor is up (a cluster that cannot be reached writes nothing)
        locked = store.root.is_dir()
        if locked:
            stack.enter_context(store.lock())
        _inspect(spec, store, resume, fp, plugins)  # refuse before starting any executor
        handle = stack.enter_context(owned())
        if not locked:
            try:
                store.root.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise SweepError(f"cannot create the output directory {store.root}: {e.strerror}") from None
            stack.enter_context(store.lock())
        plan, manifest = _inspect(spec, store, resume, fp, plugins)
        try:
            manifest, notes = _prepare(spec, store, plan, manifest, runs, fp, plugins)
            check = store.verify(manifest.get("committed"))
            moved = store.quarantine(check.damaged)
            removed = store.cleanup()
            v = Verification(check.good, [], check.done, check.failed)  # the damaged are gone now
        except OSError as e:
            raise SweepError(f"cannot write the sweep in {store.root}: {e.strerror} ({e.filename}); "
                             f"nothing committed was lost; fix that and run the same command with --resume") from None
        lost = check.lost
        if check.damaged:
            which = f"{len(lost)} finished run(s)" if lost else "the finished runs of damaged batches"
            notes.append(f"{which} of {store.root} were lost ({check.describe(store.root)}); the damaged "
                         f"files are moved to damaged/ and these runs run again"
                         + (f": {_short(lost)}" if lost else ""))
        claimed = manifest.get("done") or 0
        if not check.damaged and claimed > len(v.done):
            notes.append(f"manifest.json recorded {claimed} finished runs but only {len(v.done)} are present "
                         f"and verified (commit records deleted?); the others run again")
        for n in notes:
            warnings.warn(n, UserWarning, stacklevel=2)
        done, failed = v.done, v.failed
        todo = runs[~runs["run_id"].isin(done)]
        # after a rebuilt manifest the sessions list restarts: batch names must not repeat
        session = max(len(manifest["sessions"]), store.last_session()) + 1
        sess = {"session": session, "started": _now(), "ended": None, "resumed": plan in ("resume", "rebuild"),
                "to_run": len(todo), "already_done": len(done), "retried_failed": len(failed),
                "cleaned_uncommitted_files": removed, "lost_rerun": lost, "moved_to_damaged": moved,
                **provenance(), "executor": handle.info}
        _warn_if_code_changed(manifest, sess, store)
        manifest["sessions"].append(sess)
        manifest["status"] = "running"
        manifest["plugins"] = plugins
        manifest["committed"] = Store.committed_table(v)
        try:
            store.write_manifest(manifest)
        except OSError as e:
            raise SweepError(f"cannot write {store.manifest_path}: {e.strerror}; nothing committed was "
                             f"lost; fix that and run the same command with --resume") from None
        status = "interrupted"
        try:
            timeout = timeout if timeout is not None else spec.timeout
            if timeout is not None and handle.kind != "local":
                warnings.warn(f"the run timeout ({timeout} s) is enforced on the local pool only, "
                              f"not on the {handle.kind} executor", stacklevel=2)
                timeout = None
            counts = _drive(spec, store, todo, handle, session, progress, flush_runs,
                            flush_seconds, max_pending, total=len(runs), initial=len(done),
                            timeout=timeout, fingerprint=fp)
            status = "complete"
        except BaseException as e:
            if handle.kind != "custom" or isinstance(e, KeyboardInterrupt):
                handle.stop()  # a write error: no point waiting for the runs in flight
            raise
        finally:
            v = store.verify()
            done, failed = v.done, v.failed
            sess["ended"] = _now()
            sess["status"] = status
            if status == "complete":
                sess.update(counts)
            all_ids = set(runs["run_id"])
            manifest["status"] = "complete" if status == "complete" and all_ids <= done else (
                "complete_with_failures" if status == "complete" and all_ids <= done | set(failed)
                else "interrupted")
            manifest["done"], manifest["failed"] = len(done), len(failed)
            manifest["committed"] = Store.committed_table(v)
            manifest["updated"] = _now()
            _write_manifest_quietly(store, manifest)
    return load_results(store.root)


def _short(ids: list[str], n: int = 8) -> str:
    return ", ".join(ids[:n]) + (f" and {len(ids) - n} more" if len(ids) > n else "")


def _drive(spec, store, todo, handle, session, progress, flush_runs, flush_seconds, max_pending,
           total, initial, timeout=None, fingerprint=None) -> dict:
    """Submit runs (at most ``limit`` ahead), record results as they finish, commit batches.

    A worker process that dies (segfault, out of memory, ``os._exit``) breaks a local pool and
    every run then in flight with it. Those runs become *suspects*: on a fresh pool they are
    retried one at a time, so the run that kills its worker is found and recorded as failed and
    the innocent ones complete. A run over ``timeout`` (timed from when the pool hands it to
    a worker) is recorded as failed and the pool replaced; the others in flight run again.
    """
    from collections import deque

    from tqdm.auto import tqdm

    cols = list(todo.columns)
    rows = (dict(zip(cols, vals, strict=True)) for vals in todo.itertuples(index=False, name=None))
    by_id: dict[str, dict] = {}
    limit = max_pending or max(2, 2 * handle.workers)
    pending: dict[cf.Future, str] = {}
    suspects: deque[str] = deque()  # run ids to retry alone after a broken pool
    again: deque[str] = deque()  # run ids to resubmit (lost with a pool replaced after a timeout)
    started: dict[cf.Future, float] = {}  # when a run was first seen computing on a worker
    order: dict[cf.Future, int] = {}  # submission order
    seq = itertools.count()
    alone: set[str] = set()  # suspects in flight on their own
    buf: dict[str, list] = {"summary": [], "timeseries": [], "failures": [], "timings": {}}
    state = {"batch": 0, "last_flush": time.monotonic(), "ok": 0, "failed": 0, "breaks": 0}
    bar = tqdm(total=total, initial=initial, unit="run", desc=spec.name, file=sys.stderr,
               disable=None if progress is None else not progress, dynamic_ncols=True)

    def flush():
        if buf["summary"] or buf["failures"]:
            state["batch"] += 1
            n = len(buf["summary"]) + len(buf["failures"])
            try:
                store.write_batch(f"{store.next_batch_prefix(session)}-{state['batch']:06d}",
                                  buf["summary"], buf["timeseries"], buf["failures"], buf["timings"],
                                  fingerprint=fingerprint)
            except OSError as e:
                what = "the disk is full" if is_disk_full(e) else e.strerror or type(e).__name__
                raise SweepError(
                    f"could not write the results of {n} finished run(s) to {store.root}: {what} "
                    f"({e.filename or store.root}); the sweep stopped. Runs committed before are kept and "
                    f"these were not committed: free space (or fix the cause) and run the same command "
                    f"with --resume to finish") from None
            for k in ("summary", "timeseries", "failures"):
                buf[k] = []
            buf["timings"] = {}
        state["last_flush"] = time.monotonic()

    def send(rid: str) -> None:
        fut = handle.executor.submit(run_task, make_task(spec, by_id[rid]))
        pending[fut] = rid
        order[fut] = next(seq)

    def submit():
        if suspects or alone:  # isolating: one suspect at a time, nothing else alongside
            if not pending and suspects:
                rid = suspects.popleft()
                alone.add(rid)
                send(rid)
            return
        while len(pending) < limit and again:
            send(again.popleft())
        while len(pending) < limit:
            row = next(rows, None)
            if row is None:
                return
            by_id[row["run_id"]] = row
            send(row["run_id"])

    def check_timeouts() -> None:
        # the pool marks a run "running" when it queues it for a worker (up to workers + 1 of
        # them); the first `workers` in submission order are the ones being computed
        now = time.monotonic()
        running = sorted((f for f in pending if f.running() and not f.done()), key=order.__getitem__)
        over = []
        for fut in running[:handle.workers]:
            if now - started.setdefault(fut, now) > timeout:
                over.append(fut)
        if not over:
            return
        for fut, rid in list(pending.items()):
            pending.pop(fut)
            started.pop(fut, None)
            order.pop(fut, None)
            if fut in over:
                alone.discard(rid)
                record(rid, {"ok": False, "error": f"TimeoutError: the run took longer than {timeout:g} s "
                                                      f"and was stopped", "traceback": "", "seconds": timeout})
            elif fut.done() and not fut.cancelled() and fut.exception() is None:
                record(rid, fut.result())
            elif rid in alone:
                alone.discard(rid)
                suspects.appendleft(rid)
            else:
                again.append(rid)
        flush()
        handle.stop()
        handle.restart()

    def record(rid: str, result: dict) -> None:
        row = by_id.pop(rid)
        alone.discard(rid)
        design = {k: row[k] for k in ("run_id", "point", "replicate", "seed", *spec.keys)}
        buf["timings"][rid] = round(float(result.get("seconds", 0.0)), 6)
        if result["ok"]:
            buf["summary"].append({**design, **result["summary"]})
            if result["timeseries"] is not None:
                buf["timeseries"].append(result["timeseries"])
            state["ok"] += 1
        else:
            buf["failures"].append({**design, "error": result["error"], "traceback": result["traceback"]})
            state["failed"] += 1
            bar.set_postfix(failed=state["failed"], refresh=False)
        bar.update(1)

    def pool_broke(exc: BaseException, rid: str) -> None:
        state["breaks"] += 1
        if rid in alone:  # it broke the pool on its own: the culprit
            record(rid, {"ok": False, "error": f"{type(exc).__name__}: the worker process died while "
                                                  f"running this run (a crash, out of memory or os._exit)",
                         "traceback": "".join(traceback.format_exception(exc)), "seconds": 0.0})
        else:
            suspects.append(rid)
        for fut, other in list(pending.items()):  # lost with the pool: retry them alone
            pending.pop(fut)
            started.pop(fut, None)
            order.pop(fut, None)
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                record(other, fut.result())  # it finished before the pool broke
                continue
            alone.discard(other)
            suspects.append(other)
        flush()
        handle.restart()

    try:
        submit()
        while pending:
            wait = flush_seconds if timeout is None else min(flush_seconds, max(0.05, timeout / 10))
            finished, _ = cf.wait(list(pending), timeout=wait, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                if fut not in pending:  # dropped by a broken pool handled in this loop
                    continue
                rid = pending.pop(fut)
                started.pop(fut, None)
                order.pop(fut, None)
                exc = fut.exception()
                if exc is None:
                    record(rid, fut.result())
                elif isinstance(exc, BrokenProcessPool):
                    pool_broke(exc, rid)
                else:  # the executor failed this run (e.g. a lost Dask worker, unpicklable result)
                    record(rid, {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                                 "traceback": "".join(traceback.format_exception(exc)), "seconds": 0.0})
            if timeout is not None:
                check_timeouts()
            if len(buf["summary"]) + len(buf["failures"]) >= flush_runs or \
                    time.monotonic() - state["last_flush"] >= flush_seconds:
                flush()
            submit()
        flush()
    except KeyboardInterrupt:
        for fut in pending:
            fut.cancel()
        # keep what finished (the commit makes it count); in-flight runs are redone on resume
        for fut, rid in list(pending.items()):
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                record(rid, fut.result())
        flush()
        bar.close()
        raise
    bar.close()
    return {"ran_ok": state["ok"], "ran_failed": state["failed"]}
