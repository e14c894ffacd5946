"""Checkpoints: save at day T, load, run on to U == running straight to U (bit for bit),
with every built-in policy family on, scheduled policies, user policies that hold state, agent
views; copies are independent; tampered or foreign files are refused with a clear error."""

import io
import json
import zipfile
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import qunsim as qs
from qunsim.checkpoint import CheckpointError, from_bytes, to_bytes

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SMALL = {"community.n_seed": 80, "community.n_prospects": 700, "community.chatter_share": 0.15,
         "community.spammer_share": 0.05}

# every built-in policy (gates, activity, monetization), some scheduled, plus user policies
EVERYTHING = {
    "gate.interest": {"threshold": 0.3},
    "gate.identity": {"roles": ["expert", "contributor", "regular", "chatter", "spammer"], "precision": 0.5},
    "gate.fee": {"price": 2.0},
    "gate.process": {"precision": 0.5, "dropout": 0.1},
    "gate.activity_requirement": {"days": 20, "window": "rolling"},
    "activity.spam_moderation": {"warnings": 1},
    "activity.chatter_moderation": {"when": {"metric": "low_quality_share", "above": 0.2, "for_days": 3}},
    "activity.rate_limit": {"cap": 6, "start": 5, "stop": 25},
    "activity.curation": {},
    "activity.events": {"every": 5},
    "activity.care": {"capacity": 3.0},
    "activity.group_cap": {"cap": 40, "merge_below": 5},
    "activity.reward": {"class": "tests._stateful_policy:Reward", "start": 8},
    "activity.declared": {"class": "tests._stateful_policy:Declared"},
    "monetization.ladder": {"when": {"metric": "trust_mean", "above": 0.55}},
    "monetization.ads": {"per_day": 1.0},
    "monetization.membership_fee": {"fee": 1.0, "period": 15},
    "monetization.profit_sharing": {"commission": 5.0},
    "activity.dissolve": {"start": 38},  # the (12, 40) round trip dissolves after loading
}


def _state_equal(a, b):
    for k, v in a.state.arrays().items():
        np.testing.assert_array_equal(v, getattr(b.state, k), err_msg=k)
    for k in ("keys", "weight", "indptr", "indices"):
        np.testing.assert_array_equal(getattr(a.social, k), getattr(b.social, k), err_msg=k)
    assert a.social.pending == b.social.pending
    assert a.rng.bit_generator.state == b.rng.bit_generator.state
    assert a.steps == b.steps and a.time == b.time and a.running == b.running


def _same_run(a, b):
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries(), check_exact=True)
    pd.testing.assert_frame_equal(a.members_frame(), b.members_frame(), check_exact=True)
    _state_equal(a, b)
    assert a.datacollector.get_model_vars_dataframe().equals(b.datacollector.get_model_vars_dataframe())


@pytest.mark.parametrize("T, U", [(0, 15), (12, 40), (30, 31)])
def test_round_trip_is_bit_identical_with_every_policy(tmp_path, T, U):
    kw = {**SMALL, **EVERYTHING}
    straight = qs.CommunityModel(rng=11, **kw)
    straight.run_for(U)
    m = qs.CommunityModel(rng=11, **kw)
    if T:
        m.run_for(T)
    path = m.save(tmp_path / "ck.npz")
    back = qs.CommunityModel.load(path)
    _state_equal(m, back)
    back.run_for(U - T)
    _same_run(straight, back)
    # the policies' own state, schedules included
    for fam in straight.policies:
        for p, q in zip(straight.policies[fam], back.policies[fam], strict=True):
            assert type(p) is type(q)
            if getattr(p, "scheduled", False):
                assert p.schedule.state() == q.schedule.state()
    lad_a = [p for p in straight.policies["monetization"] if p.key == "ladder"][0]
    lad_b = [p for p in back.policies["monetization"] if p.key == "ladder"][0]
    if lad_a.schedule.ready:
        pd.testing.assert_frame_equal(lad_a.purchases(), lad_b.purchases())
    rew = [p for p in back.policies["activity"] if p.key == "reward"][0]
    rew0 = [p for p in straight.policies["activity"] if p.key == "reward"][0]
    assert rew.log == rew0.log and rew.setup_day == rew0.setup_day == 8
    dec = [p for p in back.policies["activity"] if p.key == "declared"][0]
    assert dec.count == [p for p in straight.policies["activity"] if p.key == "declared"][0].count


def test_round_trip_mid_schedule_and_triggers_fire_the_same(tmp_path):
    kw = {**SMALL, **EVERYTHING}
    a = qs.CommunityModel(rng=3, **kw)
    a.run_for(60)
    b = qs.CommunityModel(rng=3, **kw)
    b.run_for(9)  # after the reward started, before the rate limit stops
    b = qs.CommunityModel.load(b.save(tmp_path / "x.npz"))
    b.run_for(51)
    _same_run(a, b)
    assert any(p.schedule.switches for p in a.policies["activity"] if getattr(p, "scheduled", False))


def test_copy_is_independent_and_continues_identically():
    a = qs.CommunityModel(rng=4, **SMALL, **{"monetization.ladder": {}})
    a.run_for(10)
    c = a.copy()
    assert c.state.trust_r is not a.state.trust_r
    c.state.trust_r[:] = 0  # editing the copy leaves the original alone
    assert a.state.trust_r.any()
    a2 = a.copy()
    a.run_for(20)
    a2.run_for(20)
    _same_run(a, a2)


def test_user_graph_labels_and_agent_views_survive(tmp_path):
    g = nx.relabel_nodes(nx.watts_strogatz_graph(300, 6, 0.1, seed=1), {i: f"u{i}" for i in range(300)})
    a = qs.CommunityModel(rng=2, graph=g, **{"community.n_seed": 50})
    a.run_for(10)
    b = qs.CommunityModel.load(a.save(tmp_path / "g.npz"))
    assert len(b.agents) == len(a.agents) == int((a.state.status == qs.Status.ACTIVE).sum())
    assert sorted(ag.index for ag in b.agents) == sorted(ag.index for ag in a.agents)
    a.run_for(10)
    b.run_for(10)
    _same_run(a, b)
    assert set(b.graph().nodes) == set(a.graph().nodes)


def test_a_policy_with_undeclared_unstorable_state_is_named():
    m = qs.CommunityModel(rng=1, **SMALL, **{"activity.opaque": {"class": "tests._stateful_policy:Opaque"}})
    with pytest.raises(CheckpointError, match=r"activity\.opaque.*thing.*state_attrs"):
        to_bytes(m)


# ----------------------------------------------------------------------------- refusals


@pytest.fixture(scope="module")
def good():
    m = qs.CommunityModel(rng=9, **SMALL, **{"monetization.ladder": {}})
    m.run_for(5)
    return to_bytes(m)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    return buf.getvalue()


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _header(data: bytes) -> dict:
    m = _members(data)
    arr = np.load(io.BytesIO(m["__header__.npy"]), allow_pickle=False)
    return json.loads(arr.tobytes())


def _with_header(data: bytes, header: dict, fix_digest: bool = True) -> bytes:
    import hashlib

    m = _members(data)
    hb = json.dumps(header).encode()
    m["__header__.npy"] = _npy(np.frombuffer(hb, np.uint8))
    if fix_digest:
        m["__digest__.npy"] = _npy(np.frombuffer(hashlib.sha256(hb).hexdigest().encode(), np.uint8))
    return _zip(m)


def test_loads_the_good_bytes(good):
    assert from_bytes(good).steps == 5


def test_refuses_a_file_that_is_not_a_zip(tmp_path):
    p = tmp_path / "x.npz"
    p.write_text("hello")
    with pytest.raises(CheckpointError, match=r"x\.npz.*not a qunsim checkpoint"):
        qs.CommunityModel.load(p)


def test_refuses_a_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="file not found"):
        qs.CommunityModel.load(tmp_path / "nope.npz")


def test_refuses_a_foreign_npz(tmp_path):
    p = tmp_path / "foreign.npz"
    np.savez(p, x=np.arange(3))
    with pytest.raises(CheckpointError, match="not a qunsim checkpoint.*no header"):
        qs.CommunityModel.load(p)


def test_refuses_a_pickled_object_array(tmp_path, good):
    m = _members(good)
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    m["a0.npy"] = buf.getvalue()
    with pytest.raises(CheckpointError, match="not a qunsim checkpoint or damaged"):
        from_bytes(_zip(m))


def test_refuses_arrays_of_another_kind(good):
    m = _members(good)
    h = _header(good)
    state = [e for e in h["model"]["__dict__"] if e[0] == "state"][0][1]
    ref = [e for e in state["attrs"]["__dict__"] if e[0] == "trust_r"][0][1]["__array__"]
    a = np.load(io.BytesIO(m[f"{ref}.npy"]), allow_pickle=False).astype(np.int64)
    import hashlib

    h["arrays"][ref] = {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": hashlib.sha256(a.tobytes()).hexdigest()}
    m[f"{ref}.npy"] = _npy(a)
    hb = json.dumps(h).encode()
    m["__header__.npy"] = _npy(np.frombuffer(hb, np.uint8))
    m["__digest__.npy"] = _npy(np.frombuffer(hashlib.sha256(hb).hexdigest().encode(), np.uint8))
    with pytest.raises(CheckpointError, match=r"`state.trust_r` should be a 1-d float32 array"):
        from_bytes(_zip(m))


def test_refuses_an_edited_array(good):
    m = _members(good)
    h = _header(good)
    key = next(k for k, v in h["arrays"].items() if v["dtype"] == "<f4" and v["shape"][0] > 10)
    a = np.load(io.BytesIO(m[f"{key}.npy"]), allow_pickle=False).copy()
    a[3] += 1.0
    m[f"{key}.npy"] = _npy(a)
    with pytest.raises(CheckpointError, match=f"array {key} does not match its checksum"):
        from_bytes(_zip(m))


def test_refuses_an_edited_header(good):
    h = _header(good)
    h["mesa"]["steps"] = 99
    with pytest.raises(CheckpointError, match="header's checksum does not match"):
        from_bytes(_with_header(good, h, fix_digest=False))


@pytest.mark.parametrize("edit, words", [
    (lambda h: h.update(format="other-format"), "not a qunsim checkpoint"),
    (lambda h: h.update(version=99), "format version 99"),
    (lambda h: h.update(model_class="os:system"), "only re-create qunsim's own classes"),
    (lambda h: h["model"]["__dict__"].append(["x", {"__object__": "builtins:eval", "attrs": {"__dict__": []}}]),
     "only re-create qunsim's own classes"),
    (lambda h: h["arrays"].pop(next(iter(h["arrays"]))), "do not match the header's list"),
    (lambda h: h["policies"]["monetization"][0].update(name="other"), "do not match its config"),
    (lambda h: h["rng"].update(bit_generator="Evil"), "unknown bit generator"),
    (lambda h: [e for e in h["model"]["__dict__"] if e[0] == "state"][0].__setitem__(
        1, {"__object__": "qunsim.sweep.executors:SerialExecutor", "attrs": {"__dict__": []}}),
     "`state` should be a MemberState"),
    (lambda h: [e for e in h["model"]["__dict__"] if e[0] == "n_groups"][0].__setitem__(1, "many"),
     "`n_groups` should be a int"),
])
def test_refuses_foreign_content_even_with_a_matching_digest(good, edit, words):
    h = _header(good)
    edit(h)
    with pytest.raises(CheckpointError, match=words):
        from_bytes(_with_header(good, h))


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path):
    m = qs.CommunityModel(rng=1, **SMALL)
    p = m.save(tmp_path / "a.npz")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.npz"]
    assert qs.CommunityModel.load(p).steps == 0


def test_state_attrs_policy_round_trip(tmp_path):
    kw = {**SMALL, "activity.streaks": {"class": "tests._stateful_policy:Streaks"}}
    a = qs.CommunityModel(rng=8, **kw)
    a.run_for(20)
    b = qs.CommunityModel(rng=8, **kw)
    b.run_for(7)
    b = qs.CommunityModel.load(b.save(tmp_path / "s.npz"))
    assert b.policies["activity"][0].cache is not None  # rebuilt by setup, not saved
    b.run_for(13)
    _same_run(a, b)
    np.testing.assert_array_equal(a.policies["activity"][0].days, b.policies["activity"][0].days)
