"""Golden trajectories: the configs whose time series and member tables must stay
bit-identical to the engine that recorded them (tests/data/golden_day.json).

``python tests/_golden.py`` (re)writes the file with the engine on ``PYTHONPATH``; it was
recorded with main at 7dc3e1b (the day before it was fused into one compiled call); the
``participation`` case was re-recorded once after the participation physics changed on purpose
(experts and chatters never lurk, the propensity cap, the first-post floor), every other case
unchanged.

When the defaults became the realistic-participation calibration, the recorded cases were
pinned to the calibration they were recorded with (``OLD_CALIBRATION``: everyone posts,
``reply_prob`` 0.05, seed members drawing a propensity like everyone else), so they still
check that the engine is unchanged, and ``default_calibration`` was added, recorded with the
engine that made those the defaults. ``python tests/_golden.py NAME ...`` records only the named
cases and keeps the others.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "golden_day.json"
SEEDS = (1, 2)


#: every policy of the example configs (benchmarks/run.py's all_policies() at 7dc3e1b), frozen
ALL_POLICIES = json.loads('{"gate.interest": {"precision": 0.8, "threshold": 0.4}, "gate.fee": {"price": 49.0}, "gate.process": {"referral_only": false, "precision": 0.7, "screen_roles": ["chatter", "spammer"], "dropout": 0.2}, "activity.spam_moderation": {"precision": 0.9, "false_positive": 0.0, "warnings": 1, "deterrence": 0.5, "ban_after": 3}, "activity.chatter_moderation": {"mode": "personal", "precision": 0.8, "max_quality": 0.2, "author_penalty": 0.5, "author_cost": 0.3}, "activity.rate_limit": {"cap": 5, "exempt": ["owner", "moderator"]}, "activity.curation": {"overload_relief": 0.5, "operator_cost": 0.5}, "activity.events": {"every": 7, "lead_time": 2, "attendance": 0.6, "messages": 6, "quality": 0.9, "value": 2.0, "evidence": 1.0, "expert_commitment": 0.2, "operator_cost": 1.0}, "activity.care": {"capacity": 5.0, "cost": 1.0, "threshold": 0.0, "evidence": 2.0, "boost": 0.5, "cooldown": 7}, "activity.group_cap": {"cap": 500, "merge_below": 30}, "monetization.ladder": {"gradual": true, "capacity": 20, "offer_cost": 1.0, "annoyance": 0.5, "annoyance_cost": 0.5, "rungs": [{"name": "free", "price": 0.0, "value": 10.0, "min_trust": 0.0, "cadence": 7, "channel": "broadcast", "conversion": 0.5, "tier": "member"}, {"name": "low", "price": 9.9, "value": 30.0, "min_trust": 0.55, "cadence": 7, "channel": "private", "conversion": 0.3, "tier": "fan"}, {"name": "mid", "price": 99.0, "value": 150.0, "min_trust": 0.65, "cadence": 14, "channel": "private", "conversion": 0.2, "tier": "fan"}, {"name": "high", "price": 299.0, "value": 400.0, "min_trust": 0.75, "cadence": 30, "channel": "private", "conversion": 0.15, "tier": "partner"}, {"name": "profit_sharing", "price": 499.0, "value": 800.0, "min_trust": 0.85, "cadence": 30, "channel": "private", "conversion": 0.1, "tier": "shareholder"}]}, "monetization.profit_sharing": {"commission": 20.0, "boost": 3.0, "min_tier": "partner", "trust_per_commission": 0.5}, "monetization.ads": {"per_day": 2.0, "rate": 0.05, "quality": 0.02, "annoyance": 0.05}, "gate.activity_requirement": {"days": 14}}')


#: the defaults the cases before ``default_calibration`` were recorded with
OLD_CALIBRATION = {"dynamics.lurker_share": 0.0, "dynamics.propensity_sd": 0.0, "dynamics.propensity_max": 0.0,
                   "dynamics.first_post_rate": 0.0, "dynamics.welcome_boost": 0.0,
                   "dynamics.welcome_commitment": 0.0, "dynamics.welcome_rate": 0.0, "dynamics.reply_prob": 0.05,
                   "dynamics.habituation": 0.8, "dynamics.reply_reward": 0.3, "dynamics.seed_members_lurk": True}


def _all_policies() -> dict:
    return json.loads(json.dumps(ALL_POLICIES))


def cases() -> dict:
    """name -> (config, overrides, plan); plan is a list of ("run", days) / ("remove_leaders",)."""
    knowledge = str(ROOT / "configs" / "knowledge_community.toml")
    small = {"community.n_seed": 60, "community.n_prospects": 1500}
    old = {name: (cfg, {**OLD_CALIBRATION, **kw}, plan) for name, (cfg, kw, plan) in _recorded(knowledge, small).items()}
    return {**old, "default_calibration": (knowledge, dict(small), [("run", 80)])}


def _recorded(knowledge: str, small: dict) -> dict:
    """The cases recorded with ``OLD_CALIBRATION`` (their overrides on top of it)."""
    return {
        "knowledge_120": (knowledge, {}, [("run", 120)]),
        "er_100": (None, {"community.n_seed": 100, "community.n_prospects": 100, "network.kind": "er",
                          "network.mean_degree": 10.0, "run.agent_views": True}, [("run", 80)]),
        "all_policies": (None, {"community.n_seed": 150, "community.n_prospects": 2000,
                                          "community.spammer_share": 0.05, **_all_policies()},
                         [("run", 90)]),
        "chatter_personal": (knowledge, {**small, "activity.chatter_moderation": {"mode": "personal"},
                                         "community.chatter_share": 0.2}, [("run", 80)]),
        "triggered": (str(ROOT / "configs" / "moderation_triggered.toml"),
                      {"community.n_seed": 120, "community.n_prospects": 1500,
                       "community.chatter_share": 0.3}, [("run", 100)]),
        "participation": (knowledge, {**small, "dynamics.lurker_share": 0.5, "dynamics.propensity_sd": 1.0,
                                      "dynamics.welcome_boost": 0.5, "dynamics.welcome_commitment": 0.2},
                          [("run", 80)]),
        "contagion_decay": (None, {"community.n_seed": 40, "community.n_prospects": 400,
                                   "dynamics.contagion_window": 3, "dynamics.tie_decay": 0.01,
                                   "activity.curation": {}, "monetization.ladder": {}},
                            [("run", 20), ("remove_leaders",), ("run", 30)]),
    }


def _h(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()[:16]


def frame_hashes(df) -> dict:
    """Column name -> "dtype:hash of its values" (in column order)."""
    out = {}
    for c in df.columns:
        s = df[c]
        if s.dtype.kind in "biuf":
            b = np.ascontiguousarray(s.to_numpy()).tobytes()
        else:
            b = repr([str(x) for x in s.tolist()]).encode()
        out[str(c)] = f"{s.dtype}:{_h(b)}"
    return out


def run_case(name: str, seed: int):
    import qunsim as qs

    cfg, kw, plan = cases()[name]
    m = qs.CommunityModel(cfg, rng=seed, **kw)
    for step in plan:
        if step[0] == "run":
            m.run_for(step[1])
        else:
            m.remove_members(m.leaders)
    return m


def fingerprint(m) -> dict:
    ts = m.timeseries()
    dc = m.datacollector.get_model_vars_dataframe()
    st = m.rng.bit_generator.state
    return {"timeseries": frame_hashes(ts), "members": frame_hashes(m.members_frame()),
            "datacollector": frame_hashes(dc.reset_index(drop=True)), "n_rows": len(ts),
            "final_active": int(ts["active"].iloc[-1]),
            "rng": _h(repr(st).encode()), "weights": _h(m.social.weight.tobytes()),
            "keys": _h(m.social.keys.tobytes())}


def main(names: list[str] | None = None) -> None:
    out = json.loads(DATA.read_text()) if names and DATA.exists() else {}
    for name in names or cases():
        for seed in SEEDS:
            out[f"{name}/{seed}"] = fingerprint(run_case(name, seed))
            print(name, seed, out[f"{name}/{seed}"]["final_active"], flush=True)
    DATA.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:] or None)
