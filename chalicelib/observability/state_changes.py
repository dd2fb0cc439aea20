"""One log line per state change of a run or a task, and the metrics that count them.

Called only where the change was written (after the store accepted it), so a pass that repeats work it finds
done — the idempotent handlers' normal case — logs nothing. Every line carries the keys that apply:
`run_id` always, `task_id`/`attempt` for tasks, `pipeline_id`, `pipeline_version_id`, `recurring_run_id`,
`experiment_id` for runs, and `state`/`previous_state`. A Logs Insights query on `run_id` follows one run
through the API, the reconciler and the fire function.

Messages (the `message` key): "run created", "run state changed", "run ended", "run deleted",
"task state changed", "task attempt launched", "task attempt ended", "task attempt retried",
"task attempt failed", "task reopened".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.observability import metric_names as m
from chalicelib.observability import metrics
from chalicelib.observability.logs import logger, present

if TYPE_CHECKING:
    from chalicelib.engine.model import TaskRecord
    from chalicelib.store.records import Run

_RUN_ENDED_METRICS = {
    "SUCCEEDED": m.RUNS_SUCCEEDED,
    "FAILED": m.RUNS_FAILED,
    "CANCELED": m.RUNS_CANCELED,
}
_FINAL_TASK_STATES = frozenset({"SUCCEEDED", "SKIPPED", "FAILED", "CANCELED", "CACHED"})
# The record key the planner sets to the attempt it launched (engine.attempts.LAUNCHED_ATTEMPT_KEY; not
# imported, so that the API's import of this module stays light).
_LAUNCHED_ATTEMPT_KEY = "launched_attempt"
_MAX_ERROR_CHARS = 500


def run_keys(run: Run) -> dict[str, Any]:
    return present(
        run_id=run.run_id,
        experiment_id=run.experiment_id,
        pipeline_id=run.pipeline_id,
        pipeline_version_id=run.pipeline_version_id,
        recurring_run_id=run.recurring_run_id,
    )


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        error = error.get("message", "")
    return str(error or "")[:_MAX_ERROR_CHARS]


def run_created(run: Run) -> None:
    logger().info("run created", extra={**run_keys(run), "state": run.state})
    metrics.add(m.RUNS_CREATED)


def run_moved(previous_state: str, run: Run) -> None:
    """`run` was written in a new state (nothing when the state did not change)."""
    if run.state == previous_state:
        return
    keys = {**run_keys(run), "state": run.state, "previous_state": previous_state}
    ended = _RUN_ENDED_METRICS.get(run.state)
    if ended is None:
        logger().info("run state changed", extra=keys)
        return
    error = _error_text(run.error)
    if error:
        keys["error"] = error
    if run.state == "FAILED":
        logger().warning("run ended", extra=keys)
    else:
        logger().info("run ended", extra=keys)
    metrics.add(ended)


def run_deleted(run: Run) -> None:
    logger().info("run deleted", extra={**run_keys(run), "state": run.state})


def _task_keys(run_id: str, record: TaskRecord) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "task_id": record.task_id,
        "task_name": record.name,
        "task_kind": record.kind,
        "attempt": record.attempt,
        "state": str(record.state),
    }


def _was_launched(record: TaskRecord) -> bool:
    return record.kind == "container" and record.data.get(_LAUNCHED_ATTEMPT_KEY) == record.attempt


def task_saved(run_id: str, previous: TaskRecord | None, saved: TaskRecord) -> None:
    """`saved` was written over `previous` (None: created). One line when the state or attempt changed."""
    if previous is not None and previous.state == saved.state and previous.attempt == saved.attempt:
        return
    keys = _task_keys(run_id, saved)
    keys["previous_state"] = str(previous.state) if previous is not None else ""
    attempt_ended = (
        previous is not None
        and _was_launched(previous)
        and str(previous.state) not in _FINAL_TASK_STATES
        and (str(saved.state) in _FINAL_TASK_STATES or saved.attempt > previous.attempt)
    )
    if not attempt_ended:
        if previous is not None and str(previous.state) in _FINAL_TASK_STATES:
            logger().info("task reopened", extra=keys)  # a run retry
        else:
            logger().info("task state changed", extra=keys)
        return
    assert previous is not None
    keys["attempt"] = previous.attempt
    if saved.exit_code is not None:
        keys["exit_code"] = saved.exit_code
    if saved.pod_name:
        keys["pod_name"] = saved.pod_name
    if saved.attempt > previous.attempt:
        keys.update(
            error=_error_text(saved.error), next_attempt=saved.attempt, retry_at=saved.next_attempt_at
        )
        logger().warning("task attempt retried", extra=keys)
        metrics.add(m.TASK_ATTEMPTS_FAILED)
    elif str(saved.state) == "FAILED":
        keys["error"] = _error_text(saved.error)
        logger().warning("task attempt failed", extra=keys)
        metrics.add(m.TASK_ATTEMPTS_FAILED)
    else:
        logger().info("task attempt ended", extra=keys)


def attempt_launched(run_id: str, record: TaskRecord, name: str) -> None:
    """Attempt `record.attempt` of `record` was handed to the executor (`name`: its process or pod)."""
    keys = _task_keys(run_id, record)
    keys["pod_name"] = name
    logger().info("task attempt launched", extra=keys)
    metrics.add(m.TASK_ATTEMPTS_STARTED)
