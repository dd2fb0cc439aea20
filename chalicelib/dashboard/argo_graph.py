"""KFP v1 (Argo Workflow) specs, and a v1 run's task records, → nested blocks for the layout. Pure.

The same picture as `graph.py` draws for v2 specs: a `dag` or `steps` template called by a task is a box
around its tasks (a `steps` template reads as a DAG whose groups follow each other), a task with `withItems`
or `withParam` is a loop box, one with `when` calling a DAG a condition box, container and resource templates are cards, and the workflow's `onExit`
template is an exit-handler box beside the rest. Node ids are those of the run's task records (`root.<task>`,
`<loop>.<index>` for iterations, `onexit` for the exit handler), so the browser colours them from the run
like a v2 run's. A template that calls itself is drawn once per level a run reached (a version's graph
stops at the first repeat).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from chalicelib.dashboard.layout import Block
from chalicelib.engine.argo.records import GENERATION_KEY, exit_handler_id
from chalicelib.engine.argo.steps import display_name
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.task_ids import ROOT_TASK_ID, child_task_id
from chalicelib.spec.argo_workflow import DagTask, Workflow, template_kind

_GROUP_TEMPLATES = ("dag", "steps")


def argo_version_graph(document: Mapping[str, Any]) -> Block:
    """The block tree of an Argo workflow: node ids are `/`-joined task name paths."""
    return _ArgoGraph(Workflow(document), {}, {}, frozenset()).root()


def argo_run_graph(
    document: Mapping[str, Any], records: Mapping[str, TaskRecord], expanded: Collection[str]
) -> Block:
    """The block tree of a v1 run, with `task_ids`, `instances` and loop `iterations` on its nodes as
    `graph.run_graph` gives them."""
    children_of: dict[str, list[TaskRecord]] = {}
    for record in records.values():
        children_of.setdefault(record.parent_id, []).append(record)
    return _ArgoGraph(Workflow(document), records, children_of, frozenset(expanded), run=True).root()


class _ArgoGraph:
    def __init__(
        self,
        workflow: Workflow,
        records: Mapping[str, TaskRecord],
        children_of: Mapping[str, list[TaskRecord]],
        expanded: frozenset[str],
        run: bool = False,
    ) -> None:
        self.workflow, self.records, self.children_of = workflow, records, children_of
        self.expanded, self.run = expanded, run

    def root(self) -> Block:
        entry = self.workflow.entrypoint
        if self._kind(entry) in _GROUP_TEMPLATES:
            children, edges = self.children(entry, [ROOT_TASK_ID], "", frozenset({entry}))
        else:
            children, edges = (
                (self._leaf(ROOT_TASK_ID if self.run else entry, entry, entry, [ROOT_TASK_ID]),),
                (),
            )
        if self.workflow.on_exit:
            children = (*children, self._exit_handler())
        return Block("root", "root", "pipeline", children=children, edges=edges)

    def _template(self, name: str) -> Mapping[str, Any]:
        return self.workflow.templates.get(name) or {}

    def _kind(self, template_name: str) -> str:
        return template_kind(self._template(template_name))

    def _tasks(self, template_name: str) -> tuple[DagTask, ...]:
        try:
            return self.workflow.tasks(template_name)
        except (KeyError, ValueError):
            return ()

    def children(
        self, template_name: str, instances: Sequence[str], path: str, ancestry: frozenset[str]
    ) -> tuple[tuple[Block, ...], tuple[tuple[str, str], ...]]:
        tasks = self._tasks(template_name)
        ids = {task.name: self._node_id(instances, path, task.name) for task in tasks}
        blocks = tuple(self._block(task, instances, path, ids[task.name], ancestry) for task in tasks)
        edges = tuple(
            (ids[upstream], ids[task.name])
            for task in tasks
            for upstream in sorted(task.upstream)
            if upstream in ids
        )
        return blocks, edges

    def _node_id(self, instances: Sequence[str], path: str, name: str) -> str:
        if not self.run:
            return f"{path}/{name}" if path else name
        if len(instances) == 1:
            return child_task_id(instances[0], name)
        return f"each:{path}/{name}" if path else f"each:{name}"

    def _present(self, task_ids: Sequence[str]) -> list[str]:
        return [task_id for task_id in task_ids if task_id in self.records]

    def _facts(self, task: DagTask) -> dict[str, Any]:
        facts: dict[str, Any] = {"task": task.name, "component": task.template}
        if task.when:
            facts["condition"] = task.when
        if task.expands:
            facts["iterator"] = task.with_param if task.with_param is not None else "withItems"
        return facts

    def _label(self, task: DagTask) -> str:
        return display_name(self._template(task.template), task.name)

    def _block(
        self, task: DagTask, instances: Sequence[str], path: str, node_id: str, ancestry: frozenset[str]
    ) -> Block:
        task_ids = [child_task_id(instance, task.name) for instance in instances]
        present = self._present(task_ids)
        data: dict[str, Any] = {**self._facts(task), "task_ids": present, "instances": len(task_ids)}
        inner_path = f"{path}/{task.name}" if path else task.name
        if task.expands:
            return self._loop(task, node_id, present, inner_path, ancestry, data)
        if self._kind(task.template) in _GROUP_TEMPLATES and self._descend(task.template, ancestry, present):
            children, edges = self.children(task.template, task_ids, inner_path, ancestry | {task.template})
            kind = (
                "condition" if task.when else "pipeline"
            )  # kfp 1.x compiles dsl.Condition to a dag with `when`
            return Block(node_id, self._label(task), kind, children, edges, is_group=True, data=data)
        return Block(node_id, self._label(task), _leaf_kind(self._kind(task.template)), data=data)

    def _descend(self, template_name: str, ancestry: frozenset[str], present: Sequence[str]) -> bool:
        """Draw a group template's tasks: always the first time on a path, again (recursion) only where the run
        reached it."""
        return template_name not in ancestry or (self.run and bool(present))

    def _loop(
        self,
        task: DagTask,
        node_id: str,
        present: Sequence[str],
        inner_path: str,
        ancestry: frozenset[str],
        data: dict[str, Any],
    ) -> Block:
        iterations = [
            record.task_id
            for loop_id in present
            for record in sorted(self.children_of.get(loop_id, []), key=lambda r: r.iteration_index or 0)
            if record.iteration_index is not None
        ]
        if self.run:
            data["iterations"] = len(iterations)
            data["expandable"] = len(present) == 1 and bool(iterations)
        body_is_group = self._kind(task.template) in _GROUP_TEMPLATES and task.template not in ancestry
        inner_ancestry = ancestry | {task.template}
        if data.get("expandable") and node_id in self.expanded:
            data["expanded"] = True
            blocks = tuple(
                self._iteration(task, iteration, inner_path, body_is_group, inner_ancestry)
                for iteration in iterations
            )
            return Block(node_id, self._label(task), "loop", blocks, grid=True, is_group=True, data=data)
        if body_is_group:
            children, edges = self.children(task.template, iterations, inner_path, inner_ancestry)
        else:
            body_id = f"each:{inner_path}" if self.run else f"{inner_path}/{task.template}"
            body = {"task": task.name, "component": task.template, "task_ids": iterations}
            body["instances"] = len(iterations)
            kind = _leaf_kind(self._kind(task.template))
            children, edges = (Block(body_id, self._label(task), kind, data=body),), ()
        return Block(node_id, self._label(task), "loop", children, edges, is_group=True, data=data)

    def _iteration(
        self, task: DagTask, iteration_id: str, path: str, body_is_group: bool, ancestry: frozenset[str]
    ) -> Block:
        record = self.records[iteration_id]
        data = {"task_ids": [iteration_id], "instances": 1, "iteration": record.iteration_index}
        label = f"iteration {record.iteration_index}"
        if body_is_group:
            children, edges = self.children(
                task.template, [iteration_id], f"{path}/{record.iteration_index}", ancestry
            )
            return Block(iteration_id, label, "iteration", children, edges, is_group=True, data=data)
        return Block(iteration_id, label, _leaf_kind(self._kind(task.template)), data=data)

    def _leaf(self, node_id: str, label: str, template_name: str, task_ids: Sequence[str]) -> Block:
        present = self._present(task_ids)
        data = {"task": template_name, "component": template_name, "task_ids": present, "instances": 1}
        return Block(node_id, label, _leaf_kind(self._kind(template_name)), data=data)

    def _exit_handler(self) -> Block:
        on_exit = self.workflow.on_exit
        root = self.records.get(ROOT_TASK_ID)
        generation = int((root.data if root else {}).get(GENERATION_KEY) or 0)
        exit_id = exit_handler_id(generation) if self.run else "onexit"
        present = self._present([exit_id])
        data = {"task": on_exit, "component": on_exit, "task_ids": present, "instances": 1}
        if self._kind(on_exit) in _GROUP_TEMPLATES:
            children, edges = self.children(on_exit, [exit_id], "onexit", frozenset({on_exit}))
            return Block(exit_id, on_exit, "exit-handler", children, edges, is_group=True, data=data)
        card = Block(exit_id, on_exit, _leaf_kind(self._kind(on_exit)), data=data)
        return Block("exit-handler", on_exit, "exit-handler", (card,), is_group=True, data={"task_ids": []})


def _leaf_kind(kind: str) -> str:
    """Cards: `container` for container and resource templates, `task` for kinds this backend cannot run."""
    return "container" if kind in ("container", "resource") else "task"
