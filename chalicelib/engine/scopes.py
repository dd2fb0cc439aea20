"""A DAG instance as seen by the tasks inside it: its node id and the inputs its component received."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from chalicelib.engine.model import TaskRecord

RecordLookup = Callable[[str], TaskRecord | None]


@dataclasses.dataclass(frozen=True)
class Scope:
    """node_id: the record of the DAG node or loop iteration whose tasks live here (`root` for the pipeline).
    component_name: the DAG component (`root` or `comp-*`).
    parameters / artifacts: the component inputs, resolved in the parent scope, declarations applied.
    runs_despite_cancel: inside an exit task (or `.ignore_upstream_failure()` task), which still runs after a
    terminate request.
    """

    node_id: str
    component_name: str
    parameters: dict[str, Any]
    artifacts: dict[str, list[dict[str, Any]]]
    runs_despite_cancel: bool = False
