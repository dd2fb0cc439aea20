"""DAG outputs (kfp-ir.md §1.6): `dag.outputs` selectors, OneOf, and loop fan-in (`dsl.Collected`).

A DAG node's outputs are resolved once, when it finishes, and stored on its record like a container task's
outputs; consumers then read every producer the same way. `collected` names the outputs that already are
lists gathered over loop iterations: an enclosing loop concatenates those (nested loops flatten into one list)
and appends the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.engine.errors import InputResolutionError
from chalicelib.engine.inputs import COMPLETED_STATES
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.scopes import RecordLookup
from chalicelib.engine.task_ids import child_task_id

COLLECTED_KEY = "collected"


@dataclasses.dataclass(frozen=True)
class DagOutputs:
    parameters: dict[str, Any]
    artifacts: dict[str, list[dict[str, Any]]]
    collected: tuple[str, ...] = ()


def _completed(lookup: RecordLookup, node_id: str, subtask: str) -> TaskRecord | None:
    record = lookup(child_task_id(node_id, subtask))
    return record if record is not None and record.state in COMPLETED_STATES else None


def _is_collected(producer: TaskRecord, key: str) -> bool:
    return producer.kind == "loop" or key in (producer.data.get(COLLECTED_KEY) or [])


def _parameter_selectors(spec_output: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], bool]:
    if "valueFromOneof" in spec_output:
        return list(spec_output["valueFromOneof"].get("parameterSelectors") or []), True
    return [spec_output.get("valueFromParameter") or {}], False


def resolve_dag_outputs(dag_component: Mapping[str, Any], node_id: str, lookup: RecordLookup) -> DagOutputs:
    """The outputs of the DAG instance `node_id` from its finished children.

    A direct selector whose producer did not complete leaves the output absent; a OneOf with no completed
    producer raises InputResolutionError.
    """
    spec_outputs = (dag_component.get("dag") or {}).get("outputs") or {}
    parameters: dict[str, Any] = {}
    artifacts: dict[str, list[dict[str, Any]]] = {}
    collected: list[str] = []
    for name, spec_output in (spec_outputs.get("parameters") or {}).items():
        selectors, one_of = _parameter_selectors(spec_output)
        for selector in selectors:
            producer = _completed(lookup, node_id, selector.get("producerSubtask", ""))
            key = selector.get("outputParameterKey", "")
            if producer is not None and key in producer.parameters:
                parameters[name] = producer.parameters[key]
                if _is_collected(producer, key):
                    collected.append(name)
                break
        else:
            if one_of:
                raise InputResolutionError(f"OneOf output {name!r}: none of its branches ran")
    for name, spec_output in (spec_outputs.get("artifacts") or {}).items():
        selectors = list(spec_output.get("artifactSelectors") or [])
        for selector in selectors:
            producer = _completed(lookup, node_id, selector.get("producerSubtask", ""))
            key = selector.get("outputArtifactKey", "")
            if producer is not None and key in producer.artifacts:
                artifacts[name] = list(producer.artifacts[key])
                if _is_collected(producer, key):
                    collected.append(name)
                break
        else:
            if len(selectors) > 1:
                raise InputResolutionError(f"OneOf output artifact {name!r}: none of its branches ran")
    return DagOutputs(parameters, artifacts, tuple(collected))


def collect_loop_outputs(loop_component: Mapping[str, Any], iterations: Iterable[TaskRecord]) -> DagOutputs:
    """The loop node's outputs: each iteration's outputs gathered, in iteration order, into lists."""
    spec_outputs = (loop_component.get("dag") or {}).get("outputs") or {}
    parameters: dict[str, list[Any]] = {name: [] for name in spec_outputs.get("parameters") or {}}
    artifacts: dict[str, list[dict[str, Any]]] = {name: [] for name in spec_outputs.get("artifacts") or {}}
    for iteration in iterations:
        if iteration.state not in COMPLETED_STATES:
            continue
        inner_collected = set(iteration.data.get(COLLECTED_KEY) or [])
        for name, values in parameters.items():
            if name not in iteration.parameters:
                continue
            value = iteration.parameters[name]
            if name in inner_collected and isinstance(value, list):
                values.extend(value)
            else:
                values.append(value)
        for name, values in artifacts.items():
            values.extend(iteration.artifacts.get(name) or [])
    return DagOutputs(dict(parameters), artifacts, tuple(sorted({*parameters, *artifacts})))
