"""The embedded store's SQLite database: schema, connections, transactions.

Durability: WAL journal with `synchronous=FULL`, so a transaction is on disk (the WAL fsync'd) before COMMIT
returns; a process killed at any moment or a machine crash loses no committed transaction and never leaves a
half-applied one (SQLite's atomic commit). Concurrency: WAL lets readers run beside the one writer; every
read-modify-write is one `BEGIN IMMEDIATE` transaction (it takes the write lock up front, so two writers queue
on the busy timeout instead of failing on a lock upgrade). Connections are pooled: a thread borrows one for an
operation and gives it back, so the API server's short-lived request threads do not each open a database.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chalicelib.store.errors import StoreError

BUSY_TIMEOUT_MS = 30_000
MAX_IDLE_CONNECTIONS = 16

# Each table keeps the record as JSON (`record`) plus the columns its keys, unique names and listings use.
# Partial indexes are the sparse listings: only active runs carry `active`, only enabled recurring runs
# `enabled`.
SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    experiment_id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS experiments_by_name ON experiments (namespace, display_name);
CREATE INDEX IF NOT EXISTS experiments_by_namespace ON experiments (namespace, created_at);

CREATE TABLE IF NOT EXISTS pipelines (
    pipeline_id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS pipelines_by_name ON pipelines (namespace, name);
CREATE INDEX IF NOT EXISTS pipelines_by_namespace ON pipelines (namespace, created_at);

CREATE TABLE IF NOT EXISTS versions (
    pipeline_id TEXT NOT NULL,
    version_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (pipeline_id, version_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS versions_by_name ON versions (pipeline_id, name);

CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    experiment_id TEXT NOT NULL,
    recurring_run_id TEXT NOT NULL,
    active INTEGER,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    record TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT '',
    storage_state TEXT NOT NULL DEFAULT '',
    listed INTEGER
);
CREATE INDEX IF NOT EXISTS runs_by_namespace ON runs (namespace, created_at);
CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment_id, created_at);
CREATE INDEX IF NOT EXISTS runs_active ON runs (created_at) WHERE active = 1;

CREATE TABLE IF NOT EXISTS tasks (
    run_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    record TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, task_id)
);

CREATE TABLE IF NOT EXISTS recurring_runs (
    recurring_run_id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    experiment_id TEXT NOT NULL,
    enabled INTEGER,
    created_at TEXT NOT NULL,
    active_runs INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recurring_runs_by_namespace ON recurring_runs (namespace, created_at);
CREATE INDEX IF NOT EXISTS recurring_runs_by_experiment ON recurring_runs (experiment_id, created_at);
CREATE INDEX IF NOT EXISTS recurring_runs_enabled ON recurring_runs (created_at) WHERE enabled = 1;

CREATE TABLE IF NOT EXISTS leases (
    run_id TEXT PRIMARY KEY,
    owner TEXT,
    until REAL,
    marks INTEGER NOT NULL DEFAULT 0,
    passed_at REAL
);

CREATE TABLE IF NOT EXISTS cache (
    namespace TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    run_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (namespace, cache_key)
);
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
);

"""

# The run list pages (`page_runs`): per scope (namespace or experiment), unfiltered or by state, storage state or
# both,
# in (created_at, run_id) order, over the listed runs only. Applied after `_add_missing_columns` so that a
# database made before these columns existed gets them first.
RUN_PAGE_INDEXES = """
CREATE INDEX IF NOT EXISTS runs_page_ns ON runs (namespace, created_at, run_id) WHERE listed = 1;
CREATE INDEX IF NOT EXISTS runs_page_ns_state ON runs (namespace, state, created_at, run_id) WHERE listed = 1;
CREATE INDEX IF NOT EXISTS runs_page_ns_storage
    ON runs (namespace, storage_state, created_at, run_id) WHERE listed = 1;
CREATE INDEX IF NOT EXISTS runs_page_ns_storage_state
    ON runs (namespace, storage_state, state, created_at, run_id) WHERE listed = 1;
CREATE INDEX IF NOT EXISTS runs_page_exp ON runs (experiment_id, created_at, run_id) WHERE listed = 1;
CREATE INDEX IF NOT EXISTS runs_page_exp_state
    ON runs (experiment_id, state, created_at, run_id) WHERE listed = 1;
CREATE INDEX IF NOT EXISTS runs_page_exp_storage
    ON runs (experiment_id, storage_state, created_at, run_id) WHERE listed = 1;
CREATE INDEX IF NOT EXISTS runs_page_exp_storage_state
    ON runs (experiment_id, storage_state, state, created_at, run_id) WHERE listed = 1;

"""


# Columns added after a store was first released: (table, column, definition), then the indexes over them.
ADDED_COLUMNS = (("tasks", "seq", "INTEGER NOT NULL DEFAULT 0"),)
INDEXES_OF_ADDED_COLUMNS = """
-- A run's task records by change sequence number (`load_task_changes`).
CREATE INDEX IF NOT EXISTS tasks_by_seq ON tasks (run_id, seq);
"""


def _migrate(connection: sqlite3.Connection) -> None:
    """Bring a database made by an earlier release up to SCHEMA (added columns default for existing rows)."""
    for table, column, definition in ADDED_COLUMNS:
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})").fetchall()}
        if column not in columns:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    connection.executescript(INDEXES_OF_ADDED_COLUMNS)


class Database:
    """One SQLite file: `write()` for a transaction, `read()` for consistent reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._closed = threading.Event()
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = self._open()
        try:
            mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(
                    f"{path}: SQLite refused WAL mode (got {mode}); is it on a network file system?"
                )
            connection.executescript(SCHEMA)
            _migrate(connection)
            _add_missing_columns(connection)
            connection.executescript(RUN_PAGE_INDEXES)
        except sqlite3.Error as exc:
            connection.close()
            raise StoreError(f"cannot open the embedded store at {path}: {exc}") from exc
        self._release(connection)

    def _open(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=OFF")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the embedded store at {self.path}: {exc}") from exc
        return connection

    def _borrow(self) -> sqlite3.Connection:
        if self._closed.is_set():
            raise StoreError(f"the embedded store at {self.path} is closed")
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._open()

    def _release(self, connection: sqlite3.Connection) -> None:
        if self._closed.is_set() or self._idle.qsize() >= MAX_IDLE_CONNECTIONS:
            connection.close()
        else:
            self._idle.put(connection)

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One `BEGIN IMMEDIATE` transaction: committed (durably) when the block ends, rolled back when it
        raises. sqlite3 errors other than constraint violations become StoreError."""
        connection = self._borrow()
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            _rollback_quietly(connection)
            raise StoreError(f"embedded store write failed: {exc}") from exc
        finally:
            self._release(connection)

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (each statement sees the latest committed state; a `BEGIN` block, one
        snapshot)."""
        connection = self._borrow()
        try:
            yield connection
        except sqlite3.Error as exc:
            raise StoreError(f"embedded store read failed: {exc}") from exc
        finally:
            self._release(connection)

    def close(self) -> None:
        self._closed.set()
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    """Give a runs table made before the list columns existed `state`, `storage_state` and `listed`, filled
    from each row's record (one transaction)."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(runs)").fetchall()}
    if "listed" in columns:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in (
            "ALTER TABLE runs ADD COLUMN state TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE runs ADD COLUMN storage_state TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE runs ADD COLUMN listed INTEGER",
            "UPDATE runs SET state = json_extract(record, '$.state'), "
            "storage_state = json_extract(record, '$.storage_state'), "
            "listed = CASE WHEN json_extract(record, '$.delete_requested') THEN NULL ELSE 1 END",
        ):
            if "ADD COLUMN" in statement and statement.split()[4] in columns:
                continue
            connection.execute(statement)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def first(rows: list[Any]) -> Any:
    """The first row of a fetched result, or None. Every query is read to the end (`fetchall`): a statement
    left unfinished would keep its read snapshot open on the pooled connection, so later reads through it
    would see stale data."""
    return rows[0] if rows else None


def _rollback_quietly(connection: sqlite3.Connection) -> None:
    try:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
    except sqlite3.Error:
        pass
