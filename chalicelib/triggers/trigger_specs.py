"""A KFP RecurringRun `trigger`, parsed and checked once, for both the cloud (EventBridge Scheduler) and the
local stack's own scheduler, so that a trigger runs in both or is refused by both.

Accepted shapes (snake_case as kfp.Client sends them, or the camelCase of proto JSON):
`{"cron_schedule": {"cron", "start_time"?, "end_time"?}}` or
`{"periodic_schedule": {"interval_second", "start_time"?, "end_time"?}}`; `interval_second` is an int64, so
JSON may carry it as a string.

Refused, because EventBridge Scheduler cannot express it (its schedules have minute granularity and its cron
needs `?` in day-of-month or day-of-week): cron seconds other than 0, a day-of-month and a day-of-week that
are both restricted (robfig then fires on either), intervals under a minute or not a whole number of minutes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.triggers.errors import InvalidSchedule
from chalicelib.triggers.robfig_cron import CronFields, parse_robfig

_MINUTE = 60


@dataclasses.dataclass(frozen=True)
class CronTrigger:
    """Fire at the cron's times; never before `start` nor after `end` (both UTC)."""

    cron: str
    fields: CronFields
    start: datetime | None = None
    end: datetime | None = None


@dataclasses.dataclass(frozen=True)
class PeriodicTrigger:
    """Fire every `interval`, counted from the start (KFP: the first fire is start + interval)."""

    interval: timedelta
    start: datetime | None = None
    end: datetime | None = None


Trigger = CronTrigger | PeriodicTrigger


def parse_trigger(trigger: Mapping[str, Any]) -> Trigger:
    """Parse and check a KFP trigger dict. Raises InvalidSchedule saying which field and value, and why."""
    cron = _pick(trigger, "cron_schedule", "cronSchedule")
    periodic = _pick(trigger, "periodic_schedule", "periodicSchedule")
    if cron is not None and periodic is not None:
        raise InvalidSchedule("trigger: set either cron_schedule or periodic_schedule, not both")
    if cron is None and periodic is None:
        raise InvalidSchedule("trigger: neither cron_schedule nor periodic_schedule is set")
    body = cron if cron is not None else periodic
    if not isinstance(body, Mapping):
        raise InvalidSchedule(f"trigger: expected an object, got {type(body).__name__}")
    start = parse_rfc3339(_pick(body, "start_time", "startTime"), "start_time")
    end = parse_rfc3339(_pick(body, "end_time", "endTime"), "end_time")
    if start is not None and end is not None and end < start:
        raise InvalidSchedule(f"trigger: end_time {end.isoformat()} is before start_time {start.isoformat()}")
    if cron is not None:
        return _cron_trigger(_pick(body, "cron"), start, end)
    return PeriodicTrigger(_interval(_pick(body, "interval_second", "intervalSecond")), start, end)


def _pick(body: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if body.get(key) is not None:
            return body[key]
    return None


def _cron_trigger(cron: Any, start: datetime | None, end: datetime | None) -> Trigger:
    if not isinstance(cron, str) or not cron.strip():
        raise InvalidSchedule("cron_schedule.cron: a cron expression is required")
    parsed = parse_robfig(cron)
    if isinstance(parsed, timedelta):  # "@every <duration>" is a fixed interval
        return PeriodicTrigger(_checked_interval(int(parsed.total_seconds()), f"cron {cron!r}"), start, end)
    if parsed.second.values() != {0}:
        raise InvalidSchedule(
            f"cron {cron!r}: seconds field {parsed.second.text!r} must be 0; EventBridge schedules fire on "
            "whole minutes"
        )
    if not parsed.day_of_month.is_any and not parsed.day_of_week.is_any:
        raise InvalidSchedule(
            f"cron {cron!r}: day-of-month {parsed.day_of_month.text!r} and day-of-week "
            f"{parsed.day_of_week.text!r} are both restricted (robfig fires on either); EventBridge needs one "
            "of them to be '*' or '?'"
        )
    return CronTrigger(cron.strip(), parsed, start, end)


def _interval(raw: Any) -> timedelta:
    if isinstance(raw, bool) or raw is None:
        raise InvalidSchedule("periodic_schedule.interval_second: an interval in seconds is required")
    try:
        seconds = int(raw)
    except (TypeError, ValueError) as error:
        raise InvalidSchedule(f"periodic_schedule.interval_second: {raw!r} is not an integer") from error
    if isinstance(raw, float) and raw != seconds:
        raise InvalidSchedule(f"periodic_schedule.interval_second: {raw!r} is not an integer")
    return _checked_interval(seconds, "periodic_schedule.interval_second")


def _checked_interval(seconds: int, where: str) -> timedelta:
    if seconds < _MINUTE:
        raise InvalidSchedule(
            f"{where}: {seconds} s is under a minute; EventBridge schedules fire at most once a minute"
        )
    if seconds % _MINUTE:
        raise InvalidSchedule(
            f"{where}: {seconds} s is not a whole number of minutes; EventBridge schedules have minute "
            "granularity"
        )
    return timedelta(seconds=seconds)


def parse_rfc3339(value: Any, field: str) -> datetime | None:
    """Parse an RFC3339 timestamp (`Z` or an offset required; fractional seconds optional) to a UTC
    datetime. None stays None; an aware datetime is accepted as it is. Raises InvalidSchedule."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) < 19 or text[10] not in "Tt ":
            raise InvalidSchedule(f"{field}: {value!r} is not an RFC3339 timestamp like 2024-01-31T09:00:00Z")
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
        except ValueError as error:
            raise InvalidSchedule(
                f"{field}: {value!r} is not an RFC3339 timestamp like 2024-01-31T09:00:00Z"
            ) from error
    else:
        raise InvalidSchedule(f"{field}: expected an RFC3339 string, got {type(value).__name__}")
    if moment.tzinfo is None:
        raise InvalidSchedule(f"{field}: {value!r} has no time zone; RFC3339 needs 'Z' or an offset")
    return moment.astimezone(UTC)
