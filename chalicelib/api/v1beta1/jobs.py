"""v1beta1 JobService: recurring runs as v1 jobs — create, get, list (scoped by an EXPERIMENT or NAMESPACE
reference), `/enable`, `/disable`, delete — on the same recurring-run services and EventBridge Scheduler path as
v2beta1's recurring runs."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.errors import InvalidArgument
from chalicelib.api.listing import list_response, paginate
from chalicelib.api.request_helpers import (
    json_body,
    object_field,
    path_id,
    query_params,
    reject_unknown_fields,
    string_field,
)
from chalicelib.api.v1beta1.errors import handled_v1
from chalicelib.api.v1beta1.listing import JOB_FIELDS_V1, parse_v1_list_query
from chalicelib.api.v1beta1.references import EXPERIMENT, NAMESPACE, list_scope
from chalicelib.api.v1beta1.run_sources import resolve_run_source
from chalicelib.api.v1beta1.shapes import job_v1
from chalicelib.auth.request_principal import request_namespace
from chalicelib.services import recurring_runs as recurring_run_service
from chalicelib.triggers.schedule_expressions import to_eventbridge

jobs_v1 = Blueprint(__name__)

_FIELDS = {
    "id",
    "name",
    "description",
    "pipeline_spec",
    "resource_references",
    "service_account",
    "max_concurrency",
    "trigger",
    "mode",
    "created_at",
    "updated_at",
    "status",
    "error",
    "enabled",
    "no_catchup",
}


def _trigger(body: dict[str, Any]) -> dict[str, Any]:
    trigger = object_field(body, "trigger", "job")
    reject_unknown_fields(trigger, {"cron_schedule", "periodic_schedule"}, "job.trigger")
    kinds = [kind for kind in ("cron_schedule", "periodic_schedule") if trigger.get(kind)]
    if len(kinds) != 1:
        raise InvalidArgument("job.trigger needs exactly one of cron_schedule or periodic_schedule")
    schedule = trigger[kinds[0]]
    if not isinstance(schedule, dict):
        raise InvalidArgument(f"job.trigger.{kinds[0]} must be an object")
    try:
        to_eventbridge({kinds[0]: schedule})
    except ValueError as exc:
        raise InvalidArgument(f"job.trigger: {exc}") from exc
    return {kinds[0]: schedule}


def _max_concurrency(body: dict[str, Any]) -> int:
    raw = body.get("max_concurrency", 1)
    try:
        value = int(str(raw))
    except ValueError:
        raise InvalidArgument(f"job.max_concurrency must be an integer, got {raw!r}") from None
    if not 1 <= value <= 10:
        raise InvalidArgument(f"job.max_concurrency must be between 1 and 10, got {value}")
    return value


def _enabled(body: dict[str, Any]) -> bool:
    enabled, mode = body.get("enabled"), body.get("mode")
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidArgument("job.enabled must be true or false")
    if mode not in (None, "", "UNKNOWN_MODE", "ENABLED", "DISABLED"):
        raise InvalidArgument(f"job.mode must be ENABLED or DISABLED, got {mode!r}")
    if mode in ("ENABLED", "DISABLED"):
        if enabled is not None and enabled != (mode == "ENABLED"):
            raise InvalidArgument("job.enabled and job.mode disagree")
        return mode == "ENABLED"
    return True if enabled is None else enabled


@jobs_v1.route("/apis/v1beta1/jobs", methods=["POST"])
@handled_v1
def create_job_v1() -> dict:
    current = runtime.current()
    body = json_body(jobs_v1.current_request, current.settings, _FIELDS, "job")
    name = string_field(body, "name", "job").strip()
    if not name:
        raise InvalidArgument("job.name is required")
    trigger = _trigger(body)
    max_concurrency = _max_concurrency(body)
    enabled = _enabled(body)
    no_catchup = body.get("no_catchup")
    if no_catchup is not None and not isinstance(no_catchup, bool):
        raise InvalidArgument("job.no_catchup must be true or false")
    source = resolve_run_source(current, body, "job")
    created = recurring_run_service.create_recurring_run(
        current,
        recurring_run_service.RecurringRunRequest(
            display_name=name,
            experiment_id=source.experiment_id,
            namespace=source.namespace,
            package=source.package,
            parameters=source.parameters,
            trigger=trigger,
            max_concurrency=max_concurrency,
            enabled=enabled,
            no_catchup=bool(no_catchup),
            description=string_field(body, "description", "job"),
            pipeline_id=source.pipeline_id,
            pipeline_version_id=source.pipeline_version_id,
            pipeline_root=source.pipeline_root,
            service_account=string_field(body, "service_account", "job"),
        ),
    )
    return job_v1(created)


@jobs_v1.route("/apis/v1beta1/jobs/{job_id}", methods=["GET"])
@handled_v1
def get_job_v1(job_id: str) -> dict:
    return job_v1(runtime.current().store.recurring_runs.get_recurring_run(path_id(job_id)))


@jobs_v1.route("/apis/v1beta1/jobs", methods=["GET"])
@handled_v1
def list_jobs_v1() -> dict:
    params = query_params(jobs_v1.current_request)
    scope = list_scope(params, frozenset({EXPERIMENT, NAMESPACE}))
    query = parse_v1_list_query(params, JOB_FIELDS_V1)
    store = runtime.current().store
    if scope.kind == EXPERIMENT:
        store.catalog.get_experiment(scope.ref_id)
        found = store.recurring_runs.list_recurring_runs("", scope.ref_id)
    else:
        found = store.recurring_runs.list_recurring_runs(request_namespace(scope.ref_id))
    return list_response("jobs", paginate((job_v1(item) for item in found), query))


@jobs_v1.route("/apis/v1beta1/jobs/{job_id}", methods=["DELETE"])
@handled_v1
def delete_job_v1(job_id: str) -> dict:
    recurring_run_service.delete_recurring_run(runtime.current(), path_id(job_id))
    return {}


@jobs_v1.route("/apis/v1beta1/jobs/{job_id}/enable", methods=["POST"])
@handled_v1
def enable_job_v1(job_id: str) -> dict:
    recurring_run_service.set_enabled(runtime.current(), path_id(job_id), True)
    return {}


@jobs_v1.route("/apis/v1beta1/jobs/{job_id}/disable", methods=["POST"])
@handled_v1
def disable_job_v1(job_id: str) -> dict:
    recurring_run_service.set_enabled(runtime.current(), path_id(job_id), False)
    return {}
