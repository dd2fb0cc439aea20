"""RunService: create (validated spec snapshot, PENDING), get (with task details), list, delete, and the
`:terminate`, `:retry`, `:archive`, `:unarchive` actions as state transitions."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.errors import InvalidArgument
from chalicelib.api.listing import RUN_FIELDS, list_response, parse_list_query
from chalicelib.api.request_helpers import (
    handled,
    json_body,
    omit_empty,
    path_id,
    query_params,
    split_action,
    string_field,
)
from chalicelib.api.run_inputs import resolve_pipeline_source, runtime_config_of
from chalicelib.api.run_pages import RunScope, run_page
from chalicelib.api.task_details import task_details
from chalicelib.auth.request_principal import request_namespace
from chalicelib.platform_support import check_platform_support
from chalicelib.runtime import Runtime
from chalicelib.services import runs as run_service
from chalicelib.services.experiments import experiment_and_namespace
from chalicelib.spec import validate_runtime_parameters
from chalicelib.store.records import Run

runs = Blueprint(__name__)

_INPUT_FIELDS = {
    "experiment_id",
    "display_name",
    "description",
    "pipeline_spec",
    "pipeline_version_reference",
    "pipeline_version_id",
    "runtime_config",
    "service_account",
    "plugins_input",
}
# Output-only fields a client may echo back; they are ignored.
_OUTPUT_FIELDS = {
    "run_id",
    "storage_state",
    "created_at",
    "scheduled_at",
    "finished_at",
    "state",
    "error",
    "run_details",
    "state_history",
    "recurring_run_id",
}


def run_to_api(item: Run, current: Runtime | None = None) -> dict[str, Any]:
    """The run as KFP shows it; with `current`, also its task details (and inline spec)."""
    body: dict[str, Any] = {
        "run_id": item.run_id,
        "experiment_id": item.experiment_id,
        "display_name": item.display_name,
        "description": item.description,
        "storage_state": item.storage_state,
        "service_account": item.service_account,
        "runtime_config": omit_empty(
            {"parameters": item.parameters or {}, "pipeline_root": item.pipeline_root}
        ),
        "created_at": item.created_at,
        "scheduled_at": item.scheduled_at,
        "finished_at": item.finished_at,
        "state": item.state,
        "error": item.error,
        "recurring_run_id": item.recurring_run_id,
        "state_history": [
            omit_empty({"update_time": change.update_time, "state": change.state, "error": change.error})
            for change in item.state_history
        ],
        "plugins_input": item.plugins_input,
    }
    if item.pipeline_id:
        body["pipeline_version_reference"] = {
            "pipeline_id": item.pipeline_id,
            "pipeline_version_id": item.pipeline_version_id,
        }
    if current is not None:
        if not item.pipeline_id:
            body["pipeline_spec"] = current.store.objects.get_json(item.spec_key)
        records = current.store.runs.load_tasks(item.run_id)
        body["run_details"] = {"task_details": task_details(item.run_id, records)}
    body = omit_empty(body)
    body.setdefault("runtime_config", {})
    return body


@runs.route("/apis/v2beta1/runs", methods=["POST"])
@handled()
def create_run() -> dict:
    current = runtime.current()
    body = json_body(
        runs.current_request, current.settings, _INPUT_FIELDS | _OUTPUT_FIELDS | {"plugins_output"}, "run"
    )
    if body.get("plugins_output"):
        raise InvalidArgument("run.plugins_output is set by the server and cannot be given")
    display_name = string_field(body, "display_name", "run").strip()
    if not display_name:
        raise InvalidArgument("run.display_name is required")
    experiment_id, namespace = experiment_and_namespace(
        current, string_field(body, "experiment_id", "run"), request_namespace("")
    )
    source = resolve_pipeline_source(current, body, "run")
    parameters, pipeline_root = runtime_config_of(body, "run")
    parameters = validate_runtime_parameters(source.package, parameters)
    check_platform_support(source.package)
    plugins_input = body.get("plugins_input")
    if plugins_input is not None and not isinstance(plugins_input, dict):
        raise InvalidArgument("run.plugins_input must be an object")
    run = run_service.submit_run(
        current,
        run_service.RunRequest(
            display_name=display_name,
            description=string_field(body, "description", "run"),
            experiment_id=experiment_id,
            namespace=namespace,
            package=source.package,
            pipeline_id=source.pipeline_id,
            pipeline_version_id=source.pipeline_version_id,
            parameters=parameters,
            pipeline_root=pipeline_root,
            service_account=string_field(body, "service_account", "run"),
            plugins_input=plugins_input,
        ),
    )
    return run_to_api(run)


@runs.route("/apis/v2beta1/runs/{run_id}", methods=["GET"])
@handled()
def get_run(run_id: str) -> dict:
    current = runtime.current()
    return run_to_api(run_service.visible_run(current, path_id(run_id)), current)


@runs.route("/apis/v2beta1/runs", methods=["GET"])
@handled()
def list_runs() -> dict:
    params = query_params(runs.current_request)
    experiment_id = params.get("experiment_id") or ""
    namespace = params.get("namespace") or ("" if experiment_id else request_namespace(""))
    scope = RunScope(namespace, experiment_id)
    query = parse_list_query(params, RUN_FIELDS, scope.token_scope)
    return list_response("runs", run_page(runtime.current().store.runs, scope, query, run_to_api))


@runs.route("/apis/v2beta1/runs/{run_id}", methods=["DELETE"])
@handled()
def delete_run(run_id: str) -> dict:
    run_service.delete_run(runtime.current(), path_id(run_id))
    return {}


_RUN_ACTIONS = {
    "terminate": run_service.terminate_run,
    "retry": run_service.retry_run,
    "archive": run_service.archive_run,
    "unarchive": run_service.unarchive_run,
}


@runs.route("/apis/v2beta1/runs/{run_id}", methods=["POST"])
@handled()
def run_action(run_id: str) -> dict:
    resource_id, action = split_action(run_id, tuple(_RUN_ACTIONS), "run")
    _RUN_ACTIONS[action](runtime.current(), resource_id)
    return {}
