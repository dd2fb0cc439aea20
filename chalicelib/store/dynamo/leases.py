"""Reconcile pass leases in DynamoDB (the `RunLeases` protocol): one item per run in the `leases` table, every
change one conditional UpdateItem. A take that finds the lease held marks the run (ADD marks 1) and tries once
more, so a holder that released in between does not leave the mark unseen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import PynamoDBException

from chalicelib.store.dynamo.tables import Tables
from chalicelib.store.errors import StoreError
from chalicelib.store.protocols import Lease

# A lease item outlives its last use by this long, then DynamoDB's TTL removes it.
KEEP_SECONDS = 7 * 24 * 3600
BATCH_GET_KEYS = 100


def _conditional_failed(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"


class DynamoRunLeases:
    def __init__(self, tables: Tables) -> None:
        self._model: Any = tables.leases

    def acquire(self, run_ids: Sequence[str], owner: str, now: float, seconds: float) -> dict[str, Lease]:
        taken: dict[str, Lease] = {}
        for run_id in dict.fromkeys(run_ids):
            lease = self._take(run_id, owner, now, seconds)
            if lease is None:
                item = self._model(run_id)
                self._update(
                    item, [self._model.marks.add(1), self._model.expires_at.set(int(now) + KEEP_SECONDS)]
                )
                lease = self._take(run_id, owner, now, seconds)
            if lease is not None:
                taken[run_id] = lease
        return taken

    def _take(self, run_id: str, owner: str, now: float, seconds: float) -> Lease | None:
        model = self._model
        item = model(run_id)
        free = model.owner.does_not_exist() | (model.until < now) | (model.owner == owner)
        actions = [
            model.owner.set(owner),
            model.until.set(now + seconds),
            model.marks.add(0),
            model.expires_at.set(int(now) + KEEP_SECONDS),
        ]
        if not self._update(item, actions, free):
            return None
        return Lease(run_id, owner, now + seconds, int(item.marks or 0))

    def release(self, leases: Sequence[Lease], now: float) -> set[str]:
        model = self._model
        released: set[str] = set()
        for lease in leases:
            actions = [model.owner.remove(), model.until.remove(), model.passed_at.set(now)]
            held = (model.owner == lease.owner) & (model.marks == lease.marks)
            if self._update(model(lease.run_id), actions, held):
                released.add(lease.run_id)
        return released

    def abandon(self, leases: Sequence[Lease]) -> None:
        model = self._model
        for lease in leases:
            actions = [model.owner.remove(), model.until.remove(), model.passed_at.remove()]
            self._update(model(lease.run_id), actions, model.owner == lease.owner)

    def last_passes(self, run_ids: Sequence[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        unique = sorted(set(run_ids))
        try:
            for start in range(0, len(unique), BATCH_GET_KEYS):
                for item in self._model.batch_get(unique[start : start + BATCH_GET_KEYS]):
                    if item.passed_at is not None:
                        found[item.run_id] = float(item.passed_at)
        except PynamoDBException as exc:
            raise StoreError(f"cannot read the pass leases: {exc}") from exc
        return found

    def _update(self, item: Any, actions: list[Any], condition: Any = None) -> bool:
        """One UpdateItem; False when `condition` failed."""
        try:
            item.update(actions=actions, condition=condition)
        except PynamoDBException as exc:
            if _conditional_failed(exc):
                return False
            raise StoreError(f"cannot update the pass lease of run {item.run_id}: {exc}") from exc
        return True
