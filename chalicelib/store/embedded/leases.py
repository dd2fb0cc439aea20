"""Reconcile pass leases in the embedded database (the `RunLeases` protocol): one row per run; each call is one
`BEGIN IMMEDIATE` transaction for all its runs, so a take, mark or release cannot interleave with another and
the local stack's pass over every active run pays two commits, not two per run."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.store.embedded.database import Database
from chalicelib.store.protocols import Lease

CHUNK = 500  # ids per IN (...) query, under SQLite's variable limit


class EmbeddedRunLeases:
    def __init__(self, database: Database) -> None:
        self._db = database

    def acquire(self, run_ids: Sequence[str], owner: str, now: float, seconds: float) -> dict[str, Lease]:
        taken: dict[str, Lease] = {}
        with self._db.write() as tx:
            for run_id in dict.fromkeys(run_ids):
                row = tx.execute(
                    "SELECT owner, until, marks FROM leases WHERE run_id = ?", (run_id,)
                ).fetchall()
                holder, until, marks = row[0] if row else (None, None, 0)
                if holder and holder != owner and (until or 0) >= now:
                    tx.execute("UPDATE leases SET marks = marks + 1 WHERE run_id = ?", (run_id,))
                    continue
                tx.execute(
                    "INSERT INTO leases (run_id, owner, until, marks) VALUES (?, ?, ?, 0) "
                    "ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, until = excluded.until",
                    (run_id, owner, now + seconds),
                )
                taken[run_id] = Lease(run_id, owner, now + seconds, marks)
        return taken

    def release(self, leases: Sequence[Lease], now: float) -> set[str]:
        released: set[str] = set()
        with self._db.write() as tx:
            for lease in leases:
                changed = tx.execute(
                    "UPDATE leases SET owner = NULL, until = NULL, passed_at = ? "
                    "WHERE run_id = ? AND owner = ? AND marks = ?",
                    (now, lease.run_id, lease.owner, lease.marks),
                ).rowcount
                if changed:
                    released.add(lease.run_id)
        return released

    def abandon(self, leases: Sequence[Lease]) -> None:
        with self._db.write() as tx:
            for lease in leases:
                tx.execute(
                    "UPDATE leases SET owner = NULL, until = NULL, passed_at = NULL WHERE run_id = ? AND owner = ?",
                    (lease.run_id, lease.owner),
                )

    def last_passes(self, run_ids: Sequence[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        unique = list(dict.fromkeys(run_ids))
        with self._db.read() as connection:
            for start in range(0, len(unique), CHUNK):
                chunk = unique[start : start + CHUNK]
                rows = connection.execute(
                    f"SELECT run_id, passed_at FROM leases WHERE run_id IN ({','.join('?' * len(chunk))}) "
                    "AND passed_at IS NOT NULL",
                    chunk,
                ).fetchall()
                found.update({run_id: float(passed_at) for run_id, passed_at in rows})
        return found
