"""Runs, their task records and the task cache in DynamoDB (the `RunStore` protocol).

Run and task writes are versioned (pynamodb VersionAttribute): a write based on a stale read raises
ConcurrentUpdate. A run of a recurring run holds a slot on it (`holds_slot`, `active_runs`): taken and given back
in the same transaction as the run write that makes it active or final.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, PynamoDBException

from chalicelib.engine.model import TaskRecord
from chalicelib.store.conflicts import retry_on_conflict
from chalicelib.store.dynamo.tables import (
    ACTIVE_KEY,
    StateChangeMap,
    Tables,
    filtered_scope_key,
    namespace_key,
    run_order_key,
)
from chalicelib.store.dynamo.transactions import Transaction, TransactionCancelled
from chalicelib.store.errors import AlreadyExists, ConcurrentUpdate, LimitReached, NotFound, StoreError
from chalicelib.store.object_keys import task_record_key
from chalicelib.store.protocols import ObjectStore
from chalicelib.store.records import CachedResult, Run, RunListing, RunPage, StateChange, TaskChanges
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import now_text

# Task records above this size go to S3 (the DynamoDB item limit is 400 KB).
MAX_INLINE_RECORD_BYTES = 300_000


def _conditional_failed(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"


def _run(item: Any) -> Run:
    return Run(
        run_id=item.run_id,
        display_name=item.display_name,
        experiment_id=item.experiment_id,
        namespace=item.namespace or "",
        spec_key=item.spec_key,
        created_at=item.created_at,
        description=item.description or "",
        pipeline_id=item.pipeline_id or "",
        pipeline_version_id=item.pipeline_version_id or "",
        pipeline_name=item.pipeline_name or "",
        parameters=dict(item.parameters or {}),
        pipeline_root=item.pipeline_root or "",
        service_account=item.service_account or "",
        state=item.state,
        state_history=tuple(
            StateChange(change.update_time, change.state, change.error) for change in item.state_history or []
        ),
        storage_state=item.storage_state or "AVAILABLE",
        scheduled_at=item.scheduled_at or "",
        finished_at=item.finished_at or "",
        error=item.error,
        recurring_run_id=item.recurring_run_id or "",
        cancel_requested=bool(item.cancel_requested),
        delete_requested=bool(item.delete_requested),
        retry_requested=int(item.retry_requested or 0),
        retry_applied=int(item.retry_applied or 0),
        plugins_input=item.plugins_input,
        holds_slot=bool(item.holds_slot),
        version=int(item.version or 0),
    )


def _cache_item_key(namespace: str, cache_key: str) -> str:
    return f"{namespace_key(namespace)}#{cache_key}"


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


def _page_keys(run: Run) -> dict[str, str | None]:
    """The run's keys in the list page indexes; none while its deletion is pending (it is not listed)."""
    if run.delete_requested:
        return {}
    ns = namespace_key(run.namespace)
    return {
        "order_key": run_order_key(run.created_at, run.run_id),
        "ns_state_key": filtered_scope_key(ns, run.state),
        "ns_storage_key": filtered_scope_key(ns, run.storage_state),
        "exp_state_key": filtered_scope_key(run.experiment_id, run.state),
        "exp_storage_key": filtered_scope_key(run.experiment_id, run.storage_state),
        "ns_storage_state_key": filtered_scope_key(ns, run.storage_state, run.state),
        "exp_storage_state_key": filtered_scope_key(run.experiment_id, run.storage_state, run.state),
    }


def _page_index(runs: Any, listing: RunListing) -> tuple[Any, str]:
    """The page index serving `listing` and its hash key."""
    scope = listing.experiment_id or namespace_key(listing.namespace)
    by_experiment = bool(listing.experiment_id)
    if listing.state and listing.storage_state:
        index = runs.page_exp_storage_state if by_experiment else runs.page_ns_storage_state
        return index, filtered_scope_key(scope, listing.storage_state, listing.state)
    if listing.state:
        index = runs.page_exp_state if by_experiment else runs.page_ns_state
        return index, filtered_scope_key(scope, listing.state)
    if listing.storage_state:
        index = runs.page_exp_storage if by_experiment else runs.page_ns_storage
        return index, filtered_scope_key(scope, listing.storage_state)
    return (runs.page_exp if by_experiment else runs.page_ns), scope


class DynamoRunStore:
    def __init__(self, tables: Tables, objects: ObjectStore) -> None:
        self._t = tables
        self._objects = objects

    # ------------------------------------------------------------------ runs

    def _item(self, run: Run) -> Any:
        item = self._t.runs(
            run.run_id,
            display_name=run.display_name,
            description=run.description,
            experiment_id=run.experiment_id,
            namespace=run.namespace,
            ns_key=namespace_key(run.namespace),
            pipeline_id=run.pipeline_id,
            pipeline_version_id=run.pipeline_version_id,
            pipeline_name=run.pipeline_name,
            spec_key=run.spec_key,
            parameters=dict(run.parameters),
            pipeline_root=run.pipeline_root,
            service_account=run.service_account,
            state=run.state,
            state_history=[
                StateChangeMap(update_time=c.update_time, state=c.state, error=c.error)
                for c in run.state_history
            ],
            storage_state=run.storage_state,
            created_at=run.created_at,
            scheduled_at=run.scheduled_at,
            finished_at=run.finished_at,
            error=run.error,
            recurring_run_id=run.recurring_run_id or None,
            active_key=ACTIVE_KEY if run.needs_reconciler else None,
            cancel_requested=run.cancel_requested,
            delete_requested=run.delete_requested,
            retry_requested=run.retry_requested,
            retry_applied=run.retry_applied,
            plugins_input=run.plugins_input,
            holds_slot=run.holds_slot,
            **_page_keys(run),
        )
        if run.version:
            item.version = run.version
        return item

    def _slot_update(self, tx: Transaction, recurring_run_id: str, delta: int, limit: int | None) -> None:
        """Add `delta` to the recurring run's `active_runs` in `tx` (label "slot"), only while it exists (and,
        with `limit`, only while fewer than `limit` slots are taken)."""
        items = self._t.recurring_run_slots
        condition = items.recurring_run_id.exists()
        if limit is not None:
            condition &= items.active_runs.does_not_exist() | (items.active_runs < limit)
        tx.update("slot", items(recurring_run_id), [items.active_runs.add(delta)], condition)

    def create_run(self, run: Run, max_concurrency: int | None = None) -> Run:
        if not run.state_history:
            run = dataclasses.replace(run, state_history=(StateChange(run.created_at, run.state),))
        run = dataclasses.replace(run, holds_slot=run.wants_slot, version=0)
        item = self._item(run)
        condition = self._t.runs.run_id.does_not_exist()
        try:
            if not run.holds_slot:
                item.save(condition=condition)
            else:
                tx = Transaction(self._t.connection).save("run", item, condition)
                self._slot_update(tx, run.recurring_run_id, 1, max_concurrency)
                tx.commit()
        except PutError as exc:
            if _conditional_failed(exc):
                raise AlreadyExists(f"Run {run.run_id} already exists") from exc
            raise StoreError(f"cannot create run {run.run_id}: {exc}") from exc
        except TransactionCancelled as exc:
            if "run" in exc.failed:
                raise AlreadyExists(f"Run {run.run_id} already exists") from exc.cause
            self._raise_slot_refusal(run.recurring_run_id, max_concurrency, exc.cause)
        except PynamoDBException as exc:
            raise StoreError(f"cannot create run {run.run_id}: {exc}") from exc
        return dataclasses.replace(run, version=int(item.version))

    def _raise_slot_refusal(self, recurring_run_id: str, limit: int | None, cause: Exception) -> NoReturn:
        try:
            self._t.recurring_runs.get(recurring_run_id, consistent_read=True)
        except DoesNotExist:
            raise NotFound(f"Recurring run {recurring_run_id} not found") from cause
        except PynamoDBException as exc:
            raise StoreError(f"cannot read recurring run {recurring_run_id}: {exc}") from cause
        raise LimitReached(
            f"recurring run {recurring_run_id} already has {limit} active run(s) (max_concurrency)"
        ) from cause

    def get_run(self, run_id: str) -> Run:
        try:
            return _run(self._t.runs.get(run_id, consistent_read=True))
        except DoesNotExist as exc:
            raise NotFound(f"Run {run_id} not found") from exc
        except PynamoDBException as exc:
            raise StoreError(f"cannot read run {run_id}: {exc}") from exc

    def list_runs(self, namespace: str, experiment_id: str = "") -> Iterator[Run]:
        runs = self._t.runs
        try:
            if experiment_id:
                items = list(runs.by_experiment.query(experiment_id))
            else:
                items = list(runs.by_namespace.query(namespace_key(namespace)))
        except PynamoDBException as exc:
            raise StoreError(f"cannot list runs: {exc}") from exc
        return iter([_run(item) for item in items])

    def page_runs(self, listing: RunListing) -> RunPage:
        runs = self._t.runs
        index, hash_key = _page_index(runs, listing)
        condition = None
        if listing.after is not None:
            mark = run_order_key(*listing.after)
            condition = runs.order_key < mark if listing.descending else runs.order_key > mark
        try:
            items = list(
                index.query(
                    hash_key,
                    condition,
                    scan_index_forward=not listing.descending,
                    limit=listing.limit + 1,
                    page_size=listing.limit + 1,
                )
            )
        except PynamoDBException as exc:
            raise StoreError(f"cannot list runs: {exc}") from exc
        return RunPage(
            runs=tuple(_run(item) for item in items[: listing.limit]), more=len(items) > listing.limit
        )

    def active_run_ids(self) -> list[str]:
        try:
            return [item.run_id for item in self._t.runs.active.query(ACTIVE_KEY)]
        except PynamoDBException as exc:
            raise StoreError(f"cannot list active runs: {exc}") from exc

    def update_run(self, run: Run) -> Run:
        if not run.version:
            raise ConcurrentUpdate(f"run {run.run_id} was never stored")
        wanted = run.wants_slot
        delta = int(wanted) - int(run.holds_slot)
        stored = dataclasses.replace(run, holds_slot=wanted)
        item = self._item(stored)
        try:
            if delta == 0:
                item.save()
            else:
                self._save_with_slot(item, run.recurring_run_id, delta)
        except PutError as exc:
            if _conditional_failed(exc):
                raise ConcurrentUpdate(f"run {run.run_id} changed concurrently") from exc
            raise StoreError(f"cannot update run {run.run_id}: {exc}") from exc
        except PynamoDBException as exc:
            raise StoreError(f"cannot update run {run.run_id}: {exc}") from exc
        return dataclasses.replace(stored, version=int(item.version))

    def _save_with_slot(self, item: Any, recurring_run_id: str, delta: int) -> None:
        """Save the versioned run item and move its slot in one transaction; when the recurring run is gone
        (nothing to give back or take), save the run alone."""
        tx = Transaction(self._t.connection).save("run", item)
        self._slot_update(tx, recurring_run_id, delta, None)
        try:
            tx.commit()
            return
        except TransactionCancelled as exc:
            if "run" in exc.failed:
                raise ConcurrentUpdate(f"run {item.run_id} changed concurrently") from exc.cause
        item.save()

    def delete_run(self, run_id: str) -> None:
        def read() -> Any:
            try:
                return self._t.runs.get(run_id, consistent_read=True)
            except DoesNotExist as exc:
                raise NotFound(f"Run {run_id} not found") from exc
            except PynamoDBException as exc:
                raise StoreError(f"cannot read run {run_id}: {exc}") from exc

        try:
            retry_on_conflict(read, self._delete_item)
        except NotFound:
            pass  # gone already (its task records may still be there)
        self._delete_tasks(run_id)

    def _delete_item(self, item: Any) -> None:
        """Delete the run item (conditioned on its version), giving back its slot in the same transaction."""
        try:
            if not item.holds_slot or not item.recurring_run_id:
                item.delete()
                return
            tx = Transaction(self._t.connection).delete("run", item)
            self._slot_update(tx, item.recurring_run_id, -1, None)
            tx.commit()
        except DeleteError as exc:
            if _conditional_failed(exc):
                raise ConcurrentUpdate(f"run {item.run_id} changed concurrently") from exc
            raise StoreError(f"cannot delete run {item.run_id}: {exc}") from exc
        except TransactionCancelled as exc:
            if "run" in exc.failed:
                raise ConcurrentUpdate(f"run {item.run_id} changed concurrently") from exc.cause
            item.delete()  # the recurring run is gone: nothing to give back

    def _delete_tasks(self, run_id: str) -> None:
        try:
            for task in self._t.tasks.query(run_id, consistent_read=True):
                if task.record_key:
                    self._objects.delete(task.record_key)
                task.delete(add_version_condition=False)
        except PynamoDBException as exc:
            raise StoreError(f"cannot delete the tasks of run {run_id}: {exc}") from exc

    # ------------------------------------------------------------------ tasks

    def load_tasks(self, run_id: str) -> dict[str, TaskRecord]:
        records: dict[str, TaskRecord] = {}
        try:
            for item in self._t.tasks.query(run_id, consistent_read=True):
                data = item.record if item.record is not None else self._objects.get_json(item.record_key)
                records[item.task_id] = _record_from_json(data, int(item.version or 0))
        except PynamoDBException as exc:
            raise StoreError(f"cannot load tasks of run {run_id}: {exc}") from exc
        return records

    def load_task_changes(self, run_id: str, after: int) -> TaskChanges:
        """A full read every time (no change index on the tasks table yet): `complete`, sequence 0."""
        return TaskChanges(self.load_tasks(run_id), 0, complete=True)

    def save_tasks(self, run_id: str, records: Sequence[TaskRecord]) -> list[TaskRecord]:
        """One conditional put each (a transaction would cost twice the write units)."""
        return [self.save_task(run_id, record) for record in records]

    def save_task(self, run_id: str, record: TaskRecord) -> TaskRecord:
        data = _record_to_json(record)
        text = json.dumps(data, sort_keys=True)
        versioned = {"version": record.version} if record.version else {}
        item = self._t.tasks(run_id, record.task_id, state=record.state.value, **versioned)
        if len(text) > MAX_INLINE_RECORD_BYTES:
            key = task_record_key(run_id, record.task_id)
            self._objects.put_bytes(key, text.encode(), "application/json")
            item.record_key = key
        else:
            item.record = data
        try:
            item.save()
        except PutError as exc:
            if _conditional_failed(exc):
                raise ConcurrentUpdate(f"task {record.task_id} of run {run_id} changed concurrently") from exc
            raise StoreError(f"cannot save task {record.task_id}: {exc}") from exc
        except PynamoDBException as exc:
            raise StoreError(f"cannot save task {record.task_id}: {exc}") from exc
        return dataclasses.replace(record, version=int(item.version))

    # ------------------------------------------------------------------ cache

    def cached_result(self, namespace: str, cache_key: str) -> CachedResult | None:
        try:
            item = self._t.cache.get(_cache_item_key(namespace, cache_key))
        except DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise StoreError(f"cannot read cache: {exc}") from exc
        outputs = item.result or {}
        return CachedResult(
            parameters=dict(outputs.get("parameters") or {}),
            artifacts=dict(outputs.get("artifacts") or {}),
            run_id=item.run_id or "",
            task_id=item.task_id or "",
            created_at=item.created_at or "",
        )

    def put_cached_result(self, namespace: str, cache_key: str, result: CachedResult) -> None:
        item = self._t.cache(
            _cache_item_key(namespace, cache_key),
            result={"parameters": dict(result.parameters), "artifacts": dict(result.artifacts)},
            run_id=result.run_id,
            task_id=result.task_id,
            created_at=result.created_at or now_text(),
        )
        try:
            item.save()
        except PynamoDBException as exc:
            raise StoreError(f"cannot write cache: {exc}") from exc
