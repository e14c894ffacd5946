"""A user policy, loaded by import path in tests (the example of docs/api.md)."""

from pydantic import Field

from qunsim.policies import ActivityPolicy, PolicyParams


class QuietHours(ActivityPolicy):
    """Halve everyone's posts on every ``every``-th day."""

    key = "quiet_hours"

    class Params(PolicyParams):
        every: int = Field(default=7, ge=1)

    def on_posting(self, model, ctx, rng):
        if ctx.step % self.params.every == 0:
            ctx.post_counts //= 2
