"""One reconcile step: `plan(run, spec, platform_spec, tasks, now) -> Decisions`.

The pass walks the DAG instances from the root, each in topological order, so that one pass carries every
consequence it can (an importer's output feeds the next task, a skipped branch skips its dependants, a finished
sub-DAG lets its parent go on). Tasks are scoped by (DAG instance, task key) through their ids.

Semantics (kfp-ir.md §1.6, §6), fail-fast like KFP on Argo:
* A task starts when all its upstream siblings are final: with the default strategy only if none failed or was
  cancelled, no sibling in its DAG has failed (no new task starts in a failing DAG; running ones finish) and the
  run is not being terminated; a SKIPPED upstream skips it too. `ALL_UPSTREAM_TASKS_COMPLETED` tasks (exit
  handlers, `.ignore_upstream_failure()`) start once upstream is final whatever happened, also after a
  terminate request, and everything inside them runs too.
* A DAG node, loop or iteration finishes once none of its children is active: FAILED if one failed,
  CANCELED if one was cancelled or never started, else SUCCEEDED with its `dag.outputs` resolved.
* Terminate: launched attempts are cancelled (CANCELING + a Cancel decision on every pass until the attempt
  ends), attempts not launched yet are CANCELED, no new task starts outside exit handlers.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Mapping
from typing import Any

from chalicelib.engine import pipeline_spec
from chalicelib.engine.attempts import LAUNCHED_ATTEMPT_KEY, OWN_FAILURE_KEY, PARENT_COMPONENT_KEY
from chalicelib.engine.conditions import evaluate_condition
from chalicelib.engine.errors import ConditionError, InputResolutionError, SpecError
from chalicelib.engine.importers import IMPORTER_OUTPUT, imported_artifact
from chalicelib.engine.inputs import ResolvedInputs, declare_inputs, resolve_raw_inputs
from chalicelib.engine.launches import build_launch
from chalicelib.engine.loop_item_fields import item_channels_optional, loop_item_inputs
from chalicelib.engine.loops import iteration_inputs, loop_items, parallelism_limit
from chalicelib.engine.model import Cancel, Decisions, Launch, RunInput, TaskRecord
from chalicelib.engine.outputs import COLLECTED_KEY, DagOutputs, collect_loop_outputs, resolve_dag_outputs
from chalicelib.engine.parameter_types import apply_declarations
from chalicelib.engine.placeholders import TaskIdentity
from chalicelib.engine.record_book import RecordBook
from chalicelib.engine.run_outcome import run_outcome
from chalicelib.engine.run_retry import LOOP_ITEMS_KEY, NODE_INPUTS_KEY
from chalicelib.engine.scopes import Scope
from chalicelib.engine.spec_index import SpecIndex, index_of
from chalicelib.engine.task_ids import ROOT_TASK_ID, child_task_id, iteration_task_id
from chalicelib.engine.transitions import transition
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import format_time, is_due

SKIP_REASON_KEY = "skip_reason"
_ADMITTED_ON_REOPEN = frozenset({"dag", "loop", "importer"})
_BLOCKING = frozenset({TaskState.FAILED, TaskState.CANCELED})
_PlanErrors = (InputResolutionError, ConditionError, SpecError)


def _inputs_data(inputs: ResolvedInputs) -> dict[str, Any]:
    return {"parameters": inputs.parameters, "artifacts": inputs.artifacts}


def _stored_inputs(record: TaskRecord) -> ResolvedInputs:
    stored = record.data.get(NODE_INPUTS_KEY) or {}
    return ResolvedInputs(dict(stored.get("parameters") or {}), dict(stored.get("artifacts") or {}))


@dataclasses.dataclass
class _Pass:
    """The mutable working state of one `plan` call (never escapes it)."""

    run: RunInput
    spec: Mapping[str, Any]
    platform_spec: Mapping[str, Any] | None
    now: datetime.datetime
    book: RecordBook
    launches: list[Launch] = dataclasses.field(default_factory=list)
    cancels: list[Cancel] = dataclasses.field(default_factory=list)

    @functools.cached_property
    def index(self) -> SpecIndex:
        return index_of(self.spec)

    @property
    def stamp(self) -> str:
        return format_time(self.now)

    @functools.cached_property
    def item_inputs(self) -> frozenset[str]:
        return loop_item_inputs(self.spec)

    def dag_input_definitions(self, spec_component: Mapping[str, Any]) -> dict[str, Any]:
        """A DAG component's input definitions, with the loop item channels that the compiler wires to
        nowhere optional (`loop_item_fields`)."""
        return item_channels_optional(spec_component.get("inputDefinitions"), self.item_inputs)

    def order(self, component_name: str, tasks: Mapping[str, Any]) -> list[str]:
        return self.index.order(component_name, tasks)

    def change(self, record: TaskRecord, new_state: TaskState, **changes: Any) -> TaskRecord:
        return self.book.put(transition(record, new_state, now=self.stamp, **changes))

    def fail(self, record: TaskRecord, error: str) -> TaskRecord:
        return self.change(record, TaskState.FAILED, error=error, data={**record.data, OWN_FAILURE_KEY: True})

    def cancelling(self, scope: Scope, task: Mapping[str, Any]) -> bool:
        return (
            self.run.cancel_requested
            and not scope.runs_despite_cancel
            and not pipeline_spec.trigger_strategy_completed(task)
        )


# ---- DAG instances -------------------------------------------------------------------------------------------


def _walk_dag(p: _Pass, scope: Scope, parent_failing: bool = False) -> bool:
    """Advance every task of the DAG instance `scope`; True when some task did not start (blocked)."""
    tasks = pipeline_spec.dag_tasks(pipeline_spec.component(p.spec, scope.component_name))
    ids = {key: child_task_id(scope.node_id, key) for key in tasks}
    failing = parent_failing or any(
        (record := p.book.get(task_id)) is not None and record.state is TaskState.FAILED
        for task_id in ids.values()
    )
    unstarted = False
    for key in p.order(scope.component_name, tasks):
        record = p.book.get(ids[key])
        if record is None or (record.state is TaskState.PENDING and record.kind in _ADMITTED_ON_REOPEN):
            if not _try_start(p, scope, key, tasks[key], record, tasks, failing):
                unstarted = True
        elif not record.state.is_final:
            _advance(p, scope, key, tasks[key], record, failing)
        record = p.book.get(ids[key])
        failing = failing or (record is not None and record.state is TaskState.FAILED)
    return unstarted


def _finish_node(
    p: _Pass, record: TaskRecord, children: list[TaskRecord], unstarted: bool, outputs: Any
) -> TaskRecord:
    """Finish a DAG, loop or iteration node whose children are all final. `outputs` computes DagOutputs."""
    failed = [child for child in children if child.state is TaskState.FAILED]
    if failed:
        first = min(failed, key=lambda child: (child.finished_at, child.task_id))
        return p.change(record, TaskState.FAILED, error=first.error)
    if unstarted or any(child.state is TaskState.CANCELED for child in children):
        return p.change(record, TaskState.CANCELED, error="canceled")
    try:
        resolved: DagOutputs = outputs()
    except InputResolutionError as error:
        return p.fail(record, str(error))
    data = {**record.data, COLLECTED_KEY: list(resolved.collected)}
    return p.change(
        record, TaskState.SUCCEEDED, parameters=resolved.parameters, artifacts=resolved.artifacts, data=data
    )


def _advance_dag_node(p: _Pass, record: TaskRecord, scope: Scope, parent_failing: bool = False) -> TaskRecord:
    """Walk a running DAG node or iteration, and finish it when nothing inside is active any more."""
    unstarted = _walk_dag(p, scope, parent_failing)
    dag_component = pipeline_spec.component(p.spec, scope.component_name)
    children = [
        child
        for key in pipeline_spec.dag_tasks(dag_component)
        if (child := p.book.get(child_task_id(record.task_id, key))) is not None
    ]
    if any(not child.state.is_final for child in children):
        return record
    return _finish_node(
        p, record, children, unstarted, lambda: resolve_dag_outputs(dag_component, record.task_id, p.book.get)
    )


def _child_scope(parent: Scope, task: Mapping[str, Any], record: TaskRecord, inputs: ResolvedInputs) -> Scope:
    return Scope(
        node_id=record.task_id,
        component_name=pipeline_spec.task_component_name(task),
        parameters=inputs.parameters,
        artifacts=inputs.artifacts,
        runs_despite_cancel=parent.runs_despite_cancel or pipeline_spec.trigger_strategy_completed(task),
    )


# ---- loops ---------------------------------------------------------------------------------------------------


def _iteration_scope(p: _Pass, parent: Scope, task: Mapping[str, Any], loop: TaskRecord, index: int) -> Scope:
    loop_component = pipeline_spec.component(p.spec, pipeline_spec.task_component_name(task))
    item = loop.data[LOOP_ITEMS_KEY][index]
    definitions = p.dag_input_definitions(loop_component)
    raw = iteration_inputs(task, _stored_inputs(loop), item, definitions.get("parameters") or {})
    inputs = declare_inputs(definitions, raw, loop.name)
    return Scope(
        node_id=iteration_task_id(loop.task_id, index),
        component_name=pipeline_spec.task_component_name(task),
        parameters=inputs.parameters,
        artifacts=inputs.artifacts,
        runs_despite_cancel=parent.runs_despite_cancel or pipeline_spec.trigger_strategy_completed(task),
    )


def _advance_loop(
    p: _Pass, parent: Scope, key: str, task: Mapping[str, Any], loop: TaskRecord, failing: bool
) -> None:
    """Advance the iterations of a running loop, start new ones within the parallelism limit, finish the loop."""
    count = len(loop.data.get(LOOP_ITEMS_KEY) or [])
    limit = parallelism_limit(task)
    ids = [iteration_task_id(loop.task_id, index) for index in range(count)]
    active = 0
    for index, task_id in enumerate(ids):
        iteration = p.book.get(task_id)
        if iteration is not None and not iteration.state.is_final:
            iteration = _advance_dag_node(
                p, iteration, _iteration_scope(p, parent, task, loop, index), failing
            )
        if iteration is not None:
            active += not iteration.state.is_final
            failing = failing or iteration.state is TaskState.FAILED
    unstarted = False
    for index, task_id in enumerate(ids):
        if p.book.get(task_id) is not None:
            continue
        if failing or p.cancelling(parent, task) or (limit and active >= limit):
            unstarted = True
            continue
        iteration = p.book.put(
            TaskRecord(
                task_id=task_id,
                name=key,
                kind="iteration",
                state=TaskState.PENDING,
                parent_id=loop.task_id,
                display_name=f"{loop.display_name or key}-{index}",
                created_at=p.stamp,
                iteration_index=index,
                data={PARENT_COMPONENT_KEY: loop.data.get(PARENT_COMPONENT_KEY, "")},
            )
        )
        try:
            scope = _iteration_scope(p, parent, task, loop, index)
        except InputResolutionError as error:
            p.fail(iteration, str(error))
            failing = True
            continue
        iteration = _advance_dag_node(p, p.change(iteration, TaskState.RUNNING), scope, failing)
        active += not iteration.state.is_final
        failing = failing or iteration.state is TaskState.FAILED
    if active:
        return
    iterations = [record for task_id in ids if (record := p.book.get(task_id)) is not None]
    loop_component = pipeline_spec.component(p.spec, pipeline_spec.task_component_name(task))
    _finish_node(p, loop, iterations, unstarted, lambda: collect_loop_outputs(loop_component, iterations))


# ---- starting and advancing tasks ----------------------------------------------------------------------------


def _try_start(
    p: _Pass,
    scope: Scope,
    key: str,
    task: Mapping[str, Any],
    existing: TaskRecord | None,
    siblings: Mapping[str, Any],
    failing: bool,
) -> bool:
    """Start the task if its upstream allows; False when it cannot start (yet, or ever)."""
    upstream = [
        p.book.get(child_task_id(scope.node_id, up))
        for up in p.index.upstream_keys(scope.component_name, key, task)
        if up in siblings
    ]
    if any(record is None or not record.state.is_final for record in upstream):
        return False
    if not pipeline_spec.trigger_strategy_completed(task):
        if failing or p.cancelling(scope, task) or any(record.state in _BLOCKING for record in upstream):
            return False
        if any(record.state is TaskState.SKIPPED for record in upstream):
            record = existing or _new_record(p, scope, key, task, _kind_or_container(p, task))
            p.change(
                record, TaskState.SKIPPED, data={**record.data, SKIP_REASON_KEY: "upstream task was skipped"}
            )
            return True
    _admit(p, scope, key, task, existing, failing)
    return True


def _kind_or_container(p: _Pass, task: Mapping[str, Any]) -> str:
    try:
        return pipeline_spec.task_kind(p.spec, task)
    except SpecError:
        return "container"


def _new_record(p: _Pass, scope: Scope, key: str, task: Mapping[str, Any], kind: str) -> TaskRecord:
    return TaskRecord(
        task_id=child_task_id(scope.node_id, key),
        name=key,
        kind=kind,
        state=TaskState.PENDING,
        parent_id=scope.node_id,
        attempt=1 if kind == "container" else 0,
        display_name=(task.get("taskInfo") or {}).get("name") or key,
        created_at=p.stamp,
        data={PARENT_COMPONENT_KEY: scope.component_name},
    )


def _admit(
    p: _Pass, scope: Scope, key: str, task: Mapping[str, Any], existing: TaskRecord | None, failing: bool
) -> None:
    """Resolve the task's inputs, evaluate its condition, and start it according to its kind."""
    try:
        kind = pipeline_spec.task_kind(p.spec, task)
    except SpecError as error:
        p.fail(existing or _new_record(p, scope, key, task, "container"), str(error))
        return
    record = existing or _new_record(p, scope, key, task, kind)
    identity = TaskIdentity.of(p.run, key, record.task_id)
    try:
        raw = resolve_raw_inputs(scope, key, task, p.book.get, identity)
        if kind == "loop":
            inputs = raw
        else:
            spec_component = pipeline_spec.component(p.spec, pipeline_spec.task_component_name(task))
            definitions = (
                p.dag_input_definitions(spec_component)
                if kind == "dag"
                else spec_component.get("inputDefinitions")
            )
            inputs = declare_inputs(definitions, raw, key)
        condition = (task.get("triggerPolicy") or {}).get("condition")
        if condition and not evaluate_condition(condition, inputs.parameters):
            p.change(record, TaskState.SKIPPED, data={**record.data, SKIP_REASON_KEY: "condition is false"})
            return
        data = {**record.data, NODE_INPUTS_KEY: _inputs_data(inputs)}
        if kind == "loop":
            data[LOOP_ITEMS_KEY] = loop_items(task, raw)
        if kind == "importer":
            spec_component = pipeline_spec.component(p.spec, pipeline_spec.task_component_name(task))
            importer = pipeline_spec.executor(p.spec, spec_component)["importer"]
            artifact = imported_artifact(importer, inputs.parameters, identity)
    except _PlanErrors as error:
        p.fail(record, str(error))
        return
    if kind == "importer":
        p.change(record, TaskState.SUCCEEDED, artifacts={IMPORTER_OUTPUT: [artifact]}, data=data)
    elif kind == "container":
        record = p.book.put(dataclasses.replace(record, attempt=max(record.attempt, 1), data=data))
        _advance_container(p, scope, task, record, inputs)
    elif kind == "loop":
        _advance_loop(p, scope, key, task, p.change(record, TaskState.RUNNING, data=data), failing)
    else:
        running = p.change(record, TaskState.RUNNING, data=data)
        _advance_dag_node(p, running, _child_scope(scope, task, running, inputs))


def _advance(
    p: _Pass, scope: Scope, key: str, task: Mapping[str, Any], record: TaskRecord, failing: bool
) -> None:
    if record.kind == "container":
        _advance_container(p, scope, task, record, None)
    elif record.kind == "loop":
        _advance_loop(p, scope, key, task, record, failing)
    elif record.kind == "dag":
        _advance_dag_node(p, record, _child_scope(scope, task, record, _stored_inputs(record)))


def _advance_container(
    p: _Pass, scope: Scope, task: Mapping[str, Any], record: TaskRecord, inputs: ResolvedInputs | None
) -> None:
    """Launch a due attempt, or cancel it when the run is being terminated."""
    launched = record.state is TaskState.RUNNING or record.data.get(LAUNCHED_ATTEMPT_KEY) == record.attempt
    if record.state is TaskState.CANCELING:
        p.cancels.append(Cancel(record.task_id, record.attempt))
        return
    if p.cancelling(scope, task):
        if launched:
            p.change(record, TaskState.CANCELING)
            p.cancels.append(Cancel(record.task_id, record.attempt))
        else:
            p.change(record, TaskState.CANCELED, error="canceled before it started")
        return
    if launched or record.state is not TaskState.PENDING or not is_due(record.next_attempt_at, p.now):
        return
    if inputs is None:  # a later attempt: resolve again (upstream may have been rerun by a run retry)
        try:
            inputs = _resolve_container_inputs(p, scope, task, record)
        except _PlanErrors as error:
            p.fail(record, str(error))
            return
    launch = build_launch(p.run, p.spec, p.platform_spec, scope, task, record, inputs, p.book.get)
    data = {**record.data, NODE_INPUTS_KEY: _inputs_data(inputs), LAUNCHED_ATTEMPT_KEY: record.attempt}
    p.change(record, TaskState.PENDING, data=data, cache_key=launch.cache_key)
    p.launches.append(launch)


def _resolve_container_inputs(
    p: _Pass, scope: Scope, task: Mapping[str, Any], record: TaskRecord
) -> ResolvedInputs:
    identity = TaskIdentity.of(p.run, record.name, record.task_id)
    raw = resolve_raw_inputs(scope, record.name, task, p.book.get, identity)
    spec_component = pipeline_spec.component(p.spec, pipeline_spec.task_component_name(task))
    return declare_inputs(spec_component.get("inputDefinitions"), raw, record.name)


# ---- the root ------------------------------------------------------------------------------------------------


def _root_record(p: _Pass) -> TaskRecord:
    info = p.spec.get("pipelineInfo") or {}
    return TaskRecord(
        task_id=ROOT_TASK_ID,
        name=ROOT_TASK_ID,
        kind="dag",
        state=TaskState.PENDING,
        display_name=p.run.display_name or info.get("displayName") or info.get("name", ""),
        created_at=p.stamp,
    )


def _advance_root(p: _Pass) -> None:
    root = p.book.get(ROOT_TASK_ID)
    if root is not None and root.state.is_final:
        return
    if root is None or root.state is TaskState.PENDING:
        root = root or p.book.put(_root_record(p))
        definitions = pipeline_spec.component(p.spec, pipeline_spec.ROOT_COMPONENT).get("inputDefinitions")
        try:
            parameters, artifacts = apply_declarations(definitions, dict(p.run.parameters), {})
        except InputResolutionError as error:
            p.fail(root, f"run parameters: {error}")
            return
        inputs = ResolvedInputs(parameters, artifacts)
        root = p.change(root, TaskState.RUNNING, data={**root.data, NODE_INPUTS_KEY: _inputs_data(inputs)})
    inputs = _stored_inputs(root)
    scope = Scope(ROOT_TASK_ID, pipeline_spec.ROOT_COMPONENT, inputs.parameters, inputs.artifacts)
    _advance_dag_node(p, root, scope)


def plan(
    run: RunInput,
    spec: dict[str, Any],
    platform_spec: dict[str, Any] | None,
    tasks: Mapping[str, TaskRecord],
    now: datetime.datetime,
) -> Decisions:
    """Decide one reconcile step of `run` from its recorded task instances (`tasks`, by task id).

    Returns the records to create or update (versions copied through), the container attempts to launch, the
    running attempts to cancel, and the run's outcome. Pure: time comes in as `now`, ids are deterministic,
    and planning again over the returned records yields no duplicate launch.
    """
    p = _Pass(run=run, spec=spec, platform_spec=platform_spec, now=now, book=RecordBook(tasks))
    try:
        _advance_root(p)
    except SpecError as error:
        root = p.book.get(ROOT_TASK_ID) or p.book.put(_root_record(p))
        if not root.state.is_final:
            p.fail(root, str(error))
    outcome = run_outcome(run, p.book.get(ROOT_TASK_ID), p.book.all())
    return Decisions(records=p.book.changed(), launches=p.launches, cancels=p.cancels, outcome=outcome)
