"""Runs: creation (the one path shared by `POST /runs` and recurring-run fires) and the run actions.

Creating writes the spec snapshot object first, then the run record (PENDING, create-if-absent, so a repeated
scheduled fire with a derived id creates nothing; a run of a recurring run takes one of its slots in the same
transaction), then kicks the reconciler. Every action is a versioned write retried on a fresh read when the
reconciler wrote first, re-checking its precondition each time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from chalicelib.engine.argo.records import OBJECT_KEY
from chalicelib.observability import state_changes
from chalicelib.run_states import FINAL_RUN_STATES, RETRYABLE_RUN_STATES, TERMINABLE_RUN_STATES
from chalicelib.runtime import Runtime
from chalicelib.services import admission
from chalicelib.services.errors import FailedPrecondition
from chalicelib.services.ids import new_id
from chalicelib.spec import PipelinePackage
from chalicelib.store.conflicts import retry_on_conflict
from chalicelib.store.errors import NotFound, StoreError
from chalicelib.store.object_keys import run_spec_key
from chalicelib.store.records import ARCHIVED, AVAILABLE, Run, moved_to
from chalicelib.timestamps import now_text


@dataclasses.dataclass(frozen=True)
class RunRequest:
    display_name: str
    experiment_id: str
    namespace: str
    package: PipelinePackage
    parameters: dict[str, Any]
    description: str = ""
    pipeline_id: str = ""
    pipeline_version_id: str = ""
    pipeline_root: str = ""
    service_account: str = ""
    recurring_run_id: str = ""
    scheduled_at: str = ""
    plugins_input: dict[str, Any] | None = None
    run_id: str = ""


def submit_run(runtime: Runtime, request: RunRequest, max_concurrency: int | None = None) -> Run:
    """Store a new PENDING run and kick the reconciler. AlreadyExists when `request.run_id` is taken;
    with `max_concurrency` (a fire), LimitReached when the recurring run has no free slot."""
    store = runtime.store
    if not request.recurring_run_id:  # a fire was admitted with its recurring run
        admit_run(runtime, request)
    if not request.experiment_id:
        # services.experiments imports the recurring-run services, which import this module: import on use.
        from chalicelib.services.experiments import default_experiment_id

        request = dataclasses.replace(
            request, experiment_id=default_experiment_id(runtime, request.namespace)
        )
    run_id = request.run_id or new_id()
    created_at = now_text()
    spec_key = run_spec_key(run_id)
    store.objects.put_json(spec_key, request.package.to_struct())
    run = store.runs.create_run(
        Run(
            run_id=run_id,
            display_name=request.display_name,
            experiment_id=request.experiment_id,
            namespace=request.namespace,
            spec_key=spec_key,
            created_at=created_at,
            description=request.description,
            pipeline_id=request.pipeline_id,
            pipeline_version_id=request.pipeline_version_id,
            pipeline_name=request.package.name,
            parameters=dict(request.parameters),
            pipeline_root=request.pipeline_root,
            service_account=request.service_account,
            scheduled_at=request.scheduled_at or created_at,
            recurring_run_id=request.recurring_run_id,
            plugins_input=request.plugins_input,
        ),
        max_concurrency,
    )
    state_changes.run_created(run)
    store.catalog.touch_experiment_last_run(request.experiment_id, created_at)
    runtime.kicker.kick(run_id)
    return run


def admit_run(runtime: Runtime, request: RunRequest) -> None:
    """The limits, the pod policy and the namespace's active-run quota (InvalidRequest, QuotaExceeded)."""
    limits = runtime.settings.limits
    admission.check_name(limits, "run.display_name", request.display_name)
    admission.check_parameters(limits, request.parameters)
    admission.check_package(runtime, request.package)
    admission.check_active_runs(runtime, request.namespace)


def visible_run(runtime: Runtime, run_id: str) -> Run:
    """The run as the API shows it: NotFound also for a run whose deletion is under way."""
    run = runtime.store.runs.get_run(run_id)
    if run.delete_requested:
        raise NotFound(f"Run {run_id} not found")
    return run


def _act(runtime: Runtime, run_id: str, change: Callable[[Run], Run]) -> Run:
    def read() -> Run:
        return visible_run(runtime, run_id)

    def write(run: Run) -> Run:
        changed = change(run)
        if changed is run:
            return run
        updated = runtime.store.runs.update_run(changed)
        state_changes.run_moved(run.state, updated)
        return updated

    return retry_on_conflict(read, write)


def terminate_run(runtime: Runtime, run_id: str) -> None:
    """Idempotent: a run that already ended or is being terminated is left exactly as it is (KFP's own client
    tests clean up with terminate → archive → delete on runs that have finished)."""

    def terminated(run: Run) -> Run:
        if run.state not in TERMINABLE_RUN_STATES:
            return run
        return moved_to(run, "CANCELING", now_text(), cancel_requested=True)

    _act(runtime, run_id, terminated)
    runtime.kicker.kick(run_id)


def retry_run(runtime: Runtime, run_id: str) -> None:
    def retried(run: Run) -> Run:
        if run.state not in RETRYABLE_RUN_STATES:
            raise FailedPrecondition(
                f"Run {run.run_id} is {run.state}; only FAILED or CANCELED runs can be retried"
            )
        return moved_to(
            run, "PENDING", now_text(), cancel_requested=False, retry_requested=run.retry_requested + 1
        )

    _act(runtime, run_id, retried)
    runtime.kicker.kick(run_id)


def archive_run(runtime: Runtime, run_id: str) -> None:
    _act(runtime, run_id, lambda run: dataclasses.replace(run, storage_state=ARCHIVED))


def unarchive_run(runtime: Runtime, run_id: str) -> None:
    experiment = runtime.store.catalog.get_experiment(visible_run(runtime, run_id).experiment_id)
    if experiment.storage_state == ARCHIVED:
        raise FailedPrecondition(
            f"Run {run_id} belongs to archived experiment {experiment.experiment_id}; unarchive it first"
        )
    _act(runtime, run_id, lambda run: dataclasses.replace(run, storage_state=AVAILABLE))


def delete_run(runtime: Runtime, run_id: str) -> None:
    """Delete a final run at once; an active one, or a final one whose KFP v1 resource steps created
    Kubernetes objects (only the reconciler reaches the cluster), is hidden now and removed by the reconciler
    once its tasks are stopped and its objects deleted."""
    run = visible_run(runtime, run_id)
    if run.state in FINAL_RUN_STATES and not _holds_cluster_objects(runtime, run_id):
        remove_run(runtime, run)
        return

    def deletion_requested(current: Run) -> Run:
        if current.state in FINAL_RUN_STATES:
            return dataclasses.replace(current, delete_requested=True)
        state = "CANCELING" if current.state in TERMINABLE_RUN_STATES else current.state
        return moved_to(current, state, now_text(), cancel_requested=True, delete_requested=True)

    _act(runtime, run_id, deletion_requested)
    runtime.kicker.kick(run_id)


def _holds_cluster_objects(runtime: Runtime, run_id: str) -> bool:
    tasks = runtime.store.runs.load_tasks(run_id).values()
    return any((record.data.get(OBJECT_KEY) or {}).get("owned") for record in tasks)


def remove_run(runtime: Runtime, run: Run) -> None:
    """Remove a run's records and its spec snapshot (a final run, or one the reconciler has stopped)."""
    runtime.store.runs.delete_run(run.run_id)
    state_changes.run_deleted(run)
    try:
        runtime.store.objects.delete(run.spec_key)
    except StoreError:
        pass  # the snapshot is unreachable without the run record
