"""Same config + seed, same trajectory: the engine reproduces, bit for bit, the time series,
member tables, Mesa collector, graph and generator state recorded by the engine before the
day was compiled into one call (tests/data/golden_day.json, written by tests/_golden.py)."""

from __future__ import annotations

import json

import pytest

from _golden import DATA, SEEDS, cases, fingerprint, run_case

GOLDEN = json.loads(DATA.read_text())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(cases()))
def test_trajectory_is_bit_identical(name, seed):
    want = GOLDEN[f"{name}/{seed}"]
    got = fingerprint(run_case(name, seed))
    for part in ("timeseries", "members", "datacollector"):
        assert list(got[part]) == list(want[part]), f"{part}: columns differ"
        bad = [c for c in want[part] if got[part][c] != want[part][c]]
        assert not bad, f"{part}: columns differ from the recorded run: {bad}"
    for key in ("n_rows", "final_active", "weights", "keys", "rng"):
        assert got[key] == want[key], key
