"""v1beta1 RunService: create, get (with the run as an Argo Workflow in `pipeline_runtime.workflow_manifest`),
list (scoped by an EXPERIMENT or NAMESPACE reference), `/terminate` (idempotent), `/retry`, `:archive`,
`:unarchive`, delete — on the same run services as v2beta1."""

from __future__ import annotations

import json

from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.errors import InvalidArgument
from chalicelib.api.listing import list_response
from chalicelib.api.request_helpers import json_body, path_id, query_params, split_action, string_field
from chalicelib.api.run_pages import RunScope, run_page
from chalicelib.api.v1beta1.errors import handled_v1
from chalicelib.api.v1beta1.listing import RUN_FIELDS_V1, parse_v1_list_query
from chalicelib.api.v1beta1.references import EXPERIMENT, NAMESPACE, list_scope
from chalicelib.api.v1beta1.run_sources import resolve_run_source
from chalicelib.api.v1beta1.shapes import run_v1
from chalicelib.api.v1beta1.workflow_manifest import workflow_manifest
from chalicelib.auth.request_principal import request_namespace
from chalicelib.services import runs as run_service
from chalicelib.store.records import Run

runs_v1 = Blueprint(__name__)

_FIELDS = {
    "id",
    "name",
    "storage_state",
    "description",
    "pipeline_spec",
    "resource_references",
    "service_account",
    "created_at",
    "scheduled_at",
    "finished_at",
    "status",
    "error",
    "metrics",
}


@runs_v1.route("/apis/v1beta1/runs", methods=["POST"])
@handled_v1
def create_run_v1() -> dict:
    current = runtime.current()
    body = json_body(runs_v1.current_request, current.settings, _FIELDS, "run")
    name = string_field(body, "name", "run").strip()
    if not name:
        raise InvalidArgument("run.name is required")
    source = resolve_run_source(current, body, "run")
    run = run_service.submit_run(
        current,
        run_service.RunRequest(
            display_name=name,
            description=string_field(body, "description", "run"),
            experiment_id=source.experiment_id,
            namespace=source.namespace,
            package=source.package,
            pipeline_id=source.pipeline_id,
            pipeline_version_id=source.pipeline_version_id,
            parameters=source.parameters,
            pipeline_root=source.pipeline_root,
            service_account=string_field(body, "service_account", "run"),
        ),
    )
    return _run_detail(run)


def _run_detail(run: Run) -> dict:
    """The v1 RunDetail: the run (with its manifest) and its Argo Workflow view."""
    current = runtime.current()
    spec = current.store.objects.get_json(run.spec_key)
    manifest = workflow_manifest(run, spec, current.store.runs.load_tasks(run.run_id))
    return {"run": run_v1(run, spec), "pipeline_runtime": {"workflow_manifest": json.dumps(manifest)}}


@runs_v1.route("/apis/v1beta1/runs/{run_id}", methods=["GET"])
@handled_v1
def get_run_v1(run_id: str) -> dict:
    return _run_detail(run_service.visible_run(runtime.current(), path_id(run_id)))


@runs_v1.route("/apis/v1beta1/runs", methods=["GET"])
@handled_v1
def list_runs_v1() -> dict:
    params = query_params(runs_v1.current_request)
    scope = list_scope(params, frozenset({EXPERIMENT, NAMESPACE}))
    store = runtime.current().store
    if scope.kind == EXPERIMENT:
        store.catalog.get_experiment(scope.ref_id)
        runs_of = RunScope(experiment_id=scope.ref_id)
    else:
        runs_of = RunScope(namespace=request_namespace(scope.ref_id))
    query = parse_v1_list_query(params, RUN_FIELDS_V1, runs_of.token_scope)
    # v1 filters name v1 fields and values (`status`, STORAGESTATE_*): only the unfiltered sorts are index-served.
    return list_response("runs", run_page(store.runs, runs_of, query, run_v1, filter_served=False))


@runs_v1.route("/apis/v1beta1/runs/{run_id}", methods=["DELETE"])
@handled_v1
def delete_run_v1(run_id: str) -> dict:
    run_service.delete_run(runtime.current(), path_id(run_id))
    return {}


@runs_v1.route("/apis/v1beta1/runs/{run_id}/terminate", methods=["POST"])
@handled_v1
def terminate_run_v1(run_id: str) -> dict:
    run_service.terminate_run(runtime.current(), path_id(run_id))
    return {}


@runs_v1.route("/apis/v1beta1/runs/{run_id}/retry", methods=["POST"])
@handled_v1
def retry_run_v1(run_id: str) -> dict:
    run_service.retry_run(runtime.current(), path_id(run_id))
    return {}


_STORAGE_ACTIONS = {"archive": run_service.archive_run, "unarchive": run_service.unarchive_run}


@runs_v1.route("/apis/v1beta1/runs/{run_id}", methods=["POST"])
@handled_v1
def run_action_v1(run_id: str) -> dict:
    resource_id, action = split_action(run_id, tuple(_STORAGE_ACTIONS), "run")
    _STORAGE_ACTIONS[action](runtime.current(), resource_id)
    return {}
