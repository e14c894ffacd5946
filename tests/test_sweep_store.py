"""What survives what: the sweep store under kills, corruption, concurrent resumes, a full disk
and a plug-in edited between start and resume.

Every case checks what the user sees (exit code, a one-paragraph message, never a traceback)
and that ``--resume`` then gives exactly the runs of an uninterrupted sweep, with identical
values. Kills at store events are simulated in-process through ``qunsim.sweep.store._HOOK``
(once "killed", every later write fails too, so no clean-up code reaches the disk); two
are real SIGKILLs of a subprocess at a store event.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qunsim as qs
from _sweep_helpers import CtrlCAt, assert_same_runs, child_env, lock_held_elsewhere, write
from qunsim.cli import main as cli_main
from qunsim.sweep import SweepError, store
from qunsim.sweep.plugins import find_source
from qunsim.sweep.store import StoreError

# other engineers commit while these tests run: a resume may legitimately see a new commit
pytestmark = pytest.mark.filterwarnings("ignore:resuming the sweep:UserWarning")

# 4 runs, one of which fails (chatter 0.9 + spam 0.3 > 1): every part kind gets written
SPEC = """
name = "store"
steps = 5
replicates = 1
seed = 7

[fixed]
"community.n_seed" = 30
"community.n_prospects" = 150

[axes]
"community.chatter_share" = [0.1, 0.9]
"community.spammer_share" = [0.0, 0.3]

[keep]
timeseries = ["active", "messages"]
"""


def assert_same(a, b):
    """Same runs, each once, identical values, the same failure: an uninterrupted sweep's results."""
    assert_same_runs(a, b)
    assert a.failures["run_id"].is_unique
    pd.testing.assert_frame_equal(a.failures.drop(columns="traceback"), b.failures.drop(columns="traceback"))
    assert a.manifest["status"] == b.manifest["status"] == "complete_with_failures"
    assert not a.lost


def one_paragraph(err: str) -> None:
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and all(ln.startswith(("error:", "qunsim sweep: warning:", "first failure:")) for ln in lines), err


def refused_then_resumed(spec_file, out, reference, refused: str, warned: str) -> None:
    """Reading the damaged sweep in ``out`` is refused (``refused``); resuming it warns
    (``warned``) and gives exactly the uninterrupted sweep's results."""
    with pytest.raises(StoreError, match=refused):
        qs.load_results(out)
    with pytest.warns(UserWarning, match=warned):
        res = qs.sweep(spec_file, out, executor="serial", resume=True)
    assert_same(res, reference)


def sweep_cli(spec, out, *extra) -> list[str]:
    return ["sweep", str(spec), "--out", str(out), "--executor", "serial", "--quiet", *extra]


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory):
    return write(tmp_path_factory.mktemp("spec") / "store.toml", SPEC)


@pytest.fixture(scope="module")
def reference(spec_file, tmp_path_factory):
    # one run per batch (results do not depend on batching): 4 batches to damage one by one
    res = qs.sweep(spec_file, tmp_path_factory.mktemp("ref") / "out", executor="serial", flush_runs=1, max_pending=1)
    assert len(res.summary) == 3 and len(res.failures) == 1
    return res


@pytest.fixture
def done_copy(reference, tmp_path):
    """A copy of the finished reference sweep, to damage."""
    out = tmp_path / "out"
    shutil.copytree(reference.path, out)
    return out


# ---------------------------------------------------------------------- kills at each store event


class Killed(BaseException):
    """A simulated SIGKILL: not an Exception, so no handler of qunsim's catches it."""


def killer(event: str, where: str, nth: int):
    """A store hook that 'kills' the process at the nth ``event`` on a path containing
    ``where``, and keeps every later write from happening (a dead process writes nothing)."""
    state = {"n": 0, "dead": False}

    def hook(ev, path):
        if state["dead"]:
            raise Killed(f"already dead ({ev} {path.name})")
        rel = path.as_posix()
        if ev == event and where in rel:
            state["n"] += 1
            if state["n"] == nth:
                state["dead"] = True
                raise Killed(f"killed at {ev} {path.name}")

    return hook


# (event, path fragment, occurrence): every write point of a sweep's life, in order
KILL_POINTS = [
    ("begin", "manifest.json", 1),  # nothing on disk yet but the directory and the lock
    ("tmp", "manifest.json", 1),  # first manifest as a temporary only
    ("done", "manifest.json", 1),  # manifest, no design (the old dead end, reversed)
    ("tmp", "design.parquet", 1),
    ("done", "design.parquet", 1),  # a skeleton: manifest + design, nothing run
    ("tmp", "manifest.json", 2),  # session start
    ("done", "manifest.json", 2),
    ("begin", "timeseries/", 1),  # first batch, before any part
    ("tmp", "timeseries/", 1),
    ("done", "summary/", 1),  # parts written, no commit record
    ("tmp", "commits/", 1),  # commit record half-way
    ("done", "commits/", 1),  # first batch committed
    ("done", "summary/", 3),  # mid-sweep, between part and commit
    ("tmp", "failures/", 1),  # the failing run's part
    ("done", "commits/", 4),  # every batch committed, manifest not updated
    ("tmp", "manifest.json", 3),  # end-of-session manifest half-way
    ("unlock", ".lock", 1),  # everything written, killed before letting go of the lock
]


@pytest.mark.parametrize("event,where,nth", KILL_POINTS, ids=[f"{e}-{w.strip('/')}-{n}" for e, w, n in KILL_POINTS])
def test_kill_at_each_store_event_then_resume(spec_file, reference, tmp_path, monkeypatch, capsys, event, where, nth):
    out = tmp_path / "out"
    monkeypatch.setattr(store, "_HOOK", killer(event, where, nth))
    with pytest.raises(Killed):  # one run per batch: 4 batches
        qs.sweep(spec_file, out, executor="serial", flush_runs=1, max_pending=1)
    monkeypatch.setattr(store, "_HOOK", None)
    # whatever the kill left, reading it is a result or a clear error, never a traceback
    try:
        partial = qs.load_results(out)
        assert partial.summary["run_id"].is_unique and not partial.lost
        assert partial.manifest["status"] in ("starting", "running", "complete_with_failures")
    except (FileNotFoundError, StoreError):
        pass
    # the same command again: it starts afresh (nothing was committed) or asks for --resume
    code = cli_main(sweep_cli(spec_file, out))
    err = capsys.readouterr().err
    if code == 2:
        assert "already holds a sweep; pass --resume" in err
        one_paragraph(err)
        code = cli_main(sweep_cli(spec_file, out, "--resume"))
        capsys.readouterr()
    assert code == 1  # the one failing run: exit status says so
    res = qs.load_results(out)
    assert_same(res, reference)
    assert not list(out.rglob(".*.tmp")) and not (out / ".lock").exists()


REAL_KILLS = [("done", "manifest.json", 1), ("done", "summary/", 2)]


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
@pytest.mark.parametrize("event,where,nth", REAL_KILLS, ids=["after-first-manifest", "between-part-and-commit"])
def test_real_sigkill_at_a_store_event_then_resume(spec_file, reference, tmp_path, event, where, nth):
    out = tmp_path / "out"
    script = write(tmp_path / "kill.py", f"""
        import os, signal, sys
        import qunsim as qs
        from qunsim.sweep import store
        seen = {{"n": 0}}
        def hook(ev, path):
            if ev == {event!r} and {where!r} in path.as_posix():
                seen["n"] += 1
                if seen["n"] == {nth}:
                    os.kill(os.getpid(), signal.SIGKILL)
        store._HOOK = hook
        qs.sweep(sys.argv[1], sys.argv[2], executor="serial", flush_runs=1, max_pending=1, progress=False)
    """)
    proc = subprocess.run([sys.executable, str(script), str(spec_file), str(out)], env=child_env(),
                          capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert (out / ".lock").exists()  # left behind by the dead process: its flock died with it
    if where == "manifest.json":  # nothing committed yet: the skeleton is replaced, and it says so
        with pytest.warns(UserWarning, match="held the start of a sweep that never committed a run"):
            res = qs.sweep(spec_file, out, executor="serial", resume=True)
    else:
        res = qs.sweep(spec_file, out, executor="serial", resume=True)
    assert_same(res, reference)
    assert not (out / ".lock").exists()


def test_directory_with_only_a_design_is_not_a_dead_end(spec_file, reference, tmp_path, capsys):
    """What an older qunsim left when killed between design.parquet and manifest.json."""
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(reference.path / "design.parquet", out / "design.parquet")
    for d in ("summary", "timeseries", "failures", "commits"):
        (out / d).mkdir()
    assert cli_main(sweep_cli(spec_file, out)) == 1
    err = capsys.readouterr().err
    assert "never committed a run" in err and "Traceback" not in err
    assert_same(qs.load_results(out), reference)


def test_failed_start_is_replaced_by_the_same_command(spec_file, reference, tmp_path, monkeypatch, capsys):
    """A first session that dies before committing anything (here: its first part cannot be
    written) leaves a skeleton; the same command, fixed or not, starts over."""
    out = tmp_path / "out"

    def boom(ev, path):
        if ev == "begin" and "timeseries/" in path.as_posix():
            raise MemoryError("the first run's results do not fit")

    monkeypatch.setattr(store, "_HOOK", boom)
    with pytest.raises(MemoryError):
        qs.sweep(spec_file, out, executor="serial")
    monkeypatch.setattr(store, "_HOOK", None)
    assert (out / "manifest.json").is_file()  # resumable, and also replaceable
    other = write(tmp_path / "fixed.toml", SPEC.replace("seed = 7", "seed = 8"))
    assert cli_main(sweep_cli(other, out)) == 1
    assert "never committed a run" in capsys.readouterr().err
    assert qs.load_results(out).manifest["root_seed"] == 8


@pytest.mark.parametrize("mine", ["notes.txt", "summary/notes.txt", "manifest.json/notes.txt"])
def test_a_directory_of_other_files_is_refused_and_left_alone(spec_file, tmp_path, capsys, mine):
    out = tmp_path / "mine"
    (out / mine).parent.mkdir(parents=True)
    (out / mine).write_text("mine")
    (out / "design.parquet").write_bytes(b"not ours?")
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    for extra in ([], ["--resume"]):
        assert cli_main(sweep_cli(spec_file, out, *extra)) == 2
        err = capsys.readouterr().err
        assert "not empty and holds no sweep" in err or "manifest.json is damaged" in err
        one_paragraph(err)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert (out / mine).read_text() == "mine"


# ---------------------------------------------------------------------- corrupting each file kind


def _part(out: Path, kind: str) -> Path:
    return sorted((out / kind).glob("part-*.parquet"))[0]


def _garble(p: Path) -> None:
    b = bytearray(p.read_bytes())
    for i in range(len(b) // 3, len(b) // 3 + 16):
        b[i] ^= 0x5A
    p.write_bytes(bytes(b))


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])


def _drop_rows(p: Path) -> None:
    df = pd.read_parquet(p)
    df.iloc[: max(len(df) // 2, 1) - 1].to_parquet(p, index=False)


def _drop_key(p: Path, key: str) -> None:
    rec = json.loads(p.read_text())
    del rec[key]
    p.write_text(json.dumps(rec))


CORRUPTIONS = {
    "summary-deleted": lambda o: _part(o, "summary").unlink(),
    "summary-truncated": lambda o: _truncate(_part(o, "summary")),
    "summary-rows-dropped": lambda o: _drop_rows(_part(o, "summary")),
    "summary-garbage": lambda o: _garble(_part(o, "summary")),
    "timeseries-deleted": lambda o: _part(o, "timeseries").unlink(),
    "timeseries-truncated": lambda o: _truncate(_part(o, "timeseries")),
    "timeseries-rows-dropped": lambda o: _drop_rows(_part(o, "timeseries")),
    "timeseries-garbage": lambda o: _garble(_part(o, "timeseries")),
    "failures-deleted": lambda o: _part(o, "failures").unlink(),
    "failures-truncated": lambda o: _truncate(_part(o, "failures")),
    "commit-deleted": lambda o: sorted((o / "commits").glob("*.json"))[1].unlink(),
    "commit-truncated": lambda o: _truncate(sorted((o / "commits").glob("*.json"))[1]),
    "commit-garbage": lambda o: sorted((o / "commits").glob("*.json"))[1].write_bytes(b"\x00\xff{{{"),
    "commit-key-missing": lambda o: _drop_key(sorted((o / "commits").glob("*.json"))[1], "ok"),
    "commit-edited": lambda o: _drop_key(sorted((o / "commits").glob("*.json"))[1], "seconds"),
    "commits-dir-deleted": lambda o: shutil.rmtree(o / "commits"),
    "design-deleted": lambda o: (o / "design.parquet").unlink(),
    "design-truncated": lambda o: _truncate(o / "design.parquet"),
    "design-rows-dropped": lambda o: _drop_rows(o / "design.parquet"),
    "design-garbage": lambda o: _garble(o / "design.parquet"),
    "manifest-truncated": lambda o: _truncate(o / "manifest.json"),
    "manifest-garbage": lambda o: (o / "manifest.json").write_bytes(b"\x89PNG garbage"),
    "manifest-key-missing": lambda o: _drop_key(o / "manifest.json", "fingerprint"),
    "manifest-deleted": lambda o: (o / "manifest.json").unlink(),
    "manifest-edited": lambda o: (o / "manifest.json").write_text(
        (o / "manifest.json").read_text().replace('"n_runs": 4', '"n_runs": 3')),
}


@pytest.mark.parametrize("how", list(CORRUPTIONS))
def test_corrupted_file_is_reported_then_recovered_by_resume(spec_file, reference, done_copy, capsys, how):
    out = done_copy
    CORRUPTIONS[how](out)
    # reading refuses, in one paragraph naming the damage and the way out; the report too
    with pytest.raises((StoreError, FileNotFoundError)) as exc:
        qs.load_results(out)
    msg = str(exc.value)
    if isinstance(exc.value, StoreError):
        assert "--resume" in msg and "\n" not in msg
    assert cli_main(["report", str(out), "--out", str(out.parent / "r.html")]) == 2
    one_paragraph(capsys.readouterr().err)
    assert not (out.parent / "r.html").exists()
    # a fresh start is refused without touching anything
    if how != "manifest-deleted" or (out / "commits").is_dir():
        before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
        assert cli_main(sweep_cli(spec_file, out)) == 2
        one_paragraph(capsys.readouterr().err)
        assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    # --resume reruns what was lost (the damaged files are kept aside) and ends verified
    assert cli_main(sweep_cli(spec_file, out, "--resume")) == 1
    err = capsys.readouterr().err
    one_paragraph(err)
    if how.split("-")[0] in ("summary", "timeseries", "failures", "commit", "commits"):
        assert "were lost" in err and "run again" in err
    res = qs.load_results(out)
    assert_same(res, reference)
    assert res.manifest["status"] == "complete_with_failures"


def test_lost_runs_can_be_read_around_with_a_warning(reference, done_copy):
    _part(done_copy, "summary").unlink()
    with pytest.warns(UserWarning, match=r"has lost 1 run\(s\) \(p000000r000\)") as rec:
        res = qs.load_results(done_copy, lost="warn")
    assert "verified runs only" in str(rec[0].message)
    assert res.lost == ["p000000r000"]
    assert len(res.summary) == 2 and "p000000r000" not in set(res.timeseries["run_id"])
    assert "p000000r000" in set(res.missing["run_id"])


def test_complete_status_needs_every_run_verified(spec_file, reference, done_copy):
    """A manifest that says 'complete' is not believed over the files."""
    m = json.loads((done_copy / "manifest.json").read_text())
    m["committed"] = {}  # as an older manifest: it does not list the batches, has no checksum
    del m["check"]
    (done_copy / "manifest.json").write_text(json.dumps(m))
    shutil.rmtree(done_copy / "commits")
    refused_then_resumed(spec_file, done_copy, reference,
                         refused="says the sweep is complete_with_failures but 4 of its runs",
                         warned="recorded 3 finished runs but only 0 are present and verified")


# ---------------------------------------------------------------------- concurrent resumes


def _interrupted(spec_file, out):
    """A sweep stopped after 2 of its 4 runs (as by Ctrl-C)."""
    with pytest.raises(KeyboardInterrupt):
        qs.sweep(spec_file, out, executor=CtrlCAt(3), flush_runs=1, max_pending=1)


def test_a_second_resume_is_refused_while_the_first_runs(spec_file, reference, tmp_path, capsys):
    out = tmp_path / "out"
    _interrupted(spec_file, out)
    with lock_held_elsewhere(out) as holder:  # then SIGKILLed: its lock is released by the kernel
        before = (out / "manifest.json").read_bytes()
        assert cli_main(sweep_cli(spec_file, out, "--resume")) == 2
        err = capsys.readouterr().err
        assert f"another sweep process (pid {holder.pid} on host" in err
        one_paragraph(err)
        assert (out / "manifest.json").read_bytes() == before  # refused before reading or writing
    assert cli_main(sweep_cli(spec_file, out, "--resume")) == 1
    assert_same(qs.load_results(out), reference)


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_two_resumes_started_together_never_both_run(spec_file, reference, tmp_path):
    out = tmp_path / "out"
    _interrupted(spec_file, out)
    missing = len(qs.load_results(out).missing)
    cmd = [sys.executable, "-c", "import sys; from qunsim.cli import main; sys.exit(main(sys.argv[1:]))",
           *sweep_cli(spec_file, out, "--resume")]
    procs = [subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=child_env()) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]
    codes = sorted(c for c, _ in results)
    assert codes in ([1, 1], [1, 2]), results
    for code, err in results:
        assert "Traceback" not in err
        if code == 2:
            assert "another sweep process" in err
    res = qs.load_results(out)
    assert_same(res, reference)
    # p000002r000 was missing and ran exactly once, whichever process got there
    assert missing == 2 and sum(s.get("ran_ok", 0) for s in res.manifest["sessions"][1:]) == 1


# ---------------------------------------------------------------------- disk full


DISK_FULL_AT = ["timeseries/", "summary/", "failures/", "commits/"]


@pytest.mark.parametrize("where", DISK_FULL_AT)
def test_disk_full_stops_the_sweep_and_resume_completes_it(spec_file, reference, tmp_path, monkeypatch,
                                                            capsys, where):
    out = tmp_path / "out"
    real = store._write_file
    state = {"n": 0}
    nth = 1 if where == "failures/" else 2  # the 2nd batch (runs 3 and 4), or the failing run's part

    def full(f, data):
        if where in os.path.relpath(f.name, out):
            state["n"] += 1
            if state["n"] >= nth:
                real(f, data[: len(data) // 2])
                raise OSError(errno.ENOSPC, "No space left on device", f.name)
        real(f, data)

    monkeypatch.setattr(store, "_write_file", full)
    code = cli_main(sweep_cli(spec_file, out, "--flush-seconds", "1e-6"))  # batches of 2 runs
    err = capsys.readouterr().err
    monkeypatch.setattr(store, "_write_file", real)
    assert code == 2 and "the disk is full" in err and "--resume" in err
    one_paragraph(err)
    assert not list(out.rglob(".*.tmp"))  # no half-written temporaries left behind
    stopped = qs.load_results(out)  # what was committed before is intact and verified
    assert stopped.manifest["status"] == "interrupted" and not stopped.lost
    assert len(stopped.summary) + len(stopped.failures) < 4
    assert cli_main(sweep_cli(spec_file, out, "--resume")) == 1
    assert_same(qs.load_results(out), reference)


def test_disk_full_for_the_first_manifest_writes_nothing_to_resume(spec_file, reference, tmp_path, monkeypatch,
                                                                    capsys):
    out = tmp_path / "out"

    def full(f, data):
        raise OSError(errno.ENOSPC, "No space left on device", f.name)

    monkeypatch.setattr(store, "_write_file", full)
    assert cli_main(sweep_cli(spec_file, out)) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err
    one_paragraph(err)
    monkeypatch.undo()
    assert cli_main(sweep_cli(spec_file, out)) == 1
    assert_same(qs.load_results(out), reference)


# ---------------------------------------------------------------------- plug-ins


PLUGIN = '''
from qunsim.policies.base import ActivityPolicy, PolicyParams


class Tax(ActivityPolicy):
    """Does nothing: a stand-in for a user's code."""

    key = "tax"

    class Params(PolicyParams):
        on: bool = True

    def on_step_end(self, model, ctx, rng):
        pass  # VERSION 1
'''


def test_resume_refuses_when_a_plugin_module_changed(tmp_path, monkeypatch, capsys):
    mod = tmp_path / "mods" / "qs_user_tax.py"
    mod.parent.mkdir()
    mod.write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(mod.parent))
    monkeypatch.delitem(sys.modules, "qs_user_tax", raising=False)
    spec = write(tmp_path / "plug.toml", SPEC.replace("[axes]", '"activity.tax" = { class = "qs_user_tax:Tax" }\n[axes]'))
    out = tmp_path / "out"
    _interrupted(spec, out)
    m = qs.load_results(out).manifest
    assert m["plugins"]["qs_user_tax"]["path"] == str(mod)
    import hashlib

    assert m["plugins"]["qs_user_tax"]["sha256"] == hashlib.sha256(mod.read_bytes()).hexdigest()
    mod.write_text(PLUGIN.replace("VERSION 1", "VERSION 2"))
    assert cli_main(sweep_cli(spec, out, "--resume")) == 2
    err = capsys.readouterr().err
    assert "user policy code it runs changed since it started" in err and "qs_user_tax" in err
    one_paragraph(err)
    mod.write_text(PLUGIN)  # put back as it was: the resume goes on
    assert cli_main(sweep_cli(spec, out, "--resume")) == 1
    ref = qs.sweep(spec, tmp_path / "ref", executor="serial")
    pd.testing.assert_frame_equal(qs.load_results(out).summary, ref.summary)


def test_plugin_sources_are_found_without_importing(tmp_path, monkeypatch):
    pkg = tmp_path / "qs_pkg_noimport"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').write('x')\n")
    (pkg / "pol.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').write('x')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert find_source("qs_pkg_noimport.pol") == str(pkg / "pol.py")
    assert find_source("qs_pkg_noimport") == str(pkg / "__init__.py")
    assert find_source("qs_pkg_noimport.nope") is None and find_source("qs_no_such_module_x") is None
    assert not (tmp_path / "ran").exists() and "qs_pkg_noimport" not in sys.modules


# ---------------------------------------------------------------------- runs that exit


def test_a_run_calling_sys_exit_is_a_failed_run_and_the_sweep_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    spec = write(tmp_path / "exit.toml", """
        steps = 4
        [fixed]
        "community.n_seed" = 30
        "community.n_prospects" = 150
        "activity.exit" = { class = "_sweep_boom:Exit", day = 2 }
        [axes]
        "activity.exit.exit" = [false, true]
        "community.chatter_share" = [0.0, 0.2]
    """)
    code = cli_main(sweep_cli(spec, tmp_path / "out"))
    captured = capsys.readouterr()
    assert code == 1  # not 0: two runs failed
    assert "2/4 runs done, 2 failed" in captured.out and "SystemExit" in captured.err
    res = qs.load_results(tmp_path / "out")
    assert (res.failures["error"] == "SystemExit: 0").all() and len(res.failures) == 2
    assert (res.summary["activity.exit.exit"] == False).all()  # noqa: E712
    assert res.manifest["status"] == "complete_with_failures"


def test_ctrl_c_still_stops_the_serial_executor(spec_file, tmp_path, monkeypatch):
    import qunsim.simulation as sim

    real = sim.simulate
    calls = {"n": 0}

    def interrupted(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:  # 1: the keep check's 0-day probe, 2: the first run
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(sim, "simulate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        qs.sweep(spec_file, tmp_path / "out", executor="serial", flush_runs=1, max_pending=1)
    res = qs.load_results(tmp_path / "out")
    assert res.manifest["status"] == "interrupted" and len(res.summary) == 1


def test_lock_file_left_by_a_killed_process_is_taken_over(spec_file, reference, done_copy):
    (done_copy / ".lock").write_text(json.dumps({"pid": 999999, "host": "elsewhere"}))
    t0 = time.monotonic()
    res = qs.sweep(spec_file, done_copy, executor="serial", resume=True)
    assert time.monotonic() - t0 < 60
    assert_same(res, reference)
    assert not (done_copy / ".lock").exists()


def test_lock_refusal_is_a_sweep_error(tmp_path):
    s = store.Store(tmp_path)
    with s.lock():
        with pytest.raises(SweepError, match="another sweep process"):
            with store.Store(tmp_path).lock():
                pass
    with s.lock():  # released: taken again
        pass


def test_without_flock_an_exclusive_lock_file_is_used(spec_file, reference, done_copy, monkeypatch):
    """On a filesystem that refuses flock, the lock is an exclusive-create file naming its owner."""
    import fcntl

    def no_flock(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    s = store.Store(done_copy)
    with s.lock():
        assert json.loads((done_copy / ".lock.excl").read_text())["pid"] == os.getpid()
        with pytest.raises(SweepError, match=f"another sweep process \\(pid {os.getpid()} on host"):
            with store.Store(done_copy).lock():
                pass
    assert not (done_copy / ".lock.excl").exists()
    # left by a process of this host that is gone: stale, taken over
    import socket

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (done_copy / ".lock.excl").write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()}))
    res = qs.sweep(spec_file, done_copy, executor="serial", resume=True)
    assert_same(res, reference)
    assert not (done_copy / ".lock.excl").exists()


def test_a_plugin_not_found_at_the_start_does_not_block_a_resume():
    from qunsim.sweep.plugins import plugin_changes

    a = {"m": {"path": "/x/m.py", "sha256": "aa"}, "gone": {"path": None, "sha256": None}}
    assert plugin_changes(a, {"m": {"path": "/x/m.py", "sha256": "aa"}, "gone": {"path": "/y.py", "sha256": "bb"}}) == []
    assert plugin_changes(a, {"m": {"path": "/x/m.py", "sha256": "cc"}, "gone": {"path": None, "sha256": None}}) == \
        ["m (/x/m.py) changed: sha256 aa -> cc"]


@given(data=st.data())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_flipped_byte_is_caught_or_harmless_and_resume_recovers(spec_file, reference, tmp_path_factory, data):
    """One byte changed anywhere in the store: reading gives the reference data or one clear
    error, never a traceback or other values; --resume always ends at the reference."""
    out = tmp_path_factory.mktemp("flip") / "out"
    shutil.copytree(reference.path, out)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    f = data.draw(st.sampled_from(files), label="file")
    b = bytearray(f.read_bytes())
    i = data.draw(st.integers(0, len(b) - 1), label="offset")
    b[i] ^= data.draw(st.integers(1, 255), label="xor")
    f.write_bytes(bytes(b))
    try:
        res = qs.load_results(out)
    except StoreError as e:
        assert "--resume" in str(e) and "\n" not in str(e)
    else:  # a JSON whitespace byte turned into another whitespace changes nothing
        assert f.suffix == ".json", f"a changed byte in {f.relative_to(out)} went unnoticed"
        assert_same(res, reference)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = qs.sweep(spec_file, out, executor="serial", resume=True)
    assert_same(res, reference)


def test_a_damaged_batch_whose_runs_cannot_be_named_still_refuses(spec_file, reference, tmp_path):
    out = tmp_path / "out"
    _interrupted(spec_file, out)  # status interrupted: no completeness claim to check against
    rec = sorted((out / "commits").glob("*.json"))[0]
    rec.write_bytes(b"garbage")
    for kind in ("summary", "timeseries"):
        _truncate(_part(out, kind))
    s = store.Store(out)
    m = s.read_manifest()
    m["committed"] = {}  # as if killed before the session's end listed its batches
    s.write_manifest(m)
    refused_then_resumed(spec_file, out, reference,
                         refused="has lost the runs of damaged batches: batch s001-000001: its commit record",
                         warned="the finished runs of damaged batches of .* were lost")


def test_a_whitespace_change_in_a_json_file_is_harmless(reference, done_copy):
    for p in (done_copy / "manifest.json", sorted((done_copy / "commits").glob("*.json"))[0]):
        b = bytearray(p.read_bytes())
        b[b.index(b"  ")] ^= 0x2A  # a space becomes a newline: same JSON content
        p.write_bytes(bytes(b))
    assert_same(qs.load_results(done_copy), reference)
