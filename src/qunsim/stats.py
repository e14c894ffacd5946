"""Statistics in one place: intervals, paired differences, proportions, quantiles, survival, regret.

Every function takes plain arrays (or a tidy frame where said), drops non-finite values, and
returns plain floats/dicts/frames; figures and the report only display what these compute.

- :func:`mean_ci` — mean of replicates with a Student-t interval.
- :func:`diff_ci` — difference of two independent means (Welch interval, one-sided p-values).
- :func:`paired_difference` — mean of paired differences with a paired t interval.
- :func:`one_sided_p` — the one-sided p-value, in the direction asked, of a two-sided test.
- :func:`wilson` — a proportion with its Wilson score interval.
- :func:`quantiles` — sample quantiles (numpy's default, linear interpolation: Hyndman–Fan 7).
- :func:`band` — mean and t interval of a time series over runs at each step.
- :func:`kaplan_meier` — product-limit survival with Greenwood log-log intervals.
- :func:`regret` — shortfall of each option from the best one in each scenario.
- :func:`hazard_ratio` — ratio of two pooled Poisson rates with a log-scale interval.

Examples
--------
>>> r = mean_ci([1.0, 2.0, 3.0])
>>> r["mean"], round(r["low"], 3), round(r["high"], 3), r["n"]
(2.0, -0.484, 4.484, 3)
>>> w = wilson(6, 20)
>>> round(w["p"], 2), round(w["low"], 4), round(w["high"], 4)
(0.3, 0.1455, 0.519)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["mean_ci", "t_halfwidth", "diff_ci", "paired_difference", "one_sided_p", "wilson", "quantiles", "band",
           "kaplan_meier", "regret", "hazard_ratio", "QUANTILES"]

#: The quantiles every outcome summary carries.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _finite(x: Iterable[float]) -> np.ndarray:
    a = np.asarray(list(x) if not isinstance(x, np.ndarray | pd.Series) else x, dtype=float)
    return a[np.isfinite(a)]


def _t(level: float, dof: float) -> float:
    from scipy import stats

    if not 0 < level < 1:
        raise ValueError(f"level must be a confidence level in (0, 1), got {level}")
    return float(stats.t.ppf(0.5 + level / 2, dof))


def t_halfwidth(sd, n, level: float = 0.95) -> np.ndarray:
    """Half-width ``t(1 - (1 - level)/2, n - 1) sd / sqrt(n)`` of Student-t intervals, element
    by element (NaN where n < 2).

    >>> round(float(t_halfwidth(1.0, 3)), 4)
    2.4841
    """
    from scipy import stats

    if not 0 < level < 1:
        raise ValueError(f"level must be a confidence level in (0, 1), got {level}")
    sd, n = np.asarray(sd, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    return np.where(n > 1, h, np.nan)


def mean_ci(x: Iterable[float], level: float = 0.95) -> dict:
    """Mean with a Student-t confidence interval; ``low = high = mean`` when n = 1, NaN when 0.

    Returns ``{"n", "mean", "sd", "low", "high"}``.

    >>> mean_ci([4.0])["low"], mean_ci([])["n"]
    (4.0, 0)
    """
    a = _finite(x)
    n = len(a)
    if n == 0:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "low": math.nan, "high": math.nan}
    m = float(a.mean())
    if n < 2:
        return {"n": 1, "mean": m, "sd": math.nan, "low": m, "high": m}
    sd = float(a.std(ddof=1))
    h = _t(level, n - 1) * sd / math.sqrt(n)
    return {"n": n, "mean": m, "sd": sd, "low": m - h, "high": m + h}


def diff_ci(a: Iterable[float], b: Iterable[float], level: float = 0.95) -> dict:
    """``mean(a) - mean(b)`` of independent samples: Welch interval and one-sided p-values
    (``p_greater``: H1 mean(a) > mean(b); ``p_less``: H1 mean(a) < mean(b)).

    >>> r = diff_ci([5.0, 6.0, 7.0, 6.5], [1.0, 2.0, 1.5, 2.5])
    >>> r["mean"], r["low"] > 0, r["p_greater"] < 0.01
    (4.375, True, True)
    """
    from scipy import stats

    x, y = _finite(a), _finite(b)
    if len(x) < 2 or len(y) < 2:
        d = float(x.mean() - y.mean()) if len(x) and len(y) else math.nan
        return {"mean": d, "low": math.nan, "high": math.nan, "p_greater": math.nan,
                "p_less": math.nan, "n_a": len(x), "n_b": len(y), "paired": False}
    d = float(x.mean() - y.mean())
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = math.sqrt(vx + vy)
    if se == 0:
        return {"mean": d, "low": d, "high": d, "p_greater": 0.0 if d > 0 else 1.0,
                "p_less": 0.0 if d < 0 else 1.0, "n_a": len(x), "n_b": len(y), "paired": False}
    dof = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    h = _t(level, dof) * se
    t = d / se
    return {"mean": d, "low": d - h, "high": d + h, "p_greater": float(stats.t.sf(t, dof)),
            "p_less": float(stats.t.cdf(t, dof)), "n_a": len(x), "n_b": len(y), "paired": False}


def paired_difference(a: Iterable[float], b: Iterable[float], level: float = 0.95) -> dict:
    """Mean of ``a[i] - b[i]`` over pairs (both finite) with a paired t interval and p-values.

    ``p_value`` is two-sided; ``p_greater`` / ``p_less`` are one-sided. With no spread in the
    differences the interval is the point and the p-values are 0 or 1.

    >>> d = paired_difference([3.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    >>> round(d["mean"], 3), round(d["low"], 3), round(d["high"], 3), d["n"]
    (2.333, 0.899, 3.768, 3)
    """
    from scipy import stats

    x = np.asarray(list(a) if not isinstance(a, np.ndarray | pd.Series) else a, dtype=float)
    y = np.asarray(list(b) if not isinstance(b, np.ndarray | pd.Series) else b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples must have the same length, got {x.shape} and {y.shape}")
    d = (x - y)[np.isfinite(x) & np.isfinite(y)]
    n = len(d)
    m = float(d.mean()) if n else math.nan
    out = {"n": n, "mean": m, "sd": math.nan, "low": math.nan, "high": math.nan,
           "p_value": math.nan, "p_greater": math.nan, "p_less": math.nan, "paired": True}
    if n < 2:
        return out
    sd = float(d.std(ddof=1))
    out["sd"] = sd
    if sd == 0:
        out.update(low=m, high=m, p_value=0.0 if m != 0 else 1.0,
                   p_greater=0.0 if m > 0 else 1.0, p_less=0.0 if m < 0 else 1.0)
        return out
    se = sd / math.sqrt(n)
    t = m / se
    h = _t(level, n - 1) * se
    out.update(low=m - h, high=m + h, p_value=float(2 * stats.t.sf(abs(t), n - 1)),
               p_greater=float(stats.t.sf(t, n - 1)), p_less=float(stats.t.cdf(t, n - 1)))
    return out


def one_sided_p(result: dict, greater: bool) -> float:
    """One-sided p-value of a symmetric two-sided test (a t test), in the direction asked.

    ``result`` holds the estimate ``mean`` and the two-sided ``p_value`` (as the paired
    differences of :func:`paired_difference` and :func:`qunsim.strategies.paired_difference`
    do). ``greater=True`` tests H1: mean > 0, ``greater=False`` H1: mean < 0: half the
    two-sided p-value when the estimate lies on the side asked, else one minus that half.

    >>> one_sided_p({"mean": 2.0, "p_value": 0.04}, greater=True)
    0.02
    >>> one_sided_p({"mean": 2.0, "p_value": 0.04}, greater=False)
    0.98
    """
    p2 = result["p_value"]
    right = result["mean"] > 0 if greater else result["mean"] < 0
    return p2 / 2 if right else 1 - p2 / 2


def wilson(k: int, n: int, level: float = 0.95) -> dict:
    """Proportion ``k / n`` with the Wilson score interval (Wilson 1927).

    ``p ± z sqrt(p(1-p)/n + z²/4n²)`` around the centre ``(p + z²/2n) / (1 + z²/n)``, divided
    by ``1 + z²/n``; the bounds are exactly 0 at k = 0 and 1 at k = n. NaN when n = 0.

    >>> wilson(0, 50)["high"] < 0.072, wilson(0, 50)["low"], wilson(20, 20)["high"]
    (True, 0.0, 1.0)
    """
    from scipy import stats

    k, n = int(k), int(n)
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"wilson needs 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return {"k": 0, "n": 0, "p": math.nan, "low": math.nan, "high": math.nan}
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = k / n
    den = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    lo = 0.0 if k == 0 else float(min(p, max(0.0, centre - half)))
    hi = 1.0 if k == n else float(max(p, min(1.0, centre + half)))
    return {"k": k, "n": n, "p": float(p), "low": lo, "high": hi}


def quantiles(x: Iterable[float], qs: Sequence[float] = QUANTILES) -> dict[str, float]:
    """Sample quantiles by linear interpolation between order statistics (numpy's default,
    Hyndman & Fan's type 7), keyed ``q05, q25, q50, ...``; NaN for an empty sample.

    >>> {k: round(v, 6) for k, v in quantiles([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], (0.05, 0.5, 0.95)).items()}
    {'q05': 1.45, 'q50': 5.5, 'q95': 9.55}
    """
    a = _finite(x)
    keys = [f"q{round(q * 100):02d}" for q in qs]
    if not len(a):
        return dict.fromkeys(keys, math.nan)
    return {k: float(v) for k, v in zip(keys, np.quantile(a, list(qs)), strict=True)}


def band(ts: pd.DataFrame, column: str, level: float = 0.95, x: str = "step",
         qs: Sequence[float] | None = None) -> pd.DataFrame:
    """Mean of ``column`` over runs at each ``x`` with a t interval (``lower``, ``upper``; the
    mean when one run), and optionally quantiles of the runs (``q05`` ...).

    >>> ts = pd.DataFrame({"step": [0, 0, 1, 1], "active": [10, 10, 8, 12]})
    >>> b = band(ts, "active", qs=(0.5,))
    >>> b["mean"].tolist(), b["n"].tolist(), b["q50"].tolist()
    ([10.0, 10.0], [2, 2], [10.0, 10.0])
    >>> round(float(b["upper"].iloc[1] - b["mean"].iloc[1]), 2)   # t(0.975, 1) * 2.83 / sqrt(2)
    25.41
    """
    if not 0 < level < 1:
        raise ValueError(f"ci must be a confidence level in (0, 1), got {level}")
    g = ts.groupby(x)[column]
    out = pd.DataFrame({"mean": g.mean().astype(float), "sd": g.std(ddof=1), "n": g.count()})
    half = np.nan_to_num(t_halfwidth(out["sd"].to_numpy(dtype=float), out["n"].to_numpy(), level))
    out["lower"] = out["mean"] - half
    out["upper"] = out["mean"] + half
    cols = [x, "mean", "lower", "upper", "n"]
    for q in qs or ():
        key = f"q{round(q * 100):02d}"
        out[key] = g.quantile(q).astype(float)
        cols.append(key)
    return out.reset_index()[cols]


def kaplan_meier(durations: Sequence[float], observed: Sequence[bool], ci: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier estimate of the survival function, with Greenwood log-log intervals.

    Parameters
    ----------
    durations : array of float
        Time from entry to the event or to censoring (days).
    observed : array of bool
        True if the event (leaving) was observed, False if censored (still a member).
    ci : float
        Confidence level of the pointwise interval.

    Returns
    -------
    DataFrame
        One row per distinct time with an event or censoring: ``time, at_risk, events,
        censored, survival, lower, upper``. ``survival`` is S(t) just after ``time``;
        members censored at ``time`` count as at risk at ``time``.

    Examples
    --------
    >>> km = kaplan_meier([1, 2, 2, 3], [True, True, False, True])
    >>> km[["time", "at_risk", "events", "survival"]].to_string(index=False)
    ' time  at_risk  events  survival\\n  1.0        4       1      0.75\\n  2.0        3       1      0.50\\n  3.0        1       1      0.00'
    """
    from scipy import stats

    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if d.shape != e.shape:
        raise ValueError(f"durations and observed must have the same length, got {d.shape} and {e.shape}")
    if len(d) and (not np.all(np.isfinite(d)) or d.min() < 0):
        raise ValueError("durations must be finite and >= 0")
    times = np.unique(d)
    at_risk = np.array([(d >= t).sum() for t in times], dtype=np.int64)
    events = np.array([((d == t) & e).sum() for t in times], dtype=np.int64)
    censored = np.array([((d == t) & ~e).sum() for t in times], dtype=np.int64)
    surv = np.cumprod(1.0 - events / np.maximum(at_risk, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0)
        var = np.cumsum(terms)  # Greenwood: Var(log S) sum
        z = stats.norm.ppf(0.5 + ci / 2)
        loglog = np.log(-np.log(surv))
        se = np.sqrt(var) / np.abs(np.log(surv))
        lower = np.exp(-np.exp(loglog + z * se))
        upper = np.exp(-np.exp(loglog - z * se))
    ok = (surv > 0) & (surv < 1)
    lower = np.where(ok, lower, surv)
    upper = np.where(ok, upper, surv)
    return pd.DataFrame({"time": times, "at_risk": at_risk, "events": events, "censored": censored,
                         "survival": surv, "lower": lower, "upper": upper})


def regret(values: pd.DataFrame, maximise: bool = True) -> pd.DataFrame:
    """Regret of each option: its shortfall from the best option in each scenario.

    Parameters
    ----------
    values : DataFrame, one row per scenario, one column per option (the objective, e.g. the
        mean over replicates in that scenario).
    maximise : whether more is better.

    Returns
    -------
    DataFrame indexed by option: ``max_regret`` (the worst case over scenarios),
    ``mean_regret``, and ``best_in`` (the share of scenarios where the option is best).
    Scenarios where an option has no value are skipped for it.

    >>> v = pd.DataFrame({"a": [10.0, 4.0, 6.0], "b": [8.0, 5.0, 9.0]})
    >>> regret(v).to_dict("index")
    {'a': {'max_regret': 3.0, 'mean_regret': 1.3333333333333333, 'best_in': 0.3333333333333333}, 'b': {'max_regret': 2.0, 'mean_regret': 0.6666666666666666, 'best_in': 0.6666666666666666}}
    """
    v = values.astype(float)
    best = v.max(axis=1) if maximise else v.min(axis=1)
    r = (best.to_numpy()[:, None] - v.to_numpy()) if maximise else (v.to_numpy() - best.to_numpy()[:, None])
    r = pd.DataFrame(r, index=v.index, columns=v.columns)
    is_best = r.eq(0) & v.notna()
    return pd.DataFrame({"max_regret": r.max(axis=0), "mean_regret": r.mean(axis=0),
                         "best_in": is_best.sum(axis=0) / max(len(v), 1)})


def hazard_ratio(events_a: float, exposure_a: float, events_b: float, exposure_b: float,
                 level: float = 0.95, prior: float = 0.5) -> dict:
    """Ratio of two Poisson rates ``(events_a/exposure_a) / (events_b/exposure_b)`` with a
    log-scale Wald interval, the counts shrunk by ``prior`` events (Jeffreys-like: +0.5 to each
    count, +1 to each exposure) so the estimate is finite when a group has no event or no
    exposure, and 1 with an interval spanning 1 when neither group has data.

    ``se(log HR) = sqrt(1/(e_a + prior) + 1/(e_b + prior))``.

    >>> r = hazard_ratio(10, 100, 1, 100)
    >>> round(r["ratio"], 3), round(r["low"], 3) > 1
    (7.0, True)
    >>> hazard_ratio(0, 0, 0, 0)["ratio"]
    1.0
    """
    from scipy import stats

    ea, eb = float(events_a) + prior, float(events_b) + prior
    xa, xb = float(exposure_a) + 2 * prior, float(exposure_b) + 2 * prior
    ratio = (ea / xa) / (eb / xb)
    se = math.sqrt(1 / ea + 1 / eb)
    z = float(stats.norm.ppf(0.5 + level / 2))
    return {"ratio": float(ratio), "low": float(ratio * math.exp(-z * se)),
            "high": float(ratio * math.exp(z * se)), "se_log": se}
