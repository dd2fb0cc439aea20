"""The payload EventBridge Scheduler hands the fire Lambda: both ends of that contract in one place.

Each schedule's target Input is `{"recurring_run_id": ..., "scheduled_time": "<aws.scheduler.scheduled-time>"}`;
the Scheduler replaces the context attribute with the fire's scheduled time (RFC3339, UTC), which stays the
same when a fire is delivered twice, so it can key the run the fire creates.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.triggers.errors import InvalidFireEvent, InvalidSchedule
from chalicelib.triggers.trigger_specs import parse_rfc3339

SCHEDULED_TIME_ATTRIBUTE = "<aws.scheduler.scheduled-time>"


@dataclasses.dataclass(frozen=True)
class ScheduledFire:
    """One delivery of a schedule: which recurring run, and the time it was scheduled for (UTC)."""

    recurring_run_id: str
    scheduled_time: datetime


def fire_event_input(recurring_run_id: str) -> str:
    """The schedule target's `Input` JSON for a recurring run."""
    return json.dumps({"recurring_run_id": recurring_run_id, "scheduled_time": SCHEDULED_TIME_ATTRIBUTE})


def parse_fire_event(event: Mapping[str, Any]) -> ScheduledFire:
    """Read a fire Lambda's event (the Input above, already decoded by Lambda). Raises InvalidFireEvent."""
    recurring_run_id = event.get("recurring_run_id")
    if not isinstance(recurring_run_id, str) or not recurring_run_id:
        raise InvalidFireEvent(f"fire event has no recurring_run_id: {dict(event)!r}")
    try:
        scheduled_time = parse_rfc3339(event.get("scheduled_time"), "scheduled_time")
    except InvalidSchedule as error:
        raise InvalidFireEvent(str(error)) from error
    if scheduled_time is None:
        raise InvalidFireEvent(f"fire event for {recurring_run_id} has no scheduled_time")
    return ScheduledFire(recurring_run_id, scheduled_time)
