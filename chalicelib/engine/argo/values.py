"""What `{{...}}` variables stand for in a run of a KFP v1 workflow: workflow-wide values, the scope of one DAG
instance (its inputs and its tasks' outputs), and loop items.

Argo's values are strings. Artifacts are not strings: `{{tasks.t.outputs.artifacts.a}}` in an argument's `from`
is looked up in `Scope.artifacts` instead.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from chalicelib.engine.model import RunInput, TaskRecord
from chalicelib.spec.argo_workflow import Workflow
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import parse_time

MAX_WORKFLOW_NAME_BASE = 57  # + 5 characters of suffix + '-' stays a valid label value (63)
_STRFTIME_LETTERS = "YmdHMSjUWaAbBcpyIfzZ"


def workflow_name(workflow: Workflow, run_id: str) -> str:
    """`{{workflow.name}}`: `generateName` (or `name-`) plus five characters derived from the run id, so every
    run has its own (KFP always lets Argo generate the name)."""
    base = str(workflow.metadata.get("generateName") or "")
    if not base:
        base = f"{workflow.metadata.get('name') or 'workflow'}-"
    suffix = hashlib.sha256(run_id.encode()).hexdigest()[:5]
    return f"{base[:MAX_WORKFLOW_NAME_BASE]}{suffix}"


def parameter_values(workflow: Workflow, run: RunInput) -> dict[str, str]:
    """The workflow's parameters: `spec.arguments.parameters` values overridden by the run's parameters."""
    values = {
        str(parameter["name"]): format_value(parameter["value"])
        for parameter in workflow.arguments()
        if "value" in parameter
    }
    values.update({name: format_value(value) for name, value in run.parameters.items() if value is not None})
    return values


def global_values(workflow: Workflow, run: RunInput, now: datetime.datetime) -> dict[str, str]:
    """`{{workflow.*}}` values for a run (`workflow.status` / `workflow.failures` are added for exit handlers)."""
    values = {
        "workflow.name": workflow_name(workflow, run.run_id),
        "workflow.uid": run.run_id,
        "workflow.namespace": run.namespace,
        "workflow.serviceAccountName": str(workflow.spec.get("serviceAccountName") or ""),
        "workflow.mainEntrypoint": workflow.entrypoint,
        "workflow.priority": str(workflow.spec.get("priority") or 0),
    }
    if run.created_at:
        created = parse_time(run.created_at)
        values["workflow.creationTimestamp"] = run.created_at
        values.update(
            {
                f"workflow.creationTimestamp.{letter}": created.strftime(f"%{letter}")
                for letter in _STRFTIME_LETTERS
            }
        )
        values["workflow.creationTimestamp.s"] = str(int(created.timestamp()))
        values["workflow.duration"] = f"{max((now - created).total_seconds(), 0.0):g}"
    if run.scheduled_at:
        values["workflow.scheduledTime"] = run.scheduled_at
    for name, value in parameter_values(workflow, run).items():
        values[f"workflow.parameters.{name}"] = value
    for kind in ("annotations", "labels"):
        for key, value in (workflow.metadata.get(kind) or {}).items():
            values[f"workflow.{kind}.{key}"] = str(value)
    return values


def format_value(value: Any) -> str:
    """A JSON value as Argo's string: strings as they are, numbers and booleans as JSON, lists/maps as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, separators=(",", ":")) if isinstance(value, list | dict) else json.dumps(value)


@dataclasses.dataclass(frozen=True)
class Scope:
    """The variables of one DAG instance: string values by key and artifacts by key."""

    values: Mapping[str, str]
    artifacts: Mapping[str, dict[str, Any]]

    def with_values(self, extra: Mapping[str, str]) -> Scope:
        return Scope({**self.values, **extra}, self.artifacts)


def inputs_scope(
    globals_: Mapping[str, str], parameters: Mapping[str, str], artifacts: Mapping[str, dict[str, Any]]
) -> Scope:
    """Workflow values plus a template's resolved inputs."""
    values = dict(globals_)
    values.update({f"inputs.parameters.{name}": value for name, value in parameters.items()})
    return Scope(values, {f"inputs.artifacts.{name}": artifact for name, artifact in artifacts.items()})


def add_task_outputs(
    scope: Scope, prefix: str, name: str, record: TaskRecord, iterations: list[TaskRecord] | None = None
) -> Scope:
    """`scope` plus the outputs of sibling task `name` (`tasks.<name>...` or `steps.<name>...`).

    A loop (`iterations` given) offers Argo's aggregates: `outputs.parameters` as a JSON list of each
    iteration's parameter map, and `outputs.parameters.<p>` as a JSON list of that parameter's values.
    """
    base = f"{prefix}.{name}"
    values = dict(scope.values)
    artifacts = dict(scope.artifacts)
    values[f"{base}.id"] = record.task_id
    values[f"{base}.status"] = argo_phase(record)
    if iterations is not None:
        done = [item for item in iterations if item.state in (TaskState.SUCCEEDED, TaskState.CACHED)]
        keys = sorted({key for item in done for key in item.parameters})
        for key in keys:
            values[f"{base}.outputs.parameters.{key}"] = json.dumps(
                [item.parameters.get(key) for item in done if key in item.parameters]
            )
        values[f"{base}.outputs.parameters"] = json.dumps([dict(item.parameters) for item in done])
        return Scope(values, artifacts)
    for key, value in record.parameters.items():
        values[f"{base}.outputs.parameters.{key}"] = format_value(value)
    for key, found in record.artifacts.items():
        if found:
            artifacts[f"{base}.outputs.artifacts.{key}"] = found[0]
    return Scope(values, artifacts)


PHASE_KEY = "phase"


def argo_phase(record: TaskRecord) -> str:
    """The Argo node phase of a record: Pending, Running, Succeeded, Skipped, Failed, Error."""
    if record.state in (TaskState.SUCCEEDED, TaskState.CACHED):
        return "Succeeded"
    if record.state is TaskState.SKIPPED:
        return "Skipped"
    if record.state in (TaskState.FAILED, TaskState.CANCELED):
        return str(record.data.get(PHASE_KEY) or "Failed")
    if record.state is TaskState.PENDING:
        return "Pending"
    return "Running"


# ---- loop items ------------------------------------------------------------------------------------------------


def item_values(item: Any) -> dict[str, str]:
    """`{{item}}` and `{{item.<key>}}` for one loop item (maps: JSON for `item`, one key per field)."""
    values = {"item": format_value(item)}
    if isinstance(item, dict):
        values.update({f"item.{key}": format_value(value) for key, value in item.items()})
    return values


def item_label(item: Any) -> str:
    """How Argo writes an item in a node name: `a:1,b:2` for maps (sorted keys), the value otherwise."""
    if isinstance(item, dict):
        return ",".join(sorted(f"{key}:{format_value(value)}" for key, value in item.items()))
    return format_value(item)
