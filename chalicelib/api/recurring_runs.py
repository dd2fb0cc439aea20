"""RecurringRunService: create, get, list (under the camelCase key `recurringRuns`), delete, `:enable`,
`:disable`. A recurring run on a pipeline version keeps using that version; on a spec, its snapshot.

Each recurring run has an EventBridge Scheduler schedule, kept in step by `chalicelib.services.recurring_runs`:
created with it, enabled/disabled with it, deleted with it. `:enable` also fires the times missed while
disabled unless `no_catchup` (`chalicelib.services.recurring_fires.catch_up`)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.errors import InvalidArgument
from chalicelib.api.listing import RECURRING_RUN_FIELDS, list_response, paginate, parse_list_query
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
from chalicelib.api.run_inputs import resolve_pipeline_source, runtime_config_of
from chalicelib.auth.request_principal import request_namespace
from chalicelib.platform_support import check_platform_support
from chalicelib.services import recurring_runs as recurring_run_service
from chalicelib.services.experiments import experiment_and_namespace
from chalicelib.spec import validate_runtime_parameters
from chalicelib.store.records import RecurringRun
from chalicelib.triggers.schedule_expressions import to_eventbridge

recurring_runs = Blueprint(__name__)

_INPUT_FIELDS = {
    "display_name",
    "description",
    "pipeline_version_id",
    "pipeline_spec",
    "pipeline_version_reference",
    "runtime_config",
    "service_account",
    "max_concurrency",
    "trigger",
    "mode",
    "no_catchup",
    "namespace",
    "experiment_id",
    "plugins_input",
}
_OUTPUT_FIELDS = {"recurring_run_id", "created_at", "updated_at", "status", "error"}


def recurring_run_to_api(item: RecurringRun) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recurring_run_id": item.recurring_run_id,
        "display_name": item.display_name,
        "description": item.description,
        "experiment_id": item.experiment_id,
        "namespace": item.namespace,
        "runtime_config": omit_empty(
            {"parameters": dict(item.parameters), "pipeline_root": item.pipeline_root}
        ),
        "service_account": item.service_account,
        "max_concurrency": str(item.max_concurrency),
        "trigger": dict(item.trigger),
        "mode": "ENABLE" if item.enabled else "DISABLE",
        "status": "ENABLED" if item.enabled else "DISABLED",
        "no_catchup": item.no_catchup,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "error": item.error,
    }
    if item.pipeline_id:
        body["pipeline_version_reference"] = {
            "pipeline_id": item.pipeline_id,
            "pipeline_version_id": item.pipeline_version_id,
        }
    return omit_empty(body)


def _trigger(body: dict[str, Any]) -> dict[str, Any]:
    trigger = object_field(body, "trigger", "recurring_run")
    kinds = [
        k
        for k in ("cron_schedule", "periodic_schedule", "cronSchedule", "periodicSchedule")
        if trigger.get(k)
    ]
    if len(kinds) != 1:
        raise InvalidArgument("recurring_run.trigger needs exactly one of cron_schedule or periodic_schedule")
    normalised = {"cronSchedule": "cron_schedule", "periodicSchedule": "periodic_schedule"}.get(
        kinds[0], kinds[0]
    )
    schedule = trigger[kinds[0]]
    if not isinstance(schedule, dict):
        raise InvalidArgument(f"recurring_run.trigger.{normalised} must be an object")
    try:
        to_eventbridge({normalised: schedule})
    except ValueError as exc:
        raise InvalidArgument(f"recurring_run.trigger: {exc}") from exc
    return {normalised: schedule}


def _max_concurrency(body: dict[str, Any]) -> int:
    raw = body.get("max_concurrency", 1)
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise InvalidArgument(f"recurring_run.max_concurrency must be an integer, got {raw!r}") from exc
    if value < 1 or value > 10:
        raise InvalidArgument(f"recurring_run.max_concurrency must be between 1 and 10, got {value}")
    return value


@recurring_runs.route("/apis/v2beta1/recurringruns", methods=["POST"])
@handled()
def create_recurring_run() -> dict:
    current = runtime.current()
    body = json_body(
        recurring_runs.current_request, current.settings, _INPUT_FIELDS | _OUTPUT_FIELDS, "recurring_run"
    )
    display_name = string_field(body, "display_name", "recurring_run").strip()
    if not display_name:
        raise InvalidArgument("recurring_run.display_name is required")
    mode = string_field(body, "mode", "recurring_run") or "ENABLE"
    if mode not in ("ENABLE", "DISABLE", "MODE_UNSPECIFIED"):
        raise InvalidArgument(f"recurring_run.mode must be ENABLE or DISABLE, got {mode!r}")
    trigger = _trigger(body)
    max_concurrency = _max_concurrency(body)
    experiment_id, namespace = experiment_and_namespace(
        current,
        string_field(body, "experiment_id", "recurring_run"),
        request_namespace(string_field(body, "namespace", "recurring_run")),
    )
    source = resolve_pipeline_source(current, body, "recurring_run")
    parameters, pipeline_root = runtime_config_of(body, "recurring_run")
    parameters = validate_runtime_parameters(source.package, parameters)
    check_platform_support(source.package)
    created = recurring_run_service.create_recurring_run(
        current,
        recurring_run_service.RecurringRunRequest(
            display_name=display_name,
            experiment_id=experiment_id,
            namespace=namespace,
            package=source.package,
            parameters=parameters,
            trigger=trigger,
            max_concurrency=max_concurrency,
            enabled=mode != "DISABLE",
            no_catchup=bool(body.get("no_catchup")),
            description=string_field(body, "description", "recurring_run"),
            pipeline_id=source.pipeline_id,
            pipeline_version_id=source.pipeline_version_id,
            pipeline_root=pipeline_root,
            service_account=string_field(body, "service_account", "recurring_run"),
        ),
    )
    return recurring_run_to_api(created)


@recurring_runs.route("/apis/v2beta1/recurringruns/{recurring_run_id}", methods=["GET"])
@handled()
def get_recurring_run(recurring_run_id: str) -> dict:
    return recurring_run_to_api(
        runtime.current().store.recurring_runs.get_recurring_run(path_id(recurring_run_id))
    )


@recurring_runs.route("/apis/v2beta1/recurringruns", methods=["GET"])
@handled()
def list_recurring_runs() -> dict:
    params = query_params(recurring_runs.current_request)
    query = parse_list_query(params, RECURRING_RUN_FIELDS)
    experiment_id = params.get("experiment_id") or ""
    namespace = params.get("namespace") or ("" if experiment_id else request_namespace(""))
    found = runtime.current().store.recurring_runs.list_recurring_runs(namespace, experiment_id)
    return list_response("recurringRuns", paginate((recurring_run_to_api(item) for item in found), query))


@recurring_runs.route("/apis/v2beta1/recurringruns/{recurring_run_id}", methods=["DELETE"])
@handled()
def delete_recurring_run(recurring_run_id: str) -> dict:
    recurring_run_service.delete_recurring_run(runtime.current(), path_id(recurring_run_id))
    return {}


@recurring_runs.route("/apis/v2beta1/recurringruns/{recurring_run_id}", methods=["POST"])
@handled()
def recurring_run_action(recurring_run_id: str) -> dict:
    resource_id, action = split_action(recurring_run_id, ("enable", "disable"), "recurring run")
    recurring_run_service.set_enabled(runtime.current(), resource_id, action == "enable")
    return {}
