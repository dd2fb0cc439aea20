"""`:retry` of a run: reopen what failed or was cancelled so that the next `plan` runs it again.

Succeeded, cached and skipped records are kept (their outputs feed the rerun). Failed or cancelled container
tasks go back to PENDING with the next attempt number; importers and nodes that failed before they were admitted
(bad inputs, condition errors) go back to PENDING to be evaluated again; DAG, loop and iteration nodes above a
failure go back to RUNNING. Tasks that never started (fail-fast) have no record and are simply planned again.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from chalicelib.engine.attempts import LAUNCHED_ATTEMPT_KEY, OWN_FAILURE_KEY
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.transitions import transition
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import format_time

NODE_INPUTS_KEY = "inputs"
LOOP_ITEMS_KEY = "items"
_REOPENABLE = frozenset({TaskState.FAILED, TaskState.CANCELED})


def _was_admitted(record: TaskRecord) -> bool:
    if record.kind == "loop":
        return LOOP_ITEMS_KEY in record.data
    if record.kind == "dag":
        return NODE_INPUTS_KEY in record.data
    return record.kind == "iteration"


def reopen(record: TaskRecord, now: datetime.datetime) -> TaskRecord:
    """One FAILED or CANCELED record reopened for another run of it."""
    data = {
        key: value for key, value in record.data.items() if key not in (LAUNCHED_ATTEMPT_KEY, OWN_FAILURE_KEY)
    }
    common = {"error": "", "exit_code": None, "finished_at": "", "next_attempt_at": "", "data": data}
    stamp = format_time(now)
    if record.kind == "container":
        return transition(
            record, TaskState.PENDING, now=stamp, retrying=True, attempt=record.attempt + 1, **common
        )
    if _was_admitted(record):
        return transition(
            record, TaskState.RUNNING, now=stamp, retrying=True, parameters={}, artifacts={}, **common
        )
    return transition(record, TaskState.PENDING, now=stamp, retrying=True, **common)


def retry_run(tasks: Mapping[str, TaskRecord], now: datetime.datetime) -> list[TaskRecord]:
    """The records to write for a run retry (only the changed ones)."""
    return [reopen(record, now) for record in tasks.values() if record.state in _REOPENABLE]
