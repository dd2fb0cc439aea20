"""v1beta1 ExperimentService (and HealthzService): create, get, list (scoped by a NAMESPACE reference),
`:archive`, `:unarchive`, delete — on the same services as v2beta1, so both APIs see the same experiments."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.errors import InvalidArgument
from chalicelib.api.listing import list_response, paginate
from chalicelib.api.request_helpers import json_body, path_id, query_params, split_action, string_field
from chalicelib.api.v1beta1.errors import handled_v1
from chalicelib.api.v1beta1.listing import EXPERIMENT_FIELDS_V1, parse_v1_list_query
from chalicelib.api.v1beta1.references import NAMESPACE, list_scope, parse_references
from chalicelib.api.v1beta1.shapes import experiment_v1
from chalicelib.auth.request_principal import request_namespace
from chalicelib.services import experiments as experiment_service

experiments_v1 = Blueprint(__name__)

_FIELDS = {"id", "name", "description", "created_at", "resource_references", "storage_state"}


@experiments_v1.route("/apis/v1beta1/healthz", methods=["GET"])
@handled_v1
def get_healthz_v1() -> dict:
    return {"multi_user": False}


@experiments_v1.route("/apis/v1beta1/experiments", methods=["POST"])
@handled_v1
def create_experiment_v1() -> dict:
    current = runtime.current()
    body = json_body(experiments_v1.current_request, current.settings, _FIELDS, "experiment")
    name = string_field(body, "name", "experiment").strip()
    if not name:
        raise InvalidArgument("experiment.name is required")
    references = parse_references(body.get("resource_references"), "experiment", frozenset({NAMESPACE}))
    created = experiment_service.create_experiment(
        current,
        name,
        string_field(body, "description", "experiment"),
        request_namespace(references.namespace),
    )
    return experiment_v1(created)


@experiments_v1.route("/apis/v1beta1/experiments/{experiment_id}", methods=["GET"])
@handled_v1
def get_experiment_v1(experiment_id: str) -> dict:
    return experiment_v1(runtime.current().store.catalog.get_experiment(path_id(experiment_id)))


@experiments_v1.route("/apis/v1beta1/experiments", methods=["GET"])
@handled_v1
def list_experiments_v1() -> dict:
    params = query_params(experiments_v1.current_request)
    scope = list_scope(params, frozenset({NAMESPACE}))
    query = parse_v1_list_query(params, EXPERIMENT_FIELDS_V1)
    found = runtime.current().store.catalog.list_experiments(request_namespace(scope.ref_id))
    return list_response("experiments", paginate((experiment_v1(item) for item in found), query))


@experiments_v1.route("/apis/v1beta1/experiments/{experiment_id}", methods=["DELETE"])
@handled_v1
def delete_experiment_v1(experiment_id: str) -> dict:
    experiment_service.delete_experiment(runtime.current(), path_id(experiment_id))
    return {}


@experiments_v1.route("/apis/v1beta1/experiments/{experiment_id}", methods=["POST"])
@handled_v1
def experiment_action_v1(experiment_id: str) -> dict:
    resource_id, action = split_action(experiment_id, ("archive", "unarchive"), "experiment")
    experiment_service.set_archived(runtime.current(), resource_id, action == "archive")
    return {}
