"""DynamoDB transactions whose operations carry labels, so a cancelled transaction says which condition failed.

pynamodb sends a TransactWrite's condition checks first, then deletes, puts and updates, whatever order they
were added in, and DynamoDB reports cancellation reasons by position; `Transaction` keeps that order itself.
"""

from __future__ import annotations

from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store.errors import StoreError

CONDITION_FAILED = "ConditionalCheckFailed"


class TransactionCancelled(Exception):
    """Conditions failed: `failed` holds the labels of the operations whose condition did not hold."""

    def __init__(self, failed: set[str], cause: Exception) -> None:
        super().__init__(f"transaction cancelled: {sorted(failed)} failed")
        self.failed = failed
        self.cause = cause


class Transaction:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._checks: list[tuple[str, tuple[Any, ...]]] = []
        self._deletes: list[tuple[str, tuple[Any, ...]]] = []
        self._saves: list[tuple[str, tuple[Any, ...]]] = []
        self._updates: list[tuple[str, tuple[Any, ...]]] = []

    def condition_check(self, label: str, model: Any, hash_key: Any, condition: Any) -> Transaction:
        self._checks.append((label, (model, hash_key, condition)))
        return self

    def delete(self, label: str, item: Any, condition: Any = None) -> Transaction:
        self._deletes.append((label, (item, condition)))
        return self

    def save(self, label: str, item: Any, condition: Any = None) -> Transaction:
        self._saves.append((label, (item, condition)))
        return self

    def update(self, label: str, item: Any, actions: list[Any], condition: Any = None) -> Transaction:
        self._updates.append((label, (item, actions, condition)))
        return self

    def commit(self) -> None:
        """Write everything or nothing. TransactionCancelled when conditions failed; StoreError otherwise."""
        labels = [label for label, _ in (*self._checks, *self._deletes, *self._saves, *self._updates)]
        try:
            with TransactWrite(connection=self._connection) as tx:
                for _, (model, hash_key, condition) in self._checks:
                    tx.condition_check(model, hash_key, condition=condition)
                for _, (item, condition) in self._deletes:
                    tx.delete(item, condition=condition)
                for _, (item, condition) in self._saves:
                    tx.save(item, condition=condition)
                for _, (item, actions, condition) in self._updates:
                    tx.update(item, actions=actions, condition=condition)
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            failed = {
                label
                for label, reason in zip(labels, reasons, strict=False)
                if reason is not None and reason.code == CONDITION_FAILED
            }
            if failed:
                raise TransactionCancelled(failed, exc) from exc
            raise StoreError(f"transaction failed: {exc}") from exc
        except PynamoDBException as exc:
            raise StoreError(f"transaction failed: {exc}") from exc


def conditional_check_failed(exc: PynamoDBException) -> bool:
    """Whether a conditional write failed on its condition (rather than on anything else)."""
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"
