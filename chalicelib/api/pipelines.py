"""PipelineService and the upload handlers: pipelines, versions, multipart uploads.

A version is valid before anything is written: the package is parsed and validated first, its bytes and spec go
to S3, then the version item (with its unique-name claim) is written; if that write fails the S3 objects are
removed again. Upload creates the pipeline and its first version; if the version cannot be stored the pipeline
is deleted, so a failed request leaves no partial records.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint

from chalicelib.api import runtime
from chalicelib.api.errors import FailedPrecondition, InvalidArgument, NotFound, PayloadTooLarge
from chalicelib.api.listing import (
    PIPELINE_FIELDS,
    PIPELINE_VERSION_FIELDS,
    list_response,
    paginate,
    parse_list_query,
)
from chalicelib.api.multipart import parse_upload, safe_basename
from chalicelib.api.request_helpers import (
    bool_param,
    handled,
    json_body,
    object_field,
    omit_empty,
    path_id,
    query_params,
    string_field,
)
from chalicelib.spec import PipelinePackage, load_package, spec_from_struct
from chalicelib.store import catalog
from chalicelib.store.errors import NotFound as StoreNotFound
from chalicelib.store.errors import StoreError
from chalicelib.store.objects import package_key, version_spec_key
from chalicelib.store.tables import PipelineItem, VersionItem
from chalicelib.timestamps import now_text

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


def pipeline_to_api(item: PipelineItem) -> dict[str, Any]:
    return omit_empty(
        {
            "pipeline_id": item.pipeline_id,
            "display_name": item.display_name,
            "name": item.name,
            "description": item.description,
            "namespace": item.namespace,
            "created_at": item.created_at,
            "tags": item.tags or {},
        }
    )


def version_to_api(item: VersionItem, with_spec: bool = False) -> dict[str, Any]:
    body = {
        "pipeline_id": item.pipeline_id,
        "pipeline_version_id": item.version_id,
        "display_name": item.display_name,
        "name": item.name,
        "description": item.description,
        "created_at": item.created_at,
        "package_url": {"pipeline_url": item.package_url} if item.package_url else None,
        "code_source_url": item.code_source_url,
        "tags": item.tags or {},
        "error": item.error,
    }
    if with_spec and item.spec_key:
        body["pipeline_spec"] = runtime.objects().get_json(item.spec_key)
    return omit_empty(body)


def version_package(item: VersionItem) -> PipelinePackage:
    """The validated package of a stored version (used by runs created from a version reference)."""
    return spec_from_struct(
        runtime.objects().get_json(item.spec_key), source=f"pipeline version {item.version_id}"
    )


def _tags(params: dict[str, str]) -> dict[str, str]:
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


def store_version(
    pipeline_id: str,
    name: str,
    package: PipelinePackage,
    package_bytes: bytes | None = None,
    display_name: str = "",
    description: str = "",
    package_url: str = "",
    code_source_url: str = "",
    tags: dict[str, str] | None = None,
    version_id: str | None = None,
) -> VersionItem:
    """Write a validated version: S3 objects first, then the item; S3 objects are removed if the item fails."""
    version_id = version_id or catalog.new_id()
    objects = runtime.objects()
    pkg_key, spec_key = package_key(pipeline_id, version_id), version_spec_key(pipeline_id, version_id)
    objects.put_bytes(pkg_key, package_bytes if package_bytes is not None else package.to_json_bytes())
    objects.put_json(spec_key, package.to_struct())
    item = VersionItem(
        pipeline_id,
        version_id,
        name=name,
        display_name=display_name or name,
        description=description or package.description or "",
        created_at=now_text(),
        package_key=pkg_key,
        spec_key=spec_key,
        package_url=package_url,
        code_source_url=code_source_url,
        tags=tags or {},
    )
    try:
        return catalog.create_version(item)
    except Exception:
        for key in (pkg_key, spec_key):
            try:
                objects.delete(key)
            except StoreError:
                pass
        raise


def create_pipeline_with_version(
    name: str,
    display_name: str,
    description: str,
    namespace: str,
    package: PipelinePackage,
    package_bytes: bytes | None,
    tags: dict[str, str],
    version: dict[str, Any] | None = None,
    version_id: str | None = None,
) -> PipelineItem:
    pipeline = catalog.create_pipeline(name, display_name or name, description, namespace, tags)
    version = version or {}
    try:
        store_version(
            pipeline.pipeline_id,
            version.get("name") or version.get("display_name") or name,
            package,
            package_bytes,
            display_name=version.get("display_name") or "",
            description=version.get("description") or description,
            package_url=(version.get("package_url") or {}).get("pipeline_url", ""),
            code_source_url=version.get("code_source_url") or "",
            tags=version.get("tags") or tags,
            version_id=version_id,
        )
    except Exception:
        catalog.delete_pipeline(pipeline)
        raise
    return pipeline


# ---------------------------------------------------------------- upload handlers


def _uploaded_package(request: Any) -> tuple[PipelinePackage, bytes, str]:
    settings = runtime.settings()
    body = request.raw_body or b""
    if len(body) > settings.max_upload_bytes:
        from chalicelib.api.package_uploads import oversize_upload_message

        raise PayloadTooLarge(oversize_upload_message(len(body), settings.max_upload_bytes))
    upload = parse_upload(body, request.headers.get("content-type", ""))
    return load_package(upload.data, upload.filename, settings.max_upload_bytes), upload.data, upload.filename


def uploaded_pipeline_name(params: dict[str, str], filename: str, package: PipelinePackage | None) -> str:
    """The name an upload gives its pipeline: ?name=, ?display_name=, the file name, the spec's name."""
    name = params.get("name") or params.get("display_name") or safe_basename(filename)
    return (name or (package.name if package else "")).strip()


def create_uploaded_pipeline(
    params: dict[str, str],
    package: PipelinePackage,
    data: bytes,
    filename: str,
    version_id: str | None = None,
) -> PipelineItem:
    """A new pipeline and its first version from an uploaded package and the upload's query parameters."""
    name = uploaded_pipeline_name(params, filename, package)
    if not name:
        raise InvalidArgument("pipeline name is empty: pass ?name= or upload a file with a name")
    return create_pipeline_with_version(
        name,
        params.get("display_name") or name,
        params.get("description") or "",
        params.get("namespace") or "",
        package,
        data,
        _tags(params),
        {"code_source_url": params.get("code_source_url") or ""},
        version_id=version_id,
    )


def create_uploaded_version(
    params: dict[str, str],
    package: PipelinePackage,
    data: bytes,
    filename: str,
    version_id: str | None = None,
) -> VersionItem:
    """A new version of pipeline `?pipelineid=` from an uploaded package and the upload's query parameters."""
    pipeline_id = (params.get("pipelineid") or "").strip()
    name = (params.get("name") or params.get("display_name") or safe_basename(filename)).strip()
    if not name:
        raise InvalidArgument("pipeline version name is empty")
    return store_version(
        pipeline_id,
        name,
        package,
        data,
        display_name=params.get("display_name") or name,
        description=params.get("description") or "",
        code_source_url=params.get("code_source_url") or "",
        tags=_tags(params),
        version_id=version_id,
    )


def existing_upload_pipeline(params: dict[str, str]) -> str:
    """The `?pipelineid=` of a version upload, checked to exist."""
    pipeline_id = (params.get("pipelineid") or "").strip()
    if not pipeline_id:
        raise InvalidArgument("pipelineid is required to upload a pipeline version")
    try:
        catalog.get_pipeline(pipeline_id)
    except StoreNotFound as exc:
        raise InvalidArgument(f"pipeline {pipeline_id} does not exist") from exc
    return pipeline_id


@pipelines.route("/apis/v2beta1/pipelines/upload", methods=["POST"], content_types=["multipart/form-data"])
@handled(upload_style=True)
def upload_pipeline() -> dict:
    request = pipelines.current_request
    package, data, filename = _uploaded_package(request)
    return pipeline_to_api(create_uploaded_pipeline(query_params(request), package, data, filename))


@pipelines.route(
    "/apis/v2beta1/pipelines/upload_version", methods=["POST"], content_types=["multipart/form-data"]
)
@handled(upload_style=True)
def upload_pipeline_version() -> dict:
    request = pipelines.current_request
    params = query_params(request)
    existing_upload_pipeline(params)
    package, data, filename = _uploaded_package(request)
    return version_to_api(create_uploaded_version(params, package, data, filename))


# ---------------------------------------------------------------- pipelines


def _package_from_version_body(body: dict[str, Any], what: str) -> tuple[PipelinePackage, bytes | None]:
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

        data = fetch_package(url, runtime.settings().max_upload_bytes)
        return load_package(data, url.rsplit("/", 1)[-1], runtime.settings().max_upload_bytes), data
    raise InvalidArgument(f"{what} needs pipeline_spec or package_url.pipeline_url")


@pipelines.route("/apis/v2beta1/pipelines", methods=["POST"])
@handled()
def create_pipeline() -> dict:
    body = json_body(pipelines.current_request, runtime.settings(), _PIPELINE_FIELDS, "pipeline")
    name = (string_field(body, "name", "pipeline") or string_field(body, "display_name", "pipeline")).strip()
    if not name:
        raise InvalidArgument("pipeline.display_name or pipeline.name is required")
    item = catalog.create_pipeline(
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
    body = json_body(
        pipelines.current_request, runtime.settings(), {"pipeline", "pipeline_version"}, "request"
    )
    pipeline = object_field(body, "pipeline", "request")
    version = object_field(body, "pipeline_version", "request")
    from chalicelib.api.request_helpers import reject_unknown_fields

    reject_unknown_fields(pipeline, _PIPELINE_FIELDS, "pipeline")
    reject_unknown_fields(version, _VERSION_FIELDS, "pipeline_version")
    name = (
        string_field(pipeline, "name", "pipeline") or string_field(pipeline, "display_name", "pipeline")
    ).strip()
    if not name:
        raise InvalidArgument("pipeline.display_name or pipeline.name is required")
    package, data = _package_from_version_body(version, "pipeline_version")
    item = create_pipeline_with_version(
        name,
        string_field(pipeline, "display_name", "pipeline") or name,
        string_field(pipeline, "description", "pipeline"),
        string_field(pipeline, "namespace", "pipeline"),
        package,
        data,
        object_field(pipeline, "tags", "pipeline"),
        version,
    )
    return pipeline_to_api(item)


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}", methods=["GET"])
@handled()
def get_pipeline(pipeline_id: str) -> dict:
    return pipeline_to_api(catalog.get_pipeline(path_id(pipeline_id)))


@pipelines.route("/apis/v2beta1/pipelines/names/{name}", methods=["GET"])
@handled()
def get_pipeline_by_name(name: str) -> dict:
    namespace = query_params(pipelines.current_request).get("namespace") or ""
    pipeline_id = catalog.find_pipeline_id(path_id(name), namespace)
    if not pipeline_id:
        raise NotFound(f"Pipeline with name {path_id(name)!r} not found in namespace {namespace!r}")
    return pipeline_to_api(catalog.get_pipeline(pipeline_id))


@pipelines.route("/apis/v2beta1/pipelines", methods=["GET"])
@handled()
def list_pipelines() -> dict:
    params = query_params(pipelines.current_request)
    query = parse_list_query(params, PIPELINE_FIELDS)
    items = (pipeline_to_api(item) for item in catalog.list_pipelines(params.get("namespace") or ""))
    return list_response("pipelines", paginate(items, query))


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}", methods=["DELETE"])
@handled()
def delete_pipeline(pipeline_id: str) -> dict:
    params = query_params(pipelines.current_request)
    cascade = bool_param(params, "cascade")
    item = catalog.get_pipeline(path_id(pipeline_id))
    versions = list(catalog.list_versions(item.pipeline_id))
    if versions and not cascade:
        raise FailedPrecondition(
            f"Pipeline {item.pipeline_id} has {len(versions)} version(s); delete them first or pass cascade=true"
        )
    for version in versions:
        _delete_version_item(version)
    catalog.delete_pipeline(item)
    return {}


# ---------------------------------------------------------------- versions


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}/versions", methods=["POST"])
@handled()
def create_pipeline_version(pipeline_id: str) -> dict:
    pipeline = catalog.get_pipeline(path_id(pipeline_id))
    body = json_body(pipelines.current_request, runtime.settings(), _VERSION_FIELDS, "pipeline_version")
    if body.get("pipeline_id") and body["pipeline_id"] != pipeline.pipeline_id:
        raise InvalidArgument("pipeline_version.pipeline_id does not match the path")
    name = (
        string_field(body, "name", "pipeline_version")
        or string_field(body, "display_name", "pipeline_version")
    ).strip()
    if not name:
        raise InvalidArgument("pipeline_version.display_name or pipeline_version.name is required")
    package, data = _package_from_version_body(body, "pipeline_version")
    version = store_version(
        pipeline.pipeline_id,
        name,
        package,
        data,
        display_name=string_field(body, "display_name", "pipeline_version") or name,
        description=string_field(body, "description", "pipeline_version"),
        package_url=object_field(body, "package_url", "pipeline_version").get("pipeline_url") or "",
        code_source_url=string_field(body, "code_source_url", "pipeline_version"),
        tags=object_field(body, "tags", "pipeline_version"),
    )
    return version_to_api(version, with_spec=True)


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}/versions/{version_id}", methods=["GET"])
@handled()
def get_pipeline_version(pipeline_id: str, version_id: str) -> dict:
    return version_to_api(catalog.get_version(path_id(pipeline_id), path_id(version_id)), with_spec=True)


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}/versions", methods=["GET"])
@handled()
def list_pipeline_versions(pipeline_id: str) -> dict:
    pipeline = catalog.get_pipeline(path_id(pipeline_id))
    query = parse_list_query(query_params(pipelines.current_request), PIPELINE_VERSION_FIELDS)
    items = (version_to_api(item) for item in catalog.list_versions(pipeline.pipeline_id))
    return list_response("pipeline_versions", paginate(items, query))


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}/versions/{version_id}", methods=["DELETE"])
@handled()
def delete_pipeline_version(pipeline_id: str, version_id: str) -> dict:
    _delete_version_item(catalog.get_version(path_id(pipeline_id), path_id(version_id)))
    return {}


def _delete_version_item(item: VersionItem) -> None:
    catalog.delete_version(item)
    objects = runtime.objects()
    for key in (item.package_key, item.spec_key):
        if key:
            try:
                objects.delete(key)
            except StoreError:
                pass


# ---------------------------------------------------------------- updates (PATCH)


def _updated_names(
    body: dict[str, Any], current_name: str, current_display: str, what: str
) -> tuple[str, str]:
    name = string_field(body, "name", what, current_name).strip()
    display_name = string_field(body, "display_name", what, current_display).strip()
    if not name or not display_name:
        raise InvalidArgument(f"{what}.name and {what}.display_name cannot be empty")
    return name, display_name


def _reject_changed_ids(body: dict[str, Any], ids: dict[str, str], what: str) -> None:
    for key, value in ids.items():
        if body.get(key) not in (None, "", value):
            raise InvalidArgument(f"{what}.{key} cannot be changed (path says {value!r})")


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}", methods=["PATCH"])
@handled()
def update_pipeline(pipeline_id: str) -> dict:
    item = catalog.get_pipeline(path_id(pipeline_id))
    body = json_body(pipelines.current_request, runtime.settings(), _PIPELINE_FIELDS, "pipeline")
    _reject_changed_ids(body, {"pipeline_id": item.pipeline_id, "namespace": item.namespace}, "pipeline")
    name, display_name = _updated_names(body, item.name, item.display_name, "pipeline")
    catalog.update_pipeline(
        item,
        name,
        display_name,
        string_field(body, "description", "pipeline", item.description),
        object_field(body, "tags", "pipeline") if "tags" in body else (item.tags or {}),
    )
    return pipeline_to_api(item)


@pipelines.route("/apis/v2beta1/pipelines/{pipeline_id}/versions/{version_id}", methods=["PATCH"])
@handled()
def update_pipeline_version(pipeline_id: str, version_id: str) -> dict:
    item = catalog.get_version(path_id(pipeline_id), path_id(version_id))
    body = json_body(pipelines.current_request, runtime.settings(), _VERSION_FIELDS, "pipeline_version")
    ids = {"pipeline_id": item.pipeline_id, "pipeline_version_id": item.version_id}
    _reject_changed_ids(body, ids, "pipeline_version")
    if body.get("pipeline_spec") or body.get("package_url"):
        raise InvalidArgument("a pipeline version's spec cannot be changed; upload a new version instead")
    name, display_name = _updated_names(body, item.name, item.display_name, "pipeline_version")
    catalog.update_version(
        item,
        name,
        display_name,
        string_field(body, "description", "pipeline_version", item.description),
        object_field(body, "tags", "pipeline_version") if "tags" in body else (item.tags or {}),
    )
    return version_to_api(item, with_spec=True)
