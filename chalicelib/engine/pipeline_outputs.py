"""The run's pipeline (root DAG) outputs, from the recorded tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.engine import pipeline_spec
from chalicelib.engine.errors import InputResolutionError
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.outputs import resolve_dag_outputs
from chalicelib.engine.task_ids import ROOT_TASK_ID
from chalicelib.task_contract import TaskState


def pipeline_outputs(spec: Mapping[str, Any], tasks: Mapping[str, TaskRecord]) -> dict[str, Any]:
    """`{"parameters": {...}, "artifacts": {name: [RuntimeArtifact, ...]}}` of the root DAG.

    Taken from the finished root node; while the run is still going, resolved from what has completed so far
    (outputs whose producers have not completed are absent).
    """
    root = tasks.get(ROOT_TASK_ID)
    if root is not None and root.state is TaskState.SUCCEEDED:
        return {"parameters": dict(root.parameters), "artifacts": dict(root.artifacts)}
    try:
        outputs = resolve_dag_outputs(
            pipeline_spec.component(spec, pipeline_spec.ROOT_COMPONENT), ROOT_TASK_ID, tasks.get
        )
    except InputResolutionError:
        return {"parameters": {}, "artifacts": {}}
    return {"parameters": outputs.parameters, "artifacts": outputs.artifacts}
