"""Reconcile pass leases in the embedded database (the `RunLeases` protocol): one row per run, every change one
`BEGIN IMMEDIATE` transaction, so the read and the write of a take, mark or release cannot interleave."""

from __future__ import annotations

import sqlite3

from chalicelib.store.embedded.database import Database, first
from chalicelib.store.protocols import Lease

_ROW = "SELECT owner, until, marks FROM leases WHERE run_id = ?"


class EmbeddedRunLeases:
    def __init__(self, database: Database) -> None:
        self._db = database

    def acquire(self, run_id: str, owner: str, now: float, seconds: float) -> Lease | None:
        with self._db.write() as tx:
            row = first(tx.execute(_ROW, (run_id,)).fetchall())
            if row is not None and row[0] and row[0] != owner and (row[1] or 0) >= now:
                tx.execute("UPDATE leases SET marks = marks + 1 WHERE run_id = ?", (run_id,))
                return None
            marks = row[2] if row is not None else 0
            _upsert(tx, run_id, owner, now + seconds)
        return Lease(run_id, owner, now + seconds, marks)

    def release(self, lease: Lease, now: float) -> bool:
        with self._db.write() as tx:
            changed = tx.execute(
                "UPDATE leases SET owner = NULL, until = NULL, passed_at = ? "
                "WHERE run_id = ? AND owner = ? AND marks = ?",
                (now, lease.run_id, lease.owner, lease.marks),
            ).rowcount
        return changed == 1

    def abandon(self, lease: Lease) -> None:
        with self._db.write() as tx:
            tx.execute(
                "UPDATE leases SET owner = NULL, until = NULL WHERE run_id = ? AND owner = ?",
                (lease.run_id, lease.owner),
            )

    def last_passes(self, run_ids: list[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        with self._db.read() as connection:
            for start in range(0, len(run_ids), 500):
                chunk = run_ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT run_id, passed_at FROM leases WHERE run_id IN ({marks}) AND passed_at IS NOT NULL",
                    chunk,
                ).fetchall()
                found.update({run_id: float(passed_at) for run_id, passed_at in rows})
        return found


def _upsert(tx: sqlite3.Connection, run_id: str, owner: str, until: float) -> None:
    tx.execute(
        "INSERT INTO leases (run_id, owner, until, marks) VALUES (?, ?, ?, 0) "
        "ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, until = excluded.until",
        (run_id, owner, until),
    )
