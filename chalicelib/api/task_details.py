"""Task records → KFP `run_details.task_details` (one entry per task instance, loop iterations included).

Beyond KFP's fields, each entry carries `output_parameters` (the task's output parameter values by name; on the
root task these are the pipeline's outputs), each output artifact its `uri`, `name`, `type` (schema title) and
`metadata` — KFP keeps those in MLMD, which this backend does not run — and `attempt` (the current attempt) with
`attempts` (the earlier, retried attempts: number, start, end, error, exit code). kfp's generated client
models ignore the extras."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.api.request_helpers import omit_empty
from chalicelib.engine.attempts import ATTEMPT_HISTORY_KEY
from chalicelib.engine.model import TaskRecord


def task_details(run_id: str, records: Mapping[str, TaskRecord]) -> list[dict[str, Any]]:
    children: dict[str, list[str]] = {}
    for record in records.values():
        if record.parent_id:
            children.setdefault(record.parent_id, []).append(record.task_id)
    ordered = sorted(records.values(), key=lambda r: (r.created_at, r.task_id))
    return [_detail(run_id, record, sorted(children.get(record.task_id, []))) for record in ordered]


def _detail(run_id: str, record: TaskRecord, child_ids: list[str]) -> dict[str, Any]:
    error = None
    if record.error:
        message = record.error
        if record.exit_code is not None and f"exit code {record.exit_code}" not in message:
            message = f"{message} (exit code {record.exit_code})"
        error = {"code": 2, "message": message}
    return omit_empty(
        {
            "run_id": run_id,
            "task_id": record.task_id,
            "display_name": record.display_name or record.name,
            "create_time": record.created_at,
            "start_time": record.started_at,
            "end_time": record.finished_at,
            "state": record.state.value,
            "error": error,
            "parent_task_id": record.parent_id,
            "pod_name": record.pod_name,
            "executor_detail": omit_empty({"main_job": record.pod_name}),
            "child_tasks": [{"task_id": child} for child in child_ids],
            "outputs": _outputs(record),
            "output_parameters": dict(record.parameters),
            "attempt": record.attempt,
            "attempts": list(record.data.get(ATTEMPT_HISTORY_KEY) or []),
        }
    )


def _outputs(record: TaskRecord) -> dict[str, Any]:
    """Output artifacts by name (KFP lists MLMD artifact ids here; we have URIs and metadata, so give those)."""
    return {
        name: {
            "artifacts": [
                omit_empty(
                    {
                        "uri": a.get("uri"),
                        "name": a.get("name"),
                        "type": (a.get("type") or {}).get("schemaTitle"),
                        "metadata": a.get("metadata"),
                    }
                )
                for a in artifacts
            ]
        }
        for name, artifacts in record.artifacts.items()
    }
