"""v1beta1 PipelineService and the v1 upload handlers: pipelines, pipeline versions (addressed by their id
alone), templates, the default version, get by name — on the same services as v2beta1.

v1 differences kept here: a pipeline's `default_version` (and its `parameters`) is its latest valid version;
`DELETE /pipelines/{id}` deletes its versions too, as KFP v1 servers did (kfp 1.8's `delete_pipeline` expects
it); templates are the stored package as YAML.
"""

from __future__ import annotations

from typing import Any

import yaml
from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.errors import FailedPrecondition, InvalidArgument, NotFound
from chalicelib.api.listing import list_response, paginate
from chalicelib.api.package_urls import fetch_package
from chalicelib.api.request_helpers import (
    json_body,
    object_field,
    path_id,
    query_params,
    string_field,
)
from chalicelib.api.upload_results import (
    create_uploaded_pipeline,
    create_uploaded_version,
    existing_upload_pipeline,
    uploaded_package,
)
from chalicelib.api.v1beta1.errors import handled_v1
from chalicelib.api.v1beta1.listing import (
    PIPELINE_FIELDS_V1,
    PIPELINE_VERSION_FIELDS_V1,
    parse_v1_list_query,
)
from chalicelib.api.v1beta1.lookups import default_version_view, find_version, version_view
from chalicelib.api.v1beta1.references import NAMESPACE, PIPELINE, list_scope, parse_references
from chalicelib.api.v1beta1.shapes import pipeline_v1
from chalicelib.runtime import Runtime
from chalicelib.services import pipelines as pipeline_service
from chalicelib.services.pipelines import VersionRequest, latest_version
from chalicelib.spec import PipelinePackage, load_package
from chalicelib.store.records import Pipeline, PipelineVersion

pipelines_v1 = Blueprint(__name__)

_PIPELINE_FIELDS = {
    "id",
    "created_at",
    "name",
    "description",
    "parameters",
    "url",
    "error",
    "default_version",
    "resource_references",
}
_VERSION_FIELDS = {
    "id",
    "name",
    "created_at",
    "parameters",
    "code_source_url",
    "package_url",
    "resource_references",
    "description",
}


def _pipeline_view(current: Runtime, item: Pipeline) -> dict[str, Any]:
    return pipeline_v1(item, default_version_view(current, item))


# ---------------------------------------------------------------- uploads


def _uploaded(current: Runtime) -> tuple[PipelinePackage, bytes, str, dict[str, str]]:
    request = pipelines_v1.current_request
    package, data, filename = uploaded_package(
        request.raw_body or b"",
        request.headers.get("content-type", ""),
        current.settings.limits.max_upload_bytes,
    )
    return package, data, filename, query_params(request)


@pipelines_v1.route("/apis/v1beta1/pipelines/upload", methods=["POST"], content_types=["multipart/form-data"])
@handled_v1
def upload_pipeline_v1() -> dict:
    current = runtime.current()
    package, data, filename, params = _uploaded(current)
    return _pipeline_view(current, create_uploaded_pipeline(current, params, package, data, filename))


@pipelines_v1.route(
    "/apis/v1beta1/pipelines/upload_version", methods=["POST"], content_types=["multipart/form-data"]
)
@handled_v1
def upload_pipeline_version_v1() -> dict:
    current = runtime.current()
    params = query_params(pipelines_v1.current_request)
    pipeline = existing_upload_pipeline(current, params)
    package, data, filename, _ = _uploaded(current)
    return version_view(current, create_uploaded_version(current, pipeline, params, package, data, filename))


# ---------------------------------------------------------------- pipelines


def _package_from_url(
    current: Runtime, body: dict[str, Any], key: str, what: str
) -> tuple[PipelinePackage, bytes]:
    url = string_field(object_field(body, key, what), "pipeline_url", f"{what}.{key}").strip()
    if not url:
        raise InvalidArgument(f"{what}.{key}.pipeline_url is required")
    limit = current.settings.limits.max_upload_bytes
    data = fetch_package(url, limit, current.store.objects, private_hosts=current.settings.is_local_stage)
    return load_package(data, url.rsplit("/", 1)[-1], limit), data


@pipelines_v1.route("/apis/v1beta1/pipelines", methods=["POST"])
@handled_v1
def create_pipeline_v1() -> dict:
    current = runtime.current()
    body = json_body(pipelines_v1.current_request, current.settings, _PIPELINE_FIELDS, "pipeline")
    references = parse_references(body.get("resource_references"), "pipeline", frozenset({NAMESPACE}))
    package, data = _package_from_url(current, body, "url", "pipeline")
    name = string_field(body, "name", "pipeline").strip() or package.name
    if not name:
        raise InvalidArgument("pipeline.name is required")
    description = string_field(body, "description", "pipeline")
    created = pipeline_service.create_pipeline_with_version(
        current,
        name,
        name,
        description,
        references.namespace,
        {},
        VersionRequest(
            name=name,
            package=package,
            package_bytes=data,
            description=description,
            package_url=body["url"]["pipeline_url"],
        ),
    )
    return _pipeline_view(current, created)


@pipelines_v1.route("/apis/v1beta1/pipelines/{pipeline_id}", methods=["GET"])
@handled_v1
def get_pipeline_v1(pipeline_id: str) -> dict:
    current = runtime.current()
    return _pipeline_view(current, current.store.catalog.get_pipeline(path_id(pipeline_id)))


@pipelines_v1.route("/apis/v1beta1/namespaces/{namespace}/pipelines/{name}", methods=["GET"])
@handled_v1
def get_pipeline_by_name_v1(namespace: str, name: str) -> dict:
    current = runtime.current()
    # KFP's gateway addresses the default namespace as "-" in this path.
    scope = "" if path_id(namespace) == "-" else path_id(namespace)
    found = current.store.catalog.find_pipeline(scope, path_id(name))
    if found is None:
        raise NotFound(f"Pipeline with name {path_id(name)!r} not found in namespace {scope!r}")
    return _pipeline_view(current, found)


@pipelines_v1.route("/apis/v1beta1/pipelines", methods=["GET"])
@handled_v1
def list_pipelines_v1() -> dict:
    current = runtime.current()
    params = query_params(pipelines_v1.current_request)
    scope = list_scope(params, frozenset({NAMESPACE}))
    query = parse_v1_list_query(params, PIPELINE_FIELDS_V1)
    items = (_pipeline_view(current, item) for item in current.store.catalog.list_pipelines(scope.ref_id))
    return list_response("pipelines", paginate(items, query))


@pipelines_v1.route("/apis/v1beta1/pipelines/{pipeline_id}", methods=["DELETE"])
@handled_v1
def delete_pipeline_v1(pipeline_id: str) -> dict:
    pipeline_service.delete_pipeline(runtime.current(), path_id(pipeline_id), cascade=True)
    return {}


@pipelines_v1.route("/apis/v1beta1/pipelines/{pipeline_id}/templates", methods=["GET"])
@handled_v1
def get_pipeline_template_v1(pipeline_id: str) -> dict:
    current = runtime.current()
    pipeline = current.store.catalog.get_pipeline(path_id(pipeline_id))
    version = latest_version(current, pipeline.pipeline_id)
    if version is None:
        raise NotFound(f"Pipeline {pipeline.pipeline_id} has no valid version")
    return {"template": _template(current, version)}


@pipelines_v1.route("/apis/v1beta1/pipelines/{pipeline_id}/default_version/{version_id}", methods=["POST"])
@handled_v1
def update_default_version_v1(pipeline_id: str, version_id: str) -> dict:
    current = runtime.current()
    version = current.store.catalog.get_version(path_id(pipeline_id), path_id(version_id))
    latest = latest_version(current, version.pipeline_id)
    if latest is None or latest.version_id != version.version_id:
        raise FailedPrecondition(
            "a pipeline's default version is always its latest version here; upload the version again "
            "to make it the latest"
        )
    return {}


def _template(current: Runtime, version: PipelineVersion) -> str:
    """The version's package as YAML (the PipelineSpec and its PlatformSpec as two documents)."""
    package = pipeline_service.version_package(current, version)
    documents = [package.pipeline_spec] + ([package.platform_spec] if package.platform_spec else [])
    return yaml.safe_dump_all(documents, sort_keys=False)


# ---------------------------------------------------------------- versions


@pipelines_v1.route("/apis/v1beta1/pipeline_versions", methods=["POST"])
@handled_v1
def create_pipeline_version_v1() -> dict:
    current = runtime.current()
    body = json_body(pipelines_v1.current_request, current.settings, _VERSION_FIELDS, "version")
    references = parse_references(body.get("resource_references"), "version", frozenset({PIPELINE}))
    if not references.pipeline_id:
        raise InvalidArgument("version.resource_references needs the PIPELINE the version belongs to")
    pipeline = current.store.catalog.get_pipeline(references.pipeline_id)
    name = string_field(body, "name", "version").strip()
    if not name:
        raise InvalidArgument("version.name is required")
    package, data = _package_from_url(current, body, "package_url", "version")
    version = pipeline_service.create_version(
        current,
        pipeline,
        VersionRequest(
            name=name,
            package=package,
            package_bytes=data,
            description=string_field(body, "description", "version"),
            package_url=body["package_url"]["pipeline_url"],
            code_source_url=string_field(body, "code_source_url", "version"),
        ),
    )
    return version_view(current, version)


@pipelines_v1.route("/apis/v1beta1/pipeline_versions/{version_id}", methods=["GET"])
@handled_v1
def get_pipeline_version_v1(version_id: str) -> dict:
    current = runtime.current()
    return version_view(current, find_version(current, path_id(version_id)))


@pipelines_v1.route("/apis/v1beta1/pipeline_versions", methods=["GET"])
@handled_v1
def list_pipeline_versions_v1() -> dict:
    current = runtime.current()
    params = query_params(pipelines_v1.current_request)
    scope = list_scope(params, frozenset({PIPELINE}), prefix="resource_key")
    if not scope.ref_id:
        raise InvalidArgument("resource_key.type PIPELINE and resource_key.id are required")
    query = parse_v1_list_query(params, PIPELINE_VERSION_FIELDS_V1)
    catalog = current.store.catalog
    pipeline = catalog.get_pipeline(scope.ref_id)
    items = (version_view(current, item) for item in catalog.list_versions(pipeline.pipeline_id))
    return list_response("versions", paginate(items, query))


@pipelines_v1.route("/apis/v1beta1/pipeline_versions/{version_id}", methods=["DELETE"])
@handled_v1
def delete_pipeline_version_v1(version_id: str) -> dict:
    current = runtime.current()
    version = find_version(current, path_id(version_id))
    pipeline_service.delete_version(current, version.pipeline_id, version.version_id)
    return {}


@pipelines_v1.route("/apis/v1beta1/pipeline_versions/{version_id}/templates", methods=["GET"])
@handled_v1
def get_pipeline_version_template_v1(version_id: str) -> dict:
    current = runtime.current()
    return {"template": _template(current, find_version(current, path_id(version_id)))}
