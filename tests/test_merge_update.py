"""The tie merge updates the neighbour and strong-tie counts over the merged ties only
(kernels/day.py ``merge_and_update``): the arrays must be exactly those of a recount over
all ties (``merge_and_recount``), on random states and in real model runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qunsim as qs
from qunsim.kernels import day
from qunsim.kernels.neighbours import recount_strong
from qunsim.network import SocialGraph


def merge_and_recount(keys, weight, indptr, indices, rowptr, pk, pw, n, status, join_step, leave_step, t, window,
                      left_n, member_n, strong, strong_ties):
    """The reference: ``day.merge_ties``, the key row offsets recomputed, then every count
    recounted over all ties (what the merge did before the update existed)."""
    keys, weight, indptr, indices, n_added = day.merge_ties(keys, weight, indptr, indices, pk, pw, n)
    if n_added:
        rowptr = day._rowptr(keys, n)
    day._recount_flags(indptr, indices, status, join_step, leave_step, t, window, left_n, member_n)
    recount_strong(keys, weight, n, status, strong, strong_ties)
    return keys, weight, indptr, indices, rowptr, n_added

SMALL = {"community.n_seed": 40, "community.n_prospects": 400}


def _random_state(seed: int, n: int, window: int, strong: float):
    """A random graph with its counts recounted (as the model keeps them), and queued ties:
    some new, some already ties (with weaker and stronger strengths), some duplicates."""
    rng = np.random.default_rng(seed)
    e = int(rng.integers(0, 3 * n))
    g = SocialGraph.from_edges(n, rng.integers(0, n, e), rng.integers(0, n, e), rng.random(e).astype(np.float32))
    status = rng.integers(0, 4, n).astype(np.int8)  # prospect, active, left, banned
    join_step = np.where(status > 0, rng.integers(0, 30, n), -1).astype(np.int32)
    t = 40
    leave_step = np.where(status >= 2, rng.integers(0, t + 1, n), -1).astype(np.int32)
    left_n, member_n = np.zeros(n, np.int32), np.zeros(n, np.int32)
    strong_ties = np.zeros(n, np.int16)
    day._recount_flags(g.indptr, g.indices, status, join_step, leave_step, t, window, left_n, member_n)
    recount_strong(g.keys, g.weight, np.int64(n), status, np.float32(strong), strong_ties)
    q = int(rng.integers(1, 3 * n))
    a, b = rng.integers(0, n, q), rng.integers(0, n, q)
    keep = a != b
    pk = np.minimum(a[keep], b[keep]) * n + np.maximum(a[keep], b[keep])
    if len(g.keys):  # existing ties queued again
        pk = np.concatenate([pk, rng.choice(g.keys, min(len(g.keys), n))])
    pk = np.concatenate([pk, pk[: len(pk) // 4]])  # duplicates
    pw = rng.random(len(pk)).astype(np.float32)
    return g, status, join_step, leave_step, t, left_n, member_n, strong_ties, pk, pw


def check_update_equals_recount(seed: int, n: int, window: int, strong: float) -> None:
    """``merge_and_update`` (counts exact on entry) gives the same graph and counts as
    ``merge_and_recount``, and took the update path."""
    g, status, js, ls, t, left_n, member_n, strong_ties, pk, pw = _random_state(seed, n, window, strong)
    out = {}
    for name, fn in (("recount", merge_and_recount), ("update", day.merge_and_update)):
        counts = (left_n.copy(), member_n.copy(), strong_ties.copy())
        args = (g.keys.copy(), g.weight.copy(), g.indptr.copy(), g.indices.copy(), g.rowptr.copy(), pk, pw,
                np.int64(n), status, js, ls, t, window, counts[0], counts[1], np.float32(strong), counts[2])
        r = fn(*args, True) if name == "update" else fn(*args)
        out[name] = (r, counts)
    (rr, rc), (ur, uc) = out["recount"], out["update"]
    assert ur[6] is True or ur[6] == 1  # the update path
    for got, want in zip(ur[:6], rr[:6], strict=True):
        assert np.array_equal(got, want)
        assert getattr(got, "dtype", None) == getattr(want, "dtype", None)
    for got, want in zip(uc, rc, strict=True):
        assert got.dtype == want.dtype and np.array_equal(got, want)


@given(st.integers(0, 2**32 - 1), st.integers(2, 60), st.integers(-2, 45), st.floats(0.05, 0.95))
def test_update_over_merged_ties_equals_a_recount(seed, n, window, strong):
    check_update_equals_recount(seed, n, window, strong)


def test_not_exact_on_entry_recounts():
    """``exact=False`` (counts on entry unknown): the recount's arrays, whatever they held."""
    g, status, js, ls, t, left_n, member_n, strong_ties, pk, pw = _random_state(5, 50, 10, 0.5)
    want = [a.copy() for a in (left_n, member_n, strong_ties)]
    merge_and_recount(g.keys.copy(), g.weight.copy(), g.indptr, g.indices, g.rowptr, pk, pw, np.int64(50),
                          status, js, ls, t, 10, want[0], want[1], np.float32(0.5), want[2])
    junk = [np.full_like(a, 7) for a in (left_n, member_n, strong_ties)]
    r = day.merge_and_update(g.keys.copy(), g.weight.copy(), g.indptr, g.indices, g.rowptr, pk, pw, np.int64(50),
                             status, js, ls, t, 10, junk[0], junk[1], np.float32(0.5), junk[2], False)
    assert not r[6]
    for got, w in zip(junk, want, strict=True):
        assert np.array_equal(got, w)


def _run(kw: dict, seed: int, days: int, always_recount: bool):
    """A model run; ``always_recount``: every merge recounts over all ties (as before the
    update existed). Returns the model and how many merges took the update path."""
    return _run_on(qs.CommunityModel(rng=seed, **SMALL, **kw), days, always_recount)


def _run_on(m, days: int, always_recount: bool = False):
    """Step ``m`` for ``days`` days, noting for each merge whether it took the update path."""
    updated = []
    orig = day.merge_and_update

    def spy(*a):
        r = orig(*a)
        updated.append(bool(r[6]))
        return r

    import qunsim.model as qm
    qm.day_kernels.merge_and_update = spy
    try:
        for _ in range(days):
            if always_recount:
                m._count_basis = None
            m.step()
    finally:
        qm.day_kernels.merge_and_update = orig
    return m, updated


_CONFIGS = {
    "contagion on": {},
    "contagion off": {"dynamics.contagion": False},
    "window 0": {"dynamics.contagion_window": 0},
    "policies, tie decay": {"activity.spam_moderation": {"precision": 0.8, "ban_after": 2},
                            "gate.activity_requirement": {"days": 14}, "dynamics.tie_decay": 0.01},
}


@pytest.mark.parametrize("name", list(_CONFIGS))
@pytest.mark.parametrize("seed", [1, 7])
def test_model_runs_identical_to_recounting_every_merge(name, seed):
    """Real runs: every state array, the graph and the time series equal those of the same
    run recounting at every merge, and (after the first) merges took the update path."""
    kw = _CONFIGS[name]
    a, ua = _run(kw, seed, 70, always_recount=False)
    b, ub = _run(kw, seed, 70, always_recount=True)
    assert len(ua) >= 5 and all(ua[1:]) and not any(ub)
    for k, x in a.state.arrays().items():
        assert np.array_equal(x, b.state.arrays()[k]), k
    for k in ("keys", "weight", "indptr", "indices", "rowptr"):
        assert np.array_equal(getattr(a.social, k), getattr(b.social, k)), k
    assert a.timeseries().equals(b.timeseries())


def test_branch_changing_strong_tie_recounts():
    """A new ``dynamics`` (a branch) since the last merge: the next merge recounts."""
    from qunsim.branching import reconfigure

    m, _ = _run({}, 3, 8, always_recount=False)
    reconfigure(m, {"dynamics.strong_tie": 0.3})
    _, flags = _run_on(m, 7)
    assert flags and flags[0] is False
    st = m.state
    act = st.status == 1
    u, v = m.social.endpoints()
    s = (m.social.weight >= np.float32(0.3)) & act[u] & act[v]
    assert np.array_equal(st.strong_ties, np.bincount(u[s], minlength=st.n) + np.bincount(v[s], minlength=st.n))



def test_plain_python_update_equals_recount():
    """Under NUMBA_DISABLE_JIT=1 the kernels as plain Python: the same equality, on a few
    random states and a model run against its always-recounting twin."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import test_merge_update as t; "
            "[t.check_update_equals_recount(s, n, w, 0.5) for s, n, w in ((1, 30, 5), (2, 60, 0), (3, 2, -1))]; "
            "t.test_model_runs_identical_to_recounting_every_merge('contagion off', 1)")
    src = str(Path(qs.__file__).resolve().parents[1])
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1",
           "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], env=env, check=True, timeout=600)

