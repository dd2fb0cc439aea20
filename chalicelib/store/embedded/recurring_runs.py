"""Recurring runs in the embedded database (the `RecurringRunStore` protocol). `active_runs` has its own column,
written only by the run transactions (`store.embedded.runs`), never here."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator

from chalicelib.store.embedded.codec import decode, encode
from chalicelib.store.embedded.database import Database, first
from chalicelib.store.errors import AlreadyExists, ConcurrentUpdate, NotFound
from chalicelib.store.records import RecurringRun

_COLUMNS = "record, version, active_runs"


def _decoded(row: tuple[str, int, int]) -> RecurringRun:
    return decode(RecurringRun, row[0], version=row[1], active_runs=row[2])


class EmbeddedRecurringRunStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create_recurring_run(self, recurring_run: RecurringRun) -> RecurringRun:
        stored = dataclasses.replace(recurring_run, active_runs=0, version=1)
        try:
            with self._db.write() as tx:
                tx.execute(
                    "INSERT INTO recurring_runs (recurring_run_id, namespace, experiment_id, enabled, created_at, "
                    "active_runs, version, record) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                    (
                        stored.recurring_run_id,
                        stored.namespace,
                        stored.experiment_id,
                        1 if stored.enabled else None,
                        stored.created_at,
                        stored.version,
                        encode(stored),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"Recurring run {stored.recurring_run_id} already exists") from exc
        return stored

    def get_recurring_run(self, recurring_run_id: str) -> RecurringRun:
        with self._db.read() as connection:
            row = first(
                connection.execute(
                    f"SELECT {_COLUMNS} FROM recurring_runs WHERE recurring_run_id = ?", (recurring_run_id,)
                ).fetchall()
            )
        if row is None:
            raise NotFound(f"Recurring run {recurring_run_id} not found")
        return _decoded(row)

    def list_recurring_runs(self, namespace: str, experiment_id: str = "") -> Iterator[RecurringRun]:
        with self._db.read() as connection:
            if experiment_id:
                rows = connection.execute(
                    f"SELECT {_COLUMNS} FROM recurring_runs WHERE experiment_id = ? ORDER BY created_at",
                    (experiment_id,),
                ).fetchall()
            else:
                rows = connection.execute(
                    f"SELECT {_COLUMNS} FROM recurring_runs WHERE namespace = ? ORDER BY created_at",
                    (namespace,),
                ).fetchall()
        return iter([_decoded(row) for row in rows])

    def list_enabled_recurring_runs(self) -> Iterator[RecurringRun]:
        with self._db.read() as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM recurring_runs WHERE enabled = 1 ORDER BY created_at"
            ).fetchall()
        return iter([_decoded(row) for row in rows])

    def update_recurring_run(self, recurring_run: RecurringRun) -> RecurringRun:
        with self._db.write() as tx:
            row = first(
                tx.execute(
                    "SELECT active_runs, created_at FROM recurring_runs WHERE recurring_run_id = ? AND version = ?",
                    (recurring_run.recurring_run_id, recurring_run.version),
                ).fetchall()
            )
            if row is None:
                raise ConcurrentUpdate(f"recurring run {recurring_run.recurring_run_id} changed concurrently")
            stored = dataclasses.replace(
                recurring_run, active_runs=row[0], created_at=row[1], version=recurring_run.version + 1
            )
            tx.execute(
                "UPDATE recurring_runs SET enabled = ?, experiment_id = ?, version = ?, record = ? "
                "WHERE recurring_run_id = ?",
                (
                    1 if stored.enabled else None,
                    stored.experiment_id,
                    stored.version,
                    encode(stored),
                    stored.recurring_run_id,
                ),
            )
        return stored

    def delete_recurring_run(self, recurring_run_id: str) -> None:
        with self._db.write() as tx:
            tx.execute("DELETE FROM recurring_runs WHERE recurring_run_id = ?", (recurring_run_id,))
