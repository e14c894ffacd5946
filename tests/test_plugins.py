"""Plug-in policies run code only where asked: when a model is built.

Loading, validating, saving, reporting and plotting a config that names a user ``class`` never
imports it; building a model does, and any failure there (module missing, an exception or a
``sys.exit`` during its import, bad parameters) is a one-paragraph ConfigError / exit 2.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import qunsim as qs
from qunsim.cli import main
from qunsim.policies import plugin_fingerprints, user_classes
from qunsim.policies.base import split_class_path

SMALL = {"community": {"n_seed": 30, "n_prospects": 100}}
SRC = str(Path(qs.__file__).resolve().parents[1])

POLICY = '''
from pathlib import Path
Path({marker!r}).write_text("imported")
from qunsim.policies import ActivityPolicy, PolicyParams

class Quiet(ActivityPolicy):
    key = "quiet"
    class Params(PolicyParams):
        every: int = 2
    def on_posting(self, model, ctx, rng):
        if ctx.step % self.params.every == 0:
            ctx.post_counts //= 2
'''


def _module(tmp_path: Path, name: str, body: str) -> Path:
    d = tmp_path / "plugins"
    d.mkdir(exist_ok=True)
    (d / f"{name}.py").write_text(textwrap.dedent(body))
    return d


def _config(name: str, cls: str = "Quiet", **params) -> dict:
    return {**SMALL, "activity": {"quiet": {"class": f"{name}:{cls}", **params}}}


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A plug-in module (unique name per test) that leaves a marker file when imported."""
    name = f"plug_{tmp_path.name.replace('-', '_')}"
    marker = tmp_path / "imported.txt"
    d = _module(tmp_path, name, POLICY.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(d))
    yield name, marker
    sys.modules.pop(name, None)


def test_loading_saving_and_describing_a_config_imports_nothing(plugin, tmp_path):
    name, marker = plugin
    cfg = qs.load_config(_config(name, every=3))
    p = tmp_path / "c.toml"
    p.write_text(cfg.to_toml())
    again = qs.load_config(p)
    assert again == cfg and again["activity.quiet.every"] == 3
    from qunsim.report import describe_policies

    assert "user policy" in describe_policies(cfg)["activity"][0]
    assert user_classes(cfg) == {"activity.quiet": f"{name}:Quiet"}
    assert plugin_fingerprints(cfg)[name].startswith("sha256:")
    assert not marker.exists()
    qs.CommunityModel(cfg, rng=0)  # building the model is where the code runs
    assert marker.read_text() == "imported"


def test_report_and_plot_of_a_run_never_import_the_plugin(plugin, tmp_path):
    name, marker = plugin
    res = qs.simulate(_config(name), rng=1, steps=5)
    out = qs.save_run(res, tmp_path / "run")
    marker.unlink()
    sys.modules.pop(name, None)
    # the module now exits the interpreter if imported: report and plot must not touch it
    (tmp_path / "plugins" / f"{name}.py").write_text("import sys\nsys.exit(0)\n")
    loaded = qs.load_run(out)
    assert loaded.config == res.config
    assert main(["report", str(out), "--out", str(tmp_path / "r.html")]) == 0
    assert "user policy" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert main(["plot", str(out), "--out", str(tmp_path / "f"), "--formats", "png"]) == 0
    drawn = {f.stem for f in (tmp_path / "f").iterdir()}
    assert drawn and "network" not in drawn  # no replay: it would run the plug-in
    assert not marker.exists()


@pytest.mark.parametrize("body, needle", [
    ("raise RuntimeError('boom')\n", "raised RuntimeError: boom"),
    ("import sys\nsys.exit(0)\n", "called sys.exit(0)"),
    ("import sys\nsys.exit('bye')\n", "called sys.exit('bye')"),
    ("import no_such_dependency_xyz\n", "ModuleNotFoundError"),
    ("x = 1\n", "has no attribute 'Quiet'"),
])
def test_a_plugin_failing_on_import_is_a_config_error_and_exit_2(body, needle, tmp_path, monkeypatch, capsys):
    name = f"bad_{abs(hash((body, str(tmp_path)))) % 10**8}"
    monkeypatch.syspath_prepend(str(_module(tmp_path, name, body)))
    cfg = qs.load_config(_config(name))  # loading is fine: nothing is imported yet
    with pytest.raises(qs.ConfigError, match="activity.quiet.class") as e:
        qs.CommunityModel(cfg, rng=0)
    assert needle in str(e.value) and "\n" not in str(e.value)
    sys.modules.pop(name, None)
    p = tmp_path / "c.toml"
    p.write_text(cfg.to_toml())
    assert main(["run", str(p), "--steps", "2", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    sys.modules.pop(name, None)


def test_plugin_params_and_family_checked_when_the_model_is_built(plugin):
    name, _ = plugin
    with pytest.raises(qs.ConfigError, match="activity.quiet.every"):
        qs.CommunityModel(qs.load_config(_config(name, every="two")), rng=0)
    with pytest.raises(qs.ConfigError, match="not a subclass of qunsim.policies.Gate"):
        qs.CommunityModel(qs.load_config({**SMALL, "gate": {"g": {"class": f"{name}:Quiet"}}}), rng=0)
    # a switched-off plug-in is never imported
    qs.CommunityModel(qs.load_config(_config("no_such_module_at_all", enabled=False)), rng=0)


@pytest.mark.parametrize("path", ["", "no such:Thing", "mod:", ":Cls", "mod:Cls:x", "1mod:Cls", "class.x:Y", "mod"])
def test_class_path_syntax_is_checked_without_importing(path):
    with pytest.raises(qs.ConfigError, match="activity.x.class"):
        qs.load_config({"activity": {"x": {"class": path}}})


def test_split_class_path():
    assert split_class_path("a.b:C") == ("a.b", "C")
    assert split_class_path("a.b.C") == ("a.b", "C")
    with pytest.raises(ValueError):
        split_class_path("a b:C")


def test_fingerprints_follow_the_source_without_importing(plugin, tmp_path):
    name, marker = plugin
    cfg = qs.load_config(_config(name))
    before = plugin_fingerprints(cfg)
    assert list(before) == [name] and before == plugin_fingerprints(cfg)
    src = tmp_path / "plugins" / f"{name}.py"
    src.write_text(src.read_text() + "\n# edited\n")
    after = plugin_fingerprints(cfg)
    assert after[name] != before[name]
    assert not marker.exists()
    assert plugin_fingerprints(qs.load_config()) == {}
    with pytest.raises(qs.ConfigError, match="not found on the Python path"):
        plugin_fingerprints(qs.load_config(_config("no_such_module_at_all")))


def test_fingerprints_of_a_module_in_a_package_import_no_parent(tmp_path, monkeypatch):
    pkg = tmp_path / "pk" / "mypkg"
    pkg.mkdir(parents=True)
    marker = tmp_path / "parent.txt"
    (pkg / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (pkg / "pol.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path / "pk"))
    fp = plugin_fingerprints(qs.load_config({"activity": {"q": {"class": "mypkg.pol:Quiet"}}}))
    assert list(fp) == ["mypkg.pol"] and not marker.exists()


def test_current_directory_is_not_searched_by_the_cli(tmp_path):
    """`python -m qunsim.cli` in a directory holding helpers.py does not import it; PYTHONPATH does."""
    marker = tmp_path / "imported.txt"
    (tmp_path / "helpers.py").write_text(POLICY.format(marker=str(marker)))
    cfg = qs.load_config(_config("helpers"))
    (tmp_path / "c.toml").write_text(cfg.to_toml())
    env = {**os.environ, "PYTHONPATH": SRC}
    r = subprocess.run([sys.executable, "-m", "qunsim.cli", "run", "c.toml", "--steps", "2", "--out", "o"],
                       cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "not importable" in r.stderr and "PYTHONPATH" in r.stderr and "Traceback" not in r.stderr
    assert not marker.exists()
    env["PYTHONPATH"] = os.pathsep.join([SRC, str(tmp_path)])
    r = subprocess.run([sys.executable, "-m", "qunsim.cli", "run", "c.toml", "--steps", "2", "--out", "o"],
                       cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert marker.exists()


def test_sweep_results_report_and_plot_never_import_the_plugin(plugin, tmp_path):
    name, marker = plugin
    spec = {"name": "plug", "steps": 3, "replicates": 1,
            "base": {**SMALL, "activity": {"quiet": {"class": f"{name}:Quiet"}}},
            "axes": {"community.chatter_share": [0.1, 0.2]}}
    out = tmp_path / "sw"
    qs.sweep(spec, out, executor="serial", progress=False)
    assert marker.exists()  # the runs built models: that is where the plug-in ran
    marker.unlink()
    sys.modules.pop(name, None)
    (tmp_path / "plugins" / f"{name}.py").write_text("import sys\nsys.exit(0)\n")
    res = qs.load_results(out)
    assert len(res.summary) == 2
    assert main(["report", str(out), "--out", str(tmp_path / "r.html")]) == 0  # draws the sweep's figures too
    assert not marker.exists() and name not in sys.modules
