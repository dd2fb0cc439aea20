"""ExperimentService: create, get, list, delete, `:archive` (its runs too) and `:unarchive`."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import runtime
from chalicelib.api.errors import Aborted, InvalidArgument
from chalicelib.api.listing import EXPERIMENT_FIELDS, list_response, paginate, parse_list_query
from chalicelib.api.request_helpers import (
    handled,
    json_body,
    omit_empty,
    path_id,
    query_params,
    split_action,
    string_field,
)
from chalicelib.store import catalog
from chalicelib.store import recurring_runs as recurring_store
from chalicelib.store import runs as run_store
from chalicelib.store.errors import AlreadyExists
from chalicelib.store.tables import ExperimentItem

experiments = Blueprint(__name__)

DEFAULT_EXPERIMENT_NAME = "Default"
_INPUT_FIELDS = {"display_name", "description", "namespace"}
_OUTPUT_FIELDS = {"experiment_id", "created_at", "last_run_created_at", "storage_state"}


def experiment_to_api(item: ExperimentItem) -> dict[str, Any]:
    return omit_empty(
        {
            "experiment_id": item.experiment_id,
            "display_name": item.display_name,
            "description": item.description,
            "namespace": item.namespace,
            "created_at": item.created_at,
            "last_run_created_at": item.last_run_created_at,
            "storage_state": item.storage_state,
        }
    )


def default_experiment_id(namespace: str) -> str:
    """The id of the namespace's "Default" experiment, created on first use (race-safe)."""
    found = catalog.find_experiment_id(DEFAULT_EXPERIMENT_NAME, namespace)
    if found:
        return found
    try:
        return catalog.create_experiment(DEFAULT_EXPERIMENT_NAME, "", namespace).experiment_id
    except AlreadyExists:
        found = catalog.find_experiment_id(DEFAULT_EXPERIMENT_NAME, namespace)
        if not found:
            raise
        return found


@experiments.route("/apis/v2beta1/experiments", methods=["POST"])
@handled()
def create_experiment() -> dict:
    request = experiments.current_request
    body = json_body(request, runtime.settings(), _INPUT_FIELDS | _OUTPUT_FIELDS, "experiment")
    name = string_field(body, "display_name", "experiment").strip()
    if not name:
        raise InvalidArgument("experiment.display_name is required")
    item = catalog.create_experiment(
        name, string_field(body, "description", "experiment"), string_field(body, "namespace", "experiment")
    )
    return experiment_to_api(item)


@experiments.route("/apis/v2beta1/experiments/{experiment_id}", methods=["GET"])
@handled()
def get_experiment(experiment_id: str) -> dict:
    return experiment_to_api(catalog.get_experiment(path_id(experiment_id)))


@experiments.route("/apis/v2beta1/experiments", methods=["GET"])
@handled()
def list_experiments() -> dict:
    params = query_params(experiments.current_request)
    query = parse_list_query(params, EXPERIMENT_FIELDS)
    items = (experiment_to_api(item) for item in catalog.list_experiments(params.get("namespace", "")))
    return list_response("experiments", paginate(items, query))


@experiments.route("/apis/v2beta1/experiments/{experiment_id}", methods=["DELETE"])
@handled()
def delete_experiment(experiment_id: str) -> dict:
    item = catalog.get_experiment(path_id(experiment_id))
    if item.display_name == DEFAULT_EXPERIMENT_NAME:
        raise Aborted(f"Experiment {item.experiment_id} is the default experiment and cannot be deleted")
    catalog.delete_experiment(item)
    return {}


@experiments.route("/apis/v2beta1/experiments/{experiment_id}", methods=["POST"])
@handled()
def experiment_action(experiment_id: str) -> dict:
    resource_id, action = split_action(experiment_id, ("archive", "unarchive"), "experiment")
    item = catalog.get_experiment(resource_id)
    if action == "archive":
        archive_experiment(item)
    else:
        catalog.set_experiment_storage_state(item, "AVAILABLE")
    return {}


def archive_experiment(item: ExperimentItem) -> None:
    """Archive the experiment, then its runs, and disable its recurring runs (KFP's semantics)."""
    catalog.set_experiment_storage_state(item, "ARCHIVED")
    for run in run_store.list_runs(experiment_id=item.experiment_id):
        if run.storage_state != "ARCHIVED":
            run_store.modify_run(
                run.run_id, lambda fresh: run_store.update_run_fields(fresh, storage_state="ARCHIVED")
            )
    from chalicelib.api.recurring_runs import set_recurring_run_enabled

    for recurring in recurring_store.list_recurring_runs(experiment_id=item.experiment_id):
        if recurring.enabled:
            set_recurring_run_enabled(recurring_store.get_recurring_run(recurring.recurring_run_id), False)
