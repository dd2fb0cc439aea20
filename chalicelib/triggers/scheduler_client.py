"""One EventBridge Scheduler schedule per KFP recurring run: create or update, enable or disable, delete.

Each schedule invokes the fire Lambda (`target_arn`, through `role_arn`) with `fire_events.fire_event_input`,
at exact times (FlexibleTimeWindow OFF). botocore errors leave this module as SchedulerError or
ScheduleNotFound. The boto3 client is made on first use (boto3 honours AWS_ENDPOINT_URL, so the same code
reaches moto locally); tests pass their own `client`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from chalicelib.triggers.errors import ScheduleNotFound, SchedulerError
from chalicelib.triggers.fire_events import fire_event_input
from chalicelib.triggers.schedule_expressions import ScheduleExpression

SCHEDULE_NAME_PREFIX = "kfp-rr-"
_NAME_PATTERN = re.compile(r"[0-9A-Za-z_.-]{1,64}")


def schedule_name(recurring_run_id: str) -> str:
    """The schedule's name for a recurring run. Raises ValueError if Scheduler would refuse it (names are
    1-64 of `0-9A-Za-z_.-`; a UUID fits)."""
    name = f"{SCHEDULE_NAME_PREFIX}{recurring_run_id}"
    if not recurring_run_id or not _NAME_PATTERN.fullmatch(name):
        raise ValueError(f"recurring run id {recurring_run_id!r} cannot name an EventBridge schedule")
    return name


def ensure_group(group: str, *, client: Any = None) -> None:
    """Create the schedule group if it does not exist yet ("default" always exists)."""
    scheduler = client or _default_client()
    if group == "default":
        return
    with _wrapped_errors(f"schedule group {group}"):
        try:
            scheduler.get_schedule_group(Name=group)
            return
        except scheduler.exceptions.ResourceNotFoundException:
            pass
        try:
            scheduler.create_schedule_group(Name=group)
        except scheduler.exceptions.ConflictException:
            pass  # created meanwhile by someone else


def put_schedule(
    recurring_run_id: str,
    expression: ScheduleExpression,
    enabled: bool,
    target_arn: str,
    role_arn: str,
    group: str,
    timezone: str = "UTC",
    *,
    now: datetime | None = None,
    client: Any = None,
) -> str:
    """Create the recurring run's schedule, or replace it if it exists (idempotent). Returns its ARN.

    A start in the past is left out (Scheduler refuses one more than 5 minutes old; for a rate the phase then
    starts now). An end in the past leaves the schedule disabled, since it would never fire again anyway.
    """
    scheduler = client or _default_client()
    moment = now or datetime.now(UTC)
    request: dict[str, Any] = {
        "Name": schedule_name(recurring_run_id),
        "GroupName": group,
        "ScheduleExpression": expression.expression,
        "ScheduleExpressionTimezone": timezone,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": target_arn, "RoleArn": role_arn, "Input": fire_event_input(recurring_run_id)},
        "State": "ENABLED" if enabled else "DISABLED",
        "Description": f"KFP recurring run {recurring_run_id}",
    }
    if expression.start is not None and expression.start > moment:
        request["StartDate"] = expression.start
    if expression.end is not None:
        if expression.end > moment:
            request["EndDate"] = expression.end
        else:
            request["State"] = "DISABLED"
    with _wrapped_errors(f"schedule for recurring run {recurring_run_id}"):
        try:
            return scheduler.create_schedule(**request)["ScheduleArn"]
        except scheduler.exceptions.ConflictException:
            return scheduler.update_schedule(**request)["ScheduleArn"]


def set_schedule_state(
    recurring_run_id: str,
    enabled: bool,
    group: str = "default",
    *,
    now: datetime | None = None,
    client: Any = None,
) -> None:
    """Enable or disable the recurring run's schedule, keeping everything else. Raises ScheduleNotFound."""
    scheduler = client or _default_client()
    name = schedule_name(recurring_run_id)
    with _wrapped_errors(f"schedule for recurring run {recurring_run_id}"):
        current = scheduler.get_schedule(Name=name, GroupName=group)
        request: dict[str, Any] = {
            "Name": name,
            "GroupName": group,
            "ScheduleExpression": current["ScheduleExpression"],
            "FlexibleTimeWindow": current["FlexibleTimeWindow"],
            "Target": current["Target"],
            "State": "ENABLED" if enabled else "DISABLED",
        }
        for key in ("ScheduleExpressionTimezone", "Description", "EndDate"):
            if current.get(key):
                request[key] = current[key]
        start = current.get("StartDate")
        if start and start > (now or datetime.now(UTC)):
            request["StartDate"] = start
        scheduler.update_schedule(**request)


def delete_schedule(recurring_run_id: str, group: str = "default", *, client: Any = None) -> None:
    """Delete the recurring run's schedule; a schedule that is already gone is not an error."""
    scheduler = client or _default_client()
    with _wrapped_errors(f"schedule for recurring run {recurring_run_id}"):
        try:
            scheduler.delete_schedule(Name=schedule_name(recurring_run_id), GroupName=group)
        except scheduler.exceptions.ResourceNotFoundException:
            pass


@functools.cache
def _default_client() -> Any:
    import boto3  # lazy: only the functions that manage schedules need it

    return boto3.client("scheduler")


@contextmanager
def _wrapped_errors(what: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        if code == "ResourceNotFoundException":
            raise ScheduleNotFound(f"{what}: {message}") from error
        raise SchedulerError(f"{what}: {code}: {message}") from error
    except BotoCoreError as error:
        raise SchedulerError(f"{what}: {error}") from error
