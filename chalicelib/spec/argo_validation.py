"""KFP v1 packages: Argo Workflows (`apiVersion: argoproj.io/v1alpha1`, `kind: Workflow`) as the kfp 1.8 compiler
writes them, checked before anything is stored.

Checked: the entrypoint and `onExit` name templates; every template has exactly one supported kind
(container, dag, steps, resource); every DAG task names an existing template and existing sibling tasks, its
`dependencies`/`depends` form no cycle (recursion through templates is legal: a graph component calls itself),
its `when` parses, `withItems` is a list and `withParam` a string; every `{{inputs.*}}`, `{{outputs.*}}`,
`{{workflow.parameters.*}}`, `{{tasks.*}}`/`{{steps.*}}` and `{{item}}` reference is declared where it is used;
every required input of a called template is passed; retry strategies, deadlines and parallelism are numbers.
The entrypoint's inputs need not be declared in `spec.arguments`: like `argo submit -p`, a run supplies them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from chalicelib.spec.argo_expressions import ExpressionError, check_when_syntax, parse_depends
from chalicelib.spec.argo_templating import strings_in, tag_keys
from chalicelib.spec.argo_workflow import (
    ARGO_API_VERSION,
    SUPPORTED_KINDS,
    UNSUPPORTED_KINDS,
    Workflow,
    kfp_pipeline_spec,
)
from chalicelib.spec.errors import InvalidPackage
from chalicelib.spec.package import PackageFormat, PipelinePackage

MAX_REPORTED_PROBLEMS = 20
RESOURCE_ACTIONS = frozenset({"get", "create", "apply", "delete", "replace", "patch"})
RETRY_POLICIES = frozenset({"Always", "OnFailure", "OnError", "OnTransientError"})
_DURATION = re.compile(r"^\s*(\d+(\.\d+)?(ns|us|µs|ms|s|m|h)?)+\s*$")
_TASK_REFERENCE = re.compile(r"^(tasks|steps)\.([^.]+)\.(.+)$")
_GLOBAL_WORKFLOW_KEYS = frozenset(
    {
        "workflow.name",
        "workflow.namespace",
        "workflow.uid",
        "workflow.serviceAccountName",
        "workflow.creationTimestamp",
        "workflow.duration",
        "workflow.priority",
        "workflow.status",
        "workflow.failures",
        "workflow.mainEntrypoint",
        "workflow.scheduledTime",
    }
)


def package_from_workflow(document: dict[str, Any], source: str) -> PipelinePackage:
    """Validate an Argo Workflow dict and return it as a v1 package; raise InvalidPackage listing the problems."""
    problems = workflow_problems(document)
    if problems:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        if len(problems) > len(shown):
            shown.append(f"and {len(problems) - len(shown)} more problems")
        raise InvalidPackage(f"{source}: " + "; ".join(shown))
    workflow = Workflow(document)
    annotation = kfp_pipeline_spec(workflow.metadata)
    name = workflow.pipeline_name()
    return PipelinePackage(
        pipeline_spec=document,
        platform_spec=None,
        name=name,
        display_name=name,
        description=str(annotation.get("description") or ""),
        schema_version=str(document.get("apiVersion", "")),
        sdk_version=str(
            (workflow.metadata.get("annotations") or {}).get("pipelines.kubeflow.org/kfp_sdk_version", "")
        ),
        format=PackageFormat.ARGO,
    )


def workflow_problems(document: dict[str, Any]) -> list[str]:
    """Every problem found in the workflow (empty when it can run)."""
    if document.get("apiVersion") != ARGO_API_VERSION:
        return [f"apiVersion {document.get('apiVersion')!r} is not supported (expected {ARGO_API_VERSION})"]
    spec = document.get("spec")
    if not isinstance(spec, dict):
        return ["spec is required and must be a mapping"]
    templates = spec.get("templates")
    if not isinstance(templates, list) or not templates:
        return ["spec.templates must be a non-empty list of templates"]
    problems = list(_template_list_problems(templates))
    if problems:
        return problems
    workflow = Workflow(document)
    problems += _header_problems(workflow)
    for name, template in workflow.templates.items():
        problems += _template_problems(workflow, name, template)
    return problems


# ---- structure ---------------------------------------------------------------------------------------------


def _template_list_problems(templates: list[Any]) -> Iterator[str]:
    seen: set[str] = set()
    for index, template in enumerate(templates):
        if not isinstance(template, dict):
            yield f"spec.templates[{index}] must be a mapping"
            continue
        name = template.get("name")
        if not isinstance(name, str) or not name:
            yield f"spec.templates[{index}] has no name"
        elif name in seen:
            yield f"template {name!r} is defined twice"
        else:
            seen.add(name)


def _header_problems(workflow: Workflow) -> list[str]:
    problems = []
    entrypoint = workflow.spec.get("entrypoint")
    if not entrypoint:
        problems.append("spec.entrypoint is required")
    elif entrypoint not in workflow.templates:
        problems.append(f"spec.entrypoint {entrypoint!r} is not a template")
    on_exit = workflow.spec.get("onExit")
    if on_exit and on_exit not in workflow.templates:
        problems.append(f"spec.onExit {on_exit!r} is not a template")
    declared: set[str] = set()
    for index, parameter in enumerate(workflow.arguments()):
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if not isinstance(name, str) or not name:
            problems.append(f"spec.arguments.parameters[{index}] has no name")
        elif name in declared:
            problems.append(f"spec.arguments.parameters {name!r} is declared twice")
        else:
            declared.add(name)
    problems += _number_problems(workflow.spec, ("activeDeadlineSeconds", "parallelism"), "spec")
    problems += _reference_problems(
        "spec.volumes", workflow.spec.get("volumes") or [], _Scope(workflow_parameters=declared)
    )
    return problems


def _required_inputs(template: Mapping[str, Any]) -> set[str]:
    """Input parameters of a template that have neither a value nor a default."""
    return {
        str(parameter.get("name"))
        for parameter in (template.get("inputs") or {}).get("parameters") or []
        if isinstance(parameter, dict) and "value" not in parameter and "default" not in parameter
    }


def _number_problems(holder: Mapping[str, Any], fields: tuple[str, ...], where: str) -> list[str]:
    problems = []
    for field in fields:
        value = holder.get(field)
        if value is None:
            continue
        if isinstance(value, str) and "{{" in value:
            continue  # a parameter reference, checked once it has a value
        try:
            number = int(str(value))
        except ValueError:
            problems.append(f"{where}.{field} must be a whole number, got {value!r}")
            continue
        if number < 0:
            problems.append(f"{where}.{field} must not be negative, got {value!r}")
    return problems


def _template_problems(workflow: Workflow, name: str, template: Mapping[str, Any]) -> list[str]:
    where = f"template {name!r}"
    kinds = [kind for kind in (*SUPPORTED_KINDS, *UNSUPPORTED_KINDS) if kind in template]
    if not kinds:
        return [f"{where} has none of {', '.join(SUPPORTED_KINDS)}: its kind is unknown"]
    if len(kinds) > 1:
        return [f"{where} has more than one kind ({', '.join(kinds)})"]
    kind = kinds[0]
    if kind in UNSUPPORTED_KINDS:
        return [
            f"{where} is a {kind} template, which is not supported (supported: {', '.join(SUPPORTED_KINDS)})"
        ]
    problems = _number_problems(template, ("activeDeadlineSeconds", "parallelism"), where)
    problems += _retry_problems(template.get("retryStrategy"), where)
    scope = _Scope.of_template(workflow, template)
    if kind in ("dag", "steps"):
        problems += _dag_problems(workflow, name, scope)
        siblings = {task.name for task in _tasks_or_none(workflow, name)}
        output_scope = scope.for_task(workflow.reference_prefix(name), siblings, items=False)
        problems += _reference_problems(f"{where} outputs", template.get("outputs") or {}, output_scope)
    else:
        leaf = {key: value for key, value in template.items() if key not in ("name", "inputs", "metadata")}
        problems += _reference_problems(where, leaf, scope)
    if kind == "resource":
        problems += _resource_problems(template.get("resource"), where)
    return problems


def _tasks_or_none(workflow: Workflow, name: str) -> tuple[Any, ...]:
    try:
        return workflow.tasks(name)
    except ExpressionError:
        return ()


def _retry_problems(strategy: Any, where: str) -> list[str]:
    if strategy is None:
        return []
    if not isinstance(strategy, dict):
        return [f"{where}.retryStrategy must be a mapping"]
    problems = []
    limit = strategy.get("limit")
    if limit is not None and not (isinstance(limit, str) and "{{" in limit):
        try:
            int(str(limit))
        except ValueError:
            problems.append(f"{where}.retryStrategy.limit must be a whole number, got {limit!r}")
    policy = strategy.get("retryPolicy")
    if policy and policy not in RETRY_POLICIES:
        problems.append(
            f"{where}.retryStrategy.retryPolicy {policy!r} is not one of {', '.join(sorted(RETRY_POLICIES))}"
        )
    backoff = strategy.get("backoff") or {}
    for field in ("duration", "maxDuration"):
        value = backoff.get(field)
        if value is not None and not _DURATION.match(str(value)):
            problems.append(
                f"{where}.retryStrategy.backoff.{field} {value!r} is not a duration like '30s' or '2m'"
            )
    factor = backoff.get("factor")
    if factor is not None:
        try:
            float(str(factor))
        except ValueError:
            problems.append(f"{where}.retryStrategy.backoff.factor must be a number, got {factor!r}")
    return problems


def _resource_problems(resource: Any, where: str) -> list[str]:
    if not isinstance(resource, dict):
        return [f"{where}.resource must be a mapping"]
    problems = []
    action = resource.get("action")
    if action not in RESOURCE_ACTIONS:
        problems.append(
            f"{where}.resource.action {action!r} is not one of {', '.join(sorted(RESOURCE_ACTIONS))}"
        )
    manifest = resource.get("manifest")
    if manifest is not None and not isinstance(manifest, str):
        problems.append(f"{where}.resource.manifest must be a string (YAML or JSON)")
    if not manifest and not resource.get("flags"):
        problems.append(f"{where}.resource needs a manifest")
    return problems


# ---- DAGs ------------------------------------------------------------------------------------------------------


def _dag_problems(workflow: Workflow, name: str, scope: _Scope) -> list[str]:
    where = f"template {name!r}"
    template = workflow.templates[name]
    raw_tasks = _raw_tasks(template)
    problems: list[str] = []
    names: list[str] = []
    for index, task in enumerate(raw_tasks):
        if not isinstance(task, dict) or not task.get("name"):
            problems.append(f"{where} task {index} has no name")
            continue
        if task["name"] in names:
            problems.append(f"{where} has two tasks named {task['name']!r}")
        names.append(str(task["name"]))
    if problems:
        return problems
    try:
        tasks = workflow.tasks(name)
    except ExpressionError as error:
        return [f"{where}: {error}"]
    prefix = workflow.reference_prefix(name)
    siblings = set(names)
    for raw, task in zip(raw_tasks, tasks, strict=True):
        task_where = f"{where} task {task.name!r}"
        if "templateRef" in raw:
            problems.append(f"{task_where} uses templateRef, which is not supported (inline the template)")
            continue
        if task.template not in workflow.templates:
            problems.append(f"{task_where} calls template {task.template!r}, which does not exist")
        problems += _task_shape_problems(raw, task_where)
        for dependency in raw.get("dependencies") or []:
            if dependency not in siblings:
                problems.append(f"{task_where} depends on {dependency!r}, which is not a task of {where}")
        if raw.get("depends"):
            for dependency in sorted(task.upstream - siblings):
                problems.append(f"{task_where} depends on {dependency!r}, which is not a task of {where}")
        if task.when:
            try:
                check_when_syntax(task.when)
            except ExpressionError as error:
                problems.append(f"{task_where} has a 'when' that does not parse: {error}")
        task_scope = scope.for_task(prefix, siblings, task.expands)
        problems += _reference_problems(task_where, _task_fields(raw), task_scope)
        if task.template in workflow.templates:
            called = workflow.templates[task.template]
            passed = {
                str(parameter.get("name"))
                for parameter in (task.arguments.get("parameters") or [])
                if isinstance(parameter, dict)
            }
            for missing in sorted(_required_inputs(called) - passed):
                problems.append(
                    f"{task_where} does not pass input parameter {missing!r} that template "
                    f"{task.template!r} declares"
                )
    problems += _cycle_problems(where, {task.name: task.upstream & siblings for task in tasks})
    return problems


def _raw_tasks(template: Mapping[str, Any]) -> list[Any]:
    if "dag" in template:
        tasks = (template.get("dag") or {}).get("tasks")
        return tasks if isinstance(tasks, list) else []
    steps: list[Any] = []
    for group in template.get("steps") or []:
        steps.extend(group if isinstance(group, list) else [group])
    return steps


def _task_shape_problems(raw: Mapping[str, Any], where: str) -> list[str]:
    problems = []
    if "withItems" in raw and not isinstance(raw["withItems"], list):
        problems.append(f"{where} withItems must be a list")
    if "withParam" in raw and not isinstance(raw["withParam"], str):
        problems.append(f"{where} withParam must be a string")
    if "withItems" in raw and "withParam" in raw:
        problems.append(f"{where} has both withItems and withParam")
    if "withSequence" in raw:
        problems.append(f"{where} uses withSequence, which is not supported")
    if raw.get("depends"):
        if raw.get("dependencies"):
            problems.append(f"{where} has both dependencies and depends")
        try:
            parse_depends(str(raw["depends"]))
        except ExpressionError as error:
            problems.append(f"{where}: {error}")
    if "onExit" in raw or "hooks" in raw:
        problems.append(f"{where} has a task-level exit hook, which is not supported (use spec.onExit)")
    return problems


def _task_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {key: raw[key] for key in ("arguments", "when", "withItems", "withParam") if key in raw}


def _cycle_problems(where: str, upstream: dict[str, frozenset[str]]) -> list[str]:
    """Depth-first search for a cycle among sibling tasks; names it, e.g. `a -> b -> a`."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(task: str) -> list[str] | None:
        state[task] = 1
        path.append(task)
        for dependency in sorted(upstream.get(task, ())):
            if state.get(dependency) == 1:
                return path[path.index(dependency) :] + [dependency]
            if dependency not in state:
                found = visit(dependency)
                if found:
                    return found
        state[task] = 2
        path.pop()
        return None

    for task in sorted(upstream):
        if task not in state:
            cycle = visit(task)
            if cycle:
                return [f"{where} has a dependency cycle: {' -> '.join(reversed(cycle))}"]
    return []


# ---- references ----------------------------------------------------------------------------------------------


class _Scope:
    """What a template (or one of its DAG tasks) may refer to."""

    def __init__(
        self,
        inputs: frozenset[str] = frozenset(),
        input_artifacts: frozenset[str] = frozenset(),
        outputs: frozenset[str] = frozenset(),
        output_artifacts: frozenset[str] = frozenset(),
        workflow_parameters: set[str] | frozenset[str] = frozenset(),
        task_prefix: str = "",
        tasks: frozenset[str] = frozenset(),
        items: bool = False,
    ) -> None:
        self.inputs = inputs
        self.input_artifacts = input_artifacts
        self.outputs = outputs
        self.output_artifacts = output_artifacts
        self.workflow_parameters = frozenset(workflow_parameters)
        self.task_prefix = task_prefix
        self.tasks = tasks
        self.items = items

    @classmethod
    def of_template(cls, workflow: Workflow, template: Mapping[str, Any]) -> _Scope:
        inputs = template.get("inputs") or {}
        outputs = template.get("outputs") or {}

        def names(entries: Any) -> frozenset[str]:
            return frozenset(str(e.get("name")) for e in entries or [] if isinstance(e, dict))

        return cls(
            inputs=names(inputs.get("parameters")),
            input_artifacts=names(inputs.get("artifacts")),
            outputs=names(outputs.get("parameters")),
            output_artifacts=names(outputs.get("artifacts")),
            workflow_parameters={str(p.get("name")) for p in workflow.arguments() if isinstance(p, dict)},
        )

    def for_task(self, prefix: str, siblings: set[str], items: bool) -> _Scope:
        return _Scope(
            inputs=self.inputs,
            input_artifacts=self.input_artifacts,
            workflow_parameters=self.workflow_parameters,
            task_prefix=prefix,
            tasks=frozenset(siblings),
            items=items,
        )

    def problem(self, key: str) -> str | None:
        """Why `key` cannot be resolved here, or None when it can (or is not Argo's to resolve)."""
        if key == "item" or key.startswith("item."):
            return None if self.items else "{{item}} is only defined in a task with withItems or withParam"
        if key in ("retries", "pod.name") or key in _GLOBAL_WORKFLOW_KEYS:
            return None
        if key.startswith(("workflow.annotations.", "workflow.labels.", "workflow.creationTimestamp.")):
            return None
        if key.startswith("workflow.parameters."):
            name = key.removeprefix("workflow.parameters.")
            return (
                None if name in self.workflow_parameters else f"workflow parameter {name!r} is not declared"
            )
        for prefix, declared, what in (
            ("inputs.parameters.", self.inputs, "input parameter"),
            ("inputs.artifacts.", self.input_artifacts, "input artifact"),
            ("outputs.parameters.", self.outputs, "output parameter"),
            ("outputs.artifacts.", self.output_artifacts, "output artifact"),
        ):
            if key.startswith(prefix):
                name = key.removeprefix(prefix).removesuffix(".path")
                return None if name in declared else f"{what} {name!r} is not declared"
        match = _TASK_REFERENCE.match(key)
        if match:
            if not self.task_prefix:
                return f"{match.group(1)} references are only defined in dag or steps tasks"
            if match.group(1) != self.task_prefix:
                return f"use {self.task_prefix}.<name> here, not {match.group(1)}.<name>"
            if match.group(2) not in self.tasks:
                return f"there is no task {match.group(2)!r} here"
            return None
        if key.startswith(("inputs.", "outputs.", "tasks.", "steps.", "workflow.")):
            return "it is not a variable Argo defines"
        return None


def _reference_problems(where: str, value: Any, scope: _Scope) -> list[str]:
    problems = []
    seen: set[str] = set()
    for text in strings_in(value):
        for key in tag_keys(text):
            if key in seen:
                continue
            seen.add(key)
            problem = scope.problem(key)
            if problem:
                problems.append(f"{where} refers to {{{{{key}}}}}: {problem}")
    return problems
