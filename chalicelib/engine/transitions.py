"""The task state machine: every state change of a `TaskRecord` made by the engine goes through `transition`.

    PENDING   -> RUNNING | PENDING (next attempt) | SUCCEEDED | CACHED | FAILED | SKIPPED | CANCELING | CANCELED
    RUNNING   -> RUNNING | PENDING (retry)        | SUCCEEDED | FAILED | CANCELING | CANCELED
    CANCELING -> CANCELING | CANCELED | SUCCEEDED | FAILED
    final     -> nothing, except FAILED / CANCELED -> PENDING | RUNNING when the user retries the run.

Entering RUNNING stamps `started_at` (once); entering a final state stamps `finished_at`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib.engine.errors import InvalidTransition
from chalicelib.engine.model import TaskRecord
from chalicelib.task_contract import TaskState

_S = TaskState
_ALLOWED: dict[TaskState, frozenset[TaskState]] = {
    _S.PENDING: frozenset(
        {_S.PENDING, _S.RUNNING, _S.SUCCEEDED, _S.CACHED, _S.FAILED, _S.SKIPPED, _S.CANCELING, _S.CANCELED}
    ),
    _S.RUNNING: frozenset({_S.RUNNING, _S.PENDING, _S.SUCCEEDED, _S.FAILED, _S.CANCELING, _S.CANCELED}),
    _S.CANCELING: frozenset({_S.CANCELING, _S.CANCELED, _S.SUCCEEDED, _S.FAILED}),
}
_RETRYABLE = frozenset({_S.FAILED, _S.CANCELED})
_REOPENED = frozenset({_S.PENDING, _S.RUNNING})


def can_transition(current: TaskState, new_state: TaskState, *, retrying: bool = False) -> bool:
    if retrying:
        return current in _RETRYABLE and new_state in _REOPENED
    return new_state in _ALLOWED.get(current, frozenset())


def transition(
    record: TaskRecord, new_state: TaskState, *, now: str = "", retrying: bool = False, **changes: Any
) -> TaskRecord:
    """`record` in `new_state` with `changes` applied (any TaskRecord fields).

    now: RFC3339 time used for `started_at` / `finished_at` stamps.
    retrying: only `retry_run` sets it, to reopen a FAILED or CANCELED record.
    Raises InvalidTransition for a move the state machine forbids.
    """
    if not can_transition(record.state, new_state, retrying=retrying):
        raise InvalidTransition(
            f"task {record.task_id}: {record.state.value} -> {new_state.value} is not allowed"
        )
    if new_state is TaskState.RUNNING and not record.started_at and "started_at" not in changes:
        changes["started_at"] = now
    if new_state.is_final and "finished_at" not in changes:
        changes["finished_at"] = now
    return dataclasses.replace(record, state=new_state, **changes)
