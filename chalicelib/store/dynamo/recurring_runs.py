"""Recurring runs in DynamoDB (the `RecurringRunStore` protocol; the schedule itself lives in EventBridge
Scheduler). Enabled recurring runs carry `enabled_key`, kept in step with `enabled` here, so the local stack's
firer lists them with a Query on the sparse `enabled` index. `active_runs` is written only by the run
transactions (`store.dynamo.runs`), never here."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, UpdateError

from chalicelib.store.dynamo.tables import ENABLED_KEY, Tables, namespace_key
from chalicelib.store.errors import AlreadyExists, ConcurrentUpdate, NotFound, StoreError
from chalicelib.store.records import RecurringRun

# Every field `update_recurring_run` writes (all but the keys, `created_at` and `active_runs`).
_UPDATED_FIELDS = (
    "display_name",
    "description",
    "experiment_id",
    "pipeline_id",
    "pipeline_version_id",
    "spec_key",
    "parameters",
    "pipeline_root",
    "service_account",
    "max_concurrency",
    "trigger",
    "enabled",
    "no_catchup",
    "updated_at",
    "last_fired_at",
    "error",
)


def _conditional_failed(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"


def _recurring_run(item: Any) -> RecurringRun:
    return RecurringRun(
        recurring_run_id=item.recurring_run_id,
        display_name=item.display_name,
        experiment_id=item.experiment_id,
        namespace=item.namespace or "",
        created_at=item.created_at,
        updated_at=item.updated_at,
        description=item.description or "",
        pipeline_id=item.pipeline_id or "",
        pipeline_version_id=item.pipeline_version_id or "",
        spec_key=item.spec_key or "",
        parameters=dict(item.parameters or {}),
        pipeline_root=item.pipeline_root or "",
        service_account=item.service_account or "",
        max_concurrency=int(item.max_concurrency or 1),
        trigger=dict(item.trigger or {}),
        enabled=bool(item.enabled),
        no_catchup=bool(item.no_catchup),
        last_fired_at=item.last_fired_at or "",
        error=item.error,
        active_runs=int(item.active_runs or 0),
        version=int(item.version or 0),
    )


def _plain(value: Any) -> Any:
    """Mappings as plain dicts (JSON attributes serialise dicts only)."""
    return dict(value) if isinstance(value, Mapping) else value


class DynamoRecurringRunStore:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def create_recurring_run(self, recurring_run: RecurringRun) -> RecurringRun:
        items = self._t.recurring_runs
        record = dataclasses.replace(recurring_run, active_runs=0, version=0)
        item = items(
            record.recurring_run_id,
            ns_key=namespace_key(record.namespace),
            namespace=record.namespace,
            created_at=record.created_at,
            active_runs=0,
            enabled_key=ENABLED_KEY if record.enabled else None,
            **{name: _plain(getattr(record, name)) for name in _UPDATED_FIELDS},
        )
        try:
            item.save(condition=items.recurring_run_id.does_not_exist())
        except PutError as exc:
            if _conditional_failed(exc):
                raise AlreadyExists(f"Recurring run {record.recurring_run_id} already exists") from exc
            raise StoreError(f"cannot create recurring run: {exc}") from exc
        except PynamoDBException as exc:
            raise StoreError(f"cannot create recurring run: {exc}") from exc
        return dataclasses.replace(record, version=int(item.version))

    def get_recurring_run(self, recurring_run_id: str) -> RecurringRun:
        try:
            return _recurring_run(self._t.recurring_runs.get(recurring_run_id, consistent_read=True))
        except DoesNotExist as exc:
            raise NotFound(f"Recurring run {recurring_run_id} not found") from exc
        except PynamoDBException as exc:
            raise StoreError(f"cannot read recurring run: {exc}") from exc

    def list_recurring_runs(self, namespace: str, experiment_id: str = "") -> Iterator[RecurringRun]:
        items = self._t.recurring_runs
        try:
            if experiment_id:
                found = list(items.by_experiment.query(experiment_id))
            else:
                found = list(items.by_namespace.query(namespace_key(namespace)))
        except PynamoDBException as exc:
            raise StoreError(f"cannot list recurring runs: {exc}") from exc
        return iter([_recurring_run(item) for item in found])

    def list_enabled_recurring_runs(self) -> Iterator[RecurringRun]:
        try:
            found = list(self._t.recurring_runs.enabled_index.query(ENABLED_KEY))
        except PynamoDBException as exc:
            raise StoreError(f"cannot list enabled recurring runs: {exc}") from exc
        return iter([_recurring_run(item) for item in found])

    def update_recurring_run(self, recurring_run: RecurringRun) -> RecurringRun:
        if not recurring_run.version:
            raise ConcurrentUpdate(f"recurring run {recurring_run.recurring_run_id} was never stored")
        items = self._t.recurring_runs
        actions = []
        for name in _UPDATED_FIELDS:
            value = getattr(recurring_run, name)
            attribute = getattr(items, name)
            actions.append(attribute.remove() if value is None else attribute.set(_plain(value)))
        actions.append(
            items.enabled_key.set(ENABLED_KEY) if recurring_run.enabled else items.enabled_key.remove()
        )
        item = items(recurring_run.recurring_run_id, version=recurring_run.version)
        try:
            item.update(actions=actions, condition=items.recurring_run_id.exists())
        except UpdateError as exc:
            if _conditional_failed(exc):
                raise ConcurrentUpdate(
                    f"recurring run {recurring_run.recurring_run_id} changed concurrently"
                ) from exc
            raise StoreError(f"cannot update recurring run: {exc}") from exc
        except PynamoDBException as exc:
            raise StoreError(f"cannot update recurring run: {exc}") from exc
        return _recurring_run(item)

    def delete_recurring_run(self, recurring_run_id: str) -> None:
        try:
            self._t.recurring_runs(recurring_run_id).delete(add_version_condition=False)
        except PynamoDBException as exc:
            raise StoreError(f"cannot delete recurring run: {exc}") from exc
