"""A user activity policy that raises on a given day (for the sweep failure-isolation tests)."""

from pydantic import Field

from qunsim.policies.base import ActivityPolicy, PolicyParams


class Boom(ActivityPolicy):
    """Raises ``RuntimeError`` at the end of day ``day`` when ``fail`` is true."""

    key = "boom"

    class Params(PolicyParams):
        fail: bool = False
        day: int = Field(default=3, ge=0)

    def on_step_end(self, model, ctx, rng):
        if self.params.fail and model.steps >= self.params.day:
            raise RuntimeError(f"boom on day {model.steps}")


class Crash(ActivityPolicy):
    """Kills its process (as a segfault or the OOM killer would) on day ``day`` when ``crash``."""

    key = "crash"

    class Params(PolicyParams):
        crash: bool = False
        day: int = Field(default=2, ge=0)

    def on_step_end(self, model, ctx, rng):
        if self.params.crash and model.steps >= self.params.day:
            import os

            os._exit(3)


class Hang(ActivityPolicy):
    """Sleeps (as a run stuck in a loop would) on day ``day`` when ``hang``."""

    key = "hang"

    class Params(PolicyParams):
        hang: bool = False
        day: int = Field(default=2, ge=0)

    def on_step_end(self, model, ctx, rng):
        if self.params.hang and model.steps >= self.params.day:
            import time

            time.sleep(600)


class Exit(ActivityPolicy):
    """Calls ``sys.exit(0)`` (as a script-minded plug-in might) on day ``day`` when ``exit``."""

    key = "exit"

    class Params(PolicyParams):
        exit: bool = False
        day: int = Field(default=2, ge=0)

    def on_step_end(self, model, ctx, rng):
        if self.params.exit and model.steps >= self.params.day:
            import sys

            sys.exit(0)
