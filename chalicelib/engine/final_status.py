"""The PipelineTaskFinalStatus value handed to exit tasks (kfp-ir.md §6), with KFP's state strings."""

from __future__ import annotations

from typing import Any

from chalicelib.engine.model import TaskRecord
from chalicelib.task_contract import TaskState

# KFP reports MLMD execution states: COMPLETE rather than Vertex's / kfp.local's SUCCEEDED.
_KFP_STATE = {
    TaskState.SUCCEEDED: "COMPLETE",
    TaskState.SKIPPED: "COMPLETE",
    TaskState.CACHED: "CACHED",
    TaskState.FAILED: "FAILED",
    TaskState.CANCELED: "CANCELED",
}


def task_final_status(
    producer_key: str, producer: TaskRecord | None, job_resource_name: str
) -> dict[str, Any]:
    """`{"state", "pipelineJobResourceName", "pipelineTaskName", "error"}` for the finished producer task."""
    state = _KFP_STATE.get(producer.state, "FAILED") if producer is not None else "CANCELED"
    error: dict[str, Any] = {}
    if producer is not None and state in ("FAILED", "CANCELED") and producer.error:
        error = {"code": 2 if state == "FAILED" else 1, "message": producer.error}
    return {
        "state": state,
        "pipelineJobResourceName": job_resource_name,
        "pipelineTaskName": producer_key,
        "error": error,
    }
