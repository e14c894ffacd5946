import json
import subprocess
import sys

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
    (["run", "configs/knowledge_community.toml", "--out", "OUT", "--steps", "many"], "invalid int value"),
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
