
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from _strategies import declared
from qunsim.config import (
    LIMITS,
    Community,
    Composition,
    ConfigError,
    Dynamics,
    Network,
    Run,
    declared_bounds,
    dump_toml,
    load_config,
)
from qunsim.policies import REGISTRY


def test_defaults_and_override():
    cfg = load_config()
    assert cfg.community.goal == "knowledge"
    c2 = cfg.override({"community.chatter_share": 0.3})
    assert c2.community.chatter_share == 0.3 and cfg.community.chatter_share == 0.05
    assert c2["community.chatter_share"] == 0.3


def test_partial_role_override_keeps_other_defaults():
    cfg = load_config({"roles": {"expert": {"need": {"mean": 9.0, "sd": 1.0}}}})
    assert cfg.roles["expert"].need.mean == 9.0
    assert cfg.roles["expert"].quality.mean == load_config().roles["expert"].quality.mean


def test_social_goal_changes_tastes():
    k, s = load_config(), load_config({"community": {"goal": "social"}})
    assert s.roles["regular"].taste.mean < k.roles["regular"].taste.mean


@pytest.mark.parametrize("bad, key", [
    ({"community": {"chatter_share": 1.5}}, "community.chatter_share"),
    ({"community": {"n_seed": "many"}}, "community.n_seed"),
    ({"community": {"colour": "red"}}, "community.colour"),
    ({"dynamics": {"reply_prob": -0.1}}, "dynamics.reply_prob"),
    ({"network": {"kind": "lattice"}}, "network.kind"),
    ({"roles": {"wizard": {}}}, "wizard"),
    ({"roles": {"expert": {"quality": {"mean": 0.5, "sd": 0.9}}}}, "roles.expert.quality"),
    ({"gate": {"nonesuch": {}}}, "gate.nonesuch"),
    ({"gate": {"interest": {"precision": 2}}}, "gate.interest.precision"),
    ({"activity": {"x": {"class": "no such module:Thing"}}}, "activity.x.class"),
    ({"activity": {"x": {"class": 3}}}, "activity.x.class"),
])
def test_bad_values_name_the_key(bad, key):
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    assert key in str(e.value)
    assert "\n" not in str(e.value)


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
    p = tmp_path / "bad.toml"
    p.write_text("[community\nn_seed = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)
    p.write_text("[community]\nn_seed = -3\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert str(p) in str(e.value) and "community.n_seed" in str(e.value) and "-3" in str(e.value)


def test_override_errors():
    cfg = load_config()
    with pytest.raises(ConfigError, match="community.nonesuch"):
        cfg.override({"community.nonesuch": 1})
    with pytest.raises(ConfigError, match="gate.fee"):
        cfg.override({"gate.fee": {"price": -3}})


def test_policy_shorthand_and_removal():
    cfg = load_config().override({"activity.spam_moderation": 0.7})
    assert cfg["activity.spam_moderation.precision"] == 0.7
    assert "spam_moderation" not in cfg.override({"activity.spam_moderation": None}).to_dict()["activity"]


def test_toml_round_trip(tmp_path):
    cfg = load_config("configs/knowledge_community.toml").override(
        {"activity.spam_moderation": {"precision": 0.8, "ban_after": 2}})
    p = tmp_path / "c.toml"
    p.write_text(cfg.to_toml())
    assert load_config(p) == cfg


def test_pickle_round_trip():
    import pickle

    cfg = load_config("configs/social_community.toml")
    assert pickle.loads(pickle.dumps(cfg)) == cfg


# ------------------------------------------------------------------ generated from the declarations

TABLES = {"community": Community, "network": Network, "dynamics": Dynamics, "run": Run,
          "community.composition": Composition}
TABLES.update({f"{fam}.{key}": cls.Params for fam, reg in REGISTRY.items() for key, cls in reg.items()})
NUMERIC = [(t, name, b) for t, model in TABLES.items() for name, b in declared_bounds(model).items()]


def _nest(dotted: str, value) -> dict:
    out: dict = value
    for part in reversed(dotted.split(".")):
        out = {part: out}
    return out


def _invalid(b):
    """Values outside the declared range, of the wrong type, or not finite."""
    out = [b.lo if b.lo_open else b.lo - (1 if b.type is int else max(abs(b.lo) * 1e-9, 1e-9)),
           b.hi if b.hi_open else b.hi + (1 if b.type is int else max(abs(b.hi) * 1e-9, 1e-9)),
           True, False, "0.3", "1", float("inf"), float("-inf"), float("nan"), [1], {"x": 1}]
    if b.type is int:
        out += [1.5, float(max(b.lo, 0) + 1)]  # no float for an integer, even an integral one
    return out


CASES = [(t, name, bad) for t, name, b in NUMERIC for bad in _invalid(b)]


@pytest.mark.parametrize("table, name, bad", CASES, ids=[f"{t}.{n}={b!r}" for t, n, b in CASES])
def test_invalid_values_generated_from_declarations(table, name, bad):
    with pytest.raises(ConfigError) as e:
        load_config(_nest(f"{table}.{name}", bad))
    msg = str(e.value)
    assert f"`{table}.{name}" in msg and "\n" not in msg, msg


def test_every_numeric_key_is_bounded():
    """No key is unbounded: the generated invalid values above cover both ends of every key."""
    assert len(NUMERIC) > 100
    for t, name, b in NUMERIC:
        assert abs(b.lo) <= LIMITS["magnitude"] and abs(b.hi) <= LIMITS["magnitude"], (t, name, b)


@pytest.mark.parametrize("over, needle", [
    ({"community": {"n_seed": 5_000_000, "n_prospects": 5_000_001}}, "`community.n_prospects` must keep n_seed + n_prospects at most 10000000"),
    ({"community": {"n_groups": 100, "group_cap": 100_001}}, "`community.group_cap` must keep group_cap x n_groups at most 10000000"),
    ({"community": {"n_prospects": 2_000_000}, "network": {"mean_degree": 101}}, "`network.mean_degree` must keep population x mean_degree / 2 at most 100000000"),
    ({"roles": {"expert": {"post_rate": 1001}}}, "`roles.expert.post_rate` mean must be at most 1000"),
    ({"roles": {"expert": {"post_rate": {"mean": 2, "sd": 1e4}}}}, "`roles.expert.post_rate` sd must be at most 1000"),
    ({"roles": {"regular": {"attention": 1e6}}}, "`roles.regular.attention` mean must be at most 100000"),
    ({"roles": {"regular": {"need": float("inf")}}}, "`roles.regular.need.mean` must be a finite number"),
    ({"roles": {"regular": {"need": 1e10}}}, "`roles.regular.need.mean` must be between"),
    ({"roles": {"regular": {"wtp": {"mean": 1, "sd": float("nan")}}}}, "`roles.regular.wtp.sd` must be a finite number"),
    ({"roles": {"regular": {"need": True}}}, "`roles.regular.need` must be"),
    ({"roles": {"regular": {"need": "6"}}}, "`roles.regular.need` must be"),
    ({"community": {"name": "a\udc80"}}, "`community.name` must be valid Unicode text"),
    ({"activity": {"a\udc80": {"class": "rate_limit"}}}, "must be valid Unicode text"),
    ({"monetization": {"ladder": {"rungs": [{"name": "x", "price": float("inf")}]}}}, "`monetization.ladder.rungs.0.price` must be a finite number"),
])
def test_cross_key_limits_and_role_tables(over, needle):
    with pytest.raises(ConfigError) as e:
        load_config(over)
    assert needle in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_limits_are_reachable():
    """A config at every size limit at once still validates (the limits are not off by one)."""
    cfg = load_config({"community": {"n_seed": 1, "n_prospects": LIMITS["population"] - 1, "n_groups": 1,
                                     "group_cap": LIMITS["population"]},
                       "network": {"mean_degree": 2 * LIMITS["edges"] / LIMITS["population"]},
                       "run": {"steps": LIMITS["steps"]}, "dynamics": {"wom_reach": LIMITS["reach"]}})
    assert cfg.community.n_prospects == LIMITS["population"] - 1


VALID = {
    "dynamics": hst.fixed_dictionaries({}, optional={n: declared(Dynamics, n) for n in declared_bounds(Dynamics)}),
    "network": hst.fixed_dictionaries({}, optional={
        **{n: declared(Network, n) for n in declared_bounds(Network) if n != "mean_degree"},
        "mean_degree": declared(Network, "mean_degree", hi=20.0)}),
    "community": hst.fixed_dictionaries({}, optional={
        "n_seed": declared(Community, "n_seed", hi=LIMITS["population"] // 2),
        "n_prospects": declared(Community, "n_prospects", hi=LIMITS["population"] // 2),
        "n_groups": declared(Community, "n_groups"),
        "group_cap": declared(Community, "group_cap", hi=1000),
        "n_leaders": declared(Community, "n_leaders"),
        "leader_tie_share": declared(Community, "leader_tie_share"),
        "chatter_share": declared(Community, "chatter_share", hi=0.5),
        "spammer_share": declared(Community, "spammer_share", hi=0.5),
        "moderators": declared(Community, "moderators"),
    }),
    "run": hst.fixed_dictionaries({}, optional={"steps": declared(Run, "steps")}),
}


@settings(max_examples=60)
@given(hst.fixed_dictionaries({}, optional=VALID))
def test_valid_values_accepted(values):
    cfg = load_config(values)
    for table, d in values.items():
        for k, v in d.items():
            assert cfg[f"{table}.{k}"] == v
    assert load_config(__import__("tomllib").loads(cfg.to_toml())) == cfg


@given(hst.data())
@settings(max_examples=30)
def test_declared_strategy_never_draws_a_boundary_it_excludes(data):
    for model in (Dynamics, Network, Community, Run):
        for name, b in declared_bounds(model).items():
            x = data.draw(declared(model, name), label=f"{model.__name__}.{name}")
            assert x in b and type(x) is b.type


def test_declared_strategy_refuses_a_range_outside_the_declaration():
    with pytest.raises(ValueError, match="outside the declared range"):
        declared(Dynamics, "hazard_max", hi=2.0)


# ------------------------------------------------------------------ every TOML we write reads back

_names = hst.text(max_size=12)
_scalars = (hst.floats(allow_nan=False, allow_infinity=False) | hst.integers(-(2**63), 2**63 - 1)
            | hst.booleans() | hst.text(max_size=8))
_param_key = hst.text(max_size=8).filter(lambda k: k not in ("class", "enabled", "_primary"))
_param_value = _scalars | hst.lists(_scalars, max_size=3)
_user_table = hst.fixed_dictionaries(
    {"class": hst.sampled_from(["mypkg.policies:Quiet", "helpers.Quiet", "a.b.c:D"])},
    optional={"enabled": hst.booleans()}).flatmap(
    lambda meta: hst.dictionaries(_param_key, _param_value, max_size=4).map(lambda p: {**p, **meta}))
_builtin_table = hst.sampled_from([{"class": "rate_limit", "cap": 3}, {"class": "curation"},
                                   {"class": "spam_moderation", "precision": 0.5}])


@settings(max_examples=80)
@given(name=_names, path=_names,
       activity=hst.dictionaries(_names, _builtin_table | _user_table, max_size=4),
       gate=hst.dictionaries(_names, hst.sampled_from([{"class": "fee", "price": 9.5}, {"class": "interest"}]),
                             max_size=2))
def test_toml_round_trip_any_names_and_values(tmp_path_factory, name, path, activity, gate):
    """Names with DEL, quotes, backslashes, newlines, unicode; user-policy params of any type."""
    cfg = load_config({"community": {"name": name}, "network": {"path": path},
                       "activity": activity, "gate": gate})
    p = tmp_path_factory.mktemp("rt") / "c.toml"
    p.write_text(cfg.to_toml(), encoding="utf-8")
    again = load_config(p)
    # a relative edge-list path (relative to the current directory) is written absolute
    assert again.network.path == (os.path.abspath(path) if path else "")
    assert again.override({"network.path": cfg.network.path}) == cfg
    assert again.community.name == name and list(again.to_dict()["activity"]) == list(activity)


def test_run_outputs_with_awkward_names_read_back(tmp_path, capsys):
    """`qunsim run` on a config with a DEL character and unicode policy names: load_run,
    report and plot all read its output."""
    from qunsim.cli import main

    src = tmp_path / "c.toml"
    src.write_text('[community]\nname = "caf\u00e9 \\u007F \\"q\\" \u7fa4"\nn_seed = 30\nn_prospects = 150\n\n'
                   '[activity."\u9650\u901f \\u007F"]\nclass = "rate_limit"\ncap = 2\n\n'
                   '[gate."\u00fcber"]\nclass = "fee"\nprice = 5.0\n', encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(src), "--steps", "4", "--out", str(out)]) == 0
    import qunsim as qs

    res = qs.load_run(out)
    assert res.config.community.name == 'caf\u00e9 \x7f "q" \u7fa4'
    assert list(res.config.to_dict()["activity"]) == ["\u9650\u901f \x7f"]
    assert res.config == qs.load_config(src)
    assert main(["report", str(out), "--out", str(tmp_path / "r.html")]) == 0
    assert main(["plot", str(out), "--out", str(tmp_path / "f"), "--formats", "png"]) == 0
    assert "\u9650\u901f" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_dump_toml_nested():
    text = dump_toml({"a": {"b": 1, "c": {"d": [1, 2], "e": "x"}}, "top": True})
    import tomllib

    assert tomllib.loads(text) == {"a": {"b": 1, "c": {"d": [1, 2], "e": "x"}}, "top": True}


def test_numpy_scalars_are_numbers_but_numpy_bools_are_not():
    import numpy as np

    cfg = load_config().override({"community.n_groups": np.int64(3), "community.chatter_share": np.float64(0.25),
                                  "roles.expert.need": np.float32(4.0)})
    assert cfg.community.n_groups == 3 and type(cfg["community.n_groups"]) is int
    assert cfg.community.chatter_share == 0.25 and cfg.roles["expert"].need.mean == 4.0
    with pytest.raises(ConfigError, match="`community.n_groups` must be a valid integer, got True"):
        load_config().override({"community.n_groups": np.bool_(True)})


def test_unreadable_or_binary_config_file(tmp_path, monkeypatch):
    p = tmp_path / "c.toml"
    p.write_bytes(b"[community]\nname = \"\xff\"\n")
    with pytest.raises(ConfigError, match="not a UTF-8 text file"):
        load_config(p)
    p.write_text("[community]\n")

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied", str(p))

    monkeypatch.setattr(type(p), "read_text", denied)
    with pytest.raises(ConfigError, match=r"cannot be read \(Permission denied\)"):
        load_config(p)
