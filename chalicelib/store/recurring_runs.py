"""Recurring runs in DynamoDB (the schedule itself lives in EventBridge Scheduler).

Enabled recurring runs carry `enabled_key` (kept in step with `enabled` here), so the local stack's firer can
list them with a Query on the sparse `enabled` index.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, UpdateError

from chalicelib.store.errors import AlreadyExists, ConcurrentUpdate, NotFound, StoreError
from chalicelib.store.tables import RecurringRunItem, namespace_key

ENABLED_KEY = "enabled"


def create_recurring_run(item: RecurringRunItem) -> RecurringRunItem:
    item.enabled_key = ENABLED_KEY if item.enabled else None
    try:
        item.save(condition=RecurringRunItem.recurring_run_id.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
            raise AlreadyExists(f"Recurring run {item.recurring_run_id} already exists") from exc
        raise StoreError(f"cannot create recurring run: {exc}") from exc
    return item


def get_recurring_run(recurring_run_id: str) -> RecurringRunItem:
    try:
        return RecurringRunItem.get(recurring_run_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(f"Recurring run {recurring_run_id} not found") from exc
    except PynamoDBException as exc:
        raise StoreError(f"cannot read recurring run: {exc}") from exc


def list_recurring_runs(
    namespace: str | None = None, experiment_id: str | None = None
) -> Iterator[RecurringRunItem]:
    try:
        if experiment_id:
            yield from RecurringRunItem.by_experiment.query(experiment_id)
        else:
            yield from RecurringRunItem.by_namespace.query(namespace_key(namespace or ""))
    except PynamoDBException as exc:
        raise StoreError(f"cannot list recurring runs: {exc}") from exc


def list_enabled_recurring_runs() -> Iterator[RecurringRunItem]:
    """Every enabled recurring run, in every namespace (sparse index; eventually consistent)."""
    try:
        yield from RecurringRunItem.enabled_index.query(ENABLED_KEY)
    except PynamoDBException as exc:
        raise StoreError(f"cannot list enabled recurring runs: {exc}") from exc


def update_recurring_run(item: RecurringRunItem, **fields: Any) -> None:
    """Versioned write of plain attributes (None removes one); ConcurrentUpdate when the item changed since it
    was read."""
    actions = [
        getattr(RecurringRunItem, name).remove()
        if value is None
        else getattr(RecurringRunItem, name).set(value)
        for name, value in fields.items()
    ]
    if "enabled" in fields:
        key = RecurringRunItem.enabled_key
        actions.append(key.set(ENABLED_KEY) if fields["enabled"] else key.remove())
    try:
        item.update(actions=actions)
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
            raise ConcurrentUpdate(f"recurring run {item.recurring_run_id} changed concurrently") from exc
        raise StoreError(f"cannot update recurring run: {exc}") from exc


def delete_recurring_run(item: RecurringRunItem) -> None:
    try:
        item.delete()
    except PynamoDBException as exc:
        raise StoreError(f"cannot delete recurring run: {exc}") from exc
