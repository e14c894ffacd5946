"""Sweep sizes are bounded up front (replicates, design size, steps, seed), with strict types."""

import pytest

from qunsim.config import ConfigError
from qunsim.sweep.spec import MAX_POINTS, MAX_REPLICATES, MAX_RUNS, SweepSpec

AX = {"community.chatter_share": [0.1, 0.2]}


@pytest.mark.parametrize("data, needle", [
    ({"replicates": 10**9, "axes": AX}, f"`replicates` must be less than or equal to {MAX_REPLICATES}"),
    ({"replicates": True, "axes": AX}, "`replicates` must be a valid integer"),
    ({"replicates": 2.0, "axes": AX}, "`replicates` must be a valid integer"),
    ({"replicates": "3", "axes": AX}, "`replicates` must be a valid integer"),
    ({"steps": -1, "axes": AX}, "`steps` must be greater than or equal to 0"),
    ({"steps": 10**6, "axes": AX}, "`steps` must be less than or equal to 100000"),
    ({"seed": 2**63, "axes": AX}, "`seed` must be less than or equal to"),
    ({"seed": -1, "axes": AX}, "`seed` must be greater than or equal to 0"),
    ({"timeout": float("inf"), "axes": AX}, "`timeout`"),
    ({"design": {"kind": "lhs", "n": 10**7}, "axes": {"community.chatter_share": {"low": 0, "high": 0.5}}},
     f"`design.n` must be less than or equal to {MAX_POINTS}"),
    ({"axes": {"community.chatter_share": {"low": 0, "high": float("nan"), "num": 3}}}, "axes"),
    ({"axes": {"community.chatter_share": {"low": 0, "high": 0.5, "num": 10**9}}}, "num"),
    ({"replicates": 2, "axes": {"community.chatter_share": {"low": 0, "high": 0.5, "num": 1000},
                                "dynamics.inflow": {"low": 1, "high": 5, "num": 1000}}},
     f"1,000,000 points (the product of the axes' sizes) x 2 replicates = 2,000,000 runs, more than the limit {MAX_RUNS:,}"),
    ({"replicates": 1000, "design": {"kind": "lhs", "n": 5000},
      "axes": {"community.chatter_share": {"low": 0, "high": 0.5}}}, "5,000,000 runs, more than the limit"),
    ({"replicates": 4, "design": {"kind": "sobol", "n": 2**16}, "axes": {"community.chatter_share": {"low": 0, "high": 0.5},
                                                         "dynamics.inflow": {"low": 1, "high": 5}}},
     "points (`design.n` x (axes + 2))"),
    ({"axes": {"community.chatter_share": [0.1, float("inf")]}}, "community.chatter_share"),
    ({"axes": {"community.n_groups": [1, True]}}, "community.n_groups"),
])
def test_sweep_limits(data, needle):
    with pytest.raises(ConfigError) as e:
        SweepSpec.from_dict(data)
    assert needle in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_a_sweep_at_the_limits_validates():
    spec = SweepSpec.from_dict({"replicates": MAX_REPLICATES, "axes": {"community.chatter_share": [0.1]}})
    assert spec.replicates == MAX_REPLICATES
