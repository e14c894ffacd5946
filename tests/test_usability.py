"""What users expect: --version, did-you-mean hints, `extends`, progress bars, the
DataCollector's columns, docstrings."""

import io
import pydoc
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import qunsim as qs
from qunsim.cli import main

SMALL = {"community.n_seed": 50, "community.n_prospects": 300}
BASE = (Path(__file__).resolve().parents[1] / "configs" / "knowledge_community.toml").as_posix()


# ------------------------------------------------------------------ --version
def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"qunsim {qs.__version__}"


# ------------------------------------------------------------------ did you mean
def test_hint_for_a_misspelt_override():
    with pytest.raises(qs.ConfigError, match=r"`community.chater_share` is not a known key; did you mean `community.chatter_share`\?"):
        qs.load_config(overrides={"community.chater_share": 0.3})
    with pytest.raises(qs.ConfigError, match="did you mean `dynamics`"):
        qs.load_config(overrides={"dynamic.inflow": 1.0})


def test_hint_for_a_misspelt_key_in_a_file(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text("[community]\nchater_share = 0.3\n[activity.spam_moderation]\nprecison = 0.5\n")
    with pytest.raises(qs.ConfigError) as e:
        qs.load_config(f)
    assert "did you mean `community.chatter_share`?" in str(e.value)
    f.write_text("[activity.spam_moderation]\nprecison = 0.5\n")
    with pytest.raises(qs.ConfigError, match="did you mean `activity.spam_moderation.precision`"):
        qs.load_config(f)
    f.write_text("[comunity]\nn_seed = 3\n")
    with pytest.raises(qs.ConfigError, match="did you mean `community`"):
        qs.load_config(f)


def test_no_hint_when_nothing_is_close():
    with pytest.raises(qs.ConfigError) as e:
        qs.load_config(overrides={"community.zzzz": 1})
    assert "did you mean" not in str(e.value)


def test_hint_on_the_command_line(tmp_path, capsys):
    rc = main(["run", "configs/knowledge_community.toml", "--steps", "1", "--out", str(tmp_path / "o"),
               "--set", "community.chater_share=0.2"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "did you mean `community.chatter_share`?" in err and "Traceback" not in err


def test_hint_in_sweep_files(tmp_path):
    from qunsim.sweep.spec import load_sweep

    f = tmp_path / "sw.toml"
    f.write_text(f'base = "{BASE}"\nreplicate = 2\n[axes]\n"community.chatter_share" = [0.1, 0.2]\n')
    with pytest.raises(qs.ConfigError, match="did you mean `replicates`"):
        load_sweep(f)
    f.write_text(f'base = "{BASE}"\n[axes]\n"community.chater_share" = [0.1, 0.2]\n')
    with pytest.raises(qs.ConfigError, match="did you mean `community.chatter_share`"):
        load_sweep(f)


def test_hint_in_strategy_files(tmp_path):
    from qunsim.strategies import load_strategies

    base = BASE
    f = tmp_path / "st.toml"
    f.write_text(f'base = "{base}"\nreplicate = 2\n[strategies.a]\nlabel = "A"\n')
    with pytest.raises(qs.ConfigError, match="did you mean `replicates`"):
        load_strategies(f)
    f.write_text(f'base = "{base}"\n[strategies.a]\nlable = "A"\n')
    with pytest.raises(qs.ConfigError, match="did you mean `strategies.a.label`"):
        load_strategies(f)
    f.write_text(f'base = "{base}"\n[strategies.a]\noverrides = {{"gate.fe" = 3}}\n[strategies.b]\n')
    with pytest.raises(qs.ConfigError):
        load_strategies(f)


# ------------------------------------------------------------------ extends
def _write(path, text):
    path.write_text(textwrap.dedent(text))
    return path


def test_extends_merges_over_the_parent(tmp_path):
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "base.toml", """
        [community]
        name = "base"
        chatter_share = 0.1
        n_seed = 40
        [gate.fee]
        price = 50.0
        [dynamics]
        inflow = 2.0
    """)
    _write(tmp_path / "sub" / "mid.toml", """
        extends = "../base.toml"
        [community]
        chatter_share = 0.3
        [gate.fee]
        price = 80.0
    """)
    child = _write(tmp_path / "child.toml", """
        extends = "sub/mid.toml"     # relative to this file
        [dynamics]
        wom_reach = 50
    """)
    cfg = qs.load_config(child)
    assert cfg.community.name == "base" and cfg.community.n_seed == 40
    assert cfg.community.chatter_share == 0.3 and cfg.get("gate.fee.price") == 80.0
    assert cfg.dynamics.inflow == 2.0 and cfg.dynamics.wom_reach == 50
    # provenance: the chain, child first
    assert cfg.source.startswith(str(child)) and "mid.toml" in cfg.source and "base.toml" in cfg.source
    assert cfg.source.index("mid.toml") < cfg.source.index("base.toml")
    # what is written back is self-contained and reads back the same
    again = tmp_path / "resolved.toml"
    again.write_text(cfg.to_toml())
    assert "extends" not in again.read_text()
    assert qs.load_config(again).to_dict() == cfg.to_dict()


def test_extends_the_shipped_scenario(tmp_path):
    shipped = BASE
    child = _write(tmp_path / "v.toml", f'extends = "{shipped}"\n[community]\nchatter_share = 0.25\n')
    a, b = qs.load_config(shipped), qs.load_config(child)
    assert b.community.chatter_share == 0.25
    assert {**a.to_dict()["community"], "chatter_share": 0.25} == b.to_dict()["community"]


def test_extends_cycles_and_bad_parents_are_refused(tmp_path):
    _write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    _write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(qs.ConfigError, match="cycle") as e:
        qs.load_config(tmp_path / "a.toml")
    assert "a.toml -> " in str(e.value) and "b.toml" in str(e.value)
    _write(tmp_path / "self.toml", 'extends = "self.toml"\n')
    with pytest.raises(qs.ConfigError, match="cycle"):
        qs.load_config(tmp_path / "self.toml")
    _write(tmp_path / "orphan.toml", 'extends = "missing.toml"\n')
    with pytest.raises(qs.ConfigError, match="does not exist.*missing.toml"):
        qs.load_config(tmp_path / "orphan.toml")
    _write(tmp_path / "num.toml", "extends = 3\n")
    with pytest.raises(qs.ConfigError, match="`extends` must be the path"):
        qs.load_config(tmp_path / "num.toml")
    _write(tmp_path / "badparent.toml", 'extends = "broken.toml"\n')
    _write(tmp_path / "broken.toml", "[community\n")
    with pytest.raises(qs.ConfigError, match="broken.toml.*not valid TOML"):
        qs.load_config(tmp_path / "badparent.toml")


def test_strategies_and_sweeps_accept_an_extending_base(tmp_path):
    from qunsim.strategies import load_strategies
    from qunsim.sweep.spec import load_sweep

    shipped = BASE
    _write(tmp_path / "v.toml", f'extends = "{shipped}"\n[community]\nchatter_share = 0.25\n')
    _write(tmp_path / "st.toml", 'base = "v.toml"\n[strategies.a]\nlabel = "A"\n[strategies.a.gate.fee]\nprice = 10.0\n')
    s = load_strategies(tmp_path / "st.toml")
    cfg = s.strategies["a"].config
    assert cfg.community.chatter_share == 0.25 and cfg.get("gate.fee.price") == 10.0
    assert s.base.community.chatter_share == 0.25
    _write(tmp_path / "sw.toml", 'base = "v.toml"\n[axes]\n"dynamics.inflow" = [1.0, 2.0]\n')
    spec = load_sweep(tmp_path / "sw.toml")
    assert spec.base.community.chatter_share == 0.25


# ------------------------------------------------------------------ progress bars
class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_where_someone_sees_it(monkeypatch):
    from qunsim.progress import progress_enabled

    assert progress_enabled(False) is False
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_enabled(True) is False
    monkeypatch.setattr(sys, "stderr", _Tty())
    assert progress_enabled(True) is True


def test_run_for_with_progress_draws_a_bar_and_changes_nothing(monkeypatch):
    a = qs.CommunityModel(rng=4, **SMALL)
    a.run_for(12)
    fake = _Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    b = qs.CommunityModel(rng=4, **SMALL)
    b.run_for(12, progress=True)
    monkeypatch.undo()
    assert "12/12" in fake.getvalue() and "day" in fake.getvalue()
    assert a.timeseries().equals(b.timeseries())


def test_cli_run_has_no_bar_when_not_a_terminal(tmp_path, capsys):
    assert main(["run", "configs/knowledge_community.toml", "--steps", "3", "--out", str(tmp_path / "o"),
                 "--set", "community.n_prospects=300"]) == 0
    assert "day/s" not in capsys.readouterr().err


# ------------------------------------------------------------------ DataCollector
def test_datacollector_carries_every_column():
    m = qs.CommunityModel(rng=2, **SMALL, **{"monetization.ladder": {}, "gate.fee": 30.0})
    m.run_for(8)
    df = m.datacollector.get_model_vars_dataframe()
    ts = m.timeseries()
    assert set(ts.columns) - set(df.columns) == {"phase", "step", "gresham_low", "gresham_high"}
    assert len(df) == len(ts) == 9
    for col in df.columns:
        np.testing.assert_array_equal(df[col].to_numpy(dtype=float), ts[col].to_numpy(dtype=float), err_msg=col)
    assert {"revenue", "revenue_cumulative", "revenue_entry_fee", "revenue_rung_low"} <= set(df.columns)


def test_datacollector_pads_a_column_that_appears_later():
    from qunsim.datacollector import TimeseriesCollector

    class Fake:
        time = 0.0

        class metrics:
            rows = []

    dc = TimeseriesCollector()
    for t, row in enumerate([{"step": 0, "a": 1}, {"step": 1, "a": 2, "b": 5.0}, {"step": 2, "b": 6.0}]):
        Fake.metrics.rows.append(row)
        Fake.time = float(t)
        dc.collect(Fake)
    df = dc.get_model_vars_dataframe()
    assert df["a"].tolist() == [1, 2, 0.0] and df["b"].tolist() == [0.0, 5.0, 6.0]


def test_batch_run_has_revenue():
    # in a subprocess: batch_run switches the start method of the whole process to spawn
    code = textwrap.dedent("""
        import mesa, qunsim as qs
        rows = mesa.batch_run(qs.CommunityModel, {"community.n_prospects": 300, "gate.fee": [20.0, 80.0]},
                              number_processes=1, max_steps=4, display_progress=False, rng=[1])
        last = [r for r in rows if r["Step"] == 4]
        print(len(last), all("revenue" in r and "revenue_entry_fee" in r for r in last),
              sorted(r["gate.fee"] for r in last))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[:2] == ["2", "True"]


# ------------------------------------------------------------------ docstrings
def test_help_shows_no_placeholder_text():
    text = pydoc.render_doc(qs.CommunityModel, renderer=pydoc.plaintext)
    for placeholder in ("Fill in here", "Overload this method", "Overload as needed"):
        assert placeholder not in text
    for name in ("__init__", "step", "run_for", "run_model", "graph_history", "record_graph",
                 "timeseries", "members_frame", "graph", "trust_level_array", "nbytes"):
        doc = getattr(qs.CommunityModel, name).__doc__
        assert doc and len(doc.strip()) > 20, name
    assert "Parameters" in qs.CommunityModel.__init__.__doc__
