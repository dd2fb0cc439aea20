"""One reconcile pass: load the active runs → ask the engine → apply its decisions through store and executor.

Safe to crash at any line and to run twice at once, without a lease:
- every task and run write is versioned (a pass that lost a race gets ConcurrentUpdate and leaves the run
  to the pass that won);
- a launch is written ahead: the attempt's launch document (TaskSpec + cache settings) goes to S3 under a
  deterministic key before its task record, and the executor's launch is idempotent by attempt name, so a
  pass that dies between the record and the launch is finished by the next pass, which finds a PENDING
  launched attempt the executor does not know and launches it from the stored document;
- attempt outcomes are applied from what the executor reports (`poll`), never from memory.
Retries and backoff are data on the task records (`next_attempt_at`), picked up by a later pass; no sleeps.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib import engine
from chalicelib.argo_resources import (
    ResourceProgress,
    check_resource_step,
    delete_owned_objects,
    is_resource_step,
    start_resource_step,
)
from chalicelib.engine.argo.records import OBJECT_KEY
from chalicelib.engine.attempts import LAUNCHED_ATTEMPT_KEY
from chalicelib.engine.formats import SpecEngine, engine_for
from chalicelib.engine.model import Decisions, Launch, RunInput, TaskRecord
from chalicelib.executors.protocol import (
    AttemptLaunch,
    AttemptPhase,
    AttemptStatus,
    Executor,
    LaunchRefused,
)
from chalicelib.observability import metrics, reconcile_measures, state_changes
from chalicelib.observability.logs import logger
from chalicelib.platform_operations import (
    create_workspace,
    delete_workspace,
    platform_operation,
    run_platform_operation,
    workspace_config,
)
from chalicelib.run_states import FINAL_RUN_STATES
from chalicelib.settings import Settings
from chalicelib.spec.package import package_format
from chalicelib.store.errors import ConcurrentUpdate, NotFound, StoreError
from chalicelib.store.object_keys import launch_document_key, live_log_key, log_key
from chalicelib.store.protocols import Store
from chalicelib.store.records import CachedResult, Run, moved_to
from chalicelib.task_contract import TaskSpec, TaskState
from chalicelib.timestamps import format_time, utc_now

# A pass re-plans a run after applying decisions until nothing changes (bounded).
MAX_PLAN_ROUNDS = 50
# The log of an attempt running this long is copied to S3 (again every this often) for following it live.
LIVE_LOG_SECONDS = 3.0
LOG_TAIL_LINES = 20
LEAF_KINDS = frozenset({"container", "resource"})


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """A run's spec snapshot as the engine reads it, and the engine functions for its format."""

    spec: dict[str, Any]
    platform_spec: dict[str, Any] | None
    engine: SpecEngine


@dataclasses.dataclass
class RunTasks:
    """A run's task records as this reconciler last read and wrote them, and the store's change sequence number
    they are current to: the next pass reads only the records written after it."""

    sequence: int
    records: dict[str, TaskRecord]


@dataclasses.dataclass
class PassReport:
    runs: int = 0
    launched: int = 0
    finished: int = 0
    changed: bool = False
    active: bool = False  # some run is still active after the pass
    # The longest time an active run has gone without a state change (None: no run active).
    stalled_seconds: float | None = None


def _launch_document(
    launch: Launch, namespace: str, service_account: str, workspace: dict[str, Any]
) -> dict[str, Any]:
    platform = (
        {**launch.platform, "pipelineConfig": {"workspace": workspace}} if workspace else launch.platform
    )
    return {
        "spec": dataclasses.asdict(launch.spec),
        "cache_key": launch.cache_key,
        "cache_enabled": launch.cache_enabled,
        "platform": platform,
        "namespace": namespace,
        "service_account": service_account,
    }


def _attempt_launch(document: dict[str, Any]) -> AttemptLaunch:
    return AttemptLaunch(
        spec=TaskSpec(**document["spec"]),
        namespace=document.get("namespace") or "default",
        platform=document.get("platform") or {},
        service_account=document.get("service_account") or "",
    )


def _log_tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


class Reconciler:
    """Applies engine decisions for runs. `checkpoint(label)` is called between writes (tests inject
    crashes there)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        executor: Executor,
        clock: Callable[[], datetime.datetime] = utc_now,
        checkpoint: Callable[[str], None] = lambda label: None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.objects = store.objects
        self.executor = executor
        self.clock = clock
        self.checkpoint = checkpoint
        self._specs: dict[str, RunSpec] = {}
        # Launch documents this reconciler wrote, so it need not read them back from S3 (the hot path
        # between a task's end and its dependant's start).
        self._launch_documents: dict[tuple[str, str, int], dict[str, Any]] = {}
        # Ended attempts whose log this reconciler stored and whose executor bookkeeping it cleaned up, by run.
        self._settled: dict[str, set[tuple[str, int]]] = {}
        # Running attempts → when their log was last copied (or first seen running), by time.monotonic().
        self._live_logs: dict[tuple[str, str, int], float] = {}
        # Task records of the active runs, kept between passes (dropped when a pass of the run fails).
        self._run_tasks: dict[str, RunTasks] = {}

    # ------------------------------------------------------------------ passes

    def run_pass(self, run_ids: Iterable[str] | None = None) -> PassReport:
        """Reconcile the given runs (default: every active run, from the sparse index)."""
        started = time.monotonic()
        ids = sorted(set(run_ids if run_ids is not None else self.store.runs.active_run_ids()))
        report = PassReport(runs=len(ids))
        if not ids:
            return report
        statuses: dict[tuple[str, str, int], AttemptStatus] = {}
        for status in self.executor.poll(ids):
            statuses[(status.run_id, status.task_id, status.attempt)] = status
        if run_ids is None:  # every active run: forget what is kept of the others
            self._forget_runs_but(set(ids))
        for run_id in ids:
            try:
                self.reconcile_run(run_id, statuses, report)
            except ConcurrentUpdate:
                self._run_tasks.pop(run_id, None)
                logger().info(
                    "run changed during the pass; the next pass continues it", extra={"run_id": run_id}
                )
                report.active = True
            except NotFound:
                self._run_tasks.pop(run_id, None)
                continue  # deleted meanwhile
            except BaseException:
                self._run_tasks.pop(run_id, None)  # a write may or may not have happened: read it all again
                raise
        self._copy_live_logs(statuses)
        duration_ms = (time.monotonic() - started) * 1000
        reconcile_measures.record_pass(report.runs, report.launched, duration_ms, report.stalled_seconds)
        return report

    def _copy_live_logs(self, statuses: dict[tuple[str, str, int], AttemptStatus]) -> None:
        """Copy the log so far of attempts running for LIVE_LOG_SECONDS or more (after the pass's writes, so
        short tasks and the hot path between tasks never pay for it)."""
        now = time.monotonic()
        running = [key for key, status in statuses.items() if status.phase is AttemptPhase.RUNNING]
        self._live_logs = {key: self._live_logs.get(key, now) for key in running}
        for key, since in self._live_logs.items():
            if now - since >= LIVE_LOG_SECONDS:
                self._store_log(*key, live=True)
                self._live_logs[key] = now

    def reconcile_run(
        self, run_id: str, statuses: dict[tuple[str, str, int], AttemptStatus], report: PassReport
    ) -> None:
        runs = self.store.runs
        run = runs.get_run(run_id)
        if run.state in FINAL_RUN_STATES and run.delete_requested:
            # A finished run deleted while it held cluster objects: delete them, then the run.
            self._delete_run(run, runs.load_tasks(run_id))
            return
        if run.state in FINAL_RUN_STATES and run.retry_requested <= run.retry_applied:
            return
        run_spec = self._spec(run)
        spec, platform_spec = run_spec.spec, run_spec.platform_spec
        tasks = self._tasks_of(run_id)
        if run.retry_requested > run.retry_applied:
            for record in run_spec.engine.retry_run(tasks, self.clock()):
                self._save(run_id, tasks, record)
            self.checkpoint("retry-applied")
            run = runs.update_run(dataclasses.replace(run, retry_applied=run.retry_requested))
        workspace = workspace_config(platform_spec)
        if run.state == "PENDING":
            create_workspace(self.executor, run_id, self.settings.pod_namespace(run.namespace), workspace)
        finished = self._apply_attempt_statuses(run, run_spec, tasks, statuses, report)
        self._advance_resource_steps(run, run_spec, tasks, report)
        outcome = None
        # (task id, attempt) launched by this pass: `statuses` predates them, so they must not look lost.
        launched: set[tuple[str, int]] = set()
        for _ in range(MAX_PLAN_ROUNDS):
            decisions = run_spec.engine.plan(self._run_input(run), spec, platform_spec, tasks, self.clock())
            replan, run = self._apply_decisions(run, decisions, tasks, report, launched)
            outcome = decisions.outcome
            if not replan:
                break
        self._relaunch_lost_writes(run, tasks, statuses, launched)
        self._after_attempts(run_id, finished)
        if outcome is not None and outcome.state in FINAL_RUN_STATES:
            delete_workspace(self.executor, run_id, self.settings.pod_namespace(run.namespace), workspace)
            self._settled.pop(run_id, None)
            self._run_tasks.pop(run_id, None)
        if outcome is not None and outcome.state in FINAL_RUN_STATES and run.delete_requested:
            # Deleted while active: its tasks have stopped, so remove it now.
            self._delete_run(run, tasks)
            return
        if outcome is not None:
            run = self._record_outcome(run, outcome.state, outcome.error)
        if outcome is None or outcome.state not in FINAL_RUN_STATES:
            report.active = True
            stalled = reconcile_measures.seconds_without_progress(run, tasks, self.clock())
            report.stalled_seconds = max(stalled, report.stalled_seconds or 0.0)

    # ------------------------------------------------------------------ inputs

    def _tasks_of(self, run_id: str) -> dict[str, TaskRecord]:
        """The run's task records: those kept from the last pass updated with the ones written since."""
        kept = self._run_tasks.get(run_id)
        changes = self.store.runs.load_task_changes(run_id, kept.sequence if kept else 0)
        if kept is None or changes.complete:
            kept = RunTasks(changes.sequence, dict(changes.records))
        else:
            kept.records.update(changes.records)
            kept.sequence = changes.sequence
        self._run_tasks[run_id] = kept
        return kept.records

    def _forget_runs_but(self, active: set[str]) -> None:
        for kept in (self._run_tasks, self._specs, self._settled):
            for run_id in [run_id for run_id in kept if run_id not in active]:
                del kept[run_id]

    def _spec(self, run: Run) -> RunSpec:
        if run.run_id not in self._specs:
            struct = self.objects.get_json(run.spec_key)
            found = engine_for(package_format(struct))
            if "pipeline_spec" in struct and "root" not in struct:
                self._specs[run.run_id] = RunSpec(struct["pipeline_spec"], struct.get("platform_spec"), found)
            else:
                self._specs[run.run_id] = RunSpec(struct, None, found)
        return self._specs[run.run_id]

    def _delete_run(self, run: Run, tasks: dict[str, TaskRecord]) -> None:
        """Delete the cluster objects the run created, then the run (run record first, so a crash half-way
        leaves only unreachable task records, never a half-deleted run that would re-plan)."""
        delete_owned_objects(
            self.executor,
            [record.data[OBJECT_KEY] for record in tasks.values() if record.data.get(OBJECT_KEY)],
        )
        self.checkpoint("objects-deleted")
        self.store.runs.delete_run(run.run_id)
        state_changes.run_deleted(run)
        try:
            self.objects.delete(run.spec_key)
        except StoreError:
            pass  # unreachable without the run record

    def _run_input(self, run: Run) -> RunInput:
        return RunInput(
            run_id=run.run_id,
            pipeline_name=run.pipeline_name,
            pipeline_root=run.pipeline_root or self.settings.pipeline_root,
            parameters=dict(run.parameters or {}),
            created_at=run.created_at,
            scheduled_at=run.scheduled_at,
            cancel_requested=bool(run.cancel_requested),
            display_name=run.display_name,
            namespace=self.settings.pod_namespace(run.namespace),
        )

    # ------------------------------------------------------------------ writes

    def _save(self, run_id: str, tasks: dict[str, TaskRecord], record: TaskRecord) -> TaskRecord:
        return self._save_all(run_id, tasks, [record])[0]

    def _save_all(
        self, run_id: str, tasks: dict[str, TaskRecord], records: list[TaskRecord]
    ) -> list[TaskRecord]:
        saved_records = self.store.runs.save_tasks(run_id, records)
        for saved in saved_records:
            state_changes.task_saved(run_id, tasks.get(saved.task_id), saved)
            tasks[saved.task_id] = saved
        return saved_records

    def _apply_decisions(
        self,
        run: Run,
        decisions: Decisions,
        tasks: dict[str, TaskRecord],
        report: PassReport,
        launched: set[tuple[str, int]],
    ) -> tuple[bool, Run]:
        """Write the decisions' launch documents, records, launches and cancels; add each attempt started to
        `launched`. Returns whether a record now differs from what the planner decided (a cache hit, an attempt
        that ended or started at once: the caller re-plans then), and the run as it is now. The planner carries
        every consequence of its own decisions in one plan, so those alone need no second one."""
        launches = {launch.spec.task_id: launch for launch in decisions.launches}
        records = list(decisions.records)
        replan = False
        # Cache hits replace launches: the record goes straight to CACHED with the cached outputs.
        for index, record in enumerate(records):
            launch = launches.get(record.task_id)
            if launch is None or not launch.cache_enabled or not launch.cache_key:
                continue
            if platform_operation(launch.spec.container):
                continue  # claims are per run: never reuse another run's claim name
            cached = self.store.runs.cached_result(run.namespace, launch.cache_key)
            if cached is not None:
                records[index] = engine.record_cached(
                    record, dict(cached.parameters), dict(cached.artifacts), self.clock()
                )
                del launches[record.task_id]
                replan = True
        workspace = workspace_config(self._spec(run).platform_spec)
        for launch in launches.values():
            document = _launch_document(
                launch,
                self.settings.pod_namespace(run.namespace),
                self.settings.pod_service_account(run.namespace, run.service_account),
                workspace,
            )
            key = (run.run_id, launch.spec.task_id, launch.spec.attempt)
            self.objects.put_json(launch_document_key(*key), document)
            self._launch_documents[key] = document
            self.checkpoint("launch-document")
        if records:
            self._save_all(run.run_id, tasks, records)
            self.checkpoint("task-records")
        for launch in launches.values():
            self._start(run, launch.spec.task_id, launch.spec.attempt, tasks)
            started_record = tasks.get(launch.spec.task_id)
            replan = replan or started_record is None or started_record.state is not TaskState.PENDING
            launched.add((launch.spec.task_id, launch.spec.attempt))
            report.launched += 1
            self.checkpoint("launched")
        if launches and metrics.enabled():
            started = [
                tasks[task_id]
                for task_id in launches
                if task_id in tasks and not tasks[task_id].state.is_final
            ]
            gaps = reconcile_measures.launch_gaps_ms(self._spec(run).spec, tasks, started, self.clock())
            reconcile_measures.record_launch_gaps(gaps)
        for cancel in decisions.cancels:
            self.executor.cancel(run.run_id, cancel.task_id, cancel.attempt)
            self.checkpoint("cancelled")
        if records:
            report.changed = True
        if run.state == "PENDING" and (records or decisions.outcome.state not in FINAL_RUN_STATES):
            run = self._record_outcome(run, "RUNNING", "")
        return replan, run

    def _start(self, run: Run, task_id: str, attempt: int, tasks: dict[str, TaskRecord]) -> None:
        launch = _attempt_launch(self._launch_document_of(run.run_id, task_id, attempt))
        if platform_operation(launch.spec.container):
            self._finish_platform_operation(run, launch, tasks)
            return
        if is_resource_step(launch.spec):
            self._start_resource_step(run, launch, tasks)
            return
        try:
            name = self.executor.launch(launch)
        except LaunchRefused as error:
            self._refuse_attempt(run, task_id, attempt, tasks, str(error))
            return
        record = tasks.get(task_id)
        if record is not None and record.attempt == attempt:
            state_changes.attempt_launched(run.run_id, record, name)
        if record is not None and name and record.pod_name != name and record.attempt == attempt:
            self._save(run.run_id, tasks, dataclasses.replace(record, pod_name=name))

    def _refuse_attempt(
        self, run: Run, task_id: str, attempt: int, tasks: dict[str, TaskRecord], error: str
    ) -> None:
        """The executor refused to start the attempt (nothing runs): it fails with the executor's reason."""
        record = tasks.get(task_id)
        if record is None or record.attempt != attempt or record.state.is_final:
            return
        self._finish_without_pod(run, record, False, {}, f"cannot launch: {error}", tasks)

    def _finish_platform_operation(
        self, run: Run, launch: AttemptLaunch, tasks: dict[str, TaskRecord]
    ) -> None:
        """CreatePVC / DeletePVC: no container; the executor does it now and the attempt ends at once."""
        record = tasks.get(launch.spec.task_id)
        if record is None or record.attempt != launch.spec.attempt or record.state.is_final:
            return
        outcome = run_platform_operation(self.executor, launch.spec, launch.namespace)
        self.checkpoint("platform-operation")
        self._finish_without_pod(run, record, outcome.succeeded, outcome.parameters, outcome.error, tasks)

    def _finish_without_pod(
        self,
        run: Run,
        record: TaskRecord,
        succeeded: bool,
        parameters: dict[str, Any],
        error: str,
        tasks: dict[str, TaskRecord],
    ) -> None:
        """Record the outcome of an attempt that ran no pod (a platform operation, a resource step, a refused
        launch)."""
        run_spec = self._spec(run)
        finished = run_spec.engine.finish_attempt(
            record, run_spec.spec, succeeded, parameters, {}, error, None, self.clock()
        )
        self._save(run.run_id, tasks, finished)

    # ------------------------------------------------------------------ resource steps (KFP v1)

    def _start_resource_step(self, run: Run, launch: AttemptLaunch, tasks: dict[str, TaskRecord]) -> None:
        """Do a resource template's action now; it ends at once or waits, RUNNING, for its conditions."""
        record = tasks.get(launch.spec.task_id)
        if record is None or record.attempt != launch.spec.attempt or record.state is not TaskState.PENDING:
            return
        progress = start_resource_step(self.executor, launch.spec, launch.namespace)
        self.checkpoint("resource-applied")
        self._record_resource_progress(run, record, progress, tasks)

    def _advance_resource_steps(
        self, run: Run, run_spec: RunSpec, tasks: dict[str, TaskRecord], report: PassReport
    ) -> None:
        """Check the conditions of resource steps that wait on their object; finish cancelled ones."""
        for record in list(tasks.values()):
            if record.kind != "resource" or record.state not in (TaskState.RUNNING, TaskState.CANCELING):
                continue
            if record.state is TaskState.CANCELING:
                finished = run_spec.engine.finish_attempt(
                    record, run_spec.spec, False, {}, {}, "canceled", None, self.clock()
                )
                self._save(run.run_id, tasks, finished)
                report.changed = True
                continue
            try:
                document = self._launch_document_of(run.run_id, record.task_id, record.attempt)
            except NotFound:
                continue
            progress = check_resource_step(
                self.executor, _attempt_launch(document).spec, record.data[OBJECT_KEY]
            )
            if not progress.waiting:
                report.changed = True
            self._record_resource_progress(run, record, progress, tasks)

    def _record_resource_progress(
        self, run: Run, record: TaskRecord, progress: ResourceProgress, tasks: dict[str, TaskRecord]
    ) -> None:
        if progress.object_ref:
            record = dataclasses.replace(record, data={**record.data, OBJECT_KEY: progress.object_ref})
        if progress.waiting:
            if record.state is TaskState.PENDING:
                name = str(progress.object_ref.get("name", ""))
                self._save(
                    run.run_id,
                    tasks,
                    engine.transition(
                        record,
                        TaskState.RUNNING,
                        now=format_time(self.clock()),
                        pod_name=name,
                        data=record.data,
                    ),
                )
            return
        self._finish_without_pod(run, record, progress.succeeded, progress.parameters, progress.error, tasks)

    def _relaunch_lost_writes(
        self,
        run: Run,
        tasks: dict[str, TaskRecord],
        statuses: dict[tuple[str, str, int], AttemptStatus],
        launched: set[tuple[str, int]],
    ) -> None:
        """A PENDING attempt that was planned and written but never reached the executor (a pass died between
        the record and the launch): launch it now from its write-ahead document (idempotent). Attempts in
        `launched` were started by this pass after `statuses` was taken, so they are not lost."""
        for record in list(tasks.values()):
            if record.kind not in LEAF_KINDS or record.state is not TaskState.PENDING:
                continue
            if record.data.get(LAUNCHED_ATTEMPT_KEY) != record.attempt:
                continue
            if (run.run_id, record.task_id, record.attempt) in statuses:
                continue
            if (record.task_id, record.attempt) in launched:
                continue
            try:
                self._start(run, record.task_id, record.attempt, tasks)
            except NotFound:
                logger().warning(
                    "no launch document",
                    extra={"run_id": run.run_id, "task_id": record.task_id, "attempt": record.attempt},
                )

    def _record_outcome(self, run: Run, state: str, error: str) -> Run:
        """Record the run's new state (a versioned write on a fresh read); returns the run as stored."""
        if run.state == state:
            return run  # nothing to record: skip the re-read on every pass of a running run
        fresh = self.store.runs.get_run(run.run_id)
        if fresh.state == state or (fresh.state in FINAL_RUN_STATES and state == "RUNNING"):
            return fresh
        if fresh.state == "CANCELING" and state == "RUNNING":
            return fresh
        changed = moved_to(
            fresh, state, format_time(self.clock()), {"code": 2, "message": error} if error else None
        )
        updated = self.store.runs.update_run(changed)
        state_changes.run_moved(fresh.state, updated)
        return updated

    # ------------------------------------------------------------------ attempt outcomes

    def _apply_attempt_statuses(
        self,
        run: Run,
        run_spec: RunSpec,
        tasks: dict[str, TaskRecord],
        statuses: dict[tuple[str, str, int], AttemptStatus],
        report: PassReport,
    ) -> list[tuple[str, int, bool]]:
        """Record what the executor reports; return the attempts that ended (task id, attempt, log wanted),
        whose logs and executor bookkeeping are dealt with after this pass's launches."""
        ended: list[tuple[str, int, bool]] = []
        updates: list[TaskRecord] = []
        for record in [
            record
            for record in tasks.values()
            if record.kind == "container"
            and (not record.state.is_final or (run.run_id, record.task_id, record.attempt) in statuses)
        ]:
            status = statuses.get((run.run_id, record.task_id, record.attempt))
            if record.state.is_final:
                settled = (record.task_id, record.attempt) in self._settled.get(run.run_id, ())
                if status is not None and status.phase.is_final and not settled:
                    # Recorded as ended by a pass that may have died before storing its log and cleaning up:
                    # do both (again) once in this reconciler's life.
                    ended.append((record.task_id, record.attempt, True))
                continue
            if status is None and record.state in (TaskState.RUNNING, TaskState.CANCELING):
                # The executor reported this attempt running before and now does not know it at all (a pod
                # deleted with its node, a process table lost): the attempt is lost. A CANCELING attempt the
                # executor no longer knows was stopped (a cancelled pod is gone): it ends CANCELED.
                status = AttemptStatus(
                    run.run_id, record.task_id, record.attempt, AttemptPhase.LOST, reason="no longer reported"
                )
            if status is None:
                continue
            updated = self._attempt_update(run, run_spec, record, status)
            if updated is None:
                continue
            updates.append(updated)
            if status.phase.is_final:
                report.finished += 1
                report.changed = True
                ended.append((record.task_id, record.attempt, True))
        if updates:  # one write for all (one transaction in the embedded store)
            self._save_all(run.run_id, tasks, updates)
            self.checkpoint("attempts-recorded")
        return ended

    def _after_attempts(self, run_id: str, ended: list[tuple[str, int, bool]]) -> None:
        for task_id, attempt, log_wanted in ended:
            if log_wanted and not self.executor.keeps_final_logs:
                self._store_log(run_id, task_id, attempt)
            self.executor.cleanup(run_id, task_id, attempt)
            self._launch_documents.pop((run_id, task_id, attempt), None)
            self._settled.setdefault(run_id, set()).add((task_id, attempt))

    def _launch_document_of(self, run_id: str, task_id: str, attempt: int) -> dict[str, Any]:
        key = (run_id, task_id, attempt)
        document = self._launch_documents.get(key)
        if document is None:
            document = self.objects.get_json(launch_document_key(*key))
        return document

    def _attempt_update(
        self, run: Run, run_spec: RunSpec, record: TaskRecord, status: AttemptStatus
    ) -> TaskRecord | None:
        spec, finish_attempt = run_spec.spec, run_spec.engine.finish_attempt
        now = self.clock()
        if status.phase is AttemptPhase.PENDING:
            return None
        if status.phase is AttemptPhase.RUNNING:
            if record.state is TaskState.PENDING:
                return engine.transition(
                    record,
                    TaskState.RUNNING,
                    now=status.started_at or format_time(now),
                    pod_name=status.name or record.pod_name,
                )
            return None
        if not record.started_at or not record.pod_name:
            # The attempt ended before any pass saw it RUNNING: keep its start time and process/pod name.
            record = dataclasses.replace(
                record,
                started_at=record.started_at or status.started_at,
                pod_name=record.pod_name or status.name,
            )
        result = status.result
        if status.phase is AttemptPhase.SUCCEEDED and result is not None:
            self._remember_cache(run, record, result.parameters, result.artifacts)
            return finish_attempt(
                record, spec, True, result.parameters, result.artifacts, "", result.exit_code, now
            )
        exit_code = (
            status.exit_code if status.exit_code is not None else (result.exit_code if result else None)
        )
        error = (result.error if result and result.error else "") or status.message or status.reason
        if status.phase is AttemptPhase.LOST:
            error = f"attempt lost ({status.reason or 'process or pod vanished'})"
        tail = result.log_tail if result and result.log_tail else ""
        if tail:
            error = f"{error}\n{_log_tail(tail)}"
        lost = status.phase is AttemptPhase.LOST
        return finish_attempt(record, spec, False, {}, {}, error or "failed", exit_code, now, lost=lost)

    def _store_log(self, run_id: str, task_id: str, attempt: int, live: bool = False) -> None:
        try:
            text = self.executor.logs(run_id, task_id, attempt)
        except Exception:  # noqa: BLE001 - a missing log must not block the run
            logger().warning(
                "cannot read the attempt's log",
                extra={"run_id": run_id, "task_id": task_id, "attempt": attempt},
                exc_info=True,
            )
            return
        key = (live_log_key if live else log_key)(run_id, task_id, attempt)
        self.objects.put_bytes(key, text.encode(), "text/plain; charset=utf-8")

    def _remember_cache(
        self, run: Run, record: TaskRecord, parameters: dict[str, Any], artifacts: dict[str, Any]
    ) -> None:
        try:
            document = self._launch_document_of(run.run_id, record.task_id, record.attempt)
        except NotFound:
            return
        if document.get("cache_enabled") and document.get("cache_key"):
            cached = CachedResult(
                parameters, artifacts, run.run_id, record.task_id, format_time(self.clock())
            )
            self.store.runs.put_cached_result(run.namespace, document["cache_key"], cached)
