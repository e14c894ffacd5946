"""Running sweeps: identical results whatever the executor or worker count, failure isolation,
resume after SIGKILL / Ctrl-C / half-written batches, Dask on loopback, the CLI."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import qunsim as qs
from _sweep_helpers import (
    CtrlCAt,
    alive,
    assert_same_runs,
    child_env,
    lock_held_elsewhere,
    watch_until_committed,
    write,
)
from qunsim.cli import main as cli_main
from qunsim.sweep import SweepError

# other engineers commit while these tests run: a resume may legitimately see a new commit
pytestmark = pytest.mark.filterwarnings("ignore:resuming the sweep:UserWarning")

SPEC = """
name = "tiny"
steps = 15
replicates = 2
seed = 99

[fixed]
"community.n_seed" = 30
"community.n_prospects" = 200

[axes]
"community.chatter_share" = [0.0, 0.3]
"dynamics.chatter_contagion" = [0.0, 3.0]

[keep]
timeseries = ["active", "messages", "low_quality_share", "phase"]
period = 2
"""

# long enough that a SIGKILL lands mid-way: 18 runs of 40 days
# long enough runs (≈0.2–0.5 s each) that a signal sent once the first batch is committed lands
# while most runs are still to do, however fast the compiled day is
KILL_SPEC = """
name = "killme"
steps = 200
replicates = 3
seed = 5

[fixed]
"community.n_seed" = 50
"community.n_prospects" = 300

[axes]
"community.chatter_share" = [0.0, 0.15, 0.3]
"dynamics.chatter_contagion" = [0.0, 3.0]
"""


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory):
    return write(tmp_path_factory.mktemp("spec") / "tiny.toml", SPEC)


@pytest.fixture(scope="module")
def reference(spec_file, tmp_path_factory):
    """The serial, uninterrupted sweep every other way of running must reproduce."""
    return qs.sweep(spec_file, tmp_path_factory.mktemp("ref") / "out", executor="serial")


def test_reference_is_complete_and_tidy(reference):
    assert len(reference.summary) == 8 and len(reference.failures) == 0
    assert reference.manifest["status"] == "complete"
    assert set(reference.timeseries["step"]) == {0, 2, 4, 6, 8, 10, 12, 14, 15}  # every 2nd and the last
    assert list(reference.timeseries.columns[:2]) == ["run_id", "step"]
    assert {"community.chatter_share", "dynamics.chatter_contagion", "seed", "final_active"} <= set(reference.summary)
    # a run of the sweep is exactly `simulate` with that seed and those overrides
    row = reference.summary.iloc[5]
    res = qs.simulate(qs.load_config(None, overrides={"community.n_seed": 30, "community.n_prospects": 200}),
                      rng=int(row["seed"]), steps=15,
                      **{"community.chatter_share": row["community.chatter_share"],
                         "dynamics.chatter_contagion": row["dynamics.chatter_contagion"]})
    assert res.summary["final_active"] == row["final_active"]
    assert res.summary["mean_low_quality_share"] == row["mean_low_quality_share"]
    m = reference.manifest
    for key in ("root_seed", "base_config", "sweep", "fingerprint", "sessions"):
        assert key in m
    s = m["sessions"][0]
    for key in ("qunsim_version", "git", "python", "packages", "host", "started", "ended", "executor"):
        assert key in s
    assert m["sweep"]["text"].strip().startswith('name = "tiny"')


@pytest.mark.parametrize("workers", [1, 2])
def test_local_pool_matches_serial_for_any_worker_count(spec_file, reference, tmp_path, workers):
    res = qs.sweep(spec_file, tmp_path / "out", executor="local", workers=workers, flush_runs=1)
    assert_same_runs(res, reference)
    assert res.manifest["sessions"][0]["executor"]["workers"] == workers


class CountingThreads(cf.ThreadPoolExecutor):
    """Any concurrent.futures executor works; this one records how many runs were in flight."""

    def __init__(self):
        super().__init__(max_workers=2)
        self.live: set = set()
        self.peak = 0

    def submit(self, fn, /, *args, **kwargs):
        self.live = {f for f in self.live if not f.done()}
        fut = super().submit(fn, *args, **kwargs)
        self.live.add(fut)
        self.peak = max(self.peak, len(self.live))
        return fut


def test_any_executor_bounded_in_flight_and_streamed(spec_file, reference, tmp_path):
    with CountingThreads() as ex:
        res = qs.sweep(spec_file, tmp_path / "out", executor=ex, workers=2, max_pending=3, flush_runs=2)
    assert_same_runs(res, reference)
    assert ex.peak <= 3  # memory bounded: never more than max_pending runs submitted ahead
    commits = sorted((tmp_path / "out" / "commits").glob("*.json"))
    sizes = [len(json.loads(c.read_text())["ok"]) for c in commits]
    assert sum(sizes) == 8
    # results were written in batches as runs finished, not at the end: a batch is flushed once
    # it holds flush_runs results, after taking in every run that finished together (at most
    # max_pending), so no batch exceeds flush_runs - 1 + max_pending = 4 and there are >= 2
    # (how many runs finish together depends on the machine's timing, so not more is asserted)
    assert len(commits) >= 2 and max(sizes) <= 4, sizes


def test_dask_local_cluster_matches_local_pool(spec_file, reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        res = qs.sweep(spec_file, tmp_path / "out", executor="dask", scheduler=cluster.scheduler_address)
    assert_same_runs(res, reference)
    info = res.manifest["sessions"][0]["executor"]
    assert info["executor"] == "dask" and info["scheduler"].startswith("tcp://127.0.0.1")


def test_dask_missing_scheduler_is_a_clear_error(spec_file, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("qunsim.sweep.executors.DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(SweepError, match="could not connect to the Dask scheduler at tcp://127.0.0.1:9"):
        qs.sweep(spec_file, tmp_path / "out", executor="dask", scheduler="tcp://127.0.0.1:9")


# ---------------------------------------------------------------------- failures


def test_raising_user_policy_is_recorded_and_the_rest_complete(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    spec = write(tmp_path / "boom.toml", """
        steps = 8
        replicates = 2
        [fixed]
        "community.n_seed" = 30
        "community.n_prospects" = 200
        "activity.boom" = { class = "_sweep_boom:Boom", day = 4 }
        [axes]
        "activity.boom.fail" = [false, true]
        "community.chatter_share" = [0.0, 0.2]
    """)
    res = qs.sweep(spec, tmp_path / "out", executor="serial")
    assert len(res.summary) == 4 and len(res.failures) == 4
    assert (res.summary["activity.boom.fail"] == False).all()  # noqa: E712
    assert (res.failures["activity.boom.fail"] == True).all()  # noqa: E712
    f = res.failures.iloc[0]
    assert f["error"] == "RuntimeError: boom on day 4"
    assert "Traceback" in f["traceback"] and "_sweep_boom.py" in f["traceback"]
    assert {"seed", "point", "replicate"} <= set(res.failures.columns)
    assert res.manifest["status"] == "complete_with_failures"
    # --resume retries only the failed runs; they fail again and are recorded once each
    again = qs.sweep(spec, tmp_path / "out", executor="serial", resume=True)
    assert again.manifest["sessions"][-1]["to_run"] == 4
    assert len(again.failures) == 4 and again.failures["run_id"].is_unique
    pd.testing.assert_frame_equal(again.summary, res.summary)


def test_failing_combination_on_the_process_pool(tmp_path):
    # each value is valid alone; chatter 0.9 + spam 0.3 > 1 fails inside the worker
    spec = write(tmp_path / "combo.toml", """
        steps = 5
        [fixed]
        "community.n_seed" = 30
        "community.n_prospects" = 200
        [axes]
        "community.chatter_share" = [0.1, 0.9]
        "community.spammer_share" = [0.0, 0.3]
    """)
    res = qs.sweep(spec, tmp_path / "out", executor="local", workers=2)
    assert len(res.summary) == 3 and len(res.failures) == 1
    bad = res.failures.iloc[0]
    assert (bad["community.chatter_share"], bad["community.spammer_share"]) == (0.9, 0.3)
    assert bad["error"].startswith("ConfigError") and "spammer_share" in bad["error"]
    assert "Traceback" in bad["traceback"]


# ---------------------------------------------------------------------- interruption and resume


@pytest.mark.skipif(not Path("/proc").is_dir() or sys.platform == "win32", reason="needs /proc and SIGKILL")
def test_sigkill_mid_sweep_then_resume_equals_uninterrupted(tmp_path):
    spec = write(tmp_path / "kill.toml", KILL_SPEC)
    script = write(tmp_path / "run_sweep.py", """
        import sys
        import qunsim as qs
        if __name__ == "__main__":
            qs.sweep(sys.argv[1], sys.argv[2], executor="local", workers=2,
                     flush_runs=1, flush_seconds=0.01, progress=False)
    """)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(script), str(spec), str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env())
    try:
        workers = watch_until_committed(proc, out, commits=3)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    killed = qs.load_results(out)
    assert killed.manifest["status"] == "running"  # it never got to write its end
    assert 0 < len(killed.summary) < 18, "the kill did not land mid-way"
    assert len(workers) >= 2  # the forkserver and at least one pool worker were seen
    # the pool's workers notice their parent is gone and exit (no orphans)
    t0 = time.monotonic()
    while any(alive(p) for p in workers) and time.monotonic() - t0 < 10:
        time.sleep(0.1)
    assert not any(alive(p) for p in workers)

    resumed = qs.sweep(spec, out, executor="local", workers=2, resume=True)
    sess = resumed.manifest["sessions"]
    assert len(sess) == 2 and sess[1]["already_done"] == len(killed.summary)
    assert sess[1]["to_run"] == 18 - len(killed.summary)
    uninterrupted = qs.sweep(spec, tmp_path / "ref", executor="serial")
    assert_same_runs(resumed, uninterrupted)
    assert resumed.manifest["status"] == "complete"


def test_half_written_batch_is_discarded_on_resume(spec_file, reference, tmp_path):
    out = tmp_path / "out"

    with pytest.raises(KeyboardInterrupt):  # 'Ctrl-C' on the 6th submission
        qs.sweep(spec_file, out, executor=CtrlCAt(6), flush_runs=1)
    partial = qs.load_results(out)
    assert partial.manifest["status"] == "interrupted"
    assert len(partial.summary) == 5 and len(partial.missing) == 3
    # a crash between writing a part file and its commit record leaves an orphan part and a temp file
    orphan = pd.read_parquet(next((out / "summary").glob("part-*.parquet")))
    orphan["final_active"] = -1
    orphan.to_parquet(out / "summary" / "part-s001-999999.parquet")
    (out / "timeseries" / ".part-s001-999999.parquet.1234.tmp").write_bytes(b"\x00half")
    assert len(qs.load_results(out).summary) == 5  # uncommitted parts never count
    resumed = qs.sweep(spec_file, out, executor="serial", resume=True)
    assert not (out / "summary" / "part-s001-999999.parquet").exists()
    assert not list((out / "timeseries").glob(".*.tmp"))
    assert resumed.manifest["sessions"][1]["to_run"] == 3
    assert_same_runs(resumed, reference)


def test_resume_refuses_a_changed_sweep_and_a_used_directory(spec_file, reference, tmp_path):
    out = reference.path
    with pytest.raises(SweepError, match="already holds a sweep; pass --resume"):
        qs.sweep(spec_file, out, executor="serial")
    changed = write(tmp_path / "changed.toml", SPEC.replace("seed = 99", "seed = 100"))
    with pytest.raises(SweepError, match="holds a different sweep"):
        qs.sweep(changed, out, executor="serial", resume=True)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="not empty and holds no sweep"):
        qs.sweep(spec_file, tmp_path / "junk", executor="serial")
    assert (tmp_path / "junk" / "notes.txt").read_text() == "mine"  # nothing written is lost


# ---------------------------------------------------------------------- CLI


def test_cli_sweep_runs_and_resumes(spec_file, reference, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli_main(["sweep", str(spec_file), "--out", str(out), "--executor", "serial"]) == 0
    assert "8/8 runs done, 0 failed" in capsys.readouterr().out
    assert_same_runs(qs.load_results(out), reference)
    assert cli_main(["sweep", str(spec_file), "--out", str(out), "--executor", "serial", "--resume"]) == 0


@pytest.mark.parametrize("args,expected", [
    (["--workers", "0"], "--workers expects a whole number >= 1"),
    (["--executor", "local", "--scheduler", "tcp://127.0.0.1:9"], "--scheduler needs --executor dask"),
    (["--executor", "threads"], "invalid choice"),
    (["--flush-seconds", "0"], "expects a number of seconds > 0, got '0'"),
    (["--timeout", "-1"], "expects a number of seconds > 0, got '-1'"),
])
def test_cli_bad_arguments_exit_2_with_one_paragraph(spec_file, tmp_path, capsys, args, expected):
    code = cli_main(["sweep", str(spec_file), "--out", str(tmp_path / "o"), *args])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_cli_bad_sweep_file_and_used_out_exit_2(spec_file, reference, tmp_path, capsys):
    bad = write(tmp_path / "bad.toml", '[axes]\n"community.chatter_share" = [0.1, 7]\n')
    assert cli_main(["sweep", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "axes.community.chatter_share" in err and "Traceback" not in err
    assert cli_main(["sweep", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "file not found" in capsys.readouterr().err
    assert cli_main(["sweep", str(spec_file), "--out", str(reference.path), "--executor", "serial"]) == 2
    err = capsys.readouterr().err
    assert "already holds a sweep; pass --resume" in err and err.count("\n") == 1


@pytest.mark.skipif(not Path("/proc").is_dir() or sys.platform == "win32", reason="needs /proc and signals")
def test_ctrl_c_on_the_cli_stops_cleanly_and_resumes(tmp_path):
    spec = write(tmp_path / "kill.toml", KILL_SPEC)
    out = tmp_path / "out"
    args = ["sweep", str(spec), "--out", str(out), "--workers", "2", "--flush-seconds", "0.05"]
    # as from a terminal, Ctrl-C must reach the command: an ignored SIGINT is inherited across
    # exec (and some other test in this worker process may have left it ignored), so the child
    # puts Python's own handler back before running `python -m qunsim.cli`
    cmd = [sys.executable, "-c",
           "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
           f"sys.argv = ['qunsim'] + {args!r}; runpy.run_module('qunsim.cli', run_name='__main__')"]
    # a new session so that the signal goes to the whole process group, as Ctrl-C in a terminal does
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env=child_env())
    workers = watch_until_committed(proc, out, commits=1)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    err = err.decode()
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    stopped = qs.load_results(out)
    assert stopped.manifest["status"] == "interrupted"
    assert 0 < len(stopped.summary) < 18
    time.sleep(0.2)
    assert workers and not any(alive(p) for p in workers)  # nothing left running
    resumed = qs.sweep(spec, out, executor="serial", resume=True)
    assert len(resumed.summary) == 18 and resumed.summary["run_id"].is_unique
    assert resumed.manifest["status"] == "complete"


def test_progress_bar_quiet_unless_asked(spec_file, tmp_path, capsys):
    qs.sweep(spec_file, tmp_path / "a", executor="serial")  # stderr is not a terminal here
    assert capsys.readouterr().err == ""
    qs.sweep(spec_file, tmp_path / "b", executor="serial", progress=True)
    err = capsys.readouterr().err
    assert "tiny" in err and "8/8" in err


def test_missing_dask_is_a_clear_error(spec_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    code = cli_main(["sweep", str(spec_file), "--out", str(tmp_path / "o"), "--executor", "dask"])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'qunsim[dask]'" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # nothing written


def test_a_live_sweep_locks_its_directory(spec_file, reference, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(reference.path, out)
    with lock_held_elsewhere(out) as holder:  # then SIGKILLed: its lock file stays
        with pytest.raises(SweepError, match=f"another sweep process \\(pid {holder.pid} on host"):
            qs.sweep(spec_file, out, executor="serial", resume=True)
    assert (out / ".lock").exists()
    res = qs.sweep(spec_file, out, executor="serial", resume=True)
    assert res.manifest["status"] == "complete" and not (out / ".lock").exists()


def test_cli_dry_run_shows_the_design_and_writes_nothing(spec_file, tmp_path, capsys):
    assert cli_main(["sweep", str(spec_file), "--out", str(tmp_path / "o"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "4 points x 2 replicates = 8 runs of 15 days" in out
    assert "community.chatter_share: 2 values (0.0, 0.3)" in out
    assert not (tmp_path / "o").exists()


def test_cli_exit_1_and_names_the_first_failure(tmp_path, capsys):
    spec = write(tmp_path / "combo.toml", """
        steps = 3
        [fixed]
        "community.n_seed" = 30
        "community.n_prospects" = 200
        [axes]
        "community.chatter_share" = [0.1, 0.9]
        "community.spammer_share" = [0.0, 0.3]
    """)
    code = cli_main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--executor", "serial"])
    captured = capsys.readouterr()
    assert code == 1
    assert "3/4 runs done, 1 failed" in captured.out
    assert "first failure: p000003r000: ConfigError" in captured.err and "--resume" in captured.err


@pytest.mark.filterwarnings("error:resuming the sweep:UserWarning")
def test_resume_with_other_code_warns(spec_file, reference, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(reference.path, out)
    m = json.loads((out / "manifest.json").read_text())
    m["sessions"][-1]["git"] = {"commit": "0" * 40, "dirty": False}
    del m["check"]  # as a manifest written by an older qunsim (no checksum): edits are read as is
    (out / "manifest.json").write_text(json.dumps(m))
    with pytest.warns(UserWarning, match="different qunsim"):
        res = qs.sweep(spec_file, out, executor="serial", resume=True)
    assert len(res.manifest["sessions"]) == 2 and res.manifest["sessions"][1]["to_run"] == 0


def test_a_run_that_kills_its_worker_is_isolated(spec_file, tmp_path, monkeypatch):
    """A crashing run breaks the pool; the runs in flight with it are retried alone, so only the
    culprit is recorded as failed and every other run completes with its normal values."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    spec = write(tmp_path / "crash.toml", """
        steps = 6
        replicates = 1
        [fixed]
        "community.n_seed" = 30
        "community.n_prospects" = 200
        "activity.crash" = { class = "_sweep_boom:Crash", day = 3 }
        [axes]
        "community.chatter_share" = [0.0, 0.1, 0.2]
        "activity.crash.crash" = [false, true]
    """)
    res = qs.sweep(spec, tmp_path / "out", executor="local", workers=2, max_pending=6)
    assert res.manifest["status"] == "complete_with_failures"
    assert len(res.failures) == 3 and (res.failures["activity.crash.crash"] == True).all()  # noqa: E712
    assert res.failures["run_id"].is_unique
    assert res.failures["error"].str.contains("worker process died while running this run").all()
    assert len(res.summary) == 3 and res.summary["run_id"].is_unique
    assert (res.summary["activity.crash.crash"] == False).all()  # noqa: E712
    ok = res.summary.iloc[0]
    direct = qs.simulate(qs.load_config(None, overrides={"community.n_seed": 30, "community.n_prospects": 200}),
                         rng=int(ok["seed"]), steps=6, **{"community.chatter_share": ok["community.chatter_share"]})
    assert direct.summary["final_active"] == ok["final_active"]


def test_a_run_over_the_timeout_is_stopped_and_the_rest_complete(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    spec = write(tmp_path / "hang.toml", """
        steps = 6
        timeout = 3
        [fixed]
        "community.n_seed" = 30
        "community.n_prospects" = 200
        "activity.hang" = { class = "_sweep_boom:Hang", day = 2 }
        [axes]
        "community.chatter_share" = [0.0, 0.1, 0.2]
        "activity.hang.hang" = [false, true]
    """)
    t0 = time.monotonic()
    res = qs.sweep(spec, tmp_path / "out", executor="local", workers=2)
    assert time.monotonic() - t0 < 120  # nobody waited for the 600 s sleeps
    assert len(res.failures) == 3 and (res.failures["activity.hang.hang"] == True).all()  # noqa: E712
    assert res.failures["error"].str.startswith("TimeoutError: the run took longer than 3 s").all()
    assert len(res.summary) == 3 and (res.summary["activity.hang.hang"] == False).all()  # noqa: E712
    # the timeout is how runs execute, not what they compute: changing it does not block a resume
    relaxed = write(tmp_path / "hang.toml", tmp_path.joinpath("hang.toml").read_text().replace("timeout = 3", "timeout = 2"))
    assert qs.sweep.load_sweep(relaxed).fingerprint() == res.manifest["fingerprint"]


def test_interrupted_program_ends_even_if_its_exit_would_hang():
    # the program's exit after Ctrl-C must not hang (e.g. on a stopped pool's threads): a
    # hanging exit handler is cut short after the grace period, with the interrupted code
    code = ("import atexit, time, qunsim.cli as c; atexit.register(time.sleep, 600); "
            "c._exit_promptly(130, grace=0.5); raise SystemExit(130)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120, env=child_env())
    assert proc.returncode == 130, proc.stderr.decode()[-2000:]
