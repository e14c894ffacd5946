"""The metrics row's Gresham quartiles by radix selection are numpy's quartiles exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from qunsim.kernels import record

_VALUES = st.one_of(st.floats(-2.0, 2.0, width=32), st.sampled_from([0.0, -0.0, 0.25, 0.5, 1.0]))


@given(x=hnp.arrays(np.float32, st.integers(1, 400), elements=_VALUES), data=st.data())
def test_order_statistics_are_the_sorted_values(x, data):
    ranks = np.array(data.draw(st.lists(st.integers(0, len(x) - 1), min_size=1, max_size=6)), np.int64)
    vals, ok = record.order_statistics(x, ranks)
    assert ok
    want = np.sort(x)[ranks]
    assert vals.tolist() == want.tolist()  # (-0.0 == 0.0: equal values)


@given(x=hnp.arrays(np.float32, st.integers(4, 400), elements=st.floats(0.0, 1.0, width=32)))
def test_radix_quartiles_are_numpys(x):
    q1, q3, ok = record._quartiles_radix(x)
    assert ok
    assert (q1, q3) == (record._quantile_select(x, 0.25), record._quantile_select(x, 0.75))
    assert np.allclose([q1, q3], np.quantile(x, [0.25, 0.75]), rtol=0, atol=1e-7)


def test_a_nan_sends_the_quartiles_back_to_the_partition():
    x = np.linspace(0, 1, 50, dtype=np.float32)
    x[7] = np.nan
    assert not record.order_statistics(x, np.array([3]))[1]
    assert not record._quartiles_radix(x)[2]


@pytest.mark.parametrize("kind", ["uniform", "ties"])
def test_large_communities_count_the_same_gresham_quartiles(kind):
    """Above RADIX_QUARTILES_FROM core readers the compiled record uses the radix selection:
    the same counts as numpy's partition (:func:`record.gresham_day`)."""
    rng = np.random.default_rng(3)
    n = 2 * record.RADIX_QUARTILES_FROM + 5000  # about 4 in 7 are of a core role
    quality = (rng.random(n) if kind == "uniform" else rng.integers(0, 4, n) / 4).astype(np.float32)
    initial_role = rng.integers(0, 7, n).astype(np.int8)
    status = rng.integers(1, 3, n).astype(np.int8)
    readers = np.arange(n, dtype=np.int64)
    assert len(record.core_quality(readers, quality, initial_role)) >= record.RADIX_QUARTILES_FROM
    got = record._gresham_counts_sorted(readers, quality, initial_role, status)
    assert got.tolist() == record.gresham_day(readers, quality, initial_role, status).tolist()
