"""The outcome of one container attempt: success, retry with backoff, failure, cancellation, or a cache hit."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from chalicelib.engine import pipeline_spec
from chalicelib.engine.errors import SpecError
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.retry_policy import RetryPolicy
from chalicelib.engine.transitions import transition
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import format_time, parse_time

# Record data keys shared with the planner.
PARENT_COMPONENT_KEY = "dag"
LAUNCHED_ATTEMPT_KEY = "launched_attempt"
OWN_FAILURE_KEY = "own_failure"
LOST_ATTEMPTS_KEY = "lost_attempts"
# A lost attempt (its process or pod vanished: a restarted stack, an evicted pod) is run again, whatever the
# task's retry policy, this many times before the task fails.
MAX_LOST_ATTEMPTS = 3
# Ended attempts that were retried, oldest first: [{attempt, started_at, finished_at, error, exit_code,
# retry_at}] (retry_at: when the next attempt became due, i.e. its start as far as the record knows).
ATTEMPT_HISTORY_KEY = "attempts"


def task_of_record(spec: Mapping[str, Any], record: TaskRecord) -> dict[str, Any]:
    """The DAG task dict a record was made from (`{}` when the spec no longer has it)."""
    try:
        parent = pipeline_spec.component(spec, record.data.get(PARENT_COMPONENT_KEY, ""))
    except SpecError:
        return {}
    return pipeline_spec.dag_tasks(parent).get(record.name, {})


def finish_attempt(
    record: TaskRecord,
    spec: Mapping[str, Any],
    succeeded: bool,
    parameters: dict[str, Any],
    artifacts: dict[str, list[dict[str, Any]]],
    error: str,
    exit_code: int | None,
    now: datetime.datetime,
    lost: bool = False,
) -> TaskRecord:
    """The record after attempt `record.attempt` ended.

    Success: SUCCEEDED with the outputs. A failure while CANCELING: CANCELED. A `lost` attempt (it vanished
    without a result): PENDING with `attempt + 1` at once, up to MAX_LOST_ATTEMPTS times. Otherwise, when the
    task's `retryPolicy` allows another attempt: PENDING with `attempt + 1` and `next_attempt_at` after the
    backoff (the planner launches it once due); else FAILED with the error and exit code.
    """
    stamp = format_time(now)
    if succeeded:
        return transition(
            record,
            TaskState.SUCCEEDED,
            now=stamp,
            parameters=dict(parameters),
            artifacts=dict(artifacts),
            error="",
            exit_code=exit_code,
        )
    if record.state is TaskState.CANCELING:
        return transition(
            record, TaskState.CANCELED, now=stamp, error=error or "canceled", exit_code=exit_code
        )
    lost_before = int(record.data.get(LOST_ATTEMPTS_KEY) or 0)
    if lost and lost_before < MAX_LOST_ATTEMPTS:
        return transition(
            record,
            TaskState.PENDING,
            now=stamp,
            attempt=max(record.attempt, 1) + 1,
            next_attempt_at="",
            error=error,
            exit_code=exit_code,
            data={**record.data, LOST_ATTEMPTS_KEY: lost_before + 1},
        )
    policy = RetryPolicy.of_task(task_of_record(spec, record))
    elapsed = now - parse_time(record.created_at) if record.created_at else datetime.timedelta(0)
    attempt = max(record.attempt, 1)
    if policy.allows_retry(attempt, elapsed):
        # A retried attempt's start: the task's start for the first, else the time it became due.
        started = record.started_at if attempt == 1 else (record.next_attempt_at or record.started_at)
        ended = {"attempt": attempt, "started_at": started, "finished_at": stamp, "error": error}
        due = format_time(now + policy.delay_after(attempt))
        history = [
            *record.data.get(ATTEMPT_HISTORY_KEY, []),
            {**ended, "exit_code": exit_code, "retry_at": due},
        ]
        return transition(
            record,
            TaskState.PENDING,
            now=stamp,
            attempt=attempt + 1,
            next_attempt_at=due,
            error=error,
            exit_code=exit_code,
            data={**record.data, ATTEMPT_HISTORY_KEY: history},
        )
    data = {**record.data, OWN_FAILURE_KEY: True}
    return transition(
        record, TaskState.FAILED, now=stamp, error=error or "failed", exit_code=exit_code, data=data
    )


def record_cached(
    record: TaskRecord,
    parameters: dict[str, Any],
    artifacts: dict[str, list[dict[str, Any]]],
    now: datetime.datetime,
) -> TaskRecord:
    """The record after a cache hit: CACHED with the cached outputs (same URIs); no process ran."""
    return transition(
        record,
        TaskState.CACHED,
        now=format_time(now),
        parameters=dict(parameters),
        artifacts=dict(artifacts),
        error="",
    )
