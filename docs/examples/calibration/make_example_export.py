"""Writes members.csv: the example "export" used by docs/calibration.md.

A synthetic community (qunsim at dynamics.inflow = 4, dynamics.hazard_base = 0.02, 120 days,
seed 2026) exported as a community platform would: one row per member who ever joined, with
an anonymised id, the day they joined, the day they left (empty if still a member) and their
post count. Rerun: python docs/examples/calibration/make_example_export.py
"""

from pathlib import Path

import numpy as np

import qunsim as qs
from qunsim.calibration import simulated_tables

here = Path(__file__).parent
res = qs.simulate(rng=2026, steps=119, **{"community.n_seed": 100, "community.n_prospects": 1500,
                                          "dynamics.inflow_ramp": 0.0, "dynamics.inflow": 4.0,
                                          "dynamics.hazard_base": 0.02, "run.agent_views": False})
m = simulated_tables(res, 120).members
rng = np.random.default_rng(7)
m["member_id"] = [f"m{x:05d}" for x in rng.permutation(100000)[: len(m)]]
m["join_day"] = m["join_day"].astype(int)
m["leave_day"] = m["leave_day"].astype("Int64")
m["posts"] = m["posts"].astype(int)
m[["member_id", "join_day", "leave_day", "posts", "role"]].to_csv(here / "members.csv", index=False)
print(f"wrote {here / 'members.csv'}: {len(m)} members, {int(m['leave_day'].notna().sum())} left")
