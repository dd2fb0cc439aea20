"""Firing a recurring run: one scheduled time becomes at most one run. The fire Lambda, the `:enable` catch-up
and the local stack's firer all go through `fire_scheduled_time`.

- The run id is `scheduled_run_id(recurring run, scheduled time)`, so a repeated, late or out-of-order
  delivery of one time creates nothing new (the run exists → DUPLICATE).
- `max_concurrency` is exact: the run takes a slot on its recurring run in the same transaction that creates it
  (a conditional counter, `RecurringRun.active_runs`) and gives it back in the transaction that records its
  final state, so concurrent fires can never start more. A fire with no free slot is skipped, not delayed as
  KFP's controller does (EventBridge delivers each time once): the recurring run's `error` says so and a log
  line is written. The next fire that creates a run clears `error`.
- `last_fired_at` is the schedule's cursor: the latest scheduled time handled (created, duplicate, skipped or
  failed), written with a versioned update. The local firer counts due times from it (or from `created_at`);
  the `:enable` catch-up counts missed times from it.
- A recurring run on a pipeline version keeps using that version; on a spec, its snapshot (`spec_key`).
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

from chalicelib.observability import metric_names
from chalicelib.observability.logs import logger
from chalicelib.observability.outcomes import OutcomeLine, log_outcome
from chalicelib.runtime import Runtime
from chalicelib.services.admission import check_active_runs
from chalicelib.services.errors import QuotaExceeded
from chalicelib.services.pipelines import version_package
from chalicelib.services.runs import RunRequest, submit_run
from chalicelib.spec import PipelinePackage, SpecError, spec_from_struct
from chalicelib.store.conflicts import retry_on_conflict
from chalicelib.store.errors import AlreadyExists, ConcurrentUpdate, LimitReached, NotFound
from chalicelib.store.records import RecurringRun
from chalicelib.timestamps import format_time, parse_time
from chalicelib.triggers.errors import InvalidSchedule
from chalicelib.triggers.firing import missed_fire_times, scheduled_run_id

# The most missed times one catch-up fires (oldest first); later missed times are passed over.
BACKFILL_LIMIT = 100
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
    runtime: Runtime, recurring_run_id: str, scheduled_time: datetime, now: datetime
) -> FireOutcome:
    """Fire `recurring_run_id` for `scheduled_time` (the Scheduler's `scheduled-time`, or a due time the local
    firer computed with `now`). Never raises for a deleted/disabled recurring run or a duplicate delivery."""
    try:
        recurring_run = runtime.store.recurring_runs.get_recurring_run(recurring_run_id)
    except NotFound:
        return _logged(FireOutcome(FireResult.GONE, recurring_run_id, scheduled_time))
    if not recurring_run.enabled:
        return _logged(FireOutcome(FireResult.DISABLED, recurring_run_id, scheduled_time))
    return _fire(runtime, recurring_run, scheduled_time, now)


def fire_cursor(recurring_run: RecurringRun) -> datetime:
    """The time due fires are counted from: the last scheduled time handled, or the creation time."""
    return parse_time(recurring_run.last_fired_at or recurring_run.created_at)


def due_fire_times(recurring_run: RecurringRun, now: datetime, limit: int = BACKFILL_LIMIT) -> list[datetime]:
    """The scheduled times after the cursor and up to `now`, oldest first (at most `limit`). Empty for a
    trigger that cannot be parsed (the API refuses those)."""
    try:
        return missed_fire_times(recurring_run.trigger or {}, fire_cursor(recurring_run), now, limit)
    except InvalidSchedule:
        logger().warning(
            "recurring run has an invalid trigger", extra={"recurring_run_id": recurring_run.recurring_run_id}
        )
        return []


def catch_up(runtime: Runtime, recurring_run: RecurringRun, now: datetime) -> list[FireOutcome]:
    """After `:enable`: with no_catchup=false, fire the times missed while disabled (oldest first, at most
    BACKFILL_LIMIT, each subject to max_concurrency); then move the cursor to `now`, so neither the local firer
    nor a later catch-up fires the times passed over. Returns the outcomes, oldest first."""
    outcomes: list[FireOutcome] = []
    if not recurring_run.no_catchup:
        for moment in due_fire_times(recurring_run, now):
            outcomes.append(_fire(runtime, recurring_run, moment, now))
    _advance_cursor(runtime, recurring_run.recurring_run_id, now, clear_error=False)
    return outcomes


def _fire(
    runtime: Runtime, recurring_run: RecurringRun, scheduled_time: datetime, now: datetime
) -> FireOutcome:
    recurring_run_id = recurring_run.recurring_run_id
    run_id = scheduled_run_id(recurring_run_id, scheduled_time)
    if _run_exists(runtime, run_id):
        outcome: FireOutcome = FireOutcome(FireResult.DUPLICATE, recurring_run_id, scheduled_time, run_id)
        error = None
    else:
        outcome, error = _submit(runtime, recurring_run, scheduled_time, run_id, now)
    _advance_cursor(
        runtime,
        recurring_run_id,
        scheduled_time,
        error=error,
        clear_error=outcome.result is FireResult.CREATED,
    )
    return _logged(outcome)


def _submit(
    runtime: Runtime, recurring_run: RecurringRun, scheduled_time: datetime, run_id: str, now: datetime
) -> tuple[FireOutcome, dict[str, Any] | None]:
    recurring_run_id = recurring_run.recurring_run_id
    try:
        package = _package(runtime, recurring_run)
    except (NotFound, SpecError) as exc:
        message = f"fire at {format_time(scheduled_time)} failed: {exc}"
        outcome = FireOutcome(FireResult.FAILED, recurring_run_id, scheduled_time, message=message)
        return outcome, {"code": _FAILED_PRECONDITION, "message": message}
    request = RunRequest(
        display_name=f"{recurring_run.display_name} {format_time(scheduled_time)}",
        experiment_id=recurring_run.experiment_id,
        namespace=recurring_run.namespace,
        package=package,
        parameters=dict(recurring_run.parameters or {}),
        description=recurring_run.description,
        pipeline_id=recurring_run.pipeline_id,
        pipeline_version_id=recurring_run.pipeline_version_id,
        pipeline_root=recurring_run.pipeline_root,
        service_account=recurring_run.service_account,
        recurring_run_id=recurring_run_id,
        scheduled_at=format_time(scheduled_time),
        run_id=run_id,
    )
    limit = max(1, int(recurring_run.max_concurrency or 1))
    try:
        check_active_runs(runtime, recurring_run.namespace)
    except QuotaExceeded as exc:  # the namespace's active-run quota: skipped like max_concurrency
        return _skipped(recurring_run_id, scheduled_time, now, str(exc))
    try:
        submit_run(runtime, request, max_concurrency=limit)
    except AlreadyExists:
        return FireOutcome(FireResult.DUPLICATE, recurring_run_id, scheduled_time, run_id), None
    except LimitReached:
        reason = f"{limit} run(s) still active, max_concurrency is {limit}"
        return _skipped(recurring_run_id, scheduled_time, now, reason)
    except NotFound as exc:  # deleted between the read and the fire
        return FireOutcome(FireResult.GONE, recurring_run_id, scheduled_time, message=str(exc)), None
    return FireOutcome(FireResult.CREATED, recurring_run_id, scheduled_time, run_id), None


def _skipped(
    recurring_run_id: str, scheduled_time: datetime, now: datetime, reason: str
) -> tuple[FireOutcome, dict[str, Any]]:
    """A fire not started, and the error the recurring run shows for it."""
    message = f"fire at {format_time(scheduled_time)} skipped at {format_time(now)}: {reason}"
    outcome = FireOutcome(FireResult.SKIPPED, recurring_run_id, scheduled_time, message=message)
    return outcome, {"code": _RESOURCE_EXHAUSTED, "message": message}


def _package(runtime: Runtime, recurring_run: RecurringRun) -> PipelinePackage:
    """The pinned pipeline version's package, or the recurring run's own spec snapshot."""
    if recurring_run.pipeline_id and recurring_run.pipeline_version_id:
        version = runtime.store.catalog.get_version(
            recurring_run.pipeline_id, recurring_run.pipeline_version_id
        )
        return version_package(runtime, version)
    if not recurring_run.spec_key:
        raise NotFound(
            f"recurring run {recurring_run.recurring_run_id} has neither a pipeline version nor a spec"
        )
    return spec_from_struct(
        runtime.store.objects.get_json(recurring_run.spec_key),
        source=f"recurring run {recurring_run.recurring_run_id}",
    )


def _run_exists(runtime: Runtime, run_id: str) -> bool:
    try:
        runtime.store.runs.get_run(run_id)
    except NotFound:
        return False
    return True


def _advance_cursor(
    runtime: Runtime,
    recurring_run_id: str,
    moment: datetime,
    error: dict[str, Any] | None = None,
    clear_error: bool = False,
) -> None:
    """Move `last_fired_at` forward to `moment` (never back) and set or clear `error`, with a versioned write
    retried on a fresh read when another fire or an API call wrote first."""
    store = runtime.store.recurring_runs

    def advanced(current: RecurringRun) -> RecurringRun:
        changes: dict[str, Any] = {}
        if not current.last_fired_at or parse_time(current.last_fired_at) < moment:
            changes["last_fired_at"] = format_time(moment)
        if error is not None:
            changes["error"] = error
        elif clear_error and current.error is not None:
            changes["error"] = None
        if not changes:
            return current
        return store.update_recurring_run(dataclasses.replace(current, **changes))

    try:
        retry_on_conflict(lambda: store.get_recurring_run(recurring_run_id), advanced)
    except NotFound:
        return  # deleted meanwhile
    except ConcurrentUpdate:
        logger().warning(
            "could not record a fire on the recurring run", extra={"recurring_run_id": recurring_run_id}
        )


# One line per fire; a delivery that changed nothing (a duplicate, a disabled or deleted recurring run) only at
# DEBUG.
_FIRE_LINES = {
    FireResult.CREATED: OutcomeLine("info", "recurring run fired", metric_names.RECURRING_FIRES),
    FireResult.SKIPPED: OutcomeLine("warning", "recurring run fire skipped", metric_names.RECURRING_SKIPS),
    FireResult.FAILED: OutcomeLine("warning", "recurring run fire failed"),
}
_IGNORED_FIRE = OutcomeLine("debug", "recurring run fire ignored")


def _logged(outcome: FireOutcome) -> FireOutcome:
    log_outcome(_FIRE_LINES.get(outcome.result, _IGNORED_FIRE), outcome.to_log())
    return outcome
