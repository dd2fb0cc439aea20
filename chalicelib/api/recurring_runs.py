"""RecurringRunService: create, get, list (under the camelCase key `recurringRuns`), delete, `:enable`,
`:disable`. A recurring run on a pipeline version keeps using that version; on a spec, its snapshot.

Each recurring run has an EventBridge Scheduler schedule (`chalicelib.triggers.schedules`), kept in step here:
created with it, enabled/disabled with it, deleted with it. `:enable` also fires the times missed while
disabled unless `no_catchup` (`chalicelib.triggers.recurring_fire.catch_up`)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import runtime
from chalicelib.api.errors import InvalidArgument
from chalicelib.api.experiments import default_experiment_id
from chalicelib.api.listing import RECURRING_RUN_FIELDS, list_response, paginate, parse_list_query
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
from chalicelib.api.runs import runtime_config_of
from chalicelib.platform_support import check_platform_support
from chalicelib.spec import validate_runtime_parameters
from chalicelib.store import catalog
from chalicelib.store import recurring_runs as recurring_store
from chalicelib.store.errors import ConcurrentUpdate
from chalicelib.store.objects import ObjectStore
from chalicelib.store.tables import RecurringRunItem, namespace_key
from chalicelib.timestamps import now_text, utc_now
from chalicelib.triggers.errors import SchedulerError
from chalicelib.triggers.recurring_fire import catch_up
from chalicelib.triggers.schedules import drop_schedule, sync_schedule

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


def recurring_spec_key(recurring_run_id: str) -> str:
    return f"recurring-runs/{recurring_run_id}/spec.json"


def recurring_run_to_api(item: RecurringRunItem) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recurring_run_id": item.recurring_run_id,
        "display_name": item.display_name,
        "description": item.description,
        "experiment_id": item.experiment_id,
        "namespace": item.namespace,
        "runtime_config": omit_empty(
            {"parameters": item.parameters or {}, "pipeline_root": item.pipeline_root}
        ),
        "service_account": item.service_account,
        "max_concurrency": str(int(item.max_concurrency or 1)),
        "trigger": item.trigger or {},
        "mode": "ENABLE" if item.enabled else "DISABLE",
        "status": "ENABLED" if item.enabled else "DISABLED",
        "no_catchup": bool(item.no_catchup),
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
        from chalicelib.triggers.schedule_expressions import to_eventbridge
    except ImportError:  # pragma: no cover - the triggers package is optional until it lands
        return {normalised: schedule}
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


def set_recurring_run_enabled(item: RecurringRunItem, enabled: bool) -> None:
    """Enable or disable the recurring run and its schedule; enabling first catches up on missed times."""
    for attempt in range(8):  # the local firer / fire Lambda may move last_fired_at concurrently
        try:
            recurring_store.update_recurring_run(item, enabled=enabled, updated_at=now_text())
            break
        except ConcurrentUpdate:
            if attempt == 7:
                raise
            item = recurring_store.get_recurring_run(item.recurring_run_id)
    if enabled:
        catch_up(item, runtime.settings(), runtime.objects(), utc_now())
    sync_schedule(item, runtime.settings())


@recurring_runs.route("/apis/v2beta1/recurringruns", methods=["POST"])
@handled()
def create_recurring_run() -> dict:
    settings = runtime.settings()
    body = json_body(
        recurring_runs.current_request, settings, _INPUT_FIELDS | _OUTPUT_FIELDS, "recurring_run"
    )
    display_name = string_field(body, "display_name", "recurring_run").strip()
    if not display_name:
        raise InvalidArgument("recurring_run.display_name is required")
    mode = string_field(body, "mode", "recurring_run") or "ENABLE"
    if mode not in ("ENABLE", "DISABLE", "MODE_UNSPECIFIED"):
        raise InvalidArgument(f"recurring_run.mode must be ENABLE or DISABLE, got {mode!r}")
    trigger = _trigger(body)
    max_concurrency = _max_concurrency(body)
    experiment_id = string_field(body, "experiment_id", "recurring_run")
    if experiment_id:
        namespace = catalog.get_experiment(experiment_id).namespace
    else:
        namespace = string_field(body, "namespace", "recurring_run")
        experiment_id = default_experiment_id(namespace)
    source = resolve_pipeline_source(body, "recurring_run")
    parameters, pipeline_root = runtime_config_of(body, "recurring_run")
    parameters = validate_runtime_parameters(source.package, parameters)
    check_platform_support(source.package)
    recurring_run_id = catalog.new_id()
    spec_key = ""
    if not source.pipeline_id:
        spec_key = recurring_spec_key(recurring_run_id)
        ObjectStore(settings.bucket).put_json(spec_key, source.package.to_struct())
    now = now_text()
    item = RecurringRunItem(
        recurring_run_id,
        display_name=display_name,
        description=string_field(body, "description", "recurring_run"),
        experiment_id=experiment_id,
        namespace=namespace,
        ns_key=namespace_key(namespace),
        pipeline_id=source.pipeline_id,
        pipeline_version_id=source.pipeline_version_id,
        spec_key=spec_key,
        parameters=parameters,
        pipeline_root=pipeline_root,
        service_account=string_field(body, "service_account", "recurring_run"),
        max_concurrency=max_concurrency,
        trigger=trigger,
        enabled=mode != "DISABLE",
        no_catchup=bool(body.get("no_catchup")),
        created_at=now,
        updated_at=now,
    )
    recurring_store.create_recurring_run(item)
    try:
        sync_schedule(item, settings)
    except SchedulerError:
        recurring_store.delete_recurring_run(item)
        raise
    return recurring_run_to_api(item)


@recurring_runs.route("/apis/v2beta1/recurringruns/{recurring_run_id}", methods=["GET"])
@handled()
def get_recurring_run(recurring_run_id: str) -> dict:
    return recurring_run_to_api(recurring_store.get_recurring_run(path_id(recurring_run_id)))


@recurring_runs.route("/apis/v2beta1/recurringruns", methods=["GET"])
@handled()
def list_recurring_runs() -> dict:
    params = query_params(recurring_runs.current_request)
    query = parse_list_query(params, RECURRING_RUN_FIELDS)
    found = recurring_store.list_recurring_runs(
        namespace=params.get("namespace") or "", experiment_id=params.get("experiment_id") or None
    )
    return list_response("recurringRuns", paginate((recurring_run_to_api(item) for item in found), query))


@recurring_runs.route("/apis/v2beta1/recurringruns/{recurring_run_id}", methods=["DELETE"])
@handled()
def delete_recurring_run(recurring_run_id: str) -> dict:
    item = recurring_store.get_recurring_run(path_id(recurring_run_id))
    drop_schedule(item.recurring_run_id, runtime.settings())
    recurring_store.delete_recurring_run(item)
    return {}


@recurring_runs.route("/apis/v2beta1/recurringruns/{recurring_run_id}", methods=["POST"])
@handled()
def recurring_run_action(recurring_run_id: str) -> dict:
    resource_id, action = split_action(recurring_run_id, ("enable", "disable"), "recurring run")
    set_recurring_run_enabled(recurring_store.get_recurring_run(resource_id), action == "enable")
    return {}
