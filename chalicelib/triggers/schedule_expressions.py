"""KFP RecurringRun triggers as EventBridge Scheduler expressions.

- cron: robfig `sec min hour dom month dow` becomes `cron(min hour dom month dow year)`. Seconds must be 0;
  exactly one of day-of-month and day-of-week is `?` (the unrestricted one; day-of-week when both are);
  days of the week are renumbered from robfig's 0-6 to EventBridge's 1-7 (both start on Sunday), names pass
  through, and day-of-week steps are written out as lists because EventBridge has no `/` there.
- periodic (and robfig's `@every`): `rate(N minutes|hours|days)` in the largest unit that divides the
  interval. EventBridge counts a rate from the schedule's start, so `start` is KFP's first fire time,
  start_time + interval.

Schedules are evaluated in UTC, as KFP does. Whatever EventBridge cannot express raises InvalidSchedule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.triggers.robfig_cron import CronField, CronFields, Term
from chalicelib.triggers.trigger_specs import CronTrigger, PeriodicTrigger, Trigger, parse_trigger

_RATE_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"))


@dataclasses.dataclass(frozen=True)
class ScheduleExpression:
    """What EventBridge Scheduler needs: `ScheduleExpression`, and `StartDate`/`EndDate` (UTC) if set."""

    expression: str
    start: datetime | None = None
    end: datetime | None = None


def to_eventbridge(trigger: Mapping[str, Any]) -> ScheduleExpression:
    """Convert a KFP RecurringRun `trigger` dict. Raises InvalidSchedule (a ValueError) saying which field and
    value cannot be run, and why."""
    return expression_for(parse_trigger(trigger))


def expression_for(trigger: Trigger) -> ScheduleExpression:
    """The EventBridge expression of an already parsed trigger."""
    if isinstance(trigger, PeriodicTrigger):
        start = trigger.start + trigger.interval if trigger.start is not None else None
        return ScheduleExpression(rate_expression(trigger.interval), start, trigger.end)
    assert isinstance(trigger, CronTrigger)
    return ScheduleExpression(cron_expression(trigger.fields), trigger.start, trigger.end)


def rate_expression(interval: timedelta) -> str:
    """`rate(...)` for a whole number of minutes (checked by `parse_trigger`)."""
    seconds = int(interval.total_seconds())
    for unit_seconds, unit in _RATE_UNITS:
        if seconds % unit_seconds == 0:
            count = seconds // unit_seconds
            return f"rate({count} {unit}{'' if count == 1 else 's'})"
    raise AssertionError(f"interval of {seconds} s is not a whole number of minutes")


def cron_expression(fields: CronFields) -> str:
    """`cron(min hour dom month dow year)` for robfig fields whose seconds are 0 and whose day-of-month or
    day-of-week is unrestricted (checked by `parse_trigger`)."""
    day_of_month = _render(fields.day_of_month)
    day_of_week = _render_day_of_week(fields.day_of_week)
    if fields.day_of_week.is_any:
        day_of_week = "?"
    elif fields.day_of_month.is_any:
        day_of_month = "?"
    parts = (_render(fields.minute), _render(fields.hour), day_of_month, _render(fields.month), day_of_week)
    return f"cron({' '.join(parts)} *)"


def _render(field: CronField) -> str:
    return ",".join(_render_term(term, field.bounds.low) for term in field.terms)


def _render_term(term: Term, low: int) -> str:
    if term.special == "L" and term.start is None:
        return "L"
    if term.special == "W":
        return f"{term.start}W"
    if term.start is None:
        return "*" if term.step == 1 else f"{low}/{term.step}"
    if term.ranged:
        text = f"{term.start_text}-{term.end_text}"
    else:
        text = term.start_text
    return text if term.step == 1 else f"{text}/{term.step}"


def _render_day_of_week(field: CronField) -> str:
    rendered: list[str] = []
    for term in field.terms:
        if term.special:  # "#k" or "L" after a day
            rendered.append(f"{_day(term.start, term.start_text)}{term.special}")
        elif term.step != 1:
            low = 0 if term.start is None else term.start
            high = 6 if term.end is None else term.end
            rendered.extend(str(day + 1) for day in range(low, high + 1, term.step))
        elif term.start is None:
            rendered.append("*")
        elif term.ranged:
            rendered.append(f"{_day(term.start, term.start_text)}-{_day(term.end, term.end_text)}")
        else:
            rendered.append(_day(term.start, term.start_text))
    return ",".join(rendered)


def _day(value: int | None, text: str) -> str:
    """A day of the week for EventBridge: names as written, robfig 0-6 (Sunday first) as 1-7."""
    assert value is not None
    return text if text and not text.isdigit() else str(value + 1)
