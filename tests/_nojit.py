"""Run a small model under ``NUMBA_DISABLE_JIT=1`` in a subprocess and compare it with the
compiled run in this process (the kernels as plain Python must give the same model)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import qunsim as qs


def assert_plain_python_matches(kw: dict, tmp_path: Path, seed: int = 9, days: int = 15,
                                check: str = "") -> pd.DataFrame:
    """Run ``CommunityModel(rng=seed, **kw)`` for ``days`` days with and without numba and
    assert the integer columns of the time series are equal and the others equal to
    rounding; ``check`` is a Python statement
    run in the subprocess on the model ``m`` (e.g. which orchestration ran). Returns the
    compiled run's time series."""
    code = (f"import sys, qunsim as qs; m = qs.CommunityModel(rng={seed}, **{kw!r}); m.run_for({days}); "
            f"{check + '; ' if check else ''}m.timeseries().to_csv(sys.argv[1], index=False)")
    src = str(Path(qs.__file__).resolve().parents[1])
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1",
           "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = tmp_path / "ts.csv"
    subprocess.run([sys.executable, "-c", code, str(out)], env=env, check=True, timeout=600)
    plain = pd.read_csv(out)
    m = qs.CommunityModel(rng=seed, **kw)
    m.run_for(days)
    jit = m.timeseries()
    ints = [c for c in plain if pd.api.types.is_integer_dtype(plain[c])]
    assert len(ints) > 10
    pd.testing.assert_frame_equal(plain[ints], jit[ints], check_dtype=False)
    floats = [c for c in plain if c not in ints and c != "phase"]
    np.testing.assert_allclose(plain[floats].to_numpy(float), jit[floats].to_numpy(float), rtol=1e-9, atol=1e-12)
    return jit
