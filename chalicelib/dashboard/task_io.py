"""What a task instance received and who used what it produced. Pure: spec, records and the attempt's launch
spec in; a JSON-ready dict out.

Inputs come from the attempt's launch document (container tasks) or the inputs the engine stored on a DAG
node. Producers and consumers are the task's siblings named in the spec (`taskOutputArtifact` /
`taskOutputParameter`), resolved to task ids in the same DAG instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.dashboard.graph import unwrap_spec
from chalicelib.engine import pipeline_spec
from chalicelib.engine.attempts import PARENT_COMPONENT_KEY
from chalicelib.engine.errors import SpecError
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.run_retry import NODE_INPUTS_KEY
from chalicelib.engine.task_ids import child_task_id


def task_io(
    spec_struct: Mapping[str, Any],
    records: Mapping[str, TaskRecord],
    record: TaskRecord,
    launched: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """`{"inputs": {"parameters", "artifacts", "recorded"}, "producers": {input: {task_id, output}},
    "consumers": {output: [{task_id, display_name, input}]}}`."""
    spec = unwrap_spec(spec_struct)
    if launched is not None:
        parameters, artifacts, recorded = (
            launched.get("parameters") or {},
            launched.get("artifacts") or {},
            True,
        )
    else:
        stored = record.data.get(NODE_INPUTS_KEY)
        recorded = stored is not None
        parameters, artifacts = (stored or {}).get("parameters") or {}, (stored or {}).get("artifacts") or {}
    siblings = _sibling_tasks(spec, record)
    task = siblings.get(record.name, {})
    producers = {}
    for kind, field, output_field in (
        ("artifacts", "taskOutputArtifact", "outputArtifactKey"),
        ("parameters", "taskOutputParameter", "outputParameterKey"),
    ):
        for name, spec_input in ((task.get("inputs") or {}).get(kind) or {}).items():
            source = spec_input.get(field) or {}
            if source.get("producerTask") in siblings:
                producer_id = child_task_id(record.parent_id, source["producerTask"])
                producers[name] = {"task_id": producer_id, "output": source.get(output_field, "")}
    consumers: dict[str, list[dict[str, str]]] = {}
    for key, sibling in siblings.items():
        for kind, field, output_field in (
            ("artifacts", "taskOutputArtifact", "outputArtifactKey"),
            ("parameters", "taskOutputParameter", "outputParameterKey"),
        ):
            for input_name, spec_input in ((sibling.get("inputs") or {}).get(kind) or {}).items():
                source = spec_input.get(field) or {}
                if source.get("producerTask") == record.name and key != record.name:
                    consumer_id = child_task_id(record.parent_id, key)
                    found = records.get(consumer_id)
                    consumers.setdefault(source.get(output_field, ""), []).append(
                        {
                            "task_id": consumer_id,
                            "display_name": (found.display_name or found.name) if found else key,
                            "input": input_name,
                        }
                    )
    return {
        "inputs": {"parameters": parameters, "artifacts": artifacts, "recorded": recorded},
        "producers": producers,
        "consumers": consumers,
    }


def _sibling_tasks(spec: Mapping[str, Any], record: TaskRecord) -> Mapping[str, Mapping[str, Any]]:
    component_name = record.data.get(PARENT_COMPONENT_KEY, "")
    if not component_name:
        return {}
    try:
        return pipeline_spec.dag_tasks(pipeline_spec.component(spec, component_name))
    except SpecError:
        return {}
