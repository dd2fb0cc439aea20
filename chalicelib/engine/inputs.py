"""Task input resolution in the parent scope (kfp-ir.md §1.8, mirroring the backend's `driver/resolve.go`).

Order: resolve every input (component inputs, sibling outputs, constants, final status), apply
`parameterExpressionSelector`s, substitute value placeholders in constants (f-strings see the other inputs),
then coerce to the component's declared types and apply defaults. Outputs of a producer that did not complete
(failed, skipped, cancelled) are absent, so `.ignore_upstream_failure()` consumers fall back to defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chalicelib.engine import pipeline_spec
from chalicelib.engine.conditions import apply_selector
from chalicelib.engine.errors import ConditionError, InputResolutionError
from chalicelib.engine.final_status import task_final_status
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.parameter_types import apply_declarations
from chalicelib.engine.placeholders import TaskIdentity, substitute_value
from chalicelib.engine.scopes import RecordLookup, Scope
from chalicelib.engine.task_ids import child_task_id
from chalicelib.task_contract import TaskState

COMPLETED_STATES = frozenset({TaskState.SUCCEEDED, TaskState.CACHED})


@dataclasses.dataclass(frozen=True)
class ResolvedInputs:
    parameters: dict[str, Any]
    artifacts: dict[str, list[dict[str, Any]]]


def _producer(scope: Scope, lookup: RecordLookup, producer_key: str) -> TaskRecord | None:
    return lookup(child_task_id(scope.node_id, producer_key))


def resolve_parameter_source(
    name: str,
    spec_input: Mapping[str, Any],
    scope: Scope,
    lookup: RecordLookup,
    identity: TaskIdentity,
) -> tuple[bool, Any]:
    """(present, value) of one input parameter before selectors and placeholders."""
    if "componentInputParameter" in spec_input:
        source = spec_input["componentInputParameter"]
        return source in scope.parameters, scope.parameters.get(source)
    if "taskOutputParameter" in spec_input:
        reference = spec_input["taskOutputParameter"]
        producer = _producer(scope, lookup, reference.get("producerTask", ""))
        key = reference.get("outputParameterKey", "")
        if producer is None or producer.state not in COMPLETED_STATES or key not in producer.parameters:
            return False, None
        return True, producer.parameters[key]
    if "runtimeValue" in spec_input:
        runtime_value = spec_input["runtimeValue"]
        if "constant" in runtime_value:
            return True, runtime_value["constant"]
        if "constantValue" in runtime_value:  # pre-2.0 IR wraps the constant in a Value message
            return True, next(iter(runtime_value["constantValue"].values()), None)
        raise InputResolutionError(f"input {name!r}: unsupported runtimeValue {sorted(runtime_value)}")
    if "taskFinalStatus" in spec_input:
        producer_key = spec_input["taskFinalStatus"].get("producerTask", "")
        producer = _producer(scope, lookup, producer_key)
        return True, task_final_status(producer_key, producer, identity.job_resource_name)
    raise InputResolutionError(f"input {name!r}: unsupported parameter source {sorted(spec_input)}")


def _resolve_artifact(
    name: str, spec_input: Mapping[str, Any], scope: Scope, lookup: RecordLookup
) -> list[dict[str, Any]]:
    if "componentInputArtifact" in spec_input:
        return list(scope.artifacts.get(spec_input["componentInputArtifact"]) or [])
    if "taskOutputArtifact" in spec_input:
        reference = spec_input["taskOutputArtifact"]
        producer = _producer(scope, lookup, reference.get("producerTask", ""))
        if producer is None or producer.state not in COMPLETED_STATES:
            return []
        return list(producer.artifacts.get(reference.get("outputArtifactKey", "")) or [])
    raise InputResolutionError(f"input artifact {name!r}: unsupported source {sorted(spec_input)}")


def resolve_raw_inputs(
    scope: Scope, task_key: str, task: Mapping[str, Any], lookup: RecordLookup, identity: TaskIdentity
) -> ResolvedInputs:
    """The task's inputs before its component's declarations (types, defaults) are applied.

    Absent values (missing component inputs, outputs of producers that did not complete, nulls) are left out.
    Raises InputResolutionError (selector errors included) with the task and input named.
    """
    spec_inputs = task.get("inputs") or {}
    parameters: dict[str, Any] = {}
    constants: list[str] = []
    for name, spec_input in (spec_inputs.get("parameters") or {}).items():
        present, value = resolve_parameter_source(name, spec_input, scope, lookup, identity)
        if not present or value is None:
            continue
        selector = spec_input.get("parameterExpressionSelector")
        if selector:
            try:
                value = apply_selector(selector, value)
            except ConditionError as error:
                raise InputResolutionError(f"task {task_key!r} input {name!r}: {error}") from error
        parameters[name] = value
        if "runtimeValue" in spec_input:
            constants.append(name)
    for name in constants:
        others = {key: value for key, value in parameters.items() if key != name}
        parameters[name] = substitute_value(parameters[name], others, identity)
    artifacts = {
        name: _resolve_artifact(name, spec_input, scope, lookup)
        for name, spec_input in (spec_inputs.get("artifacts") or {}).items()
    }
    return ResolvedInputs(parameters, {name: value for name, value in artifacts.items() if value})


def declare_inputs(
    input_definitions: Mapping[str, Any] | None, raw: ResolvedInputs, task_key: str
) -> ResolvedInputs:
    """Coerce to declared types, apply defaults and check required inputs; errors name the task."""
    try:
        parameters, artifacts = apply_declarations(
            dict(input_definitions or {}), raw.parameters, raw.artifacts
        )
    except InputResolutionError as error:
        raise InputResolutionError(f"task {task_key!r}: {error}") from error
    return ResolvedInputs(parameters, artifacts)


def resolve_task_inputs(
    spec: Mapping[str, Any],
    scope: Scope,
    task_key: str,
    task: Mapping[str, Any],
    lookup: RecordLookup,
    identity: TaskIdentity,
) -> ResolvedInputs:
    """The inputs of a (non-loop) task's component, ready for a TaskSpec or a child scope."""
    raw = resolve_raw_inputs(scope, task_key, task, lookup, identity)
    spec_component = pipeline_spec.component(spec, pipeline_spec.task_component_name(task))
    return declare_inputs(spec_component.get("inputDefinitions"), raw, task_key)
