"""What an upload makes, shared by the upload routes (`pipelines.py`) and the presigned-upload routes
(`package_uploads.py`): the pipeline or version a package and the upload's query parameters create, the API's
view of both, and what an oversize upload is told."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.api.errors import InvalidArgument
from chalicelib.api.multipart import safe_basename
from chalicelib.api.request_helpers import omit_empty
from chalicelib.runtime import Runtime
from chalicelib.services import pipelines as pipeline_service
from chalicelib.services.pipelines import VersionRequest
from chalicelib.spec import PipelinePackage
from chalicelib.store.errors import NotFound as StoreNotFound
from chalicelib.store.records import Pipeline, PipelineVersion

UPLOADS_PATH = "/apis/v2beta1/pipelines/uploads"
LARGE_PACKAGE_HINT = (
    f"Upload large packages with a presigned URL: POST {UPLOADS_PATH}, PUT the file to the upload_url it "
    "returns, then POST its register_path"
)


def oversize_upload_message(size: int, limit: int) -> str:
    """What an oversize multipart upload is told: the limit and the route for large packages."""
    return f"upload is {size} bytes; the limit is {limit}. {LARGE_PACKAGE_HINT}"


def pipeline_to_api(item: Pipeline) -> dict[str, Any]:
    return omit_empty(
        {
            "pipeline_id": item.pipeline_id,
            "display_name": item.display_name,
            "name": item.name,
            "description": item.description,
            "namespace": item.namespace,
            "created_at": item.created_at,
            "tags": dict(item.tags),
        }
    )


def version_to_api(item: PipelineVersion, current: Runtime | None = None) -> dict[str, Any]:
    """The version as KFP shows it; with `current`, also its pipeline spec."""
    body = {
        "pipeline_id": item.pipeline_id,
        "pipeline_version_id": item.version_id,
        "display_name": item.display_name,
        "name": item.name,
        "description": item.description,
        "created_at": item.created_at,
        "package_url": {"pipeline_url": item.package_url} if item.package_url else None,
        "code_source_url": item.code_source_url,
        "tags": dict(item.tags),
        "error": item.error,
    }
    if current is not None and item.spec_key:
        body["pipeline_spec"] = current.store.objects.get_json(item.spec_key)
    return omit_empty(body)


def upload_tags(params: dict[str, str]) -> dict[str, str]:
    raw = params.get("tags") or ""
    if not raw:
        return {}
    try:
        tags = json.loads(raw)
    except ValueError as exc:
        raise InvalidArgument(f"tags must be a JSON object of strings: {exc}") from exc
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        raise InvalidArgument("tags must be a JSON object of strings")
    return tags


def uploaded_pipeline_name(params: dict[str, str], filename: str, package: PipelinePackage | None) -> str:
    """The name an upload gives its pipeline: ?name=, ?display_name=, the file name, the spec's name."""
    name = params.get("name") or params.get("display_name") or safe_basename(filename)
    return (name or (package.name if package else "")).strip()


def create_uploaded_pipeline(
    current: Runtime,
    params: dict[str, str],
    package: PipelinePackage,
    data: bytes,
    filename: str,
    version_id: str = "",
) -> Pipeline:
    """A new pipeline and its first version from an uploaded package and the upload's query parameters."""
    name = uploaded_pipeline_name(params, filename, package)
    if not name:
        raise InvalidArgument("pipeline name is empty: pass ?name= or upload a file with a name")
    tags = upload_tags(params)
    description = params.get("description") or ""
    return pipeline_service.create_pipeline_with_version(
        current,
        name,
        params.get("display_name") or name,
        description,
        params.get("namespace") or "",
        tags,
        VersionRequest(
            name=name,
            package=package,
            package_bytes=data,
            description=description,
            code_source_url=params.get("code_source_url") or "",
            tags=tags,
            version_id=version_id,
        ),
    )


def existing_upload_pipeline(current: Runtime, params: dict[str, str]) -> Pipeline:
    """The pipeline `?pipelineid=` of a version upload, checked to exist."""
    pipeline_id = (params.get("pipelineid") or "").strip()
    if not pipeline_id:
        raise InvalidArgument("pipelineid is required to upload a pipeline version")
    try:
        return current.store.catalog.get_pipeline(pipeline_id)
    except StoreNotFound as exc:
        raise InvalidArgument(f"pipeline {pipeline_id} does not exist") from exc


def create_uploaded_version(
    current: Runtime,
    pipeline: Pipeline,
    params: dict[str, str],
    package: PipelinePackage,
    data: bytes,
    filename: str,
    version_id: str = "",
) -> PipelineVersion:
    """A new version of `pipeline` from an uploaded package and the upload's query parameters."""
    name = (params.get("name") or params.get("display_name") or safe_basename(filename)).strip()
    if not name:
        raise InvalidArgument("pipeline version name is empty")
    return pipeline_service.create_version(
        current,
        pipeline,
        VersionRequest(
            name=name,
            package=package,
            package_bytes=data,
            display_name=params.get("display_name") or name,
            description=params.get("description") or "",
            code_source_url=params.get("code_source_url") or "",
            tags=upload_tags(params),
            version_id=version_id,
        ),
    )
