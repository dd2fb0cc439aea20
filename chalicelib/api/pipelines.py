"""PipelineService and the upload handlers: pipelines, versions, multipart uploads.

A version is valid before anything is written: the package is parsed and validated here, then stored by
`chalicelib.services.pipelines` (objects first, then the version with its unique-name claim; a failed request
leaves no partial records).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.errors import InvalidArgument, NotFound
from chalicelib.api.listing import (
    PIPELINE_FIELDS,
    PIPELINE_VERSION_FIELDS,
    list_response,
    paginate,
    parse_list_query,
)
from chalicelib.api.request_helpers import (
    bool_param,
    handled,
    json_body,
    object_field,
    path_id,
    query_params,
    reject_unknown_fields,
    string_field,
)
from chalicelib.api.upload_results import (
    create_uploaded_pipeline,
    create_uploaded_version,
    existing_upload_pipeline,
    pipeline_to_api,
    uploaded_package,
    version_to_api,
)
from chalicelib.runtime import Runtime
from chalicelib.services import pipelines as pipeline_service
from chalicelib.services.admission import check_name
from chalicelib.services.pipelines import VersionRequest
from chalicelib.spec import PipelinePackage, load_package, spec_from_struct

pipelines = Blueprint(__name__)

_PIPELINE_FIELDS = {
    "pipeline_id",
    "display_name",
    "name",
    "description",
    "namespace",
    "created_at",
    "tags",
    "error",
}
_VERSION_FIELDS = {
    "pipeline_id",
    "pipeline_version_id",
    "display_name",
    "name",
    "description",
    "created_at",
    "package_url",
    "code_source_url",
    "pipeline_spec",
    "tags",
    "error",
}


# ---------------------------------------------------------------- upload handlers


@pipelines.route("/apis/v2beta1/pipelines/upload", methods=["POST"], content_types=["multipart/form-data"])
@handled(upload_style=True)
def upload_pipeline() -> dict:
    request = pipelines.current_request
    current = runtime.current()
    package, data, filename = uploaded_package(
        request.raw_body or b"",
        request.headers.get("content-type", ""),
        current.settings.limits.max_upload_bytes,
    )
    return pipeline_to_api(create_uploaded_pipeline(current, query_params(request), package, data, filename))


@pipelines.route(
    "/apis/v2beta1/pipelines/upload_version", methods=["POST"], content_types=["multipart/form-data"]
)
@handled(upload_style=True)
def upload_pipeline_version() -> dict:
    request = pipelines.current_request
    current = runtime.current()
    params = query_params(request)
    pipeline = existing_upload_pipeline(current, params)
    package, data, filename = uploaded_package(
        request.raw_body or b"",
        request.headers.get("content-type", ""),
        current.settings.limits.max_upload_bytes,
    )
    return version_to_api(create_uploaded_version(current, pipeline, params, package, data, filename))


# ---------------------------------------------------------------- pipelines


def _version_request(current: Runtime, body: dict[str, Any], name: str, what: str) -> VersionRequest:
    """A version body (`pipeline_spec` or `package_url`, names, tags) as a VersionRequest named `name`."""
    package, data = _package_from_version_body(current, body, what)
    return VersionRequest(
        name=name,
        package=package,
        package_bytes=data,
        display_name=string_field(body, "display_name", what) or name,
        description=string_field(body, "description", what),
        package_url=object_field(body, "package_url", what).get("pipeline_url") or "",
        code_source_url=string_field(body, "code_source_url", what),
        tags=object_field(body, "tags", what),
    )


def _package_from_version_body(
    current: Runtime, body: dict[str, Any], what: str
) -> tuple[PipelinePackage, bytes | None]:
    spec = body.get("pipeline_spec")
    url = object_field(body, "package_url", what).get("pipeline_url") or ""
    if spec is not None and url:
        raise InvalidArgument(f"{what}: give either pipeline_spec or package_url, not both")
    if spec is not None:
        if not isinstance(spec, dict):
            raise InvalidArgument(f"{what}.pipeline_spec must be an object")
        return spec_from_struct(spec, source=f"{what}.pipeline_spec"), None
    if url:
        from chalicelib.api.package_urls import fetch_package

        limit = current.settings.limits.max_upload_bytes
        data = fetch_package(url, limit, current.store.objects, private_hosts=current.settings.is_local_stage)
        return load_package(data, url.rsplit("/", 1)[-1], limit), data
    raise InvalidArgument(f"{what} needs pipeline_spec or package_url.pipeline_url")


@pipelines.route("/apis/v2beta1/pipelines", methods=["POST"])
@handled()
def create_pipeline() -> dict:
    current = runtime.current()
    body = json_body(pipelines.current_request, current.settings, _PIPELINE_FIELDS, "pipeline")
    name = (string_field(body, "name", "pipeline") or string_field(body, "display_name", "pipeline")).strip()
    if not name:
        raise InvalidArgument("pipeline.display_name or pipeline.name is required")
    item = pipeline_service.create_pipeline(
        current,
        name,
        string_field(body, "display_name", "pipeline") or name,
        string_field(body, "description", "pipeline"),
        string_field(body, "namespace", "pipeline"),
        object_field(body, "tags", "pipeline"),
    )
    return pipeline_to_api(item)


@pipelines.route("/apis/v2beta1/pipelines/create", methods=["POST"])
@handled()
def create_pipeline_and_version() -> dict:
    current = runtime.current()
    body = json_body(pipelines.current_request, current.settings, {"pipeline", "pipeline_version"}, "request")
    pipeline = object_field(body, "pipeline", "request")
    version = object_field(body, "pipeline_version", "request")
    reject_unknown_fields(pipeline, _PIPELINE_FIELDS, "pipeline")
    reject_unknown_fields(version, _VERSION_FIELDS, "pipeline_version")
    name = (
        string_field(pipeline, "name", "pipeline") or string_field(pipeline, "display_name", "pipeline")
    ).strip()
    if not name:
        raise InvalidArgument("pipeline.display_name or pipeline.name is required")
    description = string_field(pipeline, "description", "pipeline")
    tags = object_field(pipeline, "tags", "pipeline")
    version_name = (
        string_field(version, "name", "pipeline_version")
        or string_field(version, "display_name", "pipeline_version")
    ).strip() or name
    request = _version_request(current, version, version_name, "pipeline_version")
    request = dataclasses.replace(
        request,
        display_name=string_field(version, "display_name", "pipeline_version"),
        description=request.description or description,
        tags=request.tags or tags,
    )
    item = pipeline_service.create_pipeline_with_version(
        current,
        name,
        string_field(pipeline, "display_name", "pipeline") or name,
        description,
        string_field(pipeline, "namespace", "pipeline"),
        tags,
        request,
    )
    return pipeline_to_api(item)


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}", methods=["GET"])
@handled()
def get_pipeline(pipeline_id: str) -> dict:
    return pipeline_to_api(runtime.current().store.catalog.get_pipeline(path_id(pipeline_id)))


@pipelines.route("/apis/v2beta1/pipelines/names/{name}", methods=["GET"])
@handled()
def get_pipeline_by_name(name: str) -> dict:
    namespace = query_params(pipelines.current_request).get("namespace") or ""
    found = runtime.current().store.catalog.find_pipeline(namespace, path_id(name))
    if found is None:
        raise NotFound(f"Pipeline with name {path_id(name)!r} not found in namespace {namespace!r}")
    return pipeline_to_api(found)


@pipelines.route("/apis/v2beta1/pipelines", methods=["GET"])
@handled()
def list_pipelines() -> dict:
    params = query_params(pipelines.current_request)
    query = parse_list_query(params, PIPELINE_FIELDS)
    found = runtime.current().store.catalog.list_pipelines(params.get("namespace") or "")
    items = (pipeline_to_api(item) for item in found)
    return list_response("pipelines", paginate(items, query))


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}", methods=["DELETE"])
@handled()
def delete_pipeline(pipeline_id: str) -> dict:
    cascade = bool_param(query_params(pipelines.current_request), "cascade")
    pipeline_service.delete_pipeline(runtime.current(), path_id(pipeline_id), cascade)
    return {}


# ---------------------------------------------------------------- versions


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}/versions", methods=["POST"])
@handled()
def create_pipeline_version(pipeline_id: str) -> dict:
    current = runtime.current()
    pipeline = current.store.catalog.get_pipeline(path_id(pipeline_id))
    body = json_body(pipelines.current_request, current.settings, _VERSION_FIELDS, "pipeline_version")
    if body.get("pipeline_id") and body["pipeline_id"] != pipeline.pipeline_id:
        raise InvalidArgument("pipeline_version.pipeline_id does not match the path")
    name = (
        string_field(body, "name", "pipeline_version")
        or string_field(body, "display_name", "pipeline_version")
    ).strip()
    if not name:
        raise InvalidArgument("pipeline_version.display_name or pipeline_version.name is required")
    request = _version_request(current, body, name, "pipeline_version")
    version = pipeline_service.create_version(current, pipeline, request)
    return version_to_api(version, current)


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}/versions/{version_id}", methods=["GET"])
@handled()
def get_pipeline_version(pipeline_id: str, version_id: str) -> dict:
    current = runtime.current()
    return version_to_api(
        current.store.catalog.get_version(path_id(pipeline_id), path_id(version_id)), current
    )


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}/versions", methods=["GET"])
@handled()
def list_pipeline_versions(pipeline_id: str) -> dict:
    catalog = runtime.current().store.catalog
    pipeline = catalog.get_pipeline(path_id(pipeline_id))
    query = parse_list_query(query_params(pipelines.current_request), PIPELINE_VERSION_FIELDS)
    items = (version_to_api(item) for item in catalog.list_versions(pipeline.pipeline_id))
    return list_response("pipeline_versions", paginate(items, query))


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}/versions/{version_id}", methods=["DELETE"])
@handled()
def delete_pipeline_version(pipeline_id: str, version_id: str) -> dict:
    pipeline_service.delete_version(runtime.current(), path_id(pipeline_id), path_id(version_id))
    return {}


# ---------------------------------------------------------------- updates (PATCH)


def _updated_names(
    body: dict[str, Any], current_name: str, current_display: str, what: str
) -> tuple[str, str]:
    name = string_field(body, "name", what, current_name).strip()
    display_name = string_field(body, "display_name", what, current_display).strip()
    if not name or not display_name:
        raise InvalidArgument(f"{what}.name and {what}.display_name cannot be empty")
    limits = runtime.current().settings.limits
    check_name(limits, f"{what}.name", name, looked_up_by_path=True)
    check_name(limits, f"{what}.display_name", display_name)
    return name, display_name


def _reject_changed_ids(body: dict[str, Any], ids: dict[str, str], what: str) -> None:
    for key, value in ids.items():
        if body.get(key) not in (None, "", value):
            raise InvalidArgument(f"{what}.{key} cannot be changed (path says {value!r})")


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}", methods=["PATCH"])
@handled()
def update_pipeline(pipeline_id: str) -> dict:
    current = runtime.current()
    item = current.store.catalog.get_pipeline(path_id(pipeline_id))
    body = json_body(pipelines.current_request, current.settings, _PIPELINE_FIELDS, "pipeline")
    _reject_changed_ids(body, {"pipeline_id": item.pipeline_id, "namespace": item.namespace}, "pipeline")
    name, display_name = _updated_names(body, item.name, item.display_name, "pipeline")
    updated = dataclasses.replace(
        item,
        name=name,
        display_name=display_name,
        description=string_field(body, "description", "pipeline", item.description),
        tags=object_field(body, "tags", "pipeline") if "tags" in body else item.tags,
    )
    return pipeline_to_api(current.store.catalog.update_pipeline(updated))


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}/versions/{version_id}", methods=["PATCH"])
@handled()
def update_pipeline_version(pipeline_id: str, version_id: str) -> dict:
    current = runtime.current()
    item = current.store.catalog.get_version(path_id(pipeline_id), path_id(version_id))
    body = json_body(pipelines.current_request, current.settings, _VERSION_FIELDS, "pipeline_version")
    ids = {"pipeline_id": item.pipeline_id, "pipeline_version_id": item.version_id}
    _reject_changed_ids(body, ids, "pipeline_version")
    if body.get("pipeline_spec") or body.get("package_url"):
        raise InvalidArgument("a pipeline version's spec cannot be changed; upload a new version instead")
    name, display_name = _updated_names(body, item.name, item.display_name, "pipeline_version")
    updated = dataclasses.replace(
        item,
        name=name,
        display_name=display_name,
        description=string_field(body, "description", "pipeline_version", item.description),
        tags=object_field(body, "tags", "pipeline_version") if "tags" in body else item.tags,
    )
    return version_to_api(current.store.catalog.update_version(updated), current)
