"""Artifacts across runs: one row per output artifact of a container or importer task, newest run first.
Pure: runs and their task records in, rows out; the helper route pages over runs (see `api.list_artifacts`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.dashboard.reads import RunSummary
from chalicelib.engine.model import TaskRecord

_PRODUCING_KINDS = ("container", "importer")


def artifact_rows(run: RunSummary, records: Mapping[str, TaskRecord]) -> list[dict[str, Any]]:
    """The artifacts the run's tasks produced (DAG outputs are the same artifacts again, so they are left out),
    ordered by task creation."""
    rows = []
    for record in sorted(records.values(), key=lambda r: (r.created_at, r.task_id)):
        if record.kind not in _PRODUCING_KINDS:
            continue
        for output, artifacts in sorted(record.artifacts.items()):
            for artifact in artifacts:
                rows.append(
                    {
                        "run_id": run.run_id,
                        "run_name": run.display_name,
                        "task_id": record.task_id,
                        "task_name": record.display_name or record.name,
                        "output": output,
                        "uri": artifact.get("uri", ""),
                        "type": (artifact.get("type") or {}).get("schemaTitle", ""),
                        "created_at": record.finished_at or record.created_at,
                    }
                )
    return rows


def matches(row: Mapping[str, Any], search: str) -> bool:
    """Case-insensitive substring match on the output name, type, task, run name and URI."""
    if not search:
        return True
    needle = search.lower()
    return any(needle in str(row[key]).lower() for key in ("output", "type", "task_name", "run_name", "uri"))
