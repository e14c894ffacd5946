"""Pass criteria of the textbook results and stylised facts, on the results of the studies in
``experiments/`` (the same criteria as their smoke tests). Each function maps a study's result
dict to ``[(criterion, holds), ...]``; an anchor passes when every criterion holds.
"""

from __future__ import annotations

ALPHA = 0.05

__all__ = ["CRITERIA"]


def _gt(e: dict) -> bool:
    return e["lo"] > 0 and e["p_greater"] < ALPHA


def _lt(e: dict) -> bool:
    return e["hi"] < 0 and e["p_less"] < ALPHA


def watts(res: dict) -> list[tuple[str, bool]]:
    f = dict(zip(res["z"], res["frequency"], strict=True))
    s = dict(zip(res["z"], res["size"], strict=True))
    return ([(f"global cascades frequent at z={z:g} (Wilson lower bound > 0.3)", f[z]["lo"] > 0.3) for z in (2.0, 3.0, 4.0)]
            + [("cascades are global at z=3 (mean size > 0.5)", s[3.0]["mean"] > 0.5)]
            + [(f"no global cascade at z={z:g}", f[z]["p"] == 0.0) for z in (8.0, 9.0, 10.0)]
            + [("rarer at z=7 than at z=3 (disjoint intervals)", f[7.0]["hi"] < f[3.0]["lo"]),
               ("rare at z=1", f[1.0]["p"] < f[3.0]["lo"])])


def sf1(res: dict) -> list[tuple[str, bool]]:
    e = res["effects"]
    out = [("chatter raises the low-quality share", _gt(e["chatter raises low-quality share (chatty - baseline)"])),
           ("chatter drives experts out", _gt(e["chatter drives experts out (expert hazard/1000 days, chatty - baseline)"])),
           ("chatter shrinks the community", _lt(e["chatter shrinks the community (mean active, chatty - baseline)"])),
           ("experts leave faster than chatters", _gt(e["experts leave faster than chatters (hazard/1000 days, expert - chatter, chatty)"])),
           ("hazard ratio expert/chatter > 1", res["hazard_ratio_chatty"]["lo"] > 1.0),
           ("Gresham index > 1 when chatty", res["conditions"]["chatty"]["gresham_index"]["lo"] > 1.0),
           ("spam moderation keeps members", _gt(e["+spam_mod keeps members (final active, +spam_mod - chatty_spam)"]))]
    for pol in ("+rate_limit", "+curation"):
        out += [(f"{pol} lowers the low-quality share", _lt(e[f"{pol} lowers low-quality share ({pol} - chatty)"])),
                (f"{pol} keeps members", _gt(e[f"{pol} keeps members (final active, {pol} - chatty)"])),
                (f"{pol} keeps experts", _lt(e[f"{pol} keeps experts (expert hazard/1000 days, {pol} - chatty)"]))]
    return out


def sf2(res: dict) -> list[tuple[str, bool]]:
    e, c = res["effects"], res["cells"]
    return [("knowledge: chatter lowers expert retention", e["knowledge: high - low chatter, expert_retention"]["hi"] < 0),
            ("goal fit on expert retention", _gt(e["goal fit (social change - knowledge change), expert_retention"])),
            ("goal fit on core retention (experts and contributors)",
             _gt(e["goal fit (social change - knowledge change), core_retention"])),
            ("high chatter: social keeps experts better", _gt(e["high chatter: expert retention, social - knowledge"])),
            ("social community survives high chatter", c["social/high"]["survival"]["lo"] > 0.8),
            ("social volume at least the knowledge volume",
             c["social/high"]["messages_per_day"]["mean"] >= c["knowledge/high"]["messages_per_day"]["mean"])]


def sf3(res: dict) -> list[tuple[str, bool]]:
    e = res["effects"]
    return [("mix beats all regulars: final active", _gt(e["mix - all regulars: final_active"])),
            ("mix beats all regulars: tenure", _gt(e["mix - all regulars: mean_tenure"])),
            ("mix beats all regulars: retention", e["mix - all regulars: retention"]["diff"] > 0),
            ("mix beats all experts: retention", _gt(e["mix - all experts: retention"])),
            ("mix beats all experts: final active", _gt(e["mix - all experts: final_active"]))]


def sf4(res: dict) -> list[tuple[str, bool]]:
    t, by = res["tests"], res["by_level"]
    joined = [by[s]["joined"]["mean"] for s in sorted(by)]
    return [("slower growth", t["slower_growth"]["diff"] < 0 and t["slower_growth"]["p_less"] < ALPHA),
            ("lower newcomer churn", t["lower_newcomer_churn"]["diff"] < 0 and t["lower_newcomer_churn"]["p_less"] < ALPHA),
            ("lower churn", t["lower_churn"]["diff"] < 0 and t["lower_churn"]["p_less"] < ALPHA),
            ("more revenue per member", t["more_revenue_per_member"]["p_greater"] < ALPHA),
            ("too strict: less revenue per member", t["too_strict_less_revenue_per_member"]["p_less"] < ALPHA),
            ("too strict: smaller", t["too_strict_smaller"]["p_less"] < ALPHA),
            ("growth falls at every step of strictness", joined == sorted(joined, reverse=True)),
            ("the study's own verdict", bool(res["holds"]))]


def sf5(res: dict) -> list[tuple[str, bool]]:
    d, by = res["ladder_minus_hard_sell"], res["by_strategy"]
    return [("ladder earns more", d["revenue_total"]["mean"] > 0 and d["revenue_total"]["ci_low"] > 0
             and res["p_more_revenue"] < 0.01),
            ("ladder converts more", by["gradual_ladder"]["paying_share"]["mean"] > by["hard_sell"]["paying_share"]["mean"]),
            ("ladder churns less", d["leave_hazard"]["mean"] < 0 and res["p_less_churn"] < 0.05),
            ("ladder keeps the founders", d["seed_retention"]["mean"] > 0 and res["p_more_retention"] < 0.05),
            ("ladder ends larger", d["final_active"]["mean"] > 0)]


def sf6(res: dict) -> list[tuple[str, bool]]:
    e = res["effects"]
    return [("losing the owner costs a pyramid trust", res["cells"]["pyramid"]["trust_lost"]["lo"] > 0),
            ("pyramid loses more trust than a ring", _gt(e["pyramid - ring: trust_lost"])),
            ("pyramid loses more members than a ring", _gt(e["pyramid - ring: members_lost"]))]


def sf7(res: dict) -> list[tuple[str, bool]]:
    e = res["effects"]
    return [("online word of mouth cuts arrivals more (paired by seed)",
             _lt(e["online - offline: arrival ratio, paired by seed"])),
            ("a collapse, not a dip", res["cells"]["online (2000)"]["arrival_ratio"]["hi"] < 0.8),
            ("there was a wave", res["cells"]["offline (6)"]["wave_leavers"]["lo"] > 0)]


def sf8(res: dict) -> list[tuple[str, bool]]:
    top = max(res["tests"])
    t, by = res["tests"][top], res["by_capacity"]
    return [("care lowers the leaving hazard", t["leave_hazard"]["diff"] < 0 and t["leave_hazard"]["p_less"] < ALPHA),
            ("care costs operator capacity", t["capacity_total"]["diff"] > 0),
            ("no care, no cost", by[0.0]["capacity_total"]["mean"] == 0),
            ("the study's own verdict", bool(res["holds"]))]


def sf9(res: dict) -> list[tuple[str, bool]]:
    s = res["phase_start_day"]
    return [("most runs pass all four phases in order", res["share_all_four_in_order"]["lo"] > 0.5),
            ("phases start in order", s["introduction"]["mean"] < s["growth"]["mean"] < s["maturity"]["mean"]
             < s["decline"]["mean"])]


CRITERIA = {"watts_window": watts, "SF1": sf1, "SF2": sf2, "SF3": sf3, "SF4": sf4, "SF5": sf5,
            "SF6": sf6, "SF7": sf7, "SF8": sf8, "SF9": sf9}
