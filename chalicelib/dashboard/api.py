"""JSON helpers the dashboard needs beside the KFP API (read-only; errors as google.rpc.Status bodies):

- `GET /apis/v2beta1/pipelines/{pipeline_id}/versions/{version_id}/graph` → the version's graph laid out;
- `GET /apis/v2beta1/runs/{run_id}/graph[?expand=<loop node id>,...]` → the run's graph laid out, each node
  with the task ids it stands for (the browser colours them from `GET /runs/{id}`);
- `GET /apis/v2beta1/runs/{run_id}/tasks/{task_id}/io` → the task's inputs, producers and consumers;
- `GET /apis/v2beta1/artifacts[?namespace=&search=&page_size=&page_token=]` → artifacts across runs;
- `GET /apis/v2beta1/dashboard/session` → who the request's token belongs to and its namespaces (the header's
  namespace switcher).
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.errors import InvalidArgument, NotFound
from chalicelib.api.request_helpers import handled, path_id, query_params
from chalicelib.auth.request_principal import current_principal, request_namespace
from chalicelib.dashboard import reads
from chalicelib.dashboard.argo_graph import argo_run_graph, argo_version_graph
from chalicelib.dashboard.artifact_index import artifact_rows, matches
from chalicelib.dashboard.graph import run_graph, version_graph
from chalicelib.dashboard.layout import layout, layout_to_json
from chalicelib.dashboard.task_io import task_io
from chalicelib.spec.argo_workflow import is_workflow

dashboard_api = Blueprint(__name__)

MAX_EXPANDED = 50
DEFAULT_ARTIFACT_PAGE = 50
MAX_ARTIFACT_PAGE = 200
MAX_RUNS_PER_ARTIFACT_PAGE = 20


@dashboard_api.route("/apis/v2beta1/pipelines/{pipeline_id}/versions/{version_id}/graph", methods=["GET"])
@handled()
def get_version_graph(pipeline_id: str, version_id: str) -> dict:
    spec = reads.version_spec(runtime.current(), path_id(pipeline_id), path_id(version_id))
    graph = argo_version_graph(spec) if is_workflow(spec) else version_graph(spec)
    return layout_to_json(layout(graph))


@dashboard_api.route("/apis/v2beta1/runs/{run_id}/graph", methods=["GET"])
@handled()
def get_run_graph(run_id: str) -> dict:
    raw = query_params(dashboard_api.current_request).get("expand") or ""
    expanded = [node for node in raw.split(",") if node]
    if len(expanded) > MAX_EXPANDED:
        raise InvalidArgument(f"expand names {len(expanded)} loops; at most {MAX_EXPANDED} can be expanded")
    _, spec, records = reads.run_spec_and_tasks(runtime.current(), path_id(run_id))
    # task_count lets the browser tell when new task instances (e.g. loop iterations) need a new layout.
    draw = argo_run_graph if is_workflow(spec) else run_graph
    return {**layout_to_json(layout(draw(spec, records, expanded))), "task_count": len(records)}


@dashboard_api.route("/apis/v2beta1/runs/{run_id}/tasks/{task_id}/io", methods=["GET"])
@handled()
def get_task_io(run_id: str, task_id: str) -> dict:
    current = runtime.current()
    run, spec, records = reads.run_spec_and_tasks(current, path_id(run_id))
    record = records.get(path_id(task_id))
    if record is None:
        raise NotFound(f"Run {run.run_id} has no task {path_id(task_id)}")
    launched = (
        reads.launch_spec(current, run.run_id, record.task_id, record.attempt) if record.attempt else None
    )
    return task_io(spec, records, record, launched)


@dashboard_api.route("/apis/v2beta1/dashboard/session", methods=["GET"])
@handled()
def get_session() -> dict:
    principal = current_principal()
    return {
        "multi_user": runtime.current().settings.multi_user,
        "subject": principal.subject,
        "admin": principal.admin,
        "namespaces": sorted(principal.namespaces),
    }


@dashboard_api.route("/apis/v2beta1/artifacts", methods=["GET"])
@handled()
def list_artifacts() -> dict:
    """Newest runs first; the page token is `<run index>.<row offset>` into that order. A page scans at most
    MAX_RUNS_PER_ARTIFACT_PAGE runs, so a rare search may return a short page with a next token."""
    params = query_params(dashboard_api.current_request)
    page_size = _page_size(params.get("page_size") or "")
    run_index, offset = _artifact_token(params.get("page_token") or "")
    search = (params.get("search") or "").strip()
    current = runtime.current()
    runs = reads.runs_newest_first(current, request_namespace(params.get("namespace") or ""))
    rows: list[dict] = []
    scanned = 0
    while run_index < len(runs) and scanned < MAX_RUNS_PER_ARTIFACT_PAGE:
        tasks = reads.run_tasks(current, runs[run_index].run_id)
        found = [row for row in artifact_rows(runs[run_index], tasks) if matches(row, search)]
        scanned += 1
        wanted = page_size - len(rows)
        rows += found[offset : offset + wanted]
        if offset + wanted < len(found):
            return {"artifacts": rows, "next_page_token": f"{run_index}.{offset + wanted}"}
        run_index, offset = run_index + 1, 0
        if len(rows) == page_size:
            break
    token = f"{run_index}.0" if run_index < len(runs) else ""
    return {"artifacts": rows, "next_page_token": token} if token else {"artifacts": rows}


def _page_size(raw: str) -> int:
    if not raw:
        return DEFAULT_ARTIFACT_PAGE
    if not raw.isdigit() or int(raw) == 0:
        raise InvalidArgument(f"page_size must be a positive integer, got {raw!r}")
    return min(int(raw), MAX_ARTIFACT_PAGE)


def _artifact_token(raw: str) -> tuple[int, int]:
    if not raw:
        return 0, 0
    run_index, _, offset = raw.partition(".")
    if not (run_index.isdigit() and offset.isdigit()):
        raise InvalidArgument(f"page_token {raw!r} is not a token this server issued")
    return int(run_index), int(offset)
