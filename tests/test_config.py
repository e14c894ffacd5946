
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from qunsim.config import ConfigError, Dynamics, dump_toml, load_config


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


def _bounds(model_cls):
    """(field, lower, upper, strict_lower) from the pydantic declarations."""
    out = []
    for name, f in model_cls.model_fields.items():
        lo = hi = None
        strict = False
        for m in f.metadata:
            if getattr(m, "ge", None) is not None:
                lo = m.ge
            if getattr(m, "gt", None) is not None:
                lo, strict = m.gt, True
            if getattr(m, "le", None) is not None:
                hi = m.le
            if getattr(m, "lt", None) is not None:
                hi = m.lt
        if f.annotation in (int, float) and (lo is not None or hi is not None):
            out.append((name, f.annotation, lo, hi, strict))
    return out


DYN_BOUNDS = _bounds(Dynamics)


@pytest.mark.parametrize("name, typ, lo, hi, strict", DYN_BOUNDS, ids=[b[0] for b in DYN_BOUNDS])
def test_invalid_values_generated_from_declarations(name, typ, lo, hi, strict):
    if lo is not None:
        bad = lo if strict else lo - 1
        with pytest.raises(ConfigError, match=f"dynamics.{name}"):
            load_config({"dynamics": {name: bad}})
    if hi is not None:
        with pytest.raises(ConfigError, match=f"dynamics.{name}"):
            load_config({"dynamics": {name: hi + 1}})
    with pytest.raises(ConfigError, match=f"dynamics.{name}"):
        load_config({"dynamics": {name: "text"}})


@settings(max_examples=40, deadline=None)
@given(hst.dictionaries(hst.sampled_from([b[0] for b in DYN_BOUNDS if b[1] is float]),
                        hst.floats(0, 1), max_size=4))
def test_valid_values_accepted(values):
    cfg = load_config({"dynamics": values})
    for k, v in values.items():
        assert cfg[f"dynamics.{k}"] == pytest.approx(v)


def test_dump_toml_nested():
    text = dump_toml({"a": {"b": 1, "c": {"d": [1, 2], "e": "x"}}, "top": True})
    import tomllib

    assert tomllib.loads(text) == {"a": {"b": 1, "c": {"d": [1, 2], "e": "x"}}, "top": True}
