"""Pure array kernels of the daily step (docs/model.md).

Each kernel is a function of arrays, parameters and, where it draws, an explicit
``np.random.Generator`` or pre-drawn uniforms; none reads a model, touches global random
state, or loops over members in Python.
"""

from qunsim.kernels.arrivals import (
    accept_probability,
    exposure_candidates,
    referral_candidates,
    spread_word_of_mouth,
)
from qunsim.kernels.churn import contagion_mask, leave_probability, update_satisfaction
from qunsim.kernels.context import Messages, StepContext
from qunsim.kernels.posting import chatter_conversion, make_messages, posting_rates
from qunsim.kernels.reading import GroupIndex, read
from qunsim.kernels.ties import draw_replies
from qunsim.kernels.trust import trust_levels, update_trust

__all__ = [
    "Messages",
    "StepContext",
    "posting_rates",
    "make_messages",
    "chatter_conversion",
    "GroupIndex",
    "read",
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
]
