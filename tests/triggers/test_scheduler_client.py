"""Recurring-run schedules on EventBridge Scheduler, against moto."""

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.triggers.errors import ScheduleNotFound, SchedulerError
from chalicelib.triggers.fire_events import SCHEDULED_TIME_ATTRIBUTE
from chalicelib.triggers.schedule_expressions import ScheduleExpression
from chalicelib.triggers.scheduler_client import (
    delete_schedule,
    ensure_group,
    put_schedule,
    schedule_name,
    set_schedule_state,
)

RUN_ID = "6f1c2f0e-8a4b-4c1e-9d7a-2b9f7c3e1a55"
TARGET = "arn:aws:lambda:us-east-1:123456789012:function:kfps-fire"
ROLE = "arn:aws:iam::123456789012:role/kfps-scheduler"
GROUP = "kfps"


@pytest.fixture
def scheduler(monkeypatch: pytest.MonkeyPatch, unique: str) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    # In-process moto shares its backends with the session's moto server: resetting them on start or stop
    # would wipe the server's tables and bucket under every later test. So no reset; a fresh group per test.
    monkeypatch.setattr(sys.modules[__name__], "GROUP", f"kfps-{unique}")
    mock = mock_aws()
    mock.start(reset=False)
    try:
        client = boto3.client("scheduler", region_name="us-east-1")
        ensure_group(GROUP, client=client)
        yield client
    finally:
        mock.stop(remove_data=False)


def put(client: Any, expression: ScheduleExpression, enabled: bool = True, **kwargs: Any) -> str:
    return put_schedule(RUN_ID, expression, enabled, TARGET, ROLE, GROUP, client=client, **kwargs)


def stored(client: Any) -> dict:
    return client.get_schedule(Name=schedule_name(RUN_ID), GroupName=GROUP)


def test_put_creates_schedule_that_invokes_fire_lambda(scheduler: Any) -> None:
    arn = put(scheduler, ScheduleExpression("cron(0 9 ? * 3-7 *)"))

    schedule = stored(scheduler)
    assert arn == schedule["Arn"]
    assert schedule["ScheduleExpression"] == "cron(0 9 ? * 3-7 *)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["State"] == "ENABLED"
    assert schedule["Target"]["Arn"] == TARGET
    assert schedule["Target"]["RoleArn"] == ROLE
    assert json.loads(schedule["Target"]["Input"]) == {
        "recurring_run_id": RUN_ID,
        "scheduled_time": SCHEDULED_TIME_ATTRIBUTE,
    }


def test_put_twice_updates_the_same_schedule(scheduler: Any) -> None:
    first = put(scheduler, ScheduleExpression("rate(5 minutes)"))
    second = put(scheduler, ScheduleExpression("rate(1 hour)"), enabled=False, timezone="Europe/Berlin")

    schedule = stored(scheduler)
    assert first == second
    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    assert schedule["State"] == "DISABLED"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert len(scheduler.list_schedules(GroupName=GROUP)["Schedules"]) == 1


def test_future_start_and_end_are_kept(scheduler: Any) -> None:
    now = datetime.now(UTC)
    start, end = now + timedelta(days=1), now + timedelta(days=30)

    put(scheduler, ScheduleExpression("rate(1 day)", start, end), now=now)

    schedule = stored(scheduler)
    assert abs(schedule["StartDate"] - start) < timedelta(seconds=1)
    assert abs(schedule["EndDate"] - end) < timedelta(seconds=1)


def test_past_start_is_left_out(scheduler: Any) -> None:
    now = datetime.now(UTC)

    put(scheduler, ScheduleExpression("cron(0 9 * * ? *)", now - timedelta(days=365)), now=now)

    assert stored(scheduler).get("StartDate") is None
    assert stored(scheduler)["State"] == "ENABLED"


def test_past_end_leaves_schedule_disabled(scheduler: Any) -> None:
    now = datetime.now(UTC)

    put(scheduler, ScheduleExpression("cron(0 9 * * ? *)", None, now - timedelta(days=1)), now=now)

    assert stored(scheduler)["State"] == "DISABLED"


def test_disable_then_enable_keeps_the_rest(scheduler: Any) -> None:
    now = datetime.now(UTC)
    put(scheduler, ScheduleExpression("cron(0 9 * * ? *)", None, now + timedelta(days=30)), now=now)
    before = stored(scheduler)

    set_schedule_state(RUN_ID, False, GROUP, client=scheduler)
    disabled = stored(scheduler)
    set_schedule_state(RUN_ID, True, GROUP, client=scheduler)
    enabled = stored(scheduler)

    assert (disabled["State"], enabled["State"]) == ("DISABLED", "ENABLED")
    for key in (
        "ScheduleExpression",
        "ScheduleExpressionTimezone",
        "FlexibleTimeWindow",
        "Target",
        "EndDate",
    ):
        assert enabled[key] == before[key]


def test_set_state_of_missing_schedule_raises_not_found(scheduler: Any) -> None:
    with pytest.raises(ScheduleNotFound):
        set_schedule_state(RUN_ID, True, GROUP, client=scheduler)


def test_delete_removes_schedule_and_tolerates_a_second_delete(scheduler: Any) -> None:
    put(scheduler, ScheduleExpression("rate(5 minutes)"))

    delete_schedule(RUN_ID, GROUP, client=scheduler)
    delete_schedule(RUN_ID, GROUP, client=scheduler)

    assert scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []


def test_ensure_group_is_idempotent(scheduler: Any) -> None:
    ensure_group(GROUP, client=scheduler)
    ensure_group("default", client=scheduler)

    names = [group["Name"] for group in scheduler.list_schedule_groups()["ScheduleGroups"]]
    assert names.count(GROUP) == 1


def test_scheduler_refusal_is_wrapped(scheduler: Any) -> None:
    # Told "now" is two years ago, the client keeps a one-year-old StartDate, which Scheduler refuses.
    long_ago = datetime.now(UTC) - timedelta(days=730)
    expression = ScheduleExpression("cron(0 9 * * ? *)", long_ago + timedelta(days=365))

    with pytest.raises(SchedulerError, match="ValidationException") as caught:
        put(scheduler, expression, now=long_ago)

    assert RUN_ID in str(caught.value)


def test_set_state_in_missing_group_raises_not_found(scheduler: Any) -> None:
    with pytest.raises(ScheduleNotFound):
        set_schedule_state(RUN_ID, False, "no-such-group", client=scheduler)


@pytest.mark.parametrize("bad_id", ["", "has space", "a/b", "x" * 60])
def test_recurring_run_id_that_cannot_name_a_schedule_is_refused(bad_id: str) -> None:
    with pytest.raises(ValueError, match="cannot name"):
        schedule_name(bad_id)


def test_schedule_name_fits_a_uuid() -> None:
    assert schedule_name(RUN_ID) == f"kfp-rr-{RUN_ID}"
