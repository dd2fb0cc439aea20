"""A read-only view of an Argo Workflow (the JSON dict a KFP v1 package holds): templates by name, their kind,
and the tasks of `dag` and `steps` templates in one shape.

A `steps` template is read as a DAG: every step of group i depends on every step of group i - 1, and its
siblings are referred to as `steps.<name>` instead of `tasks.<name>`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from chalicelib.spec.argo_expressions import Depends, dependencies_as_depends, parse_depends

ARGO_API_VERSION = "argoproj.io/v1alpha1"
WORKFLOW_KIND = "Workflow"
SUPPORTED_KINDS = ("container", "dag", "steps", "resource")
UNSUPPORTED_KINDS = ("script", "suspend", "data", "http", "plugin", "containerSet")
PIPELINE_SPEC_ANNOTATION = "pipelines.kubeflow.org/pipeline_spec"
DISPLAY_NAME_ANNOTATION = "pipelines.kubeflow.org/task_display_name"


def is_workflow(document: Any) -> bool:
    """True for an Argo Workflow document (`apiVersion: argoproj.io/...`, `kind: Workflow`)."""
    return (
        isinstance(document, dict)
        and document.get("kind") == WORKFLOW_KIND
        and str(document.get("apiVersion", "")).startswith("argoproj.io/")
    )


def template_kind(template: Mapping[str, Any]) -> str:
    """The template's kind: the first of container/dag/steps/resource/... it has, or '' when none."""
    for kind in (*SUPPORTED_KINDS, *UNSUPPORTED_KINDS):
        if kind in template:
            return kind
    return ""


@dataclasses.dataclass(frozen=True)
class DagTask:
    """One task of a `dag` template (or one step of a `steps` template)."""

    name: str
    template: str
    arguments: Mapping[str, Any]
    depends: Depends | None  # None: no upstream at all
    when: str = ""
    with_items: tuple[Any, ...] | None = None
    with_param: str | None = None
    continue_on: frozenset[str] = frozenset()  # "Failed" / "Errored" results that do not fail the DAG

    @property
    def expands(self) -> bool:
        return self.with_items is not None or self.with_param is not None

    @property
    def upstream(self) -> frozenset[str]:
        return self.depends.tasks if self.depends is not None else frozenset()


def _continue_on(task: Mapping[str, Any]) -> frozenset[str]:
    continue_on = task.get("continueOn") or {}
    results = set()
    if continue_on.get("failed"):
        results.add("Failed")
    if continue_on.get("error"):
        results.add("Errored")
    return frozenset(results)


def _dag_task(task: Mapping[str, Any], depends_text: str) -> DagTask:
    with_items = task.get("withItems")
    with_param = task.get("withParam")
    return DagTask(
        name=str(task.get("name", "")),
        template=str(task.get("template", "")),
        arguments=task.get("arguments") or {},
        depends=parse_depends(depends_text) if depends_text.strip() else None,
        when=str(task.get("when") or ""),
        with_items=tuple(with_items) if isinstance(with_items, list) else None,
        with_param=str(with_param) if with_param is not None else None,
        continue_on=_continue_on(task),
    )


def _dag_tasks(template: Mapping[str, Any]) -> tuple[DagTask, ...]:
    raw_tasks = (template.get("dag") or {}).get("tasks") or []
    continues = {str(task.get("name", "")): _continue_on(task) for task in raw_tasks}
    tasks = []
    for task in raw_tasks:
        if task.get("depends"):
            text = str(task["depends"])
        else:
            text = dependencies_as_depends([str(name) for name in task.get("dependencies") or []], continues)
        tasks.append(_dag_task(task, text))
    return tuple(tasks)


def _steps_tasks(template: Mapping[str, Any]) -> tuple[DagTask, ...]:
    tasks: list[DagTask] = []
    previous: list[str] = []
    continues: dict[str, frozenset[str]] = {}
    for group in template.get("steps") or []:
        steps = group if isinstance(group, list) else [group]
        names = []
        for step in steps:
            continues[str(step.get("name", ""))] = _continue_on(step)
            tasks.append(_dag_task(step, dependencies_as_depends(previous, continues)))
            names.append(str(step.get("name", "")))
        previous = names
    return tuple(tasks)


class Workflow:
    """The workflow's templates and spec, read on demand (task lists are parsed once per template)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.spec: Mapping[str, Any] = document.get("spec") or {}
        self.metadata: Mapping[str, Any] = document.get("metadata") or {}
        self.templates: dict[str, Mapping[str, Any]] = {
            str(template.get("name", "")): template for template in self.spec.get("templates") or []
        }
        self._tasks: dict[str, tuple[DagTask, ...]] = {}

    @property
    def entrypoint(self) -> str:
        return str(self.spec.get("entrypoint") or "")

    @property
    def on_exit(self) -> str:
        return str(self.spec.get("onExit") or "")

    def template(self, name: str) -> Mapping[str, Any]:
        """The template called `name`; KeyError naming it when there is none."""
        try:
            return self.templates[name]
        except KeyError:
            raise KeyError(f"template {name!r} does not exist") from None

    def tasks(self, name: str) -> tuple[DagTask, ...]:
        """The tasks of the dag or steps template `name` (empty for other kinds)."""
        if name not in self._tasks:
            template = self.template(name)
            kind = template_kind(template)
            readers = {"dag": _dag_tasks, "steps": _steps_tasks}
            self._tasks[name] = readers[kind](template) if kind in readers else ()
        return self._tasks[name]

    def reference_prefix(self, name: str) -> str:
        """How tasks of template `name` refer to each other: `tasks` (dag) or `steps` (steps)."""
        return "steps" if template_kind(self.template(name)) == "steps" else "tasks"

    def arguments(self) -> list[Mapping[str, Any]]:
        """`spec.arguments.parameters`."""
        return list((self.spec.get("arguments") or {}).get("parameters") or [])

    def pipeline_name(self) -> str:
        """The KFP pipeline name: the pipeline_spec annotation's name, else generateName / name."""
        annotation = kfp_pipeline_spec(self.metadata)
        if annotation.get("name"):
            return str(annotation["name"])
        generated = str(self.metadata.get("generateName") or "").rstrip("-")
        return generated or str(self.metadata.get("name") or "")


def kfp_pipeline_spec(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The `pipelines.kubeflow.org/pipeline_spec` annotation as a dict (`{}` when absent or not JSON)."""
    text = (metadata.get("annotations") or {}).get(PIPELINE_SPEC_ANNOTATION)
    if not isinstance(text, str):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
