"""The local stack's stand-in for EventBridge Scheduler (moto stores schedules but never fires them): a thread
that every second lists the enabled recurring runs and fires each due time through the same
`fire_scheduled_time` the cloud's `fire_recurring_run` Lambda calls.

Due times are the trigger's times after the recurring run's cursor (`last_fired_at`, else `created_at`) and up
to now, oldest first, as EventBridge would have delivered them. `tick(now)` takes the clock as an argument so
tests can advance time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aws_lambda_powertools import Logger

from chalicelib.local.periodic import PeriodicWorker
from chalicelib.runtime import Runtime
from chalicelib.services.recurring_fires import FireOutcome, due_fire_times, fire_scheduled_time
from chalicelib.timestamps import utc_now

logger = Logger()

TICK_SECONDS = 1.0


class RecurringRunFirer(PeriodicWorker):
    """Start with `start()`, stop with `stop()`; `tick(now)` is one pass."""

    thread_name = "kfps-recurring-firer"

    def __init__(
        self, runtime: Runtime, clock: Callable[[], datetime] = utc_now, interval: float = TICK_SECONDS
    ) -> None:
        super().__init__(interval)
        self.runtime = runtime
        self._clock = clock

    def tick(self, now: datetime) -> list[FireOutcome]:
        """Fire every due time of every enabled recurring run, as of `now`. Returns the outcomes."""
        outcomes: list[FireOutcome] = []
        for recurring_run in self.runtime.store.recurring_runs.list_enabled_recurring_runs():
            for moment in due_fire_times(recurring_run, now):
                outcomes.append(
                    fire_scheduled_time(self.runtime, recurring_run.recurring_run_id, moment, now)
                )
        return outcomes

    def work(self) -> None:
        self.tick(self._clock())
