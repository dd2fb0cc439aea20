"""Pipeline specs (and a run's task records) → nested blocks for the layout. Pure.

A version's graph shows each DAG task once, groups (sub-DAGs, loops, conditions, exit handlers) as boxes around
their tasks. A run's graph is the same structure with the task ids of the records each node stands for:
a node outside loops stands for one task instance (its id is that task id); inside a collapsed loop it stands
for the task in every iteration (its id is `each:` + the path of task keys). An expanded loop (one instance,
named in `expanded`) shows one box per iteration instead, each holding that iteration's tasks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from chalicelib.dashboard.layout import Block
from chalicelib.engine import pipeline_spec
from chalicelib.engine.errors import SpecError
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.task_ids import ROOT_TASK_ID, child_task_id

_GROUP_PREFIXES = (
    ("comp-condition-branches", "branches"),
    ("comp-condition", "condition"),
    ("comp-exit-handler", "exit-handler"),
)


def unwrap_spec(struct: Mapping[str, Any]) -> Mapping[str, Any]:
    """The PipelineSpec of an API `pipeline_spec` value (which may wrap it with a platform spec)."""
    if "root" not in struct and isinstance(struct.get("pipeline_spec"), Mapping):
        return struct["pipeline_spec"]
    return struct


def node_kind(spec: Mapping[str, Any], task: Mapping[str, Any]) -> str:
    """`loop`, `condition`, `branches`, `exit-handler`, `pipeline` (a nested pipeline), `container`,
    `importer` or `task` (an executor this backend cannot run)."""
    try:
        kind = pipeline_spec.task_kind(spec, task)
    except SpecError:
        return "task"
    if kind != "dag":
        return kind
    component_name = pipeline_spec.task_component_name(task)
    return next((k for prefix, k in _GROUP_PREFIXES if component_name.startswith(prefix)), "pipeline")


def _task_facts(task: Mapping[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {"component": pipeline_spec.task_component_name(task)}
    condition = (task.get("triggerPolicy") or {}).get("condition")
    if condition:
        facts["condition"] = condition
    if pipeline_spec.trigger_strategy_completed(task):
        facts["runs_after_failures"] = True
    iterator = task.get("parameterIterator") or task.get("artifactIterator")
    if iterator:
        facts["iterator"] = iterator.get("itemInput", "")
        if (task.get("iteratorPolicy") or {}).get("parallelismLimit"):
            facts["parallelism"] = task["iteratorPolicy"]["parallelismLimit"]
    return facts


def _label(key: str, task: Mapping[str, Any]) -> str:
    return (task.get("taskInfo") or {}).get("name") or key


def _sibling_edges(
    tasks: Mapping[str, Mapping[str, Any]], ids: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    return tuple(
        (ids[upstream], ids[key])
        for key, task in tasks.items()
        for upstream in pipeline_spec.upstream_keys(task)
        if upstream in ids
    )


def version_graph(struct: Mapping[str, Any]) -> Block:
    """The block tree of a pipeline spec: node ids are `/`-joined task key paths."""
    spec = unwrap_spec(struct)
    return Block(
        "root",
        "root",
        "pipeline",
        children=_spec_children(spec, "root", ""),
        edges=_spec_edges(spec, "root", ""),
    )


def _spec_children(spec: Mapping[str, Any], component_name: str, path: str) -> tuple[Block, ...]:
    blocks = []
    for key, task in pipeline_spec.dag_tasks(_component(spec, component_name)).items():
        node_id = f"{path}/{key}" if path else key
        kind = node_kind(spec, task)
        inner = pipeline_spec.task_component_name(task)
        children = _spec_children(spec, inner, node_id) if _is_group(kind) else ()
        edges = _spec_edges(spec, inner, node_id) if children else ()
        data = {"task": key, **_task_facts(task)}
        blocks.append(
            Block(node_id, _label(key, task), kind, children, edges, is_group=_is_group(kind), data=data)
        )
    return tuple(blocks)


def _spec_edges(spec: Mapping[str, Any], component_name: str, path: str) -> tuple[tuple[str, str], ...]:
    tasks = pipeline_spec.dag_tasks(_component(spec, component_name))
    return _sibling_edges(tasks, {key: f"{path}/{key}" if path else key for key in tasks})


def _component(spec: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    try:
        return pipeline_spec.component(spec, name)
    except SpecError:
        return {}


def _is_group(kind: str) -> bool:
    return kind in ("loop", "condition", "branches", "exit-handler", "pipeline")


def run_graph(
    struct: Mapping[str, Any], records: Mapping[str, TaskRecord], expanded: Collection[str]
) -> Block:
    """The block tree of a run: the spec's structure with, on each node, `task_ids` (the records it stands
    for, existing ones only), `instances` (how many task instances it stands for so far) and, on loops,
    `iterations` and whether the node can be or is `expanded`."""
    spec = unwrap_spec(struct)
    children_of: dict[str, list[TaskRecord]] = {}
    for record in records.values():
        children_of.setdefault(record.parent_id, []).append(record)
    builder = _RunGraph(spec, records, children_of, frozenset(expanded))
    children, edges = builder.children("root", [ROOT_TASK_ID], "")
    return Block("root", "root", "pipeline", children=children, edges=edges)


class _RunGraph:
    def __init__(
        self,
        spec: Mapping[str, Any],
        records: Mapping[str, TaskRecord],
        children_of: Mapping[str, list[TaskRecord]],
        expanded: frozenset[str],
    ) -> None:
        self.spec, self.records, self.children_of, self.expanded = spec, records, children_of, expanded

    def children(
        self, component_name: str, instances: Sequence[str], path: str
    ) -> tuple[tuple[Block, ...], tuple[tuple[str, str], ...]]:
        tasks = pipeline_spec.dag_tasks(_component(self.spec, component_name))
        ids = {key: self._node_id(instances, path, key) for key in tasks}
        blocks = tuple(self._block(key, task, instances, path, ids[key]) for key, task in tasks.items())
        return blocks, _sibling_edges(tasks, ids)

    @staticmethod
    def _node_id(instances: Sequence[str], path: str, key: str) -> str:
        if len(instances) == 1:
            return child_task_id(instances[0], key)
        return f"each:{path}/{key}" if path else f"each:{key}"

    def _block(
        self, key: str, task: Mapping[str, Any], instances: Sequence[str], path: str, node_id: str
    ) -> Block:
        kind = node_kind(self.spec, task)
        task_ids = [child_task_id(instance, key) for instance in instances]
        present = [task_id for task_id in task_ids if task_id in self.records]
        data: dict[str, Any] = {
            "task": key,
            "task_ids": present,
            "instances": len(task_ids),
            **_task_facts(task),
        }
        inner_path = f"{path}/{key}" if path else key
        inner = pipeline_spec.task_component_name(task)
        if kind == "loop":
            iterations = [
                record.task_id
                for loop_id in present
                for record in sorted(self.children_of.get(loop_id, []), key=lambda r: r.iteration_index or 0)
                if record.kind == "iteration"
            ]
            data["iterations"] = len(iterations)
            data["expandable"] = len(present) == 1 and bool(iterations)
            if data["expandable"] and node_id in self.expanded:
                data["expanded"] = True
                return Block(
                    node_id,
                    _label(key, task),
                    kind,
                    children=tuple(self._iteration(inner, iteration, inner_path) for iteration in iterations),
                    grid=True,
                    is_group=True,
                    data=data,
                )
            children, edges = self.children(inner, iterations, inner_path)
        elif _is_group(kind):
            children, edges = self.children(inner, task_ids, inner_path)
        else:
            children, edges = (), ()
        return Block(node_id, _label(key, task), kind, children, edges, is_group=_is_group(kind), data=data)

    def _iteration(self, component_name: str, iteration_id: str, path: str) -> Block:
        record = self.records[iteration_id]
        children, edges = self.children(component_name, [iteration_id], f"{path}/{record.iteration_index}")
        data = {"task_ids": [iteration_id], "instances": 1, "iteration": record.iteration_index}
        label = f"iteration {record.iteration_index}"
        return Block(iteration_id, label, "iteration", children, edges, is_group=True, data=data)
