"""When a recurring run fires, and what each fire is called: pure functions of the trigger and the clock.

KFP's semantics (ScheduledWorkflow controller): a cron fires at its next time strictly after
max(last fire, start_time); a periodic schedule fires at max(last fire, start_time) + interval; nothing fires
after end_time. With no_catchup=false every missed time is run, oldest first. A recurring run that never
fired counts from its start_time, or else from its creation time, which the caller passes as `last_fired`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from chalicelib.triggers.robfig_cron import croniter_expression
from chalicelib.triggers.trigger_specs import CronTrigger, PeriodicTrigger, Trigger, parse_trigger

# Fixed forever: changing it would give every already-fired time a new run id.
_RUN_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "kfp-serverless/recurring-run-fire")


def scheduled_run_id(recurring_run_id: str, scheduled_at: datetime) -> str:
    """The run id of the fire of `recurring_run_id` scheduled at `scheduled_at` (naive means UTC; precision is
    one second). Deterministic and UUID-shaped, so a repeated delivery of the same fire creates nothing new."""
    moment = _utc(scheduled_at).replace(microsecond=0)
    return str(uuid.uuid5(_RUN_ID_NAMESPACE, f"{recurring_run_id}@{moment.strftime('%Y-%m-%dT%H:%M:%SZ')}"))


def next_fire_time(trigger: Mapping[str, Any] | Trigger, after: datetime) -> datetime | None:
    """The first fire time after `after` (the last fire, or the creation time), or None past end_time.
    `trigger` is a KFP trigger dict (raises InvalidSchedule) or an already parsed trigger."""
    parsed = _parsed(trigger)
    base = _utc(after)
    if parsed.start is not None and parsed.start > base:
        base = parsed.start
    if isinstance(parsed, PeriodicTrigger):
        candidate = base + parsed.interval
    else:
        candidate = _next_cron_time(parsed, base)
    if parsed.end is not None and candidate > parsed.end:
        return None
    return candidate


def missed_fire_times(
    trigger: Mapping[str, Any] | Trigger, last_fired: datetime | None, now: datetime, limit: int
) -> list[datetime]:
    """The fire times after `last_fired` and up to `now` (inclusive), oldest first, at most `limit` of them:
    the backfill of a recurring run with no_catchup=false. `last_fired` None counts from start_time (nothing
    is missed if there is none either). Call again from the last one returned to get the rest."""
    parsed = _parsed(trigger)
    cursor = last_fired if last_fired is not None else parsed.start
    if cursor is None or limit <= 0:
        return []
    end = _utc(now)
    fires: list[datetime] = []
    while len(fires) < limit:
        fire = next_fire_time(parsed, cursor)
        if fire is None or fire > end:
            break
        fires.append(fire)
        cursor = fire
    return fires


def _parsed(trigger: Mapping[str, Any] | Trigger) -> Trigger:
    if isinstance(trigger, CronTrigger | PeriodicTrigger):
        return trigger
    return parse_trigger(trigger)


def _next_cron_time(trigger: CronTrigger, base: datetime) -> datetime:
    from croniter import croniter  # lazy: the API Lambda's cold start does not need it

    iterator = croniter(croniter_expression(trigger.fields), base, second_at_beginning=True)
    return _utc(iterator.get_next(datetime))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
