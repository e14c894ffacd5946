"""Revenue, conversion, funnel and lifetime-value metrics of a run.

Free functions over a run's time series (``RunResult.timeseries``: one row per step) and
member table (``RunResult.members``: one row per member ever joined). They read the columns
the engine and the monetization policies write: ``revenue``, ``revenue_cumulative``,
``revenue_<source>`` (``rung_<name>``, ``ads``, ``membership_fee``, gate sources...),
``offers_rung_<name>`` / ``purchases_rung_<name>`` (the ladder), ``tier_<tier>``,
``commission_paid`` (profit sharing), ``operator_capacity_used``; and the members' ``spend``,
``role``, ``entry_path``, ``tier``.

Examples
--------
>>> import pandas as pd
>>> ts = pd.DataFrame({"step": [0, 1, 2], "revenue": [0.0, 10.0, 30.0],
...                    "revenue_rung_low": [0.0, 10.0, 0.0], "revenue_ads": [0.0, 0.0, 30.0],
...                    "offers_rung_low": [0, 4, 6], "purchases_rung_low": [0, 1, 0]})
>>> revenue_by_source(ts).to_dict()
{'rung_low': 10.0, 'ads': 30.0}
>>> conversion_by_rung(ts)[["offers", "purchases", "conversion"]].iloc[0].tolist()
[10.0, 1.0, 0.1]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "revenue_daily",
    "revenue_by_source",
    "revenue_by_rung",
    "conversion_by_rung",
    "funnel",
    "revenue_per_member",
    "lifetime_value",
    "operator_capacity",
    "revenue_summary",
]

_NOT_SOURCES = {"revenue", "revenue_cumulative"}
TIERS = ("member", "fan", "partner", "shareholder")


def _sources(ts: pd.DataFrame) -> list[str]:
    return [c for c in ts.columns if c.startswith("revenue_") and c not in _NOT_SOURCES]


def _rungs(ts: pd.DataFrame) -> list[str]:
    return [c[len("purchases_rung_"):] for c in ts.columns if c.startswith("purchases_rung_")]


def revenue_daily(ts: pd.DataFrame) -> pd.DataFrame:
    """Daily revenue: ``step``, ``revenue``, ``revenue_cumulative``, one column per source,
    and ``commission_paid`` / ``net_revenue`` / ``net_revenue_cumulative`` (net = gross when
    no commissions are paid).

    >>> ts = pd.DataFrame({"step": [0, 1, 2], "revenue": [0.0, 5.0, 7.0]})
    >>> revenue_daily(ts)["net_revenue_cumulative"].tolist()
    [0.0, 5.0, 12.0]
    """
    rev = ts["revenue"].astype(float) if "revenue" in ts else pd.Series(0.0, index=ts.index)
    out = pd.DataFrame({"step": ts["step"].to_numpy(), "revenue": rev.to_numpy()})
    out["revenue_cumulative"] = rev.cumsum().to_numpy()
    for c in _sources(ts):
        out[c] = ts[c].astype(float).to_numpy()
    paid = ts["commission_paid"].astype(float) if "commission_paid" in ts else pd.Series(0.0, index=ts.index)
    out["commission_paid"] = paid.to_numpy()
    out["net_revenue"] = (rev - paid).to_numpy()
    out["net_revenue_cumulative"] = np.cumsum(out["net_revenue"].to_numpy())
    return out


def revenue_by_source(ts: pd.DataFrame) -> pd.Series:
    """Total revenue of each source over the run (index: source name without ``revenue_``)."""
    cols = _sources(ts)
    return pd.Series({c[len("revenue_"):]: float(ts[c].sum()) for c in cols}, dtype=float)


def revenue_by_rung(ts: pd.DataFrame) -> pd.Series:
    """Total revenue of each ladder rung, in ladder order (index: rung name).

    >>> ts = pd.DataFrame({"revenue_rung_low": [0.0, 9.9, 9.9], "purchases_rung_low": [0, 1, 1]})
    >>> revenue_by_rung(ts).round(2).to_dict()
    {'low': 19.8}
    """
    return pd.Series({r: float(ts.get(f"revenue_rung_{r}", pd.Series(0.0)).sum()) for r in _rungs(ts)},
                     dtype=float)


def conversion_by_rung(ts: pd.DataFrame) -> pd.DataFrame:
    """Offers, purchases, conversion rate (purchases / offers; NaN without offers) and
    revenue of each ladder rung."""
    rows = []
    for r in _rungs(ts):
        offers = float(ts.get(f"offers_rung_{r}", pd.Series(0.0)).sum())
        buys = float(ts[f"purchases_rung_{r}"].sum())
        rows.append({"rung": r, "offers": offers, "purchases": buys,
                     "conversion": buys / offers if offers > 0 else np.nan,
                     "revenue": float(ts.get(f"revenue_rung_{r}", pd.Series(0.0)).sum())})
    return pd.DataFrame(rows, columns=["rung", "offers", "purchases", "conversion", "revenue"])


def funnel(ts: pd.DataFrame, share: bool = False) -> pd.DataFrame:
    """Active members by tier over time (粉丝→合伙人→股东): ``step`` and one column per tier.

    With ``share=True``, each tier's share of the active members (0 when nobody is active).

    >>> ts = pd.DataFrame({"step": [0, 1], "tier_member": [10, 6], "tier_fan": [0, 3],
    ...                    "tier_partner": [0, 1], "tier_shareholder": [0, 0]})
    >>> funnel(ts, share=True)["fan"].tolist()
    [0.0, 0.3]
    """
    out = pd.DataFrame({"step": ts["step"].to_numpy()})
    for t in TIERS:
        out[t] = ts[f"tier_{t}"].to_numpy() if f"tier_{t}" in ts else 0
    if share:
        tot = out[list(TIERS)].sum(axis=1).to_numpy(dtype=float)
        for t in TIERS:
            out[t] = np.where(tot > 0, out[t].to_numpy(dtype=float) / np.maximum(tot, 1), 0.0)
    return out


def revenue_per_member(ts: pd.DataFrame, members: pd.DataFrame, *, net: bool = False) -> float:
    """Total (or net of commissions) revenue divided by the members who ever joined."""
    rd = revenue_daily(ts)
    total = rd["net_revenue"].sum() if net else rd["revenue"].sum()
    n = int((members["join_step"] >= 0).sum()) if len(members) else 0
    return float(total / n) if n else 0.0


def lifetime_value(members: pd.DataFrame, by: str = "role", level: float = 0.95) -> pd.DataFrame:
    """Lifetime value (total paid, the ``spend`` column) per member, by ``role``,
    ``initial_role``, ``entry_path`` or ``tier``: members, payers, paying share, mean LTV
    with a t confidence interval, and total.

    >>> m = pd.DataFrame({"role": ["expert", "expert", "regular"], "spend": [100.0, 0.0, 9.9],
    ...                   "join_step": [0, 0, 3]})
    >>> lifetime_value(m)[["role", "members", "ltv_mean", "total"]].values.tolist()
    [['expert', 2, 50.0, 100.0], ['regular', 1, 9.9, 9.9]]
    """
    from scipy import stats

    if by not in members:
        raise KeyError(f"lifetime_value: the member table has no column {by!r}")
    rows = []
    groups = members.groupby(by, observed=True, sort=True)["spend"]
    for key, s in groups:
        x = s.to_numpy(dtype=float)
        n = len(x)
        mean = float(x.mean()) if n else 0.0
        if n > 1:
            half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
        else:
            half = np.nan
        rows.append({by: str(key), "members": n, "payers": int((x > 0).sum()),
                     "paying_share": float((x > 0).mean()) if n else 0.0,
                     "ltv_mean": mean, "ltv_ci_low": mean - half, "ltv_ci_high": mean + half,
                     "total": float(x.sum())})
    return pd.DataFrame(rows, columns=[by, "members", "payers", "paying_share", "ltv_mean",
                                       "ltv_ci_low", "ltv_ci_high", "total"])


def operator_capacity(ts: pd.DataFrame) -> dict:
    """Operator capacity used: total, mean per day and peak day (step 0 excluded)."""
    x = ts["operator_capacity_used"].iloc[1:].to_numpy(dtype=float) if "operator_capacity_used" in ts else np.zeros(0)
    return {"capacity_total": float(x.sum()), "capacity_mean": float(x.mean()) if len(x) else 0.0,
            "capacity_peak": float(x.max()) if len(x) else 0.0}


def revenue_summary(ts: pd.DataFrame, members: pd.DataFrame) -> dict:
    """Run-level revenue statistics (scalars), for strategy comparisons and sweeps.

    Keys: ``revenue_total``, ``commission_total``, ``net_revenue_total``, ``revenue_per_member``,
    ``net_revenue_per_member``, ``paying_share`` (members who paid anything / ever joined),
    ``revenue_<source>_total`` per source, ``conversion_<rung>`` per rung,
    ``final_<tier>`` active members per tier at the end, ``seed_retention`` (share of the
    initial members still active at the end), ``capacity_total`` / ``capacity_mean`` /
    ``capacity_peak``.
    """
    rd = revenue_daily(ts)
    joined = members[members["join_step"] >= 0] if len(members) else members
    out: dict = {
        "revenue_total": float(rd["revenue"].sum()),
        "commission_total": float(rd["commission_paid"].sum()),
        "net_revenue_total": float(rd["net_revenue"].sum()),
        "revenue_per_member": revenue_per_member(ts, members),
        "net_revenue_per_member": revenue_per_member(ts, members, net=True),
        "paying_share": float((joined["spend"] > 0).mean()) if len(joined) else 0.0,
    }
    for src, v in revenue_by_source(ts).items():
        out[f"revenue_{src}_total"] = float(v)
    for row in conversion_by_rung(ts).itertuples():
        out[f"conversion_{row.rung}"] = float(row.conversion)
    last = funnel(ts).iloc[-1]
    for t in TIERS:
        out[f"final_{t}"] = int(last[t])
    if len(joined):
        seeds = joined[joined["join_step"] == 0]
        out["seed_retention"] = float((seeds["status"] == "active").mean()) if len(seeds) else 0.0
    else:
        out["seed_retention"] = 0.0
    out.update(operator_capacity(ts))
    return out
