"""Reading what tasks produced: artifact bytes (KFP's `:read` endpoint) and task logs (our documented extra).

- `GET /apis/v2beta1/runs/{run_id}/nodes/{node_id}/artifacts/{artifact_name}:read` → `{"data": <base64>}`,
  where node_id is a task id (or its pod name) and artifact_name an output name of that task.
- `GET /apis/v2beta1/runs/{run_id}/tasks/{task_id}/logs[?attempt=N]` → the task's log as text/plain; while
  the attempt runs, the copy the reconciler refreshes every few seconds (header `X-Log-State: live`).
Errors use the upload handlers' `{error_message, error_details}` shape, as KFP's artifact handler does.
"""

from __future__ import annotations

import base64
import os
from urllib.parse import urlparse

import chalice
from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.errors import InvalidArgument, NotFound, PermissionDenied
from chalicelib.api.request_helpers import handled, path_id, query_params
from chalicelib.engine.model import TaskRecord
from chalicelib.runtime import Runtime
from chalicelib.services.runs import visible_run
from chalicelib.store.errors import NotFound as StoreNotFound
from chalicelib.store.object_keys import live_log_key, log_key

artifacts = Blueprint(__name__)

MAX_ARTIFACT_BYTES = 4 * 2**20  # stays below the Lambda response limit after base64


def _find_task(current: Runtime, run_id: str, node_id: str) -> TaskRecord:
    run = visible_run(current, run_id)
    records = current.store.runs.load_tasks(run.run_id)
    for record in records.values():
        if node_id in (record.task_id, record.pod_name):
            return record
    raise NotFound(f"Run {run_id} has no task {node_id}")


def read_artifact_bytes(current: Runtime, uri: str) -> bytes:
    """The bytes behind an artifact URI: our bucket over S3, or a file under the local pipeline root."""
    settings = current.settings
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        if parsed.netloc != settings.bucket or current.store.kind != "dynamodb":
            raise PermissionDenied(f"artifact {uri} is outside bucket {settings.bucket}")
        try:
            return current.store.objects.get_bytes(parsed.path.lstrip("/"))
        except StoreNotFound as exc:
            raise NotFound(f"artifact {uri} has no content") from exc
    path = parsed.path if parsed.scheme == "file" else uri
    root = settings.default_pipeline_root
    if not root or urlparse(root).scheme or not os.path.isabs(path):
        raise InvalidArgument(f"artifact URI {uri} cannot be read by this server")
    real_root, real_path = os.path.realpath(root), os.path.realpath(path)
    if os.path.commonpath([real_root, real_path]) != real_root:
        raise PermissionDenied(f"artifact {uri} is outside the pipeline root")
    if not os.path.isfile(real_path):
        raise NotFound(f"artifact {uri} is not a readable file")
    if os.path.getsize(real_path) > MAX_ARTIFACT_BYTES:
        raise InvalidArgument(f"artifact {uri} is larger than {MAX_ARTIFACT_BYTES} bytes")
    with open(real_path, "rb") as handle:
        return handle.read()


@artifacts.route("/apis/v2beta1/runs/{run_id}/nodes/{node_id}/artifacts/{artifact_name}", methods=["GET"])
@handled(upload_style=True)
def read_artifact(run_id: str, node_id: str, artifact_name: str) -> dict:
    name, _, action = path_id(artifact_name).partition(":")
    if action != "read":
        raise NotFound(f"unknown artifact action {action!r}; use {name}:read")
    current = runtime.current()
    record = _find_task(current, path_id(run_id), path_id(node_id))
    found = record.artifacts.get(name)
    if not found:
        raise NotFound(f"task {record.task_id} has no output artifact {name!r}")
    data = read_artifact_bytes(current, found[0].get("uri", ""))
    if len(data) > MAX_ARTIFACT_BYTES:
        raise InvalidArgument(f"artifact {name} is larger than {MAX_ARTIFACT_BYTES} bytes")
    return {"data": base64.b64encode(data).decode()}


@artifacts.route("/apis/v2beta1/runs/{run_id}/tasks/{task_id}/logs", methods=["GET"])
@handled(upload_style=True)
def read_task_log(run_id: str, task_id: str) -> chalice.Response:
    current = runtime.current()
    record = _find_task(current, path_id(run_id), path_id(task_id))
    raw_attempt = query_params(artifacts.current_request).get("attempt") or str(max(record.attempt, 1))
    if not raw_attempt.isdigit():
        raise InvalidArgument(f"attempt must be a positive integer, got {raw_attempt!r}")
    state = "final"
    try:
        text = current.store.objects.get_bytes(log_key(path_id(run_id), record.task_id, int(raw_attempt)))
    except StoreNotFound:
        state = "live"
        try:
            text = current.store.objects.get_bytes(
                live_log_key(path_id(run_id), record.task_id, int(raw_attempt))
            )
        except StoreNotFound as exc:
            raise NotFound(f"no log stored yet for task {record.task_id} attempt {raw_attempt}") from exc
    return chalice.Response(
        body=text.decode("utf-8", "replace"),
        status_code=200,
        headers={"Content-Type": "text/plain; charset=utf-8", "X-Log-State": state},
    )
