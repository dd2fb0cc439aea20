"""Records as the JSON text the embedded store keeps in each row's `record` column, and back."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

from chalicelib.engine.model import TaskRecord
from chalicelib.store.records import Run, StateChange
from chalicelib.task_contract import TaskState

Record = TypeVar("Record")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict) or hasattr(value, "items"):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, TaskState):
        return value.value
    return value


def encode(record: Any) -> str:
    """The record as JSON (`version` left out: it has its own column)."""
    data = _plain(record)
    data.pop("version", None)
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def decode(kind: type[Record], text: str, **columns: Any) -> Record:
    """A `kind` record from its JSON and the row's own columns (`version`, `active_runs`), which win. Fields
    the JSON lacks (rows written before a field existed) keep their defaults."""
    data = json.loads(text)
    names = {field.name for field in dataclasses.fields(kind)}  # type: ignore[arg-type]
    values = {key: value for key, value in data.items() if key in names}
    values.update(columns)
    if kind is Run:
        values["state_history"] = tuple(StateChange(**change) for change in values.get("state_history", ()))
    if kind is TaskRecord:
        values["state"] = TaskState(values["state"])
    return kind(**values)
