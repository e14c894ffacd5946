"""Entry gates (门槛). Gates combine: a candidate joins only if every gate admits it."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from qunsim.policies.base import Gate, PolicyParams, register

__all__ = ["InterestGate"]


@register
class InterestGate(Gate):
    """Interest match: admit candidates whose interest in the topic reaches ``threshold``.

    The gate sees a candidate's true interest with probability ``precision`` and a uniform
    random guess otherwise (imperfect targeting/screening of interest). ``precision = 1``
    admits exactly those with ``interest >= threshold``; ``precision = 0`` admits a random
    ``1 - threshold`` share.

    Config::

        [gate.interest]
        precision = 0.8
        threshold = 0.5
    """

    key = "interest"
    primary = "threshold"

    class Params(PolicyParams):
        precision: float = Field(default=0.8, ge=0, le=1)
        threshold: float = Field(default=0.5, ge=0, le=1)

    def admit(self, model, candidates, referred, rng):
        p = self.params
        true_i = model.state.interest[candidates]
        seen = np.where(rng.random(len(candidates)) < p.precision, true_i,
                        rng.random(len(candidates)))
        return seen >= p.threshold
