"""The metric registry: one place for each metric's name, label, unit, direction and format.

The model's reporters, the run summary, the figures' axis labels and the report's tables all
read :data:`METRICS`. A metric's *format* is one rule for the whole project:

- ``"pct"``: a share in [0, 1], shown as a percentage (``0.0429`` -> ``4.3%``);
- ``"rate"``: a daily rate (share of members per day), shown as a percentage per day and,
  next to it, per 30 days (``0.0021`` -> ``0.21%/day (6.1%/30 d)``);
- ``"int"``: a count (``1,234``); ``"num"``: a number (3 significant digits);
- ``"money"``: a currency amount (no decimals above 1,000);
- ``"ratio"``: a ratio such as a hazard ratio (``1.8×``).

``direction`` is ``+1`` when more is better, ``-1`` when less is better, ``0`` when neither.

:data:`SERIES` names every column of the per-day metrics row (the metrics marked
``series`` here, the columns by role, tier and leave reason, and the built-in policies'
columns); with the per-rung, per-gate and per-policy families of :func:`is_series` these are
the columns a scheduled policy's trigger may read.

Examples
--------
>>> METRICS["final_expert_retention"].direction, fmt("final_expert_retention", 0.4286)
(1, '42.9%')
>>> fmt("mean_churn_rate", 0.0021)
'0.21%/day (6.1%/30 d)'
>>> label("gresham_index")
'Gresham index (hazard ratio, top / bottom quality quartile)'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from qunsim.state import LeaveReason, Role, Tier

__all__ = ["Metric", "METRICS", "label", "fmt", "direction", "headline", "HEADLINE",
           "MODEL_REPORTERS", "per_30_days", "SERIES", "POLICY_COLUMNS", "is_series"]


@dataclass(frozen=True)
class Metric:
    """One metric: ``name`` (column / summary key), ``label``, ``unit``, ``direction`` (+1 more
    is better, -1 less is better, 0 neutral), ``format`` (see the module docstring), and
    ``reporter`` (True: a per-day model reporter of ``CommunityModel.datacollector``) and
    ``series`` (True: a column of the per-day metrics row, which triggers may read)."""

    name: str
    label: str
    unit: str
    direction: int = 0
    format: str = "num"
    reporter: bool = False
    series: bool = False


def _m(name, label, unit, direction=0, format="num", reporter=False, series=False):  # noqa: A002
    return name, Metric(name, label, unit, direction, format, reporter, series)


def _col(name, label, unit, direction=0, format="num", reporter=False):  # noqa: A002
    """A column of the per-day metrics row."""
    return _m(name, label, unit, direction, format, reporter, series=True)


METRICS: dict[str, Metric] = dict([
    # per-day time-series columns
    _col("active", "Active members", "members", +1, "int", True),
    _col("joins", "Joins", "members / day", +1, "int", True),
    _col("leaves", "Leaves", "members / day", -1, "int", True),
    _col("churn_rate", "Churn rate", "% of members / day", -1, "rate", True),
    _col("messages", "Messages", "messages / day", 0, "num", True),
    _col("removed_messages", "Removed messages", "messages / day", 0, "num"),
    _col("low_quality_share", "Low-quality share", "% of messages", -1, "pct", True),
    _col("value_density", "Value density", "value / message read", +1, "num", True),
    _col("overload", "Overload", "% of messages unread", -1, "pct"),
    _col("utility_mean", "Mean net utility", "value / member / day", +1, "num"),
    _col("expert_retention", "Expert retention", "% of experts ever joined", +1, "pct", True),
    _col("gresham_index", "Gresham index", "hazard ratio, top / bottom quality quartile", -1, "ratio", True),
    # the Gresham index's interval: computed from the whole run, not in the metrics row
    _m("gresham_low", "Gresham index, lower 95% bound", "hazard ratio", 0, "ratio"),
    _m("gresham_high", "Gresham index, upper 95% bound", "hazard ratio", 0, "ratio"),
    _col("trust_mean", "Mean trust", "0–1", +1, "num", True),
    _col("satisfaction_mean", "Mean satisfaction", "relative surplus", +1, "num"),
    _col("strong_ties", "Strong ties", "ties", +1, "int"),
    _col("metcalfe_pairs", "Possible connections", "pairs", 0, "int"),
    _col("revenue", "Revenue", "currency / day", +1, "money"),
    _col("revenue_cumulative", "Cumulative revenue", "currency", +1, "money"),
    _col("operator_capacity_used", "Operator capacity used", "% of capacity", 0, "pct"),
    # run summary statistics
    _m("steps", "Days simulated", "days", 0, "int"),
    _m("initial_active", "Active members at the start", "members", 0, "int"),
    _m("final_active", "Active members at the end", "members", +1, "int"),
    _m("min_active", "Fewest active members on any day", "members", +1, "int"),
    _m("peak_active", "Peak active members", "members", +1, "int"),
    _m("peak_step", "Day of the peak", "day", 0, "int"),
    _m("total_joined", "Members ever joined", "members", +1, "int"),
    _m("total_left", "Members who left", "members", -1, "int"),
    _m("mean_churn_rate", "Mean churn rate", "% of members / day", -1, "rate"),
    _m("leave_hazard", "Leave hazard", "leaves per member-day", -1, "rate"),
    _m("churn_30d", "Churn per 30 days", "% of members leaving in 30 days", -1, "pct"),
    _m("final_expert_retention", "Expert retention at the end", "% of experts ever joined", +1, "pct"),
    _m("mean_low_quality_share", "Mean low-quality share", "% of messages", -1, "pct"),
    _m("final_low_quality_share", "Low-quality share at the end", "% of messages", -1, "pct"),
    _m("mean_value_density", "Mean value density", "value / message read", +1, "num"),
    _m("final_gresham_index", "Gresham index at the end", "hazard ratio", -1, "ratio"),
    _m("mean_gresham_index", "Mean Gresham index", "hazard ratio", -1, "ratio"),
    _m("gresham_hr", "Gresham hazard ratio (whole run)", "hazard ratio", -1, "ratio"),
    _m("gresham_hr_low", "Gresham hazard ratio, lower 95% bound", "hazard ratio", 0, "ratio"),
    _m("gresham_hr_high", "Gresham hazard ratio, upper 95% bound", "hazard ratio", 0, "ratio"),
    _m("final_trust_mean", "Mean trust at the end", "0–1", +1, "num"),
    _m("final_strong_ties", "Strong ties at the end", "ties", +1, "int"),
    _m("messages_per_day", "Messages per day", "messages / day", 0, "num"),
    _m("final_phase", "Lifecycle phase at the end", "", 0, "text"),
    _m("phases_seen", "Lifecycle phases", "", 0, "text"),
    _m("survival_ratio", "Survival ratio", "final / initial active", +1, "num"),
    _m("revenue_total", "Total revenue", "currency", +1, "money"),
    _m("net_revenue_total", "Net revenue", "currency", +1, "money"),
    _m("revenue_per_member", "Revenue per member", "currency / member", +1, "money"),
    _m("seed_retention", "Seed members retained", "% of seed members", +1, "pct"),
    _m("member_days", "Member-days", "member-days", 0, "int"),
])

#: The per-day reporters of the model's Mesa DataCollector, in column order.
MODEL_REPORTERS: tuple[str, ...] = tuple(k for k, m in METRICS.items() if m.reporter)

#: Columns the built-in policies add to the metrics row (besides the families of :func:`is_series`).
POLICY_COLUMNS: frozenset[str] = frozenset([
    "spam_caught", "spam_deterred", "chatter_removed", "chatter_filtered", "chatter_filter_users",
    "posts_capped", "curated_groups", "event_attendees", "event_groups", "care_contacts",
    "groups_split", "groups_merged", "gate_activity_requirement_removed", "ad_impressions",
    "ad_precision", "fee_billed", "fee_lapsed", "commission_paid", "commission_cumulative",
    "net_revenue", "net_revenue_cumulative", "dissolved_members"])

#: Every named column of the per-day metrics row: the ``series`` metrics above, the rest of
#: the row (shown with the labels :func:`get` derives) and the built-in policies' columns.
SERIES: frozenset[str] = frozenset(
    [k for k, m in METRICS.items() if m.series]
    + ["step", "info_density", "trust_none", "trust_weak", "trust_strong", "n_groups", "messages_operator"]
    + [f"{col}_{r.name.lower()}" for r in Role for col in ("active", "messages")]
    + [f"tier_{t.name.lower()}" for t in Tier]
    + [f"leaves_{r.name.lower()}" for r in LeaveReason if r != LeaveReason.NONE]) | POLICY_COLUMNS

#: Families of columns named after a policy's parts: revenue by source, offers and purchases
#: by rung, rejections by gate, and each scheduled policy's on/off column.
_SERIES_FAMILIES = re.compile(r"^(revenue_[a-z0-9_]+|offers_rung_[a-z0-9_]+|purchases_rung_[a-z0-9_]+"
                              r"|gate_[a-z0-9_]+_rejected|policy_[a-z0-9_]+_active)$")


def is_series(name: str) -> bool:
    """Whether ``name`` is a column of the per-day metrics row: one of :data:`SERIES` or of
    the policies' families (``revenue_<source>``, ``offers_rung_<rung>``,
    ``purchases_rung_<rung>``, ``gate_<name>_rejected``, ``policy_<name>_active``).

    >>> is_series("low_quality_share"), is_series("revenue_rung_low"), is_series("final_active")
    (True, True, False)
    """
    return name in SERIES or bool(_SERIES_FAMILIES.match(name))


#: Summary metrics shown in the report's tables and compared across sweep points.
HEADLINE: tuple[str, ...] = ("final_active", "survival_ratio", "mean_churn_rate", "churn_30d",
                             "final_expert_retention", "mean_low_quality_share", "gresham_hr",
                             "final_trust_mean", "revenue_total", "revenue_per_member")

_PREFIXES = (("active_", "Active", "members", "int"), ("messages_", "Messages by", "messages / day", "num"),
             ("leaves_", "Leaves:", "members / day", "int"), ("revenue_", "Revenue:", "currency / day", "money"),
             ("left_", "Left:", "members", "int"), ("tier_", "Tier", "members", "int"))


def get(name: str) -> Metric:
    """The registered metric, or one derived from a known prefix (``active_expert``,
    ``left_dissatisfied`` ...), or a neutral number named after ``name``."""
    if name in METRICS:
        return METRICS[name]
    for prefix, lab, unit, f in _PREFIXES:
        if name.startswith(prefix):
            d = -1 if prefix in ("leaves_", "left_") else (+1 if prefix in ("active_", "revenue_") else 0)
            return Metric(name, f"{lab} {name[len(prefix):].replace('_', ' ')}", unit, d, f)
    s = name.replace("_", " ")
    return Metric(name, s[:1].upper() + s[1:], "", 0, "num")


def label(name: str, unit: bool = True) -> str:
    """``"Label (unit)"`` of a metric (``unit=False``: the label alone)."""
    m = get(name)
    return f"{m.label} ({m.unit})" if unit and m.unit else m.label


def direction(name: str) -> int:
    """+1 more is better, -1 less is better, 0 neutral."""
    return get(name).direction


def headline(columns) -> list[str]:
    """The headline metrics present among ``columns``, in :data:`HEADLINE` order."""
    cols = set(columns)
    return [k for k in HEADLINE if k in cols]


def per_30_days(daily: float) -> float:
    """The share leaving within 30 days at a constant daily hazard: ``1 - (1 - h)^30``.

    >>> round(per_30_days(0.01), 4)
    0.2603
    """
    return 1.0 - (1.0 - min(max(float(daily), 0.0), 1.0)) ** 30


def _num(v: float) -> str:
    if v == int(v) and abs(v) < 1e9:
        return f"{int(v):,}"
    return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def fmt(name: str, value, *, unit: bool = False) -> str:
    """``value`` formatted by the metric's rule (see the module docstring); ``–`` for NaN.

    >>> fmt("final_active", 212.0), fmt("revenue_total", 15234.2), fmt("gresham_hr", 1.834)
    ('212', '15,234', '1.83×')
    """
    if value is None:
        return "–"
    if isinstance(value, str):
        return value.replace("|", " → ")
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "–"
    f = get(name).format
    if f == "pct":
        out = f"{v:.1%}" if abs(v) >= 0.001 or v == 0 else f"{v:.2%}"
    elif f == "rate":
        out = f"{v:.2%}/day ({per_30_days(v):.1%}/30 d)"
    elif f == "int":
        out = f"{round(v):,}" if abs(v - round(v)) < 1e-9 or abs(v) >= 100 else f"{v:,.1f}"
    elif f == "money":
        out = f"{v:,.0f}" if abs(v) >= 1000 else _num(round(v, 2) if abs(v) >= 1 else v)
    elif f == "ratio":
        out = f"{v:.3g}×"
    else:
        out = _num(v)
    if unit and get(name).unit and f not in ("pct", "rate"):
        out += f" {get(name).unit}"
    return out


def fmt_diff(name: str, value) -> str:
    """A difference of the metric, signed, by the same rule (percentage points for shares).

    >>> fmt_diff("final_expert_retention", 0.12), fmt_diff("final_active", -30.0)
    ('+12.0 pp', '−30')
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(v):
        return "–"
    f = get(name).format
    sign = "+" if v > 0 else ("−" if v < 0 else "±")
    a = abs(v)
    if f == "pct":
        body = f"{a * 100:.1f} pp"
    elif f == "rate":
        body = f"{a * 100:.2f} pp/day"
    elif f == "ratio":
        body = f"{a:.3g}"
    elif f == "money":
        body = f"{a:,.0f}" if a >= 1000 else _num(round(a, 2) if a >= 1 else a)
    else:
        body = _num(a) if not (f == "int" and a >= 100) else f"{round(a):,}"
    return sign + body
