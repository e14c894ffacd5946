"""The fused day's acceptance chance (numpy's exp of the compiled exponent, the rest
compiled in float32) is :func:`accept_chance`'s bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from qunsim.kernels import day


@given(interest=hnp.arrays(np.float32, 40, elements=st.floats(0.0, 1.0, width=32)),
       heard=hnp.arrays(np.float32, 40, elements=st.floats(0.0, 50.0, width=32)),
       pick=st.lists(st.integers(0, 39), min_size=0, max_size=40, unique=True),
       invited=st.lists(st.booleans(), min_size=40, max_size=40),
       accept=st.floats(0.0, 1.0), wom_weight=st.floats(0.0, 5.0))
def test_accept_from_exp_is_accept_chance(interest, heard, pick, invited, accept, wom_weight):
    cand = np.array(sorted(pick), np.int64)
    ref = np.array(invited[:len(cand)], bool)
    want = day.accept_chance(interest, heard, cand, ref, accept, wom_weight)
    ex = (heard[cand] * np.float32(-wom_weight)).astype(np.float32)
    got = day.accept_from_exp(cand, ref, interest, np.exp(ex), accept)
    assert got.dtype == want.dtype == np.float32
    assert got.tobytes() == want.tobytes()


def test_arrival_candidates_returns_the_word_of_mouth_exponent():
    rng = np.random.default_rng(2)
    h = day.generator_handle(rng)
    n = 200
    heard = rng.random(n).astype(np.float32) * 3
    status = np.zeros(n, np.int8)
    status[:50] = 1
    indptr = np.arange(n + 1, dtype=np.int64)
    indices = ((np.arange(n) + 60) % n).astype(np.int32)
    cand, ref, inv, ex = day.arrival_candidates(h, heard, 0.9, status, np.full(n, 3, np.int8),
                                                np.full(n, 9.0, np.float32), np.zeros(n, np.float32), 0.5,
                                                30.0, 1.0, indptr, indices, 0.7)
    assert len(cand) > 0 and ref.any()
    assert (inv[ref] >= 0).all() and (inv[~ref] == -1).all()
    e = heard[cand]  # (heard has already faded by 0.9 in place)
    e *= -0.7
    assert ex.tobytes() == e.tobytes()
