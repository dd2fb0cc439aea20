"""One reconcile step of a KFP v1 run: `plan(run, workflow, platform_spec, tasks, now) -> Decisions`, with Argo
Workflows' semantics (v3.1, which KFP 1.8 deploys) as the kfp 1.8 compiler relies on them.

Nodes: the entrypoint is the root record (`root`); a DAG task is a child record of its DAG instance (kind
`container`, `resource` or `dag` after its template), a task with `withItems`/`withParam` is a `loop` record
whose iterations are children named like Argo's `task(0:item)`; `spec.onExit` runs as the record `onexit`
once the root is final.

* A task runs when its `depends` logic holds over its siblings' results (`dependencies: [A]` means
  `A.Succeeded || A.Skipped || A.Daemoned`); when the logic can no longer hold it is Omitted (not stored:
  it is derived again each pass, so a run retry re-evaluates it). Its `when`, after substitution, skips it.
* Fail fast (Argo's default): once a child of a DAG instance failed, no new child starts there; the DAG ends
  FAILED when nothing inside is active. Otherwise a DAG ends FAILED when one of its leaf tasks' branches
  failed (an omitted task inherits the failure of its upstream), else SUCCEEDED with its `outputs`.
* Parallelism: `spec.parallelism` caps the run's active pods; a DAG template's `parallelism` caps its active
  children (pods and DAGs, loop iterations one by one); 0 means no limit.
* Terminate and `spec.activeDeadlineSeconds`: nothing new starts outside the exit handler, running attempts
  are cancelled; the run ends CANCELED (terminate) or FAILED (deadline) after the exit handler.
* Retries (`retryStrategy`) are decided when an attempt ends (`attempts.finish_attempt`): the record goes
  back to PENDING with the next attempt, launched here once `next_attempt_at` is due.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from chalicelib.engine.argo.records import (
    ARTIFACTS_KEY,
    BOUNDARY_KEY,
    EXIT_HANDLER_ID,
    GENERATION_KEY,
    ITEMS_KEY,
    LAUNCHED_AT_KEY,
    PARAMETERS_KEY,
    STOP_KEY,
    TEMPLATE_KEY,
    exit_handler_id,
    is_active_pod,
    results_of,
    under_exit_handler,
)
from chalicelib.engine.argo.steps import display_name, repository_uri, step_launch
from chalicelib.engine.argo.values import (
    PHASE_KEY,
    Scope,
    add_task_outputs,
    argo_phase,
    format_value,
    global_values,
    inputs_scope,
    item_label,
    item_values,
    parameter_values,
)
from chalicelib.engine.attempts import LAUNCHED_ATTEMPT_KEY, OWN_FAILURE_KEY
from chalicelib.engine.errors import InputResolutionError
from chalicelib.engine.model import Cancel, Decisions, Launch, RunInput, RunOutcome, TaskRecord
from chalicelib.engine.record_book import RecordBook
from chalicelib.engine.run_outcome import TERMINATED_ERROR, failure_message, first_failure
from chalicelib.engine.task_ids import ROOT_TASK_ID, child_task_id, iteration_task_id
from chalicelib.engine.transitions import transition
from chalicelib.spec.argo_expressions import ExpressionError, evaluate_when
from chalicelib.spec.argo_templating import substitute, substitute_deep, unresolved
from chalicelib.spec.argo_workflow import DagTask, Workflow, template_kind
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import format_time, is_due, parse_time

STOP_CANCEL = "cancel"
STOP_DEADLINE = "deadline"
STOP_STEP_DEADLINE = "step-deadline"
_LEAF_KINDS = {"container": "container", "resource": "resource"}
_FAILED_PHASES = frozenset({"Failed", "Error"})


def deadline_error(seconds: int) -> str:
    return f"the workflow exceeded its activeDeadlineSeconds ({seconds} s)"


@dataclasses.dataclass
class _Pass:
    """The working state of one `plan` call (never escapes it)."""

    run: RunInput
    workflow: Workflow
    now: datetime.datetime
    book: RecordBook
    globals: dict[str, str]
    stopping: str
    launches: list[Launch] = dataclasses.field(default_factory=list)
    cancels: list[Cancel] = dataclasses.field(default_factory=list)
    active_pods: int = 0
    active_children: Counter[str] = dataclasses.field(default_factory=Counter)
    failed_children: Counter[str] = dataclasses.field(default_factory=Counter)

    @property
    def stamp(self) -> str:
        return format_time(self.now)

    def change(self, record: TaskRecord, new_state: TaskState, **changes: Any) -> TaskRecord:
        before = self.book.get(record.task_id)
        after = self.book.put(transition(record, new_state, now=self.stamp, **changes))
        self._count(before, -1)
        self._count(after, +1)
        return after

    def put(self, record: TaskRecord) -> TaskRecord:
        before = self.book.get(record.task_id)
        if before is not None and record.version == 0 and before.version:
            # A node started again over its stored record (a run retry reopened it before it was admitted).
            record = dataclasses.replace(
                record,
                version=before.version,
                attempt=max(record.attempt, before.attempt),
                created_at=before.created_at,
            )
        self.book.put(record)
        self._count(before, -1)
        self._count(record, +1)
        return record

    def _count(self, record: TaskRecord | None, delta: int) -> None:
        if record is None:
            return
        boundary = str(record.data.get(BOUNDARY_KEY, ""))
        if is_active_pod(record):
            self.active_pods += delta
            self.active_children[boundary] += delta
        elif record.kind == "dag" and not record.state.is_final and record.task_id != ROOT_TASK_ID:
            self.active_children[boundary] += delta
        if record.kind != "loop" and boundary and self._fails_its_dag(record):
            self.failed_children[boundary] += delta

    def _fails_its_dag(self, record: TaskRecord) -> bool:
        """Argo's fail-fast test for one child: it failed, and its task does not continue on that result."""
        if not record.state.is_final or argo_phase(record) not in _FAILED_PHASES:
            return False
        dag = self.book.get(str(record.data.get(BOUNDARY_KEY, "")))
        template = str(dag.data.get(TEMPLATE_KEY, "")) if dag is not None else ""
        task = (
            next((t for t in self.workflow.tasks(template) if t.name == record.name), None)
            if template
            else None
        )
        result = "Errored" if argo_phase(record) == "Error" else "Failed"
        return task is None or result not in task.continue_on

    def fail(self, record: TaskRecord, error: str, phase: str = "Error") -> TaskRecord:
        data = {**record.data, OWN_FAILURE_KEY: True, PHASE_KEY: phase}
        return self.change(record, TaskState.FAILED, error=error, data=data)

    def stops(self, record_id: str) -> str:
        """Why nothing new may start at `record_id` ('' when it may)."""
        return "" if under_exit_handler(record_id) else self.stopping

    def scope_for(self, record: TaskRecord) -> Scope:
        parameters = record.data.get(PARAMETERS_KEY) or {}
        artifacts = record.data.get(ARTIFACTS_KEY) or {}
        values = self.globals
        if under_exit_handler(record.task_id):
            values = {**values, **self.exit_values()}
        return inputs_scope(values, parameters, artifacts)

    def exit_values(self) -> dict[str, str]:
        root = self.book.get(ROOT_TASK_ID)
        status = argo_phase(root) if root is not None else "Failed"
        failures = [
            {
                "displayName": record.display_name,
                "message": record.error,
                "templateName": str(record.data.get(TEMPLATE_KEY, "")),
                "phase": argo_phase(record),
                "podName": record.pod_name,
                "finishedAt": record.finished_at,
            }
            for record in self.book.all()
            if record.state is TaskState.FAILED
            and record.data.get(OWN_FAILURE_KEY)
            and not under_exit_handler(record.task_id)
        ]
        return {"workflow.status": status, "workflow.failures": json.dumps(failures)}


# ---- starting nodes --------------------------------------------------------------------------------------------


def _new_record(
    p: _Pass, task_id: str, name: str, kind: str, parent_id: str, boundary: str, label: str, **fields: Any
) -> TaskRecord:
    return TaskRecord(
        task_id=task_id,
        name=name,
        kind=kind,
        state=TaskState.PENDING,
        parent_id=parent_id,
        display_name=label,
        attempt=1 if kind in _LEAF_KINDS else 0,
        created_at=p.stamp,
        data={BOUNDARY_KEY: boundary},
        **fields,
    )


def _call_inputs(
    template: Mapping[str, Any], arguments: Mapping[str, Any], scope: Scope, where: str
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """A template's input parameters and artifacts from the (substituted) `arguments` of its caller."""
    given = {
        str(parameter.get("name")): parameter
        for parameter in arguments.get("parameters") or []
        if isinstance(parameter, dict)
    }
    parameters: dict[str, str] = {}
    for declared in (template.get("inputs") or {}).get("parameters") or []:
        name = str(declared["name"])
        if "value" in declared:
            parameters[name] = format_value(declared["value"])
        elif name in given and "value" in given[name]:
            parameters[name] = format_value(given[name]["value"])
        elif "default" in declared:
            parameters[name] = format_value(declared["default"])
        else:
            raise InputResolutionError(f"{where}: inputs.parameters.{name} was not supplied")
        # Workflow values in an input's value resolve too (`value: '{{workflow.uid}}'`), as in Argo.
        parameters[name] = substitute(parameters[name], scope.values)
        missing = unresolved(parameters[name])
        if missing:
            raise InputResolutionError(
                f"{where}: cannot resolve {{{{{missing[0]}}}}} for input parameter {name!r}"
            )
    artifacts: dict[str, dict[str, Any]] = {}
    for argument in arguments.get("artifacts") or []:
        name = str(argument.get("name"))
        if argument.get("from"):
            key = str(argument["from"]).strip().removeprefix("{{").removesuffix("}}").strip()
            artifact = scope.artifacts.get(key)
            if artifact is None:
                if argument.get("optional"):
                    continue
                raise InputResolutionError(
                    f"{where}: cannot resolve artifact {argument['from']} for {name!r}"
                )
            artifacts[name] = artifact
        elif "raw" in argument:
            artifacts[name] = {"name": name, "raw": str((argument.get("raw") or {}).get("data", ""))}
        elif "s3" in argument:
            artifacts[name] = {"name": name, "s3": dict(argument.get("s3") or {})}
    return parameters, artifacts


def _start_node(
    p: _Pass,
    task_id: str,
    name: str,
    template_name: str,
    arguments: Mapping[str, Any],
    caller_scope: Scope,
    parent_id: str,
    boundary: str,
    label: str,
    **fields: Any,
) -> TaskRecord:
    """Create the node of `template_name` called with `arguments` and advance it as far as it goes."""
    template = p.workflow.templates.get(template_name)
    kind = template_kind(template or {})
    record_kind = _LEAF_KINDS.get(kind, "dag")
    record = _new_record(p, task_id, name, record_kind, parent_id, boundary, label, **fields)
    record = dataclasses.replace(record, data={**record.data, TEMPLATE_KEY: template_name})
    if template is None:
        return p.fail(p.put(record), f"template {template_name!r} does not exist")
    if record.iteration_index is None:
        record = dataclasses.replace(record, display_name=display_name(template, label))
    try:
        parameters, artifacts = _call_inputs(template, arguments, caller_scope, f"task {label!r}")
    except InputResolutionError as error:
        return p.fail(p.put(record), str(error))
    artifacts = {name: _located(p, artifact) for name, artifact in artifacts.items()}
    data = {**record.data, PARAMETERS_KEY: parameters, ARTIFACTS_KEY: artifacts}
    if record_kind in _LEAF_KINDS:
        record = p.put(dataclasses.replace(record, data=data))
        return _advance_leaf(p, record)
    record = p.put(dataclasses.replace(record, data=data))
    return _advance_dag(p, p.change(record, TaskState.RUNNING))


def _located(p: _Pass, artifact: dict[str, Any]) -> dict[str, Any]:
    """A passed `s3:` artifact as a URI (relative keys are in the pipeline root's bucket)."""
    if "s3" not in artifact:
        return artifact
    return {"name": artifact.get("name", ""), "uri": repository_uri(p.run, artifact["s3"])}


# ---- leaves ----------------------------------------------------------------------------------------------------


def _advance_leaf(p: _Pass, record: TaskRecord) -> TaskRecord:
    """Launch a due attempt of a container/resource node, or stop it when the run stops."""
    launched = record.state is TaskState.RUNNING or record.data.get(LAUNCHED_ATTEMPT_KEY) == record.attempt
    if record.state is TaskState.CANCELING:
        p.cancels.append(Cancel(record.task_id, record.attempt))
        return record
    if launched and _past_step_deadline(p, record):
        # Stopped, not cancelled: the attempt fails when it ends, and its retryStrategy decides what follows.
        if record.data.get(STOP_KEY) != STOP_STEP_DEADLINE:
            record = p.change(record, record.state, data={**record.data, STOP_KEY: STOP_STEP_DEADLINE})
        p.cancels.append(Cancel(record.task_id, record.attempt))
        return record
    stopping = p.stops(record.task_id)
    if stopping:
        if launched:
            record = p.change(record, TaskState.CANCELING, data={**record.data, STOP_KEY: stopping})
            p.cancels.append(Cancel(record.task_id, record.attempt))
            return record
        if stopping == STOP_CANCEL:
            return p.change(record, TaskState.CANCELED, error="canceled before it started")
        return p.fail(record, deadline_error(_deadline_seconds(p.workflow)), phase="Failed")
    if launched or record.state is not TaskState.PENDING or not is_due(record.next_attempt_at, p.now):
        return record
    limit = _int(p.workflow.spec.get("parallelism"))
    if limit and p.active_pods >= limit:
        return record
    template_name = str(record.data.get(TEMPLATE_KEY, ""))
    try:
        launch = step_launch(
            p.run,
            p.workflow,
            record,
            template_name,
            record.data.get(PARAMETERS_KEY) or {},
            record.data.get(ARTIFACTS_KEY) or {},
            p.scope_for(record),
        )
    except InputResolutionError as error:
        return p.fail(record, str(error))
    p.launches.append(launch)
    data = {**record.data, LAUNCHED_ATTEMPT_KEY: record.attempt, LAUNCHED_AT_KEY: p.stamp}
    return p.change(record, TaskState.PENDING, data=data)


def _past_step_deadline(p: _Pass, record: TaskRecord) -> bool:
    """True when the attempt has run longer than its template's `activeDeadlineSeconds` (counted from its
    launch; on Kubernetes the pod's own deadline usually ends it first)."""
    template = p.workflow.templates.get(str(record.data.get(TEMPLATE_KEY, ""))) or {}
    seconds = _int(template.get("activeDeadlineSeconds"))
    launched_at = record.data.get(LAUNCHED_AT_KEY)
    if not seconds or not launched_at:
        return False
    return p.now >= parse_time(str(launched_at)) + datetime.timedelta(seconds=seconds)


# ---- DAG instances ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _DagState:
    """What one walk over a DAG instance found out about its tasks."""

    results: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict)  # fulfilled tasks
    branch: dict[str, str] = dataclasses.field(default_factory=dict)  # branch phase of fulfilled tasks
    blocked: str = ""  # why some task could not start and never will in this DAG: fail-fast or a stop
    active: bool = False


def _topological(tasks: tuple[DagTask, ...]) -> list[DagTask]:
    by_name = {task.name: task for task in tasks}
    ordered: list[DagTask] = []
    seen: set[str] = set()

    def visit(task: DagTask) -> None:
        if task.name in seen:
            return
        seen.add(task.name)
        for upstream in sorted(task.upstream):
            if upstream in by_name:
                visit(by_name[upstream])
        ordered.append(task)

    for task in tasks:
        visit(task)
    return ordered


def _failing(p: _Pass, node: TaskRecord, template: Mapping[str, Any]) -> bool:
    """True when fail-fast forbids new children in the DAG instance `node` (a child failed)."""
    fail_fast = (template.get("dag") or {}).get("failFast", True) is not False
    return fail_fast and p.failed_children[node.task_id] > 0


def _iterations(p: _Pass, loop: TaskRecord) -> list[TaskRecord]:
    count = len(loop.data.get(ITEMS_KEY) or [])
    return [child for index in range(count) if (child := p.book.get(iteration_task_id(loop.task_id, index)))]


def _may_start_child(p: _Pass, node: TaskRecord, template: Mapping[str, Any]) -> bool:
    limit = _int(template.get("parallelism"))
    return not limit or p.active_children[node.task_id] < limit


def _advance_dag(p: _Pass, node: TaskRecord) -> TaskRecord:
    """Advance every task of the DAG instance `node`; finish the node once nothing inside is active."""
    template_name = str(node.data.get(TEMPLATE_KEY, ""))
    template = p.workflow.template(template_name)
    tasks = p.workflow.tasks(template_name)
    prefix = p.workflow.reference_prefix(template_name)
    state = _DagState()
    scope = p.scope_for(node)
    for task in _topological(tasks):
        task_id = child_task_id(node.task_id, task.name)
        record = p.book.get(task_id)
        if record is not None and not record.state.is_final and not admitted(record):
            record = None  # reopened by a run retry before it ever started: start it again
        if record is not None and not record.state.is_final:
            record = _advance_child(p, node, task, record, scope)
        if record is None:
            decision = _upstream_decision(task, state)
            if decision == "wait":
                continue
            if decision == "omit":
                state.results[task.name] = frozenset({"Omitted"})
                state.branch[task.name] = _inherited_branch(task, state)
                continue
            why = p.stops(task_id) or ("fail-fast" if _failing(p, node, template) else "")
            if why:
                state.blocked = state.blocked or why
                continue
            if not _may_start_child(p, node, template):
                state.active = True  # waits for a free slot
                continue
            record = _start_task(p, node, task, _task_scope(p, scope, prefix, task, tasks, node))
        if record.state.is_final:
            state.results[task.name] = results_of(
                record, _iterations(p, record) if record.kind == "loop" else None
            )
            state.branch[task.name] = argo_phase(record)
        else:
            state.active = True
        scope = _with_outputs(p, scope, prefix, task, record)
    if state.active or any(
        (r := p.book.get(child_task_id(node.task_id, t.name))) is not None and not r.state.is_final
        for t in tasks
    ):
        return node
    return _finish_dag(p, node, template, tasks, state, scope)


def _task_scope(
    p: _Pass, scope: Scope, prefix: str, task: DagTask, tasks: tuple[DagTask, ...], node: TaskRecord
) -> Scope:
    """The DAG's scope restricted to what `task` may see: outputs of its ancestors only (as in Argo)."""
    by_name = {t.name: t for t in tasks}
    ancestors: set[str] = set()
    pending = list(task.upstream)
    while pending:
        name = pending.pop()
        if name in ancestors or name not in by_name:
            continue
        ancestors.add(name)
        pending.extend(by_name[name].upstream)
    values = {key: value for key, value in scope.values.items() if not _names_sibling(key, prefix, ancestors)}
    artifacts = {
        key: value for key, value in scope.artifacts.items() if not _names_sibling(key, prefix, ancestors)
    }
    return Scope(values, artifacts)


def _names_sibling(key: str, prefix: str, allowed: set[str]) -> bool:
    """True when `key` is a `<prefix>.<task>...` value of a task not in `allowed`."""
    if not key.startswith(prefix + "."):
        return False
    return key[len(prefix) + 1 :].split(".", 1)[0] not in allowed


def _with_outputs(p: _Pass, scope: Scope, prefix: str, task: DagTask, record: TaskRecord) -> Scope:
    if not record.state.is_final:
        return scope
    iterations = _iterations(p, record) if record.kind == "loop" else None
    return add_task_outputs(scope, prefix, task.name, record, iterations)


def _upstream_decision(task: DagTask, state: _DagState) -> str:
    """ "run", "omit" (its depends logic can no longer hold) or "wait" (an upstream task is not fulfilled)."""
    if task.depends is None:
        return "run"
    if any(name not in state.results for name in task.depends.tasks):
        return "wait"
    return "run" if task.depends.evaluate(lambda name: state.results[name]) else "omit"


def _inherited_branch(task: DagTask, state: _DagState) -> str:
    phases = [state.branch.get(name, "Succeeded") for name in task.upstream]
    failed = [phase for phase in phases if phase in _FAILED_PHASES]
    return failed[0] if failed else (phases[0] if phases else "Succeeded")


def _finish_dag(
    p: _Pass,
    node: TaskRecord,
    template: Mapping[str, Any],
    tasks: tuple[DagTask, ...],
    state: _DagState,
    scope: Scope,
) -> TaskRecord:
    children = [r for t in tasks if (r := p.book.get(child_task_id(node.task_id, t.name))) is not None]
    if state.blocked == STOP_CANCEL:
        return p.change(node, TaskState.CANCELED, error="canceled")
    if state.blocked == STOP_DEADLINE:
        return p.fail(node, deadline_error(_deadline_seconds(p.workflow)), phase="Failed")
    targets = [task for task in tasks if not any(task.name in other.upstream for other in tasks)]
    failed_branch = [
        task
        for task in targets
        if state.branch.get(task.name) in _FAILED_PHASES
        and not ({"Failed"} if state.branch[task.name] == "Failed" else {"Errored"}) <= task.continue_on
    ]
    if state.blocked or failed_branch:
        failures = [child for child in children if child.state is TaskState.FAILED]
        first = min(failures, key=lambda child: (child.finished_at, child.task_id), default=None)
        phase = str(first.data.get(PHASE_KEY) or "Failed") if first is not None else "Failed"
        error = first.error if first is not None else "a task of this DAG failed"
        return p.change(node, TaskState.FAILED, error=error, data={**node.data, PHASE_KEY: phase})
    try:
        parameters, artifacts = _dag_outputs(template, scope)
    except InputResolutionError as error:
        return p.fail(node, str(error))
    return p.change(node, TaskState.SUCCEEDED, parameters=parameters, artifacts=artifacts)


def _dag_outputs(
    template: Mapping[str, Any], scope: Scope
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    outputs = template.get("outputs") or {}
    parameters: dict[str, Any] = {}
    for parameter in outputs.get("parameters") or []:
        value_from = parameter.get("valueFrom") or {}
        if "parameter" in value_from:
            text = substitute(str(value_from["parameter"]), scope.values)
            if unresolved(text):
                if "default" not in value_from:
                    raise InputResolutionError(
                        f"cannot resolve output parameter {parameter['name']!r}: {text}"
                    )
                text = str(value_from["default"])
            parameters[str(parameter["name"])] = text
        elif "value" in parameter:
            parameters[str(parameter["name"])] = substitute(str(parameter["value"]), scope.values)
    artifacts: dict[str, list[dict[str, Any]]] = {}
    for artifact in outputs.get("artifacts") or []:
        source = str(artifact.get("from") or "").strip().removeprefix("{{").removesuffix("}}").strip()
        if source in scope.artifacts:
            artifacts[str(artifact["name"])] = [scope.artifacts[source]]
        elif not artifact.get("optional"):
            raise InputResolutionError(
                f"cannot resolve output artifact {artifact['name']!r}: {artifact.get('from')}"
            )
    return parameters, artifacts


def _advance_child(p: _Pass, node: TaskRecord, task: DagTask, record: TaskRecord, scope: Scope) -> TaskRecord:
    if record.kind in _LEAF_KINDS:
        return _advance_leaf(p, record)
    if record.kind == "loop":
        return _advance_loop(p, node, task, record, scope)
    return _advance_dag(p, record)


def _start_task(p: _Pass, node: TaskRecord, task: DagTask, scope: Scope) -> TaskRecord:
    """Resolve a DAG task's fields in `scope` and start it: a loop, a skipped task or the node it calls."""
    task_id = child_task_id(node.task_id, task.name)
    fields = {"arguments": dict(task.arguments), "when": task.when}
    if task.with_param is not None:
        fields["withParam"] = task.with_param
    if task.with_items is not None:
        fields["withItems"] = list(task.with_items)
    resolved = substitute_deep(fields, scope.values)
    if task.expands:
        loop = _new_record(p, task_id, task.name, "loop", node.task_id, node.task_id, task.name)
        try:
            items = _loop_items(resolved)
        except InputResolutionError as error:
            return p.fail(p.put(loop), str(error))
        data = {**loop.data, ITEMS_KEY: items, TEMPLATE_KEY: task.template}
        loop = p.change(p.put(loop), TaskState.RUNNING, data=data)
        return _advance_loop(p, node, task, loop, scope)
    try:
        execute = _when(resolved["when"], task.name)
    except InputResolutionError as error:
        return p.fail(
            p.put(
                _new_record(
                    p, task_id, task.name, _kind_of(p, task.template), node.task_id, node.task_id, task.name
                )
            ),
            str(error),
        )
    if not execute:
        skipped = _new_record(
            p, task_id, task.name, _kind_of(p, task.template), node.task_id, node.task_id, task.name
        )
        skipped = p.put(dataclasses.replace(skipped, data={**skipped.data, TEMPLATE_KEY: task.template}))
        return p.change(skipped, TaskState.SKIPPED, error=f"when '{resolved['when']}' evaluated false")
    return _start_node(
        p,
        task_id,
        task.name,
        task.template,
        resolved["arguments"],
        scope,
        node.task_id,
        node.task_id,
        task.name,
    )


def _kind_of(p: _Pass, template_name: str) -> str:
    return _LEAF_KINDS.get(template_kind(p.workflow.templates.get(template_name) or {}), "dag")


def _when(expression: str, task_name: str) -> bool:
    missing = unresolved(expression)
    if missing:
        raise InputResolutionError(f"task {task_name!r}: cannot resolve {{{{{missing[0]}}}}} in its when")
    try:
        return evaluate_when(expression)
    except ExpressionError as error:
        raise InputResolutionError(f"task {task_name!r}: invalid when: {error}") from error


def _loop_items(resolved: Mapping[str, Any]) -> list[Any]:
    if "withItems" in resolved:
        return list(resolved["withItems"])
    text = str(resolved["withParam"])
    missing = unresolved(text)
    if missing:
        raise InputResolutionError(f"withParam: cannot resolve {{{{{missing[0]}}}}}")
    try:
        items = json.loads(text)
    except ValueError as error:
        raise InputResolutionError(
            f"withParam value could not be parsed as a JSON list: {text[:200]}: {error}"
        ) from error
    if not isinstance(items, list):
        raise InputResolutionError(f"withParam value is not a JSON list: {text[:200]}")
    return items


# ---- loops -----------------------------------------------------------------------------------------------------


def _advance_loop(p: _Pass, node: TaskRecord, task: DagTask, loop: TaskRecord, scope: Scope) -> TaskRecord:
    """Advance the iterations of a loop, start new ones while its DAG allows, finish it when all are done."""
    items = loop.data.get(ITEMS_KEY) or []
    template = p.workflow.template(str(node.data.get(TEMPLATE_KEY, "")))
    unstarted = False
    for index, item in enumerate(items):
        iteration_id = iteration_task_id(loop.task_id, index)
        iteration = p.book.get(iteration_id)
        if iteration is not None and not iteration.state.is_final and not admitted(iteration):
            iteration = None  # reopened by a run retry before it ever started: start it again
        if iteration is not None:
            if not iteration.state.is_final:
                _advance_iteration(p, iteration)
            continue
        if p.stops(iteration_id) or _failing(p, node, template):
            unstarted = True
            continue
        if not _may_start_child(p, node, template):
            continue
        _start_iteration(p, node, task, loop, index, item, scope)
    iterations = [p.book.get(iteration_task_id(loop.task_id, index)) for index in range(len(items))]
    if any(iteration is not None and not iteration.state.is_final for iteration in iterations):
        return loop
    if any(iteration is None for iteration in iterations) and not unstarted:
        return loop  # waiting for a parallelism slot
    done = [iteration for iteration in iterations if iteration is not None]
    failed = [iteration for iteration in done if argo_phase(iteration) in _FAILED_PHASES]
    if failed or unstarted:
        stopping = p.stops(loop.task_id)
        if not failed and stopping == STOP_CANCEL:
            return p.change(loop, TaskState.CANCELED, error="canceled")
        first = min(failed, key=lambda r: (r.finished_at, r.task_id), default=None)
        phase = str(first.data.get(PHASE_KEY) or "Failed") if first else "Failed"
        error = (
            first.error
            if first
            else (deadline_error(_deadline_seconds(p.workflow)) if stopping else "not started")
        )
        return p.change(loop, TaskState.FAILED, error=error, data={**loop.data, PHASE_KEY: phase})
    return p.change(loop, TaskState.SUCCEEDED)


def _advance_iteration(p: _Pass, iteration: TaskRecord) -> TaskRecord:
    if iteration.kind in _LEAF_KINDS:
        return _advance_leaf(p, iteration)
    return _advance_dag(p, iteration)


def _start_iteration(
    p: _Pass, node: TaskRecord, task: DagTask, loop: TaskRecord, index: int, item: Any, scope: Scope
) -> TaskRecord:
    iteration_id = iteration_task_id(loop.task_id, index)
    label = f"{task.name}({index}:{item_label(item)})"
    item_scope = scope.with_values(item_values(item))
    resolved = substitute_deep({"arguments": dict(task.arguments), "when": task.when}, item_scope.values)
    try:
        execute = _when(resolved["when"], label)
    except InputResolutionError as error:
        failed = _new_record(
            p,
            iteration_id,
            task.name,
            _kind_of(p, task.template),
            loop.task_id,
            node.task_id,
            label,
            iteration_index=index,
        )
        return p.fail(p.put(failed), str(error))
    if not execute:
        skipped = _new_record(
            p,
            iteration_id,
            task.name,
            _kind_of(p, task.template),
            loop.task_id,
            node.task_id,
            label,
            iteration_index=index,
        )
        return p.change(p.put(skipped), TaskState.SKIPPED, error=f"when '{resolved['when']}' evaluated false")
    return _start_node(
        p,
        iteration_id,
        task.name,
        task.template,
        resolved["arguments"],
        item_scope,
        loop.task_id,
        node.task_id,
        label,
        iteration_index=index,
    )


# ---- the root and the exit handler -----------------------------------------------------------------------------


def admitted(record: TaskRecord) -> bool:
    """Whether a node got as far as its resolved inputs (a loop: its items)."""
    return (ITEMS_KEY if record.kind == "loop" else PARAMETERS_KEY) in record.data


def _advance_root(p: _Pass) -> None:
    root = p.book.get(ROOT_TASK_ID)
    if root is not None and not root.state.is_final and not admitted(root):
        root = None
    if root is not None:
        if not root.state.is_final:
            _advance_node(p, root)
        return
    entrypoint = p.workflow.entrypoint
    arguments = {
        "parameters": [{"name": k, "value": v} for k, v in parameter_values(p.workflow, p.run).items()]
    }
    label = p.run.display_name or p.workflow.pipeline_name() or entrypoint
    _start_node(p, ROOT_TASK_ID, ROOT_TASK_ID, entrypoint, arguments, Scope(p.globals, {}), "", "", label)


def _advance_node(p: _Pass, record: TaskRecord) -> TaskRecord:
    if record.kind in _LEAF_KINDS:
        return _advance_leaf(p, record)
    return _advance_dag(p, record)


def _advance_exit_handler(p: _Pass) -> TaskRecord | None:
    root = p.book.get(ROOT_TASK_ID)
    if not p.workflow.on_exit or root is None or not root.state.is_final:
        return None
    exit_id = exit_handler_id(int(root.data.get(GENERATION_KEY) or 0))
    record = p.book.get(exit_id)
    if record is not None:
        return record if record.state.is_final else _advance_node(p, record)
    arguments = {
        "parameters": [{"name": k, "value": v} for k, v in parameter_values(p.workflow, p.run).items()]
    }
    scope = Scope({**p.globals, **p.exit_values()}, {})
    return _start_node(
        p, exit_id, EXIT_HANDLER_ID, p.workflow.on_exit, arguments, scope, "", "", p.workflow.on_exit
    )


def _outcome(p: _Pass) -> RunOutcome:
    root = p.book.get(ROOT_TASK_ID)
    if root is None or not root.state.is_final:
        return RunOutcome("RUNNING")
    exit_record = None
    if p.workflow.on_exit:
        exit_record = p.book.get(exit_handler_id(int(root.data.get(GENERATION_KEY) or 0)))
        if exit_record is None or not exit_record.state.is_final:
            return RunOutcome("RUNNING")
    if p.run.cancel_requested:
        return RunOutcome("CANCELED", TERMINATED_ERROR)
    if root.state in (TaskState.FAILED, TaskState.CANCELED):
        if p.stopping == STOP_DEADLINE:
            return RunOutcome("FAILED", deadline_error(_deadline_seconds(p.workflow)))
        culprit = first_failure(r for r in p.book.all() if not under_exit_handler(r.task_id))
        return RunOutcome("FAILED", failure_message(culprit) if culprit else root.error or "failed")
    if exit_record is not None and exit_record.state is TaskState.FAILED:
        culprit = first_failure(r for r in p.book.all() if under_exit_handler(r.task_id))
        return RunOutcome(
            "FAILED", "exit handler: " + (failure_message(culprit) if culprit else exit_record.error)
        )
    return RunOutcome("SUCCEEDED")


def _int(value: Any) -> int:
    try:
        return int(str(value)) if value is not None else 0
    except ValueError:
        return 0


def _deadline_seconds(workflow: Workflow) -> int:
    return _int(workflow.spec.get("activeDeadlineSeconds"))


def _stopping(run: RunInput, workflow: Workflow, now: datetime.datetime) -> str:
    if run.cancel_requested:
        return STOP_CANCEL
    deadline = _deadline_seconds(workflow)
    if (
        deadline
        and run.created_at
        and now >= parse_time(run.created_at) + datetime.timedelta(seconds=deadline)
    ):
        return STOP_DEADLINE
    return ""


def plan(
    run: RunInput,
    spec: dict[str, Any],
    platform_spec: dict[str, Any] | None,
    tasks: Mapping[str, TaskRecord],
    now: datetime.datetime,
) -> Decisions:
    """Decide one reconcile step of the KFP v1 run `run` of workflow `spec` from its recorded nodes.

    Same contract as `chalicelib.engine.planner.plan`: pure, time from `now`, deterministic ids, and planning
    again over the returned records launches nothing twice. `platform_spec` is unused (v1 packages have none).
    """
    workflow = Workflow(spec)
    p = _Pass(
        run=run,
        workflow=workflow,
        now=now,
        book=RecordBook(tasks),
        globals=global_values(workflow, run, now),
        stopping=_stopping(run, workflow, now),
    )
    for record in tasks.values():
        p._count(record, +1)
    _advance_root(p)
    _advance_exit_handler(p)
    return Decisions(records=p.book.changed(), launches=p.launches, cancels=p.cancels, outcome=_outcome(p))
