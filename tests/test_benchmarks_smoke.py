"""``benchmarks/run.py --smoke --json`` runs and prints one JSON object of the documented shape.

No timing assertions: the figures depend on the machine. ``docs/benchmarks.md`` has them.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def test_benchmark_smoke_json_shape():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stdout  # exactly one JSON object on stdout (progress goes to stderr)
    out = json.loads(lines[0])
    for key in ("member_steps_per_s", "speedup_vs_reference", "speedup_vs_reference_1e4", "ms_per_day",
                "bytes_per_member", "bytes_per_edge", "policy_slowdown"):
        assert key in out
    rates = out["member_steps_per_s"]
    assert isinstance(rates, dict) and len(rates) >= 2
    assert all(k.isdigit() for k in rates) and all(_positive(v) for v in rates.values())
    sp, ms = out["speedup_vs_reference"], out["ms_per_day"]
    assert set(sp) == set(ms) == {"100", "300"} and all(_positive(v) for v in [*sp.values(), *ms.values()])
    assert _positive(out["speedup_vs_reference_1e4"])
    at_size = out["ms_per_day_at_size"]
    assert set(at_size) == {"100", "300"}
    for k, v in at_size.items():  # the most populous window costs at least the cheapest one
        assert v["ms"] >= ms[k] and v["mean_active"] > 0
    # state sizes: struct of arrays, a few dozen bytes a member, a few words an edge
    assert 20 < out["bytes_per_member"] < 1000
    assert 8 < out["bytes_per_edge"] < 100
    assert out["setup"]["smoke"] is True
    if (ROOT / "benchmarks" / "sweep_bench.py").exists():
        for key in ("sweep_speedup_2_workers", "sweep_overhead_ms_per_run", "sweep_control_speedup_2_workers"):
            assert _positive(out[key]) or key == "sweep_overhead_ms_per_run"
