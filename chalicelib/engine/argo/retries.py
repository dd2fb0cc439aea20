"""`:retry` of a KFP v1 run, as Argo's `retry`: failed and cancelled nodes run again, the rest is kept.

Failed or cancelled container/resource nodes go back to PENDING with the next attempt; DAG and loop nodes above
them go back to RUNNING (their inputs and items are kept); tasks that were omitted or never started are not
stored and are simply planned again. The root counts the retries, so the exit handler runs once more under a
new record.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from chalicelib.engine.argo.records import GENERATION_KEY, LEAF_KINDS, STOP_KEY, under_exit_handler
from chalicelib.engine.argo.values import PHASE_KEY
from chalicelib.engine.attempts import LAUNCHED_ATTEMPT_KEY, OWN_FAILURE_KEY
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.task_ids import ROOT_TASK_ID
from chalicelib.engine.transitions import transition
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import format_time

_REOPENABLE = frozenset({TaskState.FAILED, TaskState.CANCELED})
_CLEARED = frozenset({LAUNCHED_ATTEMPT_KEY, OWN_FAILURE_KEY, PHASE_KEY, STOP_KEY})


def reopen(record: TaskRecord, now: datetime.datetime) -> TaskRecord:
    data = {key: value for key, value in record.data.items() if key not in _CLEARED}
    common = {"error": "", "exit_code": None, "finished_at": "", "next_attempt_at": "", "data": data}
    stamp = format_time(now)
    if record.kind in LEAF_KINDS:
        return transition(
            record, TaskState.PENDING, now=stamp, retrying=True, attempt=record.attempt + 1, **common
        )
    return transition(
        record, TaskState.RUNNING, now=stamp, retrying=True, parameters={}, artifacts={}, **common
    )


def retry_run(tasks: Mapping[str, TaskRecord], now: datetime.datetime) -> list[TaskRecord]:
    """The records to write for a retry of the run (only the changed ones)."""
    changed = [
        reopen(record, now)
        for record in tasks.values()
        if record.state in _REOPENABLE and not under_exit_handler(record.task_id)
    ]
    root = next((record for record in changed if record.task_id == ROOT_TASK_ID), None)
    if root is None:
        return changed
    generation = int(root.data.get(GENERATION_KEY) or 0) + 1
    return [
        transition(record, record.state, data={**record.data, GENERATION_KEY: generation})
        if record.task_id == ROOT_TASK_ID
        else record
        for record in changed
    ]
