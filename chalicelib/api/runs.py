"""RunService: create (validated spec snapshot, PENDING), get (with task details), list, delete, and the
`:terminate`, `:retry`, `:archive`, `:unarchive` actions as state transitions."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import reconcile_kick
from chalicelib.api import runtime
from chalicelib.api.errors import FailedPrecondition, InvalidArgument
from chalicelib.api.experiments import default_experiment_id
from chalicelib.api.listing import RUN_FIELDS, list_response, paginate, parse_list_query
from chalicelib.api.pipeline_sources import resolve_pipeline_source
from chalicelib.api.request_helpers import (
    handled,
    json_body,
    object_field,
    omit_empty,
    path_id,
    query_params,
    split_action,
    string_field,
)
from chalicelib.api.task_details import task_details
from chalicelib.engine.argo.records import OBJECT_KEY
from chalicelib.run_states import FINAL_RUN_STATES, RETRYABLE_RUN_STATES, TERMINABLE_RUN_STATES
from chalicelib.run_submission import RunRequest, submit_run
from chalicelib.spec import validate_runtime_parameters
from chalicelib.store import catalog
from chalicelib.store import runs as run_store
from chalicelib.store.tables import RunItem

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


def runtime_config_of(body: dict[str, Any], what: str) -> tuple[dict[str, Any], str]:
    config = object_field(body, "runtime_config", what)
    unknown = sorted(set(config) - {"parameters", "pipeline_root"})
    if unknown:
        raise InvalidArgument(f"unknown field(s) in {what}.runtime_config: {', '.join(unknown)}")
    parameters = config.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InvalidArgument(f"{what}.runtime_config.parameters must be an object")
    root = config.get("pipeline_root") or ""
    if not isinstance(root, str):
        raise InvalidArgument(f"{what}.runtime_config.pipeline_root must be a string")
    return parameters, root


def run_to_api(item: RunItem, with_details: bool = False) -> dict[str, Any]:
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
        "recurring_run_id": item.recurring_run_id or "",
        "state_history": [
            omit_empty({"update_time": change.update_time, "state": change.state, "error": change.error})
            for change in item.state_history or []
        ],
        "plugins_input": item.plugins_input,
    }
    if item.pipeline_id:
        body["pipeline_version_reference"] = {
            "pipeline_id": item.pipeline_id,
            "pipeline_version_id": item.pipeline_version_id,
        }
    if with_details:
        if not item.pipeline_id:
            body["pipeline_spec"] = runtime.objects().get_json(item.spec_key)
        records = run_store.load_tasks(item.run_id, runtime.objects())
        body["run_details"] = {"task_details": task_details(item.run_id, records)}
    body = omit_empty(body)
    body.setdefault("runtime_config", {})
    return body


@runs.route("/apis/v2beta1/runs", methods=["POST"])
@handled()
def create_run() -> dict:
    settings = runtime.settings()
    body = json_body(
        runs.current_request, settings, _INPUT_FIELDS | _OUTPUT_FIELDS | {"plugins_output"}, "run"
    )
    if body.get("plugins_output"):
        raise InvalidArgument("run.plugins_output is set by the server and cannot be given")
    display_name = string_field(body, "display_name", "run").strip()
    if not display_name:
        raise InvalidArgument("run.display_name is required")
    experiment_id = string_field(body, "experiment_id", "run")
    if experiment_id:
        namespace = catalog.get_experiment(experiment_id).namespace
    else:
        namespace = ""
        experiment_id = default_experiment_id(namespace)
    source = resolve_pipeline_source(body, "run")
    parameters, pipeline_root = runtime_config_of(body, "run")
    parameters = validate_runtime_parameters(source.package, parameters)
    plugins_input = body.get("plugins_input")
    if plugins_input is not None and not isinstance(plugins_input, dict):
        raise InvalidArgument("run.plugins_input must be an object")
    item = submit_run(
        RunRequest(
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
        settings,
        runtime.objects(),
    )
    return run_to_api(item)


@runs.route("/apis/v2beta1/runs/{run_id}", methods=["GET"])
@handled()
def get_run(run_id: str) -> dict:
    return run_to_api(run_store.get_visible_run(path_id(run_id)), with_details=True)


@runs.route("/apis/v2beta1/runs", methods=["GET"])
@handled()
def list_runs() -> dict:
    params = query_params(runs.current_request)
    query = parse_list_query(params, RUN_FIELDS)
    experiment_id = params.get("experiment_id") or ""
    found = run_store.list_runs(namespace=params.get("namespace") or "", experiment_id=experiment_id or None)
    visible = (run_to_api(item) for item in found if not item.delete_requested)
    return list_response("runs", paginate(visible, query))


@runs.route("/apis/v2beta1/runs/{run_id}", methods=["DELETE"])
@handled()
def delete_run(run_id: str) -> dict:
    item = run_store.get_visible_run(path_id(run_id))
    if item.state in FINAL_RUN_STATES and not _holds_cluster_objects(item):
        run_store.delete_run(item, runtime.objects())
        return {}
    if item.state in FINAL_RUN_STATES:
        # Its KFP v1 resource steps created Kubernetes objects, which only the reconciler can reach: hide
        # the run now and let the reconciler delete the objects, then the run.
        run_store.update_run_fields(item, delete_requested=True, active_key=run_store.ACTIVE_KEY)
        reconcile_kick.kick(runtime.settings(), item.run_id)
        return {}
    # An active run: hide it now, and let the reconciler stop its tasks and then remove it.
    run_store.modify_run(item.run_id, _request_deletion)
    reconcile_kick.kick(runtime.settings(), item.run_id)
    return {}


def _holds_cluster_objects(item: RunItem) -> bool:
    records = run_store.load_tasks(item.run_id, runtime.objects())
    return any((record.data.get(OBJECT_KEY) or {}).get("owned") for record in records.values())


def _terminate(item: RunItem) -> None:
    if item.state not in TERMINABLE_RUN_STATES:
        raise FailedPrecondition(f"Run {item.run_id} is {item.state} and cannot be terminated")
    run_store.set_run_state(item, "CANCELING", cancel_requested=True)


def _retry(item: RunItem) -> None:
    if item.state not in RETRYABLE_RUN_STATES:
        raise FailedPrecondition(
            f"Run {item.run_id} is {item.state}; only FAILED or CANCELED runs can be retried"
        )
    run_store.set_run_state(
        item, "PENDING", cancel_requested=False, retry_requested=int(item.retry_requested or 0) + 1
    )


def _request_deletion(item: RunItem) -> None:
    state = "CANCELING" if item.state in TERMINABLE_RUN_STATES else item.state
    run_store.set_run_state(item, state, cancel_requested=True, delete_requested=True)


_RUN_ACTIONS = {
    "terminate": _terminate,
    "retry": _retry,
    "archive": lambda item: run_store.update_run_fields(item, storage_state="ARCHIVED"),
    "unarchive": lambda item: run_store.update_run_fields(item, storage_state="AVAILABLE"),
}


@runs.route("/apis/v2beta1/runs/{run_id}", methods=["POST"])
@handled()
def run_action(run_id: str) -> dict:
    resource_id, action = split_action(run_id, ("terminate", "retry", "archive", "unarchive"), "run")
    if action == "unarchive":
        experiment = catalog.get_experiment(run_store.get_visible_run(resource_id).experiment_id)
        if experiment.storage_state == "ARCHIVED":
            raise FailedPrecondition(
                f"Run {resource_id} belongs to archived experiment {experiment.experiment_id}; unarchive it first"
            )
    run_store.get_visible_run(resource_id)
    run_store.modify_run(resource_id, _RUN_ACTIONS[action])
    if action in ("terminate", "retry"):
        reconcile_kick.kick(runtime.settings(), resource_id)
    return {}
