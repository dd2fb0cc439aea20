"""Experiments: create (names unique per namespace), the namespace's "Default" experiment, archive (with its runs
and recurring runs, as KFP does), unarchive, delete."""

from __future__ import annotations

import dataclasses

from chalicelib.runtime import Runtime
from chalicelib.services import recurring_runs as recurring_run_service
from chalicelib.services.admission import check_name
from chalicelib.services.errors import Refused
from chalicelib.services.ids import new_id
from chalicelib.store.conflicts import retry_on_conflict
from chalicelib.store.errors import AlreadyExists
from chalicelib.store.records import ARCHIVED, AVAILABLE, Experiment, Run
from chalicelib.timestamps import now_text

DEFAULT_EXPERIMENT_NAME = "Default"


def create_experiment(runtime: Runtime, display_name: str, description: str, namespace: str) -> Experiment:
    """A new experiment. AlreadyExists when the name is taken in the namespace."""
    check_name(runtime.settings.limits, "experiment.display_name", display_name)
    experiment = Experiment(new_id(), display_name, namespace, now_text(), description)
    return runtime.store.catalog.create_experiment(experiment)


def default_experiment_id(runtime: Runtime, namespace: str) -> str:
    """The id of the namespace's "Default" experiment, created on first use (race-safe: the name claim decides)."""
    catalog = runtime.store.catalog
    found = catalog.find_experiment(namespace, DEFAULT_EXPERIMENT_NAME)
    if found is not None:
        return found.experiment_id
    try:
        return create_experiment(runtime, DEFAULT_EXPERIMENT_NAME, "", namespace).experiment_id
    except AlreadyExists:
        found = catalog.find_experiment(namespace, DEFAULT_EXPERIMENT_NAME)
        if found is None:
            raise
        return found.experiment_id


def experiment_and_namespace(runtime: Runtime, experiment_id: str, namespace: str) -> tuple[str, str]:
    """Where a new run or recurring run goes: the given experiment (and its namespace; NotFound), else ("",
    `namespace`): the namespace's "Default" experiment, which `submit_run` / `create_recurring_run` find or
    create only once the request passed every check (a refused request writes nothing)."""
    if experiment_id:
        return experiment_id, runtime.store.catalog.get_experiment(experiment_id).namespace
    return "", namespace


def delete_experiment(runtime: Runtime, experiment_id: str) -> None:
    experiment = runtime.store.catalog.get_experiment(experiment_id)
    if experiment.display_name == DEFAULT_EXPERIMENT_NAME:
        raise Refused(f"Experiment {experiment_id} is the default experiment and cannot be deleted")
    runtime.store.catalog.delete_experiment(experiment_id)


def archive_experiment(runtime: Runtime, experiment_id: str) -> None:
    """Archive the experiment, then its runs, and disable its recurring runs (KFP's semantics)."""
    store = runtime.store
    store.catalog.set_experiment_storage_state(experiment_id, ARCHIVED)

    def archived(run: Run) -> Run:
        if run.storage_state == ARCHIVED:
            return run
        return store.runs.update_run(dataclasses.replace(run, storage_state=ARCHIVED))

    for run in store.runs.list_runs("", experiment_id):
        if run.storage_state != ARCHIVED:
            retry_on_conflict(lambda run_id=run.run_id: store.runs.get_run(run_id), archived)
    for recurring in store.recurring_runs.list_recurring_runs("", experiment_id):
        if recurring.enabled:
            recurring_run_service.set_enabled(runtime, recurring.recurring_run_id, False)


def unarchive_experiment(runtime: Runtime, experiment_id: str) -> None:
    runtime.store.catalog.set_experiment_storage_state(experiment_id, AVAILABLE)


def set_archived(runtime: Runtime, experiment_id: str, archived: bool) -> None:
    """`:archive` (with its runs and recurring runs) or `:unarchive` an existing experiment. NotFound."""
    runtime.store.catalog.get_experiment(experiment_id)
    if archived:
        archive_experiment(runtime, experiment_id)
    else:
        unarchive_experiment(runtime, experiment_id)
