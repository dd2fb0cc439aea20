"""The embedded database opens a store made by an earlier release: columns added since are added, rows keep
their records."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from chalicelib.engine.model import TaskRecord
from chalicelib.store.embedded.codec import encode
from chalicelib.store.embedded.database import Database
from chalicelib.store.embedded.runs import EmbeddedRunStore
from chalicelib.task_contract import TaskState

TASKS_BEFORE_CHANGE_SEQUENCES = """
CREATE TABLE tasks (
    run_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id)
);
"""


def test_task_records_of_an_earlier_release_are_read_and_then_tracked_by_change_sequence(tmp_path: Path):
    path = tmp_path / "records.sqlite3"
    old = TaskRecord("t1", "step", "container", TaskState.PENDING, attempt=1)
    with sqlite3.connect(path) as connection:
        connection.executescript(TASKS_BEFORE_CHANGE_SEQUENCES)
        connection.execute("INSERT INTO tasks VALUES (?, ?, ?, ?)", ("run-1", "t1", 1, encode(old)))
    runs = EmbeddedRunStore(Database(path))
    everything = runs.load_task_changes("run-1", 0)
    assert everything.complete and dict(everything.records) == {"t1": dataclasses.replace(old, version=1)}
    running = runs.save_task("run-1", dataclasses.replace(everything.records["t1"], state=TaskState.RUNNING))
    changed = runs.load_task_changes("run-1", everything.sequence)
    assert dict(changed.records) == {"t1": running} and changed.sequence > everything.sequence
    assert runs.load_task_changes("run-1", changed.sequence).records == {}
