"""save_run is atomic: staged in a temporary sibling, renamed into place when complete."""

import errno

import pandas as pd
import pytest

import qunsim as qs
from qunsim.simulation import staged_run_dir


@pytest.fixture(scope="module")
def res():
    return qs.simulate({"community": {"n_seed": 30, "n_prospects": 100}}, rng=3, steps=3)


def _files(d):
    return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_fresh_and_empty_directories(res, tmp_path):
    qs.save_run(res, tmp_path / "a" / "b")
    (tmp_path / "e").mkdir()
    qs.save_run(res, tmp_path / "e")
    for d in (tmp_path / "a" / "b", tmp_path / "e"):
        assert qs.load_run(d).config == res.config
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "e"]


def test_refuses_without_replace_and_never_replaces_a_non_run(res, tmp_path):
    qs.save_run(res, tmp_path / "r")
    with pytest.raises(FileExistsError, match="not empty"):
        qs.save_run(res, tmp_path / "r")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "data.csv").write_text("1,2")
    with pytest.raises(FileExistsError, match="holds no qunsim run"):
        qs.save_run(res, tmp_path / "mine", replace=True)
    assert (tmp_path / "mine" / "data.csv").read_text() == "1,2"
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError):
        qs.save_run(res, tmp_path / "f", replace=True)


def test_failure_part_way_leaves_the_old_run(res, tmp_path, monkeypatch):
    out = tmp_path / "r"
    qs.save_run(res, out)
    (out / "notes.txt").write_text("n")
    before = _files(out)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", lambda self, path, *a, **k: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device", str(path))))
    with pytest.raises(OSError, match="No space left"):
        qs.save_run(res, out, replace=True)
    assert _files(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_replace_keeps_other_files_and_drops_stale_figures(res, tmp_path):
    out = tmp_path / "r"
    qs.save_run(res, out)
    (out / "notes.txt").write_text("n")
    (out / "extra").mkdir()
    (out / "extra" / "x.txt").write_text("x")
    (out / "figures").mkdir()
    (out / "figures" / "old.png").write_bytes(b"old")
    other = qs.simulate({"community": {"n_seed": 30, "n_prospects": 100}}, rng=4, steps=2)
    qs.save_run(other, out, replace=True)
    assert qs.load_run(out).seed == 4 and len(qs.load_run(out).timeseries) == 3
    assert (out / "notes.txt").read_text() == "n" and (out / "extra" / "x.txt").read_text() == "x"
    assert not (out / "figures").exists()  # figures of the old run would describe another run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_a_run_appearing_meanwhile_is_not_overwritten(res, tmp_path):
    out = tmp_path / "r"
    with pytest.raises(FileExistsError):
        with staged_run_dir(out) as tmp:
            (tmp / "a.txt").write_text("new")
            qs.save_run(res, out)  # someone else finished first
    assert qs.load_run(out).seed == 3 and not (out / "a.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_replacing_through_a_symlink_keeps_the_target(res, tmp_path):
    target = tmp_path / "target"
    qs.save_run(res, target)
    (tmp_path / "link").symlink_to(target)
    qs.save_run(res, tmp_path / "link", replace=True)
    assert (tmp_path / "link").is_dir() and not (tmp_path / "link").is_symlink()
    assert qs.load_run(target).seed == 3 and qs.load_run(tmp_path / "link").seed == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "target"]
