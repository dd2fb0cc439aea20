"""Runs, their task instances, and the task cache in DynamoDB.

Every run and task write is versioned (pynamodb VersionAttribute): a write based on a stale read raises
ConcurrentUpdate, so two reconcile passes or an API action racing a pass can never overwrite each other.
Run state changes go through `set_run_state`, which enforces the run state machine.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from pynamodb.exceptions import (
    DeleteError,
    DoesNotExist,
    PutError,
    PynamoDBException,
    UpdateError,
)

from chalicelib.engine.model import TaskRecord
from chalicelib.run_states import ACTIVE_RUN_STATES, FINAL_RUN_STATES, check_run_transition
from chalicelib.store.errors import AlreadyExists, ConcurrentUpdate, NotFound, StoreError
from chalicelib.store.objects import ObjectStore, task_record_key
from chalicelib.store.tables import CacheItem, RunItem, StateChange, TaskItem
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import now_text

ACTIVE_KEY = "active"
# Task records above this size go to S3 (the DynamoDB item limit is 400 KB).
MAX_INLINE_RECORD_BYTES = 300_000


def _conditional_failed(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"


# ---------------------------------------------------------------- runs


def create_run(item: RunItem) -> RunItem:
    """Store a new run; AlreadyExists when its id is taken (a repeated scheduled firing)."""
    item.active_key = ACTIVE_KEY if item.state in ACTIVE_RUN_STATES else None
    if not item.state_history:
        item.state_history = [StateChange(update_time=item.created_at, state=item.state)]
    try:
        item.save(condition=RunItem.run_id.does_not_exist())
    except PutError as exc:
        if _conditional_failed(exc):
            raise AlreadyExists(f"Run {item.run_id} already exists") from exc
        raise StoreError(f"cannot create run: {exc}") from exc
    return item


def get_visible_run(run_id: str) -> RunItem:
    """The run as the API shows it: NotFound also for a run whose deletion is under way."""
    item = get_run(run_id)
    if item.delete_requested:
        raise NotFound(f"Run {run_id} not found")
    return item


def get_run(run_id: str, consistent: bool = True) -> RunItem:
    try:
        return RunItem.get(run_id, consistent_read=consistent)
    except DoesNotExist as exc:
        raise NotFound(f"Run {run_id} not found") from exc
    except PynamoDBException as exc:
        raise StoreError(f"cannot read run {run_id}: {exc}") from exc


def list_runs(namespace: str | None = None, experiment_id: str | None = None) -> Iterator[RunItem]:
    from chalicelib.store.tables import namespace_key

    try:
        if experiment_id:
            yield from RunItem.by_experiment.query(experiment_id)
        else:
            yield from RunItem.by_namespace.query(namespace_key(namespace or ""))
    except PynamoDBException as exc:
        raise StoreError(f"cannot list runs: {exc}") from exc


def runs_of_recurring_run(recurring_run_id: str) -> Iterator[RunItem]:
    try:
        yield from RunItem.by_recurring_run.query(recurring_run_id)
    except PynamoDBException as exc:
        raise StoreError(f"cannot list runs: {exc}") from exc


def active_run_ids() -> list[str]:
    """Ids of runs that are not final (sparse index query; eventually consistent)."""
    try:
        return [item.run_id for item in RunItem.active.query(ACTIVE_KEY)]
    except PynamoDBException as exc:
        raise StoreError(f"cannot list active runs: {exc}") from exc


def _update(item: RunItem, actions: list[Any]) -> None:
    try:
        item.update(actions=actions)
    except UpdateError as exc:
        if _conditional_failed(exc):
            raise ConcurrentUpdate(f"run {item.run_id} changed concurrently") from exc
        raise StoreError(f"cannot update run {item.run_id}: {exc}") from exc


def set_run_state(item: RunItem, state: str, error: dict[str, Any] | None = None, **fields: Any) -> None:
    """Move the run to `state` (checked by the run state machine), appending to state_history.

    Extra `fields` are RunItem attribute names set in the same versioned write.
    """
    check_run_transition(item.state, state)
    actions: list[Any] = [getattr(RunItem, name).set(value) for name, value in fields.items()]
    if state != item.state:
        now = now_text()
        change = StateChange(update_time=now, state=state, error=error)
        actions += [RunItem.state.set(state), RunItem.state_history.set(list(item.state_history) + [change])]
        if state in FINAL_RUN_STATES:
            actions += [RunItem.finished_at.set(now), RunItem.active_key.remove()]
        else:
            actions += [RunItem.active_key.set(ACTIVE_KEY)]
            if item.finished_at:
                actions.append(RunItem.finished_at.set(""))
    if error is not None or state != item.state:
        actions.append(RunItem.error.set(error) if error is not None else RunItem.error.remove())
    _update(item, actions)


def modify_run(run_id: str, change: Callable[[RunItem], None], attempts: int = 8) -> RunItem:
    """Read the run and apply `change` (which makes one versioned write), re-reading and trying again when a
    concurrent writer (the reconciler) won the race. `change` re-checks its preconditions on every try."""
    for attempt in range(attempts):
        item = get_run(run_id)
        try:
            change(item)
            return item
        except ConcurrentUpdate:
            if attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


def update_run_fields(item: RunItem, **fields: Any) -> None:
    """Versioned write of plain RunItem attributes (no state change)."""
    _update(item, [getattr(RunItem, name).set(value) for name, value in fields.items()])


def delete_run(item: RunItem, objects: ObjectStore) -> None:
    """Delete the run, then its task items and spec snapshot. The run item goes first: once it is gone nothing
    reconciles the run, so a crash half-way leaves only unreachable task items behind."""
    try:
        item.delete(add_version_condition=False)
    except DeleteError as exc:
        raise StoreError(f"cannot delete run {item.run_id}: {exc}") from exc
    for task in TaskItem.query(item.run_id):
        task.delete(add_version_condition=False)
    try:
        objects.delete(item.spec_key)
    except StoreError:
        pass  # the snapshot is unreachable without the run item; nothing else depends on it


# ---------------------------------------------------------------- tasks


def _record_to_json(record: TaskRecord) -> dict[str, Any]:
    data = dataclasses.asdict(record)
    data["state"] = record.state.value
    data.pop("version")
    return data


def _record_from_json(data: dict[str, Any], version: int) -> TaskRecord:
    data = dict(data)
    data["state"] = TaskState(data["state"])
    data["version"] = version
    return TaskRecord(**data)


def load_tasks(run_id: str, objects: ObjectStore) -> dict[str, TaskRecord]:
    """Every task record of the run by task id (strongly consistent)."""
    records: dict[str, TaskRecord] = {}
    try:
        for item in TaskItem.query(run_id, consistent_read=True):
            data = item.record if item.record is not None else objects.get_json(item.record_key)
            records[item.task_id] = _record_from_json(data, int(item.version or 0))
    except PynamoDBException as exc:
        raise StoreError(f"cannot load tasks of run {run_id}: {exc}") from exc
    return records


def save_task(run_id: str, record: TaskRecord, objects: ObjectStore) -> TaskRecord:
    """Create (record.version == 0) or update (record.version == stored version) one task record.

    Returns the record with its new version; ConcurrentUpdate when the stored item moved on.
    """
    data = _record_to_json(record)
    text = json.dumps(data, sort_keys=True)
    versioned = {"version": record.version} if record.version else {}
    item = TaskItem(run_id, record.task_id, state=record.state.value, **versioned)
    if len(text) > MAX_INLINE_RECORD_BYTES:
        key = task_record_key(run_id, record.task_id)
        objects.put_bytes(key, text.encode(), "application/json")
        item.record_key = key
    else:
        item.record = data
    try:
        item.save()
    except PutError as exc:
        if _conditional_failed(exc):
            raise ConcurrentUpdate(f"task {record.task_id} of run {run_id} changed concurrently") from exc
        raise StoreError(f"cannot save task {record.task_id}: {exc}") from exc
    return dataclasses.replace(record, version=int(item.version))


# ---------------------------------------------------------------- cache


def cached_result(cache_key: str) -> dict[str, Any] | None:
    try:
        return CacheItem.get(cache_key).result
    except DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise StoreError(f"cannot read cache: {exc}") from exc


def put_cached_result(cache_key: str, result: dict[str, Any], run_id: str, task_id: str) -> None:
    try:
        CacheItem(cache_key, result=result, run_id=run_id, task_id=task_id, created_at=now_text()).save()
    except PynamoDBException as exc:
        raise StoreError(f"cannot write cache: {exc}") from exc
