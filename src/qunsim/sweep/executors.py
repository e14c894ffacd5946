"""Executors: serial, a local process pool (the default) and Dask, as ``concurrent.futures``.

:func:`open_executor` is a context manager yielding an :class:`ExecutorHandle`: a
``concurrent.futures.Executor`` (``.executor``), its worker count and a description for the
manifest. Any other ``concurrent.futures.Executor`` can be passed to
:func:`qunsim.sweep.sweep` as is.

The local pool uses an explicit multiprocessing context (``forkserver`` where available,
else ``spawn``): ``mesa.batch_run`` forces the global start method to ``spawn`` and forking a
process that holds threads (progress bars, Dask) is unsafe. Workers ignore SIGINT, so
Ctrl-C reaches only the parent, which stops them, and they exit on their own if the parent
dies (a SIGKILL leaves no orphans).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SerialExecutor", "ExecutorHandle", "open_executor", "default_workers", "SweepError"]

DASK_CONNECT_TIMEOUT = "10s"  # how long to wait for an existing scheduler


class SweepError(ValueError):
    """A user-facing sweep problem (output directory, executor, resume). One paragraph."""


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class SerialExecutor(cf.Executor):
    """Runs each call in this process when submitted (a ``concurrent.futures.Executor``)."""

    def submit(self, fn, /, *args, **kwargs):
        f: cf.Future = cf.Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except KeyboardInterrupt:  # the user's Ctrl-C stops the caller
            raise
        except BaseException as e:  # noqa: BLE001 - delivered through the future (SystemExit too)
            f.set_exception(e)
        return f


@dataclass
class ExecutorHandle:
    executor: cf.Executor
    workers: int
    kind: str
    info: dict = field(default_factory=dict)
    _restart: Any = None

    def restart(self) -> None:
        """Replace a broken pool (a worker process died) with a fresh one."""
        if self._restart is None:
            raise SweepError(f"a worker process of the {self.kind} executor died and qunsim cannot "
                             f"restart that executor; finished runs are saved, resume later")
        self.executor = self._restart()

    def stop(self) -> None:
        """Stop at once: cancel what has not started; terminate local workers."""
        ex = self.executor
        procs = list((getattr(ex, "_processes", None) or {}).values())  # shutdown forgets them
        with contextlib.suppress(Exception):
            ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            with contextlib.suppress(Exception):
                p.terminate()
        for p in procs:
            with contextlib.suppress(Exception):
                p.join(timeout=5)
                if p.is_alive():
                    p.kill()


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(0.5)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # pragma: no cover - pid reused by another user
            os._exit(1)


def _worker_init(parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _mp_context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # workers fork from a server that has the compiled kernels loaded (qunsim.kernels.preload)
        ctx.set_forkserver_preload(["qunsim.sweep.runner", "qunsim.kernels.preload"])
        return ctx
    return multiprocessing.get_context("spawn")


def _ping() -> int:
    return os.getpid()


def _local_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A started pool whose workers are known to come up (checked with one trivial task each)."""
    from concurrent.futures.process import BrokenProcessPool

    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(),
                                  initializer=_worker_init, initargs=(os.getpid(),))
    try:
        for f in [pool.submit(_ping) for _ in range(workers)]:
            f.result()
    except BrokenProcessPool:
        pool.shutdown(wait=False, cancel_futures=True)
        raise SweepError(
            "the local worker processes die on start (see the messages above). A script that "
            "starts a sweep on the local pool must guard it with `if __name__ == \"__main__\":` "
            "(workers start by importing the main module); or use executor=\"serial\"") from None
    return pool


@contextlib.contextmanager
def open_executor(kind: str = "local", workers: int | None = None, scheduler: str | None = None):
    """Yield an :class:`ExecutorHandle` for ``serial``, ``local`` or ``dask``.

    Parameters
    ----------
    kind : "serial", "local" (process pool) or "dask".
    workers : worker processes (default: the usable cores; Dask with ``scheduler``: the
        cluster's workers).
    scheduler : Dask only: address of an existing scheduler (``tcp://host:8786``); without it
        a ``LocalCluster`` on 127.0.0.1 is started and closed afterwards.

    Examples
    --------
    >>> with open_executor("serial") as h:
    ...     h.executor.submit(pow, 2, 5).result(), h.workers
    (32, 1)
    """
    if workers is not None and int(workers) < 1:
        raise SweepError(f"workers must be at least 1, got {workers}")
    if scheduler and kind != "dask":
        raise SweepError(f"a scheduler address ({scheduler}) needs the dask executor (--executor dask)")
    if kind == "serial":
        yield ExecutorHandle(SerialExecutor(), 1, "serial", {"executor": "serial", "workers": 1})
        return
    if kind == "local":
        n = int(workers or default_workers())
        handle = ExecutorHandle(_local_pool(n), n, "local",
                                {"executor": "local", "workers": n, "start_method": _mp_context().get_start_method()},
                                _restart=lambda: _local_pool(n))
        try:
            yield handle
        finally:
            handle.executor.shutdown(wait=True, cancel_futures=True)
        return
    if kind == "dask":
        with _dask(workers, scheduler) as handle:
            yield handle
        return
    raise SweepError(f"unknown executor {kind!r}; expected serial, local or dask")


@contextlib.contextmanager
def _dask(workers: int | None, scheduler: str | None):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError(
            "the dask executor needs dask.distributed, which is not installed; "
            "install it with `pip install 'qunsim[dask]'` or use --executor local") from None
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as e:
                raise SweepError(f"could not connect to the Dask scheduler at {scheduler}: {e}") from None
            n = len(client.scheduler_info().get("workers", {})) or 1
        else:
            n = int(workers or default_workers())
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, host="127.0.0.1",
                                   dashboard_address=None, processes=True)
            client = Client(cluster)
        info = {"executor": "dask", "workers": n, "scheduler": scheduler or client.scheduler.address,
                "local_cluster": cluster is not None}
        handle = ExecutorHandle(client.get_executor(pure=False), n, "dask", info)
        try:
            yield handle
        finally:
            with contextlib.suppress(Exception):
                client.close()
    finally:
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
