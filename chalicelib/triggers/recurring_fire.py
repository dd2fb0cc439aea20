"""Firing a recurring run: one scheduled time becomes at most one run. The fire Lambda, the `:enable` catch-up
and the local stack's firer all go through `fire_scheduled_time`.

- The run id is `scheduled_run_id(recurring run, scheduled time)`, so a repeated, late or out-of-order
  delivery of one time creates nothing new (the run exists → DUPLICATE).
- A fire while `max_concurrency` runs of the recurring run are still active (not final) is skipped, not
  delayed as KFP's controller does (EventBridge delivers each time once): the recurring run's `error` says so
  and a log line is written. The next fire that creates a run clears `error`.
- `last_fired_at` is the schedule's cursor: the latest scheduled time handled (created, duplicate, skipped or
  failed), written with a versioned update. The local firer counts due times from it (or from `created_at`);
  the `:enable` catch-up counts missed times from it.
- A recurring run on a pipeline version keeps using that version; on a spec, its snapshot (`spec_key`).
- Active runs are counted on the `by_recurring_run` index, which is eventually consistent: two fires in the
  same instant may both see room for one more run.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.run_states import FINAL_RUN_STATES
from chalicelib.run_submission import RunRequest, submit_run
from chalicelib.settings import Settings
from chalicelib.spec import PipelinePackage, SpecError, spec_from_struct
from chalicelib.store import catalog
from chalicelib.store import recurring_runs as recurring_store
from chalicelib.store import runs as run_store
from chalicelib.store.errors import AlreadyExists, ConcurrentUpdate, NotFound
from chalicelib.store.objects import ObjectStore
from chalicelib.store.tables import RecurringRunItem
from chalicelib.timestamps import format_time, parse_time
from chalicelib.triggers.errors import InvalidSchedule
from chalicelib.triggers.firing import may_fire, missed_fire_times, scheduled_run_id

logger = Logger()

# The most missed times one catch-up fires (oldest first); later missed times are passed over.
BACKFILL_LIMIT = 100
_CURSOR_WRITE_ATTEMPTS = 5
# google.rpc codes for the recurring run's `error`
_RESOURCE_EXHAUSTED = 8
_FAILED_PRECONDITION = 9


class FireResult(enum.Enum):
    CREATED = "created"  # a new run
    DUPLICATE = "duplicate"  # the run of this time exists already
    SKIPPED = "skipped"  # max_concurrency runs still active
    FAILED = "failed"  # the pipeline version or snapshot cannot be loaded
    DISABLED = "disabled"  # the recurring run is disabled (a delivery that raced `:disable`)
    GONE = "gone"  # the recurring run was deleted


@dataclasses.dataclass(frozen=True)
class FireOutcome:
    """What one fire did: the result, and the run id it created or found (empty otherwise)."""

    result: FireResult
    recurring_run_id: str
    scheduled_time: datetime
    run_id: str = ""
    message: str = ""

    def to_log(self) -> dict[str, Any]:
        return {
            "result": self.result.value,
            "recurring_run_id": self.recurring_run_id,
            "scheduled_time": format_time(self.scheduled_time),
            "run_id": self.run_id,
            "reason": self.message,
        }


def fire_scheduled_time(
    recurring_run_id: str, scheduled_time: datetime, settings: Settings, objects: ObjectStore, now: datetime
) -> FireOutcome:
    """Fire `recurring_run_id` for `scheduled_time` (the Scheduler's `scheduled-time`, or a due time the local
    firer computed with `now`). Never raises for a deleted/disabled recurring run or a duplicate delivery."""
    try:
        item = recurring_store.get_recurring_run(recurring_run_id)
    except NotFound:
        return _logged(FireOutcome(FireResult.GONE, recurring_run_id, scheduled_time))
    if not item.enabled:
        return _logged(FireOutcome(FireResult.DISABLED, recurring_run_id, scheduled_time))
    return _fire(item, scheduled_time, settings, objects, now)


def fire_cursor(item: RecurringRunItem) -> datetime:
    """The time due fires are counted from: the last scheduled time handled, or the creation time."""
    return parse_time(item.last_fired_at or item.created_at)


def due_fire_times(item: RecurringRunItem, now: datetime, limit: int = BACKFILL_LIMIT) -> list[datetime]:
    """The scheduled times after the cursor and up to `now`, oldest first (at most `limit`). Empty for a
    trigger that cannot be parsed (the API refuses those)."""
    try:
        return missed_fire_times(item.trigger or {}, fire_cursor(item), now, limit)
    except InvalidSchedule:
        logger.warning(
            "recurring run has an invalid trigger", extra={"recurring_run_id": item.recurring_run_id}
        )
        return []


def catch_up(
    item: RecurringRunItem, settings: Settings, objects: ObjectStore, now: datetime
) -> list[FireOutcome]:
    """After `:enable`: with no_catchup=false, fire the times missed while disabled (oldest first, at most
    BACKFILL_LIMIT, each subject to max_concurrency); then move the cursor to `now`, so neither the local firer
    nor a later catch-up fires the times passed over. Returns the outcomes, oldest first."""
    outcomes: list[FireOutcome] = []
    if not item.no_catchup:
        for moment in due_fire_times(item, now):
            outcomes.append(_fire(item, moment, settings, objects, now))
    _advance_cursor(item, now, clear_error=False)
    return outcomes


def _fire(
    item: RecurringRunItem, scheduled_time: datetime, settings: Settings, objects: ObjectStore, now: datetime
) -> FireOutcome:
    recurring_run_id = item.recurring_run_id
    run_id = scheduled_run_id(recurring_run_id, scheduled_time)
    error: dict[str, Any] | None = None
    if _run_exists(run_id):
        outcome = FireOutcome(FireResult.DUPLICATE, recurring_run_id, scheduled_time, run_id)
    else:
        active = _active_runs(recurring_run_id)
        if not may_fire(active, int(item.max_concurrency or 1)):
            message = (
                f"fire at {format_time(scheduled_time)} skipped at {format_time(now)}: {active} run(s) still "
                f"active, max_concurrency is {int(item.max_concurrency or 1)}"
            )
            error = {"code": _RESOURCE_EXHAUSTED, "message": message}
            outcome = FireOutcome(FireResult.SKIPPED, recurring_run_id, scheduled_time, message=message)
        else:
            outcome, error = _submit(item, scheduled_time, run_id, settings, objects)
    _advance_cursor(item, scheduled_time, error=error, clear_error=outcome.result is FireResult.CREATED)
    return _logged(outcome)


def _submit(
    item: RecurringRunItem, scheduled_time: datetime, run_id: str, settings: Settings, objects: ObjectStore
) -> tuple[FireOutcome, dict[str, Any] | None]:
    recurring_run_id = item.recurring_run_id
    try:
        package = _package(item, objects)
    except (NotFound, SpecError) as exc:
        message = f"fire at {format_time(scheduled_time)} failed: {exc}"
        outcome = FireOutcome(FireResult.FAILED, recurring_run_id, scheduled_time, message=message)
        return outcome, {"code": _FAILED_PRECONDITION, "message": message}
    request = RunRequest(
        display_name=f"{item.display_name} {format_time(scheduled_time)}",
        experiment_id=item.experiment_id,
        namespace=item.namespace,
        package=package,
        parameters=dict(item.parameters or {}),
        description=item.description,
        pipeline_id=item.pipeline_id,
        pipeline_version_id=item.pipeline_version_id,
        pipeline_root=item.pipeline_root,
        service_account=item.service_account,
        recurring_run_id=recurring_run_id,
        scheduled_at=format_time(scheduled_time),
        run_id=run_id,
    )
    try:
        submit_run(request, settings, objects)
    except AlreadyExists:
        return FireOutcome(FireResult.DUPLICATE, recurring_run_id, scheduled_time, run_id), None
    return FireOutcome(FireResult.CREATED, recurring_run_id, scheduled_time, run_id), None


def _package(item: RecurringRunItem, objects: ObjectStore) -> PipelinePackage:
    """The pinned pipeline version's package, or the recurring run's own spec snapshot."""
    if item.pipeline_id and item.pipeline_version_id:
        version = catalog.get_version(item.pipeline_id, item.pipeline_version_id)
        if not version.spec_key:
            raise NotFound(f"pipeline version {version.version_id} has no valid spec")
        return spec_from_struct(
            objects.get_json(version.spec_key), source=f"pipeline version {version.version_id}"
        )
    if not item.spec_key:
        raise NotFound(f"recurring run {item.recurring_run_id} has neither a pipeline version nor a spec")
    return spec_from_struct(objects.get_json(item.spec_key), source=f"recurring run {item.recurring_run_id}")


def _run_exists(run_id: str) -> bool:
    try:
        run_store.get_run(run_id)
    except NotFound:
        return False
    return True


def _active_runs(recurring_run_id: str) -> int:
    return sum(
        1 for run in run_store.runs_of_recurring_run(recurring_run_id) if run.state not in FINAL_RUN_STATES
    )


def _advance_cursor(
    item: RecurringRunItem,
    moment: datetime,
    error: dict[str, Any] | None = None,
    clear_error: bool = False,
) -> None:
    """Move `last_fired_at` forward to `moment` (never back) and set or clear `error`, with a versioned write
    retried on a fresh read when another fire or an API call wrote first."""
    current = item
    for _ in range(_CURSOR_WRITE_ATTEMPTS):
        fields: dict[str, Any] = {}
        if not current.last_fired_at or parse_time(current.last_fired_at) < moment:
            fields["last_fired_at"] = format_time(moment)
        if error is not None:
            fields["error"] = error
        elif clear_error and current.error is not None:
            fields["error"] = None
        if not fields:
            return
        try:
            recurring_store.update_recurring_run(current, **fields)
            return
        except ConcurrentUpdate:
            try:
                current = recurring_store.get_recurring_run(item.recurring_run_id)
            except NotFound:
                return
    logger.warning(
        "could not record a fire on the recurring run", extra={"recurring_run_id": item.recurring_run_id}
    )


def _logged(outcome: FireOutcome) -> FireOutcome:
    if outcome.result in (FireResult.SKIPPED, FireResult.FAILED):
        logger.warning("recurring run fire not run", extra=outcome.to_log())
    else:
        logger.info("recurring run fired", extra=outcome.to_log())
    return outcome
