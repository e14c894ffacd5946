"""The physics of the day: kernels over the state arrays, compiled with numba.

Each kernel is a function of arrays, parameters and, where it draws, the model's explicit
``np.random.Generator`` (passed into the compiled code) or pre-drawn uniforms; none reads a
model or touches global random state. ``CommunityModel.step`` calls them stage by stage
from Python when policies take part, and fused in compiled calls (:mod:`qunsim.kernels.day`)
when none does (see docs/model.md). Set ``NUMBA_DISABLE_JIT=1`` to run them as plain Python.
"""

from qunsim.kernels.arrivals import (
    accept_probability,
    content_low_quality,
    exposure_candidates,
    inviters,
    referral_candidates,
    spread_word_of_mouth,
)
from qunsim.kernels.churn import (
    contagion_mask,
    leave_probability,
    members_day,
    relative_surplus,
    update_satisfaction,
)
from qunsim.kernels.context import Messages, StepContext
from qunsim.kernels.posting import (
    chatter_conversion,
    draw_posts,
    make_messages,
    messages_from_counts,
    posting_rates,
)
from qunsim.kernels.reading import GroupIndex, read, read_and_reply
from qunsim.kernels.ties import draw_replies, strengthen_ties
from qunsim.kernels.trust import trust_levels, trust_value, update_trust

__all__ = [
    "Messages",
    "StepContext",
    "posting_rates",
    "make_messages",
    "chatter_conversion",
    "GroupIndex",
    "read",
    "read_and_reply",
    "draw_posts",
    "messages_from_counts",
    "strengthen_ties",
    "members_day",
    "relative_surplus",
    "trust_value",
    "inviters",
    "draw_replies",
    "update_trust",
    "trust_levels",
    "update_satisfaction",
    "leave_probability",
    "contagion_mask",
    "exposure_candidates",
    "referral_candidates",
    "accept_probability",
    "spread_word_of_mouth",
    "content_low_quality",
]


def warm_up() -> float:
    """Compile (or load from the on-disk cache) every kernel of the day by running a tiny
    community through its first weeks with policies of every family (the staged day) and
    one without (the fused day); returns the seconds it
    took. Benchmarks call it so that no compilation falls inside a timed window; a user never
    needs to (kernels compile on first use)."""
    import time

    from qunsim.model import CommunityModel

    t0 = time.perf_counter()
    kw = {"community.n_seed": 40, "community.n_prospects": 200, "dynamics.contagion_window": 3,
          "activity.chatter_moderation": {"mode": "personal"}, "activity.curation": {},
          "monetization.ladder": {}}
    m = CommunityModel(rng=0, **kw)
    m.run_for(9)
    m.remove_members(m.leaders)
    m.run_for(2)
    # the fused day (no policy): joins, departures ageing out of the window, tie merges
    m = CommunityModel(rng=0, **{k: v for k, v in kw.items() if "." in k and k.split(".")[0] == "community"},
                       **{"dynamics.contagion_window": 3})
    m.run_for(2)
    m.remove_members(m.state.active_ids()[:5], "dissatisfied")
    m.run_for(8)
    return time.perf_counter() - t0


__all__ += ["warm_up"]
