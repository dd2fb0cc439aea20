"""Recurring runs: create (with its spec snapshot and its EventBridge Scheduler schedule), enable/disable
(enabling first catches up on missed times unless `no_catchup`), delete. The one path for the API and for the
archive of an experiment."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chalicelib.observability import catalog_changes
from chalicelib.runtime import Runtime
from chalicelib.services import admission, recurring_fires
from chalicelib.services.ids import new_id
from chalicelib.spec import PipelinePackage
from chalicelib.store.conflicts import retry_on_conflict
from chalicelib.store.object_keys import recurring_spec_key
from chalicelib.store.records import RecurringRun
from chalicelib.timestamps import now_text, utc_now
from chalicelib.triggers.errors import SchedulerError
from chalicelib.triggers.schedules import drop_schedule, sync_schedule


@dataclasses.dataclass(frozen=True)
class RecurringRunRequest:
    display_name: str
    experiment_id: str
    namespace: str
    package: PipelinePackage
    parameters: Mapping[str, Any]
    trigger: Mapping[str, Any]
    max_concurrency: int = 1
    enabled: bool = True
    no_catchup: bool = False
    description: str = ""
    pipeline_id: str = ""
    pipeline_version_id: str = ""
    pipeline_root: str = ""
    service_account: str = ""


def create_recurring_run(runtime: Runtime, request: RecurringRunRequest) -> RecurringRun:
    """Store the recurring run (and its spec snapshot, when it is not pinned to a version), then its schedule;
    the record is removed again when the schedule cannot be created."""
    limits = runtime.settings.limits
    admission.check_name(limits, "recurring_run.display_name", request.display_name)
    admission.check_parameters(limits, request.parameters)
    admission.check_package(runtime, request.package)
    if not request.experiment_id:
        # services.experiments imports this module: import on use.
        from chalicelib.services.experiments import default_experiment_id

        request = dataclasses.replace(
            request, experiment_id=default_experiment_id(runtime, request.namespace)
        )
    recurring_run_id = new_id()
    spec_key = ""
    if not request.pipeline_id:
        spec_key = recurring_spec_key(recurring_run_id)
        runtime.store.objects.put_json(spec_key, request.package.to_struct())
    now = now_text()
    recurring_run = runtime.store.recurring_runs.create_recurring_run(
        RecurringRun(
            recurring_run_id=recurring_run_id,
            display_name=request.display_name,
            experiment_id=request.experiment_id,
            namespace=request.namespace,
            created_at=now,
            updated_at=now,
            description=request.description,
            pipeline_id=request.pipeline_id,
            pipeline_version_id=request.pipeline_version_id,
            spec_key=spec_key,
            parameters=dict(request.parameters),
            pipeline_root=request.pipeline_root,
            service_account=request.service_account,
            max_concurrency=request.max_concurrency,
            trigger=dict(request.trigger),
            enabled=request.enabled,
            no_catchup=request.no_catchup,
        )
    )
    try:
        sync_schedule(recurring_run, runtime.settings)
    except SchedulerError:
        runtime.store.recurring_runs.delete_recurring_run(recurring_run_id)
        raise
    catalog_changes.recurring_run_created(recurring_run)
    return recurring_run


def set_enabled(runtime: Runtime, recurring_run_id: str, enabled: bool) -> RecurringRun:
    """Enable or disable the recurring run and its schedule; enabling first catches up on missed times."""
    store = runtime.store.recurring_runs
    switched = []

    def changed(current: RecurringRun) -> RecurringRun:
        updated = store.update_recurring_run(
            dataclasses.replace(current, enabled=enabled, updated_at=now_text())
        )
        switched[:] = [current.enabled != enabled]
        return updated

    # The local firer / fire Lambda may move last_fired_at concurrently.
    recurring_run = retry_on_conflict(lambda: store.get_recurring_run(recurring_run_id), changed)
    if switched == [True]:
        catalog_changes.recurring_run_switched(recurring_run)
    if enabled:
        recurring_fires.catch_up(runtime, recurring_run, utc_now())
    sync_schedule(recurring_run, runtime.settings)
    return recurring_run


def delete_recurring_run(runtime: Runtime, recurring_run_id: str) -> None:
    recurring_run = runtime.store.recurring_runs.get_recurring_run(recurring_run_id)
    drop_schedule(recurring_run.recurring_run_id, runtime.settings)
    runtime.store.recurring_runs.delete_recurring_run(recurring_run_id)
    catalog_changes.recurring_run_deleted(recurring_run)
