"""User policies that hold state, for the checkpoint tests (loaded by import path)."""

import numpy as np
from pydantic import Field

from qunsim.policies import ActivityPolicy, PolicyParams


class Reward(ActivityPolicy):
    """Gives a random member a bonus each day and remembers everyone rewarded (state in attrs).

    The setup day is recorded, so a scheduled Reward shows when it was set up."""

    key = "reward"
    metric_names = ("reward_total",)  # a column triggers may read

    class Params(PolicyParams):
        bonus: float = Field(default=0.5, ge=0)

    def setup(self, model):
        self.rewarded = np.zeros(model.state.n, dtype=np.int32)
        self.total = 0.0
        self.setup_day = int(model.steps)
        self.log: list[tuple[int, int]] = []

    def after_reading(self, model, ctx, rng):
        ids = ctx.extra["ids"]
        if len(ids):
            who = int(ids[rng.integers(len(ids))])
            self.rewarded[who] += 1
            self.total += self.params.bonus
            self.log.append((ctx.step, who))
            ctx.utility[who] += self.params.bonus

    def metrics(self, model, ctx):
        return {"reward_total": self.total}


class Declared(ActivityPolicy):
    """Declares its state with state_dict()/load_state_dict(); a counter and a cache that is not state."""

    key = "declared"

    def setup(self, model):
        self.count = 0
        self.cache = object()  # not state: rebuilt by setup, never saved

    def on_step_end(self, model, ctx, rng):
        self.count += int(rng.integers(0, 3))

    def state_dict(self):
        return {"count": self.count}

    def load_state_dict(self, state):
        self.count = state["count"]

    def metrics(self, model, ctx):
        return {"declared_count": getattr(self, "count", 0)}


class Opaque(ActivityPolicy):
    """Holds an object a checkpoint cannot store and declares nothing."""

    key = "opaque"

    def setup(self, model):
        self.thing = object()


class Streaks(ActivityPolicy):
    """Declares its state as attribute names; holds a cache that is not state."""

    key = "streaks"
    state_attrs = ("days",)

    def setup(self, model):
        self.days = np.zeros(model.state.n, dtype=np.int32)
        self.cache = object()

    def on_step_end(self, model, ctx, rng):
        act = model.state.active_ids()
        self.days[act] += rng.integers(0, 2, len(act)).astype(np.int32)

    def metrics(self, model, ctx):
        return {"streak_sum": int(self.days.sum()) if hasattr(self, "days") else 0}
