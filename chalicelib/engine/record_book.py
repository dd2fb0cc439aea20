"""The records of one planning pass: the stored ones overlaid with the changes the pass decides."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from chalicelib.engine.model import TaskRecord


class RecordBook:
    """Read the newest version of any record; remember which ones this pass created or changed."""

    def __init__(self, stored: Mapping[str, TaskRecord]) -> None:
        self._stored = stored
        self._changed: dict[str, TaskRecord] = {}

    def get(self, task_id: str) -> TaskRecord | None:
        return self._changed.get(task_id) or self._stored.get(task_id)

    def put(self, record: TaskRecord) -> TaskRecord:
        self._changed[record.task_id] = record
        return record

    def changed(self) -> list[TaskRecord]:
        return list(self._changed.values())

    def all(self) -> Iterator[TaskRecord]:
        for task_id, record in self._stored.items():
            if task_id not in self._changed:
                yield record
        yield from self._changed.values()
