import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from qunsim.cli import main


def test_run_writes_tables_and_config(tmp_path, capsys):
    out = tmp_path / "kc"
    rc = main(["run", "configs/knowledge_community.toml", "--steps", "30", "--seed", "1", "--out", str(out),
               "--set", "community.n_prospects=500"])
    assert rc == 0
    ts = pd.read_parquet(out / "timeseries.parquet")
    members = pd.read_parquet(out / "members.parquet")
    assert len(ts) == 31 and len(members) >= 50
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 1 and summary["steps"] == 30
    import qunsim as qs

    cfg = qs.load_config(out / "config.toml")
    assert cfg.community.n_prospects == 500
    # the saved config reproduces the run
    again = qs.simulate(cfg, rng=1, steps=30)
    pd.testing.assert_frame_equal(again.timeseries, ts, check_dtype=False)
    assert "ran 30 days" in capsys.readouterr().out


@pytest.mark.parametrize("argv, needle", [
    (["run", "configs/nope.toml", "--out", "OUT"], "file not found"),
    (["run", "configs/knowledge_community.toml", "--out", "OUT", "--set", "community.chatter_share=7"],
     "community.chatter_share"),
    (["run", "configs/knowledge_community.toml", "--out", "OUT", "--set", "novalue"], "KEY=VALUE"),
    (["run", "configs/knowledge_community.toml", "--out", "OUT", "--steps", "many"], "an integer from 0 to 100000"),
    (["run", "configs/knowledge_community.toml"], "--out"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_paragraph_exit_2(argv, needle, tmp_path, capsys):
    argv = [str(tmp_path / "o") if a == "OUT" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_existing_output_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["run", "configs/knowledge_community.toml", "--steps", "2", "--out", str(out)]) == 2
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "timeseries.parquet").exists()


def test_console_script_entry_point(tmp_path):
    r = subprocess.run([sys.executable, "-m", "qunsim.cli", "run", "configs/bad_nothing.toml", "--out",
                        str(tmp_path / "x")], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "bad_nothing.toml" in r.stderr


# ------------------------------------------------------------------ arguments are validated

KC = "configs/knowledge_community.toml"
FAST = ["--set", "community.n_prospects=200", "--set", "community.n_seed=30"]


def _one_paragraph_exit_2(argv, capsys, *needles):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, err
    return err


@pytest.mark.parametrize("flag, value, needle", [
    ("--steps", "-1", "an integer from 0 to 100000, got -1"),
    ("--steps", "100001", "an integer from 0 to 100000, got 100001"),
    ("--steps", "1.5", "got '1.5'"),
    ("--seed", "-1", "an integer from 0 to 9223372036854775807, got -1"),
    ("--seed", str(2**63), "got 9223372036854775808"),
    ("--seed", "abc", "got 'abc'"),
])
def test_bad_numbers_are_refused(flag, value, needle, tmp_path, capsys):
    _one_paragraph_exit_2(["run", KC, "--out", str(tmp_path / "o"), flag, value], capsys, flag, needle)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value, needle", [
    ("community.n_groups=true", "`community.n_groups` must be a valid integer, got True"),
    ('community.chatter_share="0.3"', "`community.chatter_share` must be a valid number, got '0.3'"),
    ("dynamics.wom_reach=1e308", "`dynamics.wom_reach` must be less than or equal to 100000"),
    ("community.n_prospects=1e9", "`community.n_prospects` must be a valid integer"),
    ("community.n_prospects=1000000000", "`community.n_prospects` must be less than or equal to 10000000"),
    ("community.n_groups=1000000000000000000", "`community.n_groups` must be less than or equal to 10000"),
    ("dynamics.inflow=inf", "`dynamics.inflow` must be a finite number"),
    ("dynamics.hazard_midpoint=nan", "`dynamics.hazard_midpoint` must be a finite number"),
])
def test_bad_values_from_the_command_line(value, needle, tmp_path, capsys):
    _one_paragraph_exit_2(["run", KC, "--out", str(tmp_path / "o"), "--set", value], capsys, needle)


def test_unwritable_out_names_the_path(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    _one_paragraph_exit_2(["run", KC, "--steps", "1", "--out", str(afile)], capsys,
                          str(afile), "exists and is not a directory")
    _one_paragraph_exit_2(["run", KC, "--steps", "1", "--out", str(afile / "sub" / "run")], capsys,
                          f"{afile} is not a directory")
    assert afile.read_text() == "x"


def test_os_error_while_writing_names_the_path(tmp_path, capsys, monkeypatch):
    def no_space(*a, **k):
        raise OSError(28, "No space left on device", str(tmp_path / "o" / "x"))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", no_space)
    out = tmp_path / "o"
    _one_paragraph_exit_2(["run", KC, "--steps", "2", "--out", str(out), *FAST], capsys,
                          f"cannot write the run to {out}", "No space left on device")
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no half-written run, no temporary left


def test_non_utf8_edge_list(tmp_path, capsys):
    (tmp_path / "edges.txt").write_bytes(b"a b\n\xff\xfe c\n")
    (tmp_path / "c.toml").write_text('[network]\nkind = "edgelist"\npath = "edges.txt"\n')
    _one_paragraph_exit_2(["run", str(tmp_path / "c.toml"), "--steps", "1", "--out", str(tmp_path / "o")],
                          capsys, "edges.txt", "not a UTF-8 text file")


@pytest.mark.parametrize("addr", ["not a url", "tcp://", "localhost", "tcp://host", "tcp://host:99999", "http://h:1"])
def test_bad_scheduler_address(addr, tmp_path, capsys):
    sweep_file = sorted(Path("configs/sweeps").glob("*.toml"))[0]
    _one_paragraph_exit_2(["sweep", str(sweep_file), "--out", str(tmp_path / "s"), "--scheduler", addr], capsys,
                          "--scheduler", "expects a Dask scheduler address", repr(addr))
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("addr", ["tcp://127.0.0.1:8786", "tls://sched.example.org:8786", "localhost:8786",
                                  "tcp://[::1]:8786"])
def test_good_scheduler_addresses(addr):
    from qunsim.cli import scheduler_address

    assert scheduler_address(addr) == addr


def test_sys_exit_during_a_command_is_exit_2(tmp_path, capsys, monkeypatch):
    import qunsim as qs

    def bye(*a, **k):
        raise SystemExit(0)

    monkeypatch.setattr(qs, "simulate", bye)
    _one_paragraph_exit_2(["run", KC, "--out", str(tmp_path / "o")], capsys, "sys.exit(0)")


# ------------------------------------------------------------------ atomic run outputs

def _snapshot(d):
    return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_force_replaces_the_run_only_when_the_new_one_is_complete(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert main(["run", KC, "--steps", "3", "--seed", "1", "--out", str(out), *FAST]) == 0
    (out / "notes.txt").write_text("my notes")
    before = _snapshot(out)
    # the new run fails part-way: the first table is written, the second raises
    real = pd.DataFrame.to_parquet
    calls = []

    def fail_second(self, path, *a, **k):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(path))
        return real(self, path, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fail_second)
    _one_paragraph_exit_2(["run", KC, "--steps", "4", "--seed", "2", "--out", str(out), "--force", *FAST], capsys,
                          "No space left on device", "unchanged")
    assert len(calls) == 2 and _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary directory left
    # a KeyboardInterrupt part-way leaves it intact too
    monkeypatch.setattr(pd.DataFrame, "to_parquet", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert main(["run", KC, "--steps", "4", "--out", str(out), "--force", *FAST]) == 130
    assert _snapshot(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    # once it succeeds, the new run replaces the old one; the user's notes are kept
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real)
    capsys.readouterr()
    assert main(["run", KC, "--steps", "4", "--seed", "2", "--out", str(out), "--force", *FAST]) == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 2
    assert (out / "notes.txt").read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_force_never_replaces_a_directory_that_holds_no_run(tmp_path, capsys):
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    _one_paragraph_exit_2(["run", KC, "--steps", "1", "--out", str(out), "--force"], capsys, "holds no qunsim run")
    assert (out / "thesis.tex").read_text() == "years of work" and len(list(out.iterdir())) == 1


def test_run_into_an_empty_directory_and_with_plots(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["run", KC, "--steps", "3", "--out", str(out), "--plots", *FAST]) == 0
    assert (out / "figures").is_dir() and any((out / "figures").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]
