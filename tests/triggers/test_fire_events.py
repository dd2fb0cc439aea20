"""The payload EventBridge Scheduler sends the fire Lambda."""

import json
from datetime import UTC, datetime

import pytest

from chalicelib.triggers.errors import InvalidFireEvent
from chalicelib.triggers.fire_events import (
    SCHEDULED_TIME_ATTRIBUTE,
    ScheduledFire,
    fire_event_input,
    parse_fire_event,
)


def test_input_carries_recurring_run_id_and_scheduled_time_attribute() -> None:
    assert json.loads(fire_event_input("rr-1")) == {
        "recurring_run_id": "rr-1",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }


def test_delivered_input_parses_to_a_scheduled_fire() -> None:
    delivered = json.loads(fire_event_input("rr-1").replace(SCHEDULED_TIME_ATTRIBUTE, "2024-01-02T09:00:00Z"))

    assert parse_fire_event(delivered) == ScheduledFire("rr-1", datetime(2024, 1, 2, 9, tzinfo=UTC))


@pytest.mark.parametrize(
    "event",
    [
        {"scheduled_time": "2024-01-02T09:00:00Z"},
        {"recurring_run_id": "", "scheduled_time": "2024-01-02T09:00:00Z"},
        {"recurring_run_id": "rr-1"},
        {"recurring_run_id": "rr-1", "scheduled_time": SCHEDULED_TIME_ATTRIBUTE},
    ],
)
def test_incomplete_fire_event_is_refused(event: dict) -> None:
    with pytest.raises(InvalidFireEvent):
        parse_fire_event(event)
