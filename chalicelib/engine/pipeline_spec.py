"""Read-only navigation of a PipelineSpec given as a plain dict (camelCase keys, as in the compiled YAML)."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Any

from chalicelib.engine.errors import SpecError

ROOT_COMPONENT = "root"
ALL_UPSTREAM_TASKS_COMPLETED = "ALL_UPSTREAM_TASKS_COMPLETED"


def component(spec: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The ComponentSpec `name` (`root` is the pipeline's root component)."""
    if name == ROOT_COMPONENT:
        return spec.get("root") or {}
    found = (spec.get("components") or {}).get(name)
    if found is None:
        raise SpecError(f"component {name!r} is not defined in the pipeline spec")
    return found


def dag_tasks(spec_component: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The tasks of a DAG component, by task key (empty for an executor component)."""
    return (spec_component.get("dag") or {}).get("tasks") or {}


def task_component_name(task: Mapping[str, Any]) -> str:
    return (task.get("componentRef") or {}).get("name", "")


def executor(spec: Mapping[str, Any], spec_component: Mapping[str, Any]) -> dict[str, Any]:
    """The `deploymentSpec.executors` entry of an executor component."""
    label = spec_component.get("executorLabel", "")
    executors = (spec.get("deploymentSpec") or {}).get("executors") or {}
    if label not in executors:
        raise SpecError(f"executor {label!r} is not defined in deploymentSpec.executors")
    return executors[label]


def task_kind(spec: Mapping[str, Any], task: Mapping[str, Any]) -> str:
    """`loop`, `dag`, `container` or `importer` for a DAG task; other executors raise SpecError."""
    if "parameterIterator" in task or "artifactIterator" in task:
        return "loop"
    spec_component = component(spec, task_component_name(task))
    if "dag" in spec_component:
        return "dag"
    spec_executor = executor(spec, spec_component)
    if "container" in spec_executor:
        return "container"
    if "importer" in spec_executor:
        return "importer"
    kind = next(iter(spec_executor), "nothing")
    raise SpecError(f"executor {spec_component.get('executorLabel')!r} uses {kind!r}, which is not supported")


def trigger_strategy_completed(task: Mapping[str, Any]) -> bool:
    """True for `ALL_UPSTREAM_TASKS_COMPLETED` (exit handlers and `.ignore_upstream_failure()`)."""
    return (task.get("triggerPolicy") or {}).get("strategy") == ALL_UPSTREAM_TASKS_COMPLETED


def upstream_keys(task: Mapping[str, Any]) -> list[str]:
    """`dependentTasks` plus every sibling named as a producer in the task's inputs (the backend re-adds those)."""
    keys = list(task.get("dependentTasks") or [])
    inputs = task.get("inputs") or {}
    for spec_input in (inputs.get("parameters") or {}).values():
        for field in ("taskOutputParameter", "taskFinalStatus"):
            producer = (spec_input.get(field) or {}).get("producerTask")
            if producer:
                keys.append(producer)
    for spec_input in (inputs.get("artifacts") or {}).values():
        producer = (spec_input.get("taskOutputArtifact") or {}).get("producerTask")
        if producer:
            keys.append(producer)
    return list(dict.fromkeys(keys))


def topological_order(tasks: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Task keys ordered so that every task comes after its upstream siblings; ties broken by key."""
    upstream = {key: [u for u in upstream_keys(task) if u in tasks] for key, task in tasks.items()}
    downstream: dict[str, list[str]] = {key: [] for key in tasks}
    waiting = {key: len(ups) for key, ups in upstream.items()}
    for key, ups in upstream.items():
        for up in ups:
            downstream[up].append(key)
    ready = [key for key, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        key = heapq.heappop(ready)
        order.append(key)
        for down in downstream[key]:
            waiting[down] -= 1
            if waiting[down] == 0:
                heapq.heappush(ready, down)
    if len(order) != len(tasks):
        cycle = sorted(set(tasks) - set(order))
        raise SpecError(f"tasks {cycle} depend on each other in a cycle")
    return order
