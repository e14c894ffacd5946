"""The fused day prices new ties from a table of numpy's strengths by count; counts beyond
the table fall back to numpy's power: the same trajectory either way."""

from __future__ import annotations

import numpy as np

import qunsim as qs
from _golden import fingerprint
from qunsim.kernels import day

KW = {"community.n_seed": 80, "community.n_prospects": 300, "dynamics.reply_prob": 0.3}


def test_the_table_is_numpys_power_of_an_array_of_counts():
    for inc in (0.05, 0.1, 0.3, 0.77):
        counts = np.arange(day.TIE_COUNTS_PRICED, dtype=np.int64)[::-1].copy()
        w = np.power(1.0 - inc, counts)
        want = np.subtract(1.0, w, out=w).astype(np.float32)
        assert day.tie_strengths(inc)[counts].tobytes() == want.tobytes()


def test_counts_beyond_the_table_give_the_same_trajectory():
    a, b = qs.CommunityModel(rng=9, **KW), qs.CommunityModel(rng=9, **KW)
    a.step()
    b.step()
    members, arrivals, joining, table = b._fused_cache[2]
    b._fused_cache = (b._fused_cache[0], b._fused_cache[1], (members, arrivals, joining, table[:1]))
    a.run_for(20)
    b.run_for(20)  # every new tie (count >= 1) is priced by the fallback
    assert b.social.n_edges > 0 and b.timeseries()["strong_ties"].iloc[-1] >= 0
    assert fingerprint(a) == fingerprint(b)
