"""Runs, their task records and the task cache in the embedded database (the `RunStore` protocol).

Versioned writes are `UPDATE ... WHERE version = ?` inside a transaction; a run of a recurring run takes and
gives back its slot (`recurring_runs.active_runs`) in the same transaction as the run write.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator, Sequence

from chalicelib.engine.model import TaskRecord
from chalicelib.store.embedded.codec import decode, encode
from chalicelib.store.embedded.database import Database, first
from chalicelib.store.errors import AlreadyExists, ConcurrentUpdate, LimitReached, NotFound
from chalicelib.store.records import CachedResult, Run, RunListing, RunPage, StateChange, TaskChanges
from chalicelib.timestamps import now_text


def _next_task_sequence(tx: sqlite3.Connection, run_id: str) -> int:
    """The run's next task change sequence number (inside the write transaction: writers are serialised)."""
    row = tx.execute("SELECT MAX(seq) FROM tasks WHERE run_id = ?", (run_id,)).fetchone()
    return int(row[0] or 0) + 1


def _write_task(tx: sqlite3.Connection, run_id: str, record: TaskRecord, seq: int) -> TaskRecord:
    """Create (version 0) or update (versioned) one task record inside `tx`."""
    stored = dataclasses.replace(record, version=record.version + 1)
    if record.version == 0:
        tx.execute(
            "INSERT INTO tasks (run_id, task_id, version, record, seq) VALUES (?, ?, ?, ?, ?)",
            (run_id, record.task_id, stored.version, encode(stored), seq),
        )
        return stored
    changed = tx.execute(
        "UPDATE tasks SET version = ?, record = ?, seq = ? WHERE run_id = ? AND task_id = ? AND version = ?",
        (stored.version, encode(stored), seq, run_id, record.task_id, record.version),
    ).rowcount
    if not changed:
        raise ConcurrentUpdate(f"task {record.task_id} of run {run_id} changed concurrently")
    return stored


def _move_slot(tx: sqlite3.Connection, recurring_run_id: str, delta: int, limit: int | None = None) -> bool:
    """Add `delta` to the recurring run's taken slots (with `limit`: only while fewer are taken). False when
    the recurring run is gone or (with `limit`) full."""
    if limit is None:
        sql, args = (
            "UPDATE recurring_runs SET active_runs = active_runs + ? WHERE recurring_run_id = ?",
            (
                delta,
                recurring_run_id,
            ),
        )
    else:
        sql = (
            "UPDATE recurring_runs SET active_runs = active_runs + ? "
            "WHERE recurring_run_id = ? AND active_runs < ?"
        )
        args = (delta, recurring_run_id, limit)
    return tx.execute(sql, args).rowcount == 1


def _listed(run: Run) -> int | None:
    """The `listed` column: 1 for a run the lists show, NULL (out of the page indexes) while its deletion is
    pending."""
    return None if run.delete_requested else 1


class EmbeddedRunStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    # ------------------------------------------------------------------ runs

    def create_run(self, run: Run, max_concurrency: int | None = None) -> Run:
        if not run.state_history:
            run = dataclasses.replace(run, state_history=(StateChange(run.created_at, run.state),))
        run = dataclasses.replace(run, holds_slot=run.wants_slot, version=1)
        try:
            with self._db.write() as tx:
                tx.execute(
                    "INSERT INTO runs (run_id, namespace, experiment_id, recurring_run_id, active, created_at, "
                    "version, record, state, storage_state, listed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run.run_id,
                        run.namespace,
                        run.experiment_id,
                        run.recurring_run_id,
                        1 if run.needs_reconciler else None,
                        run.created_at,
                        run.version,
                        encode(run),
                        run.state,
                        run.storage_state,
                        _listed(run),
                    ),
                )
                if run.holds_slot and not _move_slot(tx, run.recurring_run_id, 1, max_concurrency):
                    exists = first(
                        tx.execute(
                            "SELECT 1 FROM recurring_runs WHERE recurring_run_id = ?", (run.recurring_run_id,)
                        ).fetchall()
                    )
                    if exists is None:
                        raise NotFound(f"Recurring run {run.recurring_run_id} not found")
                    raise LimitReached(
                        f"recurring run {run.recurring_run_id} already has {max_concurrency} active run(s) "
                        "(max_concurrency)"
                    )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"Run {run.run_id} already exists") from exc
        return run

    def get_run(self, run_id: str) -> Run:
        with self._db.read() as connection:
            row = first(
                connection.execute("SELECT record, version FROM runs WHERE run_id = ?", (run_id,)).fetchall()
            )
        if row is None:
            raise NotFound(f"Run {run_id} not found")
        return decode(Run, row[0], version=row[1])

    def list_runs(self, namespace: str, experiment_id: str = "") -> Iterator[Run]:
        with self._db.read() as connection:
            if experiment_id:
                rows = connection.execute(
                    "SELECT record, version FROM runs WHERE experiment_id = ? ORDER BY created_at",
                    (experiment_id,),
                ).fetchall()
            else:
                rows = connection.execute(
                    "SELECT record, version FROM runs WHERE namespace = ? ORDER BY created_at", (namespace,)
                ).fetchall()
        return iter([decode(Run, record, version=version) for record, version in rows])

    def page_runs(self, listing: RunListing) -> RunPage:
        scope_column, scope = (
            ("experiment_id", listing.experiment_id)
            if listing.experiment_id
            else ("namespace", listing.namespace)
        )
        where, args = [f"{scope_column} = ?", "listed = 1"], [scope]
        for column, value in (("state", listing.state), ("storage_state", listing.storage_state)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        conditions = " AND ".join(where)
        keyset, order = "", "DESC" if listing.descending else "ASC"
        if listing.after is not None:
            keyset = f" AND (created_at, run_id) {'<' if listing.descending else '>'} (?, ?)"
        page_sql = (
            f"SELECT record, version FROM runs WHERE {conditions}{keyset} "
            f"ORDER BY created_at {order}, run_id {order} LIMIT ?"
        )
        with self._db.read() as connection:
            rows = connection.execute(page_sql, (*args, *(listing.after or ()), listing.limit + 1)).fetchall()
            total = connection.execute(f"SELECT COUNT(*) FROM runs WHERE {conditions}", args).fetchall()[0][0]
        runs = tuple(decode(Run, record, version=version) for record, version in rows[: listing.limit])
        return RunPage(runs=runs, more=len(rows) > listing.limit, total=total)

    def active_run_ids(self) -> list[str]:
        with self._db.read() as connection:
            rows = connection.execute(
                "SELECT run_id FROM runs WHERE active = 1 ORDER BY created_at"
            ).fetchall()
        return [row[0] for row in rows]

    def update_run(self, run: Run) -> Run:
        wanted = run.wants_slot
        stored = dataclasses.replace(run, holds_slot=wanted, version=run.version + 1)
        with self._db.write() as tx:
            changed = tx.execute(
                "UPDATE runs SET active = ?, version = ?, record = ?, state = ?, storage_state = ?, listed = ? "
                "WHERE run_id = ? AND version = ?",
                (
                    1 if run.needs_reconciler else None,
                    stored.version,
                    encode(stored),
                    stored.state,
                    stored.storage_state,
                    _listed(stored),
                    run.run_id,
                    run.version,
                ),
            ).rowcount
            if not changed:
                raise ConcurrentUpdate(f"run {run.run_id} changed concurrently")
            if wanted != run.holds_slot:
                _move_slot(tx, run.recurring_run_id, 1 if wanted else -1)
        return stored

    def delete_run(self, run_id: str) -> None:
        with self._db.write() as tx:
            row = first(tx.execute("SELECT record, version FROM runs WHERE run_id = ?", (run_id,)).fetchall())
            if row is None:
                return
            run = decode(Run, row[0], version=row[1])
            tx.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            if run.holds_slot:
                _move_slot(tx, run.recurring_run_id, -1)
            tx.execute("DELETE FROM tasks WHERE run_id = ?", (run_id,))

    # ------------------------------------------------------------------ tasks

    def load_tasks(self, run_id: str) -> dict[str, TaskRecord]:
        with self._db.read() as connection:
            rows = connection.execute(
                "SELECT record, version FROM tasks WHERE run_id = ?", (run_id,)
            ).fetchall()
        records = [decode(TaskRecord, record, version=version) for record, version in rows]
        return {record.task_id: record for record in records}

    def load_task_changes(self, run_id: str, after: int) -> TaskChanges:
        """Exact: writers are serialised, and each takes the run's next sequence number inside its
        transaction, so sequence order is commit order."""
        with self._db.read() as connection:
            rows = connection.execute(
                "SELECT record, version, seq FROM tasks WHERE run_id = ? AND seq > ?",
                (run_id, after if after > 0 else -1),  # records of an earlier release carry seq 0
            ).fetchall()
        records = {}
        sequence = after
        for record, version, seq in rows:
            decoded = decode(TaskRecord, record, version=version)
            records[decoded.task_id] = decoded
            sequence = max(sequence, seq)
        return TaskChanges(records, sequence, complete=after == 0)

    def save_task(self, run_id: str, record: TaskRecord) -> TaskRecord:
        return self.save_tasks(run_id, [record])[0]

    def save_tasks(self, run_id: str, records: Sequence[TaskRecord]) -> list[TaskRecord]:
        """One transaction (one fsync) for all of them."""
        saved: list[TaskRecord] = []
        record = records[0] if records else None
        try:
            with self._db.write() as tx:
                seq = _next_task_sequence(tx, run_id)
                for record in records:
                    saved.append(_write_task(tx, run_id, record, seq))
        except sqlite3.IntegrityError as exc:
            task_id = record.task_id if record else ""
            raise ConcurrentUpdate(f"task {task_id} of run {run_id} exists already") from exc
        return saved

    # ------------------------------------------------------------------ cache

    def cached_result(self, namespace: str, cache_key: str) -> CachedResult | None:
        with self._db.read() as connection:
            row = first(
                connection.execute(
                    "SELECT result FROM cache WHERE namespace = ? AND cache_key = ?", (namespace, cache_key)
                ).fetchall()
            )
        return decode(CachedResult, row[0]) if row else None

    def put_cached_result(self, namespace: str, cache_key: str, result: CachedResult) -> None:
        stored = result if result.created_at else dataclasses.replace(result, created_at=now_text())
        with self._db.write() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO cache (namespace, cache_key, run_id, task_id, created_at, result) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (namespace, cache_key, stored.run_id, stored.task_id, stored.created_at, encode(stored)),
            )
