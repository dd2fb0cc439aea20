"""Structural checks of a (schema-valid) PipelineSpec dict that the protobuf schema cannot express.

Each check returns a list of human-readable problems; an empty list means the spec passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

SUPPORTED_SCHEMA_VERSIONS = frozenset({"2.0.0", "2.1.0"})
_NAME_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
ROOT = "root"


def header_problems(spec: dict[str, Any]) -> list[str]:
    """Return problems with `pipelineInfo.name`, `schemaVersion` and the presence of `root`."""
    problems = []
    name = (spec.get("pipelineInfo") or {}).get("name")
    if not name:
        problems.append("pipelineInfo.name is required (lower-case alphanumerics, '-' or '.')")
    elif not _NAME_PATTERN.fullmatch(name):
        problems.append(
            f"pipelineInfo.name '{name}' is invalid: use lower-case alphanumerics, '-' or '.', "
            "starting and ending with an alphanumeric"
        )
    version = spec.get("schemaVersion")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        supported = ", ".join(sorted(SUPPORTED_SCHEMA_VERSIONS))
        problems.append(f"schemaVersion {version!r} is not supported (supported: {supported})")
    if not spec.get("root"):
        problems.append("root is required: the pipeline has no root component")
    return problems


def component_problems(spec: dict[str, Any]) -> list[str]:
    """Return problems in `root` and every component: implementation, executor labels and DAG references."""
    components = spec.get("components") or {}
    executors = (spec.get("deploymentSpec") or {}).get("executors") or {}
    problems: list[str] = []
    for name, component in _all_components(spec):
        where = "root" if name == ROOT else f"component '{name}'"
        has_dag = "dag" in component
        label = component.get("executorLabel")
        if has_dag and label:
            problems.append(f"{where} has both a dag and executorLabel '{label}'")
        elif not has_dag and not label:
            problems.append(f"{where} has neither a dag nor an executorLabel")
        if label and label not in executors:
            problems.append(f"{where} has executorLabel '{label}' not defined in deploymentSpec.executors")
        if has_dag:
            problems.extend(_dag_problems(component.get("dag") or {}, where, components, executors))
    problems.extend(_component_cycle_problems(components))
    return problems


def executor_problems(spec: dict[str, Any]) -> list[str]:
    """Return problems with `deploymentSpec.executors`: the deprecated, GCP-only customJob is refused."""
    executors = (spec.get("deploymentSpec") or {}).get("executors") or {}
    return [
        f"executor '{label}' is a customJob, which is deprecated and GCP-only; it is not supported"
        for label, executor in executors.items()
        if "customJob" in (executor or {})
    ]


def _all_components(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    root = spec.get("root")
    if isinstance(root, dict) and root:
        yield ROOT, root
    for name, component in (spec.get("components") or {}).items():
        yield name, component or {}


def _dag_problems(
    dag: dict[str, Any], where: str, components: dict[str, Any], executors: dict[str, Any]
) -> list[str]:
    tasks: dict[str, Any] = dag.get("tasks") or {}
    problems: list[str] = []
    for task_name, task in tasks.items():
        task = task or {}
        ref = (task.get("componentRef") or {}).get("name")
        if not ref:
            problems.append(f"task '{task_name}' in {where} has no componentRef.name")
        elif ref not in components:
            problems.append(f"task '{task_name}' in {where} references undefined component '{ref}'")
        elif _is_importer(components[ref], executors) and (task.get("triggerPolicy") or {}).get("condition"):
            problems.append(
                f"task '{task_name}' in {where}: a condition on an importer task is not supported"
            )
        for field, producer in _task_references(task):
            if producer == task_name and field == "dependentTasks":
                problems.append(f"task '{task_name}' in {where} depends on itself")
            elif producer not in tasks:
                problems.append(
                    f"task '{task_name}' in {where} has {field} '{producer}', which is not a task in the same DAG"
                )
    for field, producer in _dag_output_references(dag.get("outputs") or {}):
        if producer not in tasks:
            problems.append(f"{where} dag.outputs {field} '{producer}' is not a task in the same DAG")
    cycle = _find_cycle({name: _upstream(task or {}, tasks) for name, task in tasks.items()})
    if cycle:
        problems.append(f"cycle in the DAG of {where}: " + " -> ".join(f"'{name}'" for name in cycle))
    return problems


def _is_importer(component: dict[str, Any], executors: dict[str, Any]) -> bool:
    label = (component or {}).get("executorLabel")
    return bool(label) and "importer" in (executors.get(label) or {})


def _task_references(task: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (field, task name) for every sibling task `task` names."""
    for upstream in task.get("dependentTasks") or []:
        yield "dependentTasks", upstream
    inputs = task.get("inputs") or {}
    for parameter in (inputs.get("parameters") or {}).values():
        parameter = parameter or {}
        for kind in ("taskOutputParameter", "taskFinalStatus"):
            producer = (parameter.get(kind) or {}).get("producerTask")
            if producer:
                yield f"{kind}.producerTask", producer
    for artifact in (inputs.get("artifacts") or {}).values():
        producer = ((artifact or {}).get("taskOutputArtifact") or {}).get("producerTask")
        if producer:
            yield "taskOutputArtifact.producerTask", producer


def _dag_output_references(outputs: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for parameter in (outputs.get("parameters") or {}).values():
        parameter = parameter or {}
        selectors = [parameter.get("valueFromParameter") or {}]
        selectors += (parameter.get("valueFromOneof") or {}).get("parameterSelectors") or []
        for selector in selectors:
            if selector.get("producerSubtask"):
                yield "producerSubtask", selector["producerSubtask"]
    for artifact in (outputs.get("artifacts") or {}).values():
        for selector in (artifact or {}).get("artifactSelectors") or []:
            if selector.get("producerSubtask"):
                yield "producerSubtask", selector["producerSubtask"]


def _upstream(task: dict[str, Any], tasks: dict[str, Any]) -> list[str]:
    return sorted({name for _, name in _task_references(task) if name in tasks})


def _component_cycle_problems(components: dict[str, Any]) -> list[str]:
    """A component whose DAG (transitively) contains itself would expand forever."""
    uses = {
        name: sorted(
            {
                ((task or {}).get("componentRef") or {}).get("name")
                for task in (((component or {}).get("dag") or {}).get("tasks") or {}).values()
            }
            & set(components)
        )
        for name, component in components.items()
    }
    cycle = _find_cycle(uses)
    if cycle:
        return ["component contains itself: " + " -> ".join(f"'{name}'" for name in cycle)]
    return []


def _find_cycle(edges: dict[str, list[str]]) -> list[str]:
    """Return one cycle in the directed graph `edges` as [a, b, ..., a], or [] when it is acyclic."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(edges):
        if start in state:
            continue
        path = [start]
        stack = [iter(edges.get(start, []))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(edges.get(nxt, [])))
    return []
