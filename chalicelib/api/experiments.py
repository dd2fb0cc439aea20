"""ExperimentService: create, get, list, delete, `:archive` (its runs too) and `:unarchive`."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.errors import InvalidArgument
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
from chalicelib.auth.request_principal import request_namespace
from chalicelib.services import experiments as experiment_service
from chalicelib.store.records import Experiment

experiments = Blueprint(__name__)

_INPUT_FIELDS = {"display_name", "description", "namespace"}
_OUTPUT_FIELDS = {"experiment_id", "created_at", "last_run_created_at", "storage_state"}


def experiment_to_api(item: Experiment) -> dict[str, Any]:
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


@experiments.route("/apis/v2beta1/experiments", methods=["POST"])
@handled()
def create_experiment() -> dict:
    current = runtime.current()
    body = json_body(
        experiments.current_request, current.settings, _INPUT_FIELDS | _OUTPUT_FIELDS, "experiment"
    )
    name = string_field(body, "display_name", "experiment").strip()
    if not name:
        raise InvalidArgument("experiment.display_name is required")
    created = experiment_service.create_experiment(
        current,
        name,
        string_field(body, "description", "experiment"),
        request_namespace(string_field(body, "namespace", "experiment")),
    )
    return experiment_to_api(created)


@experiments.route("/apis/v2beta1/experiments/{experiment_id}", methods=["GET"])
@handled()
def get_experiment(experiment_id: str) -> dict:
    return experiment_to_api(runtime.current().store.catalog.get_experiment(path_id(experiment_id)))


@experiments.route("/apis/v2beta1/experiments", methods=["GET"])
@handled()
def list_experiments() -> dict:
    params = query_params(experiments.current_request)
    query = parse_list_query(params, EXPERIMENT_FIELDS)
    found = runtime.current().store.catalog.list_experiments(request_namespace(params.get("namespace") or ""))
    return list_response("experiments", paginate((experiment_to_api(item) for item in found), query))


@experiments.route("/apis/v2beta1/experiments/{experiment_id}", methods=["DELETE"])
@handled()
def delete_experiment(experiment_id: str) -> dict:
    experiment_service.delete_experiment(runtime.current(), path_id(experiment_id))
    return {}


@experiments.route("/apis/v2beta1/experiments/{experiment_id}", methods=["POST"])
@handled()
def experiment_action(experiment_id: str) -> dict:
    resource_id, action = split_action(experiment_id, ("archive", "unarchive"), "experiment")
    experiment_service.set_archived(runtime.current(), resource_id, action == "archive")
    return {}
