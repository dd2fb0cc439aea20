"""Pipelines and pipeline versions: the one way a version is created (API uploads and creates, and the upload
trigger), a pipeline with its first version, renames, deletes.

A version is written objects first (package bytes and validated spec), then its record with its name claim; if the
record cannot be written, objects under a fresh id are removed again, so a failed request leaves nothing behind.
A pipeline created together with its first version is one transaction with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chalicelib.observability import catalog_changes
from chalicelib.runtime import Runtime
from chalicelib.services.admission import check_name
from chalicelib.services.errors import FailedPrecondition
from chalicelib.services.ids import new_id
from chalicelib.spec import PipelinePackage, spec_from_struct
from chalicelib.store.errors import AlreadyExists, NotFound, StoreError
from chalicelib.store.object_keys import package_key, version_spec_key
from chalicelib.store.records import Pipeline, PipelineVersion
from chalicelib.timestamps import now_text


@dataclasses.dataclass(frozen=True)
class VersionRequest:
    """A version to create. `package` None (with `error`) records a bad upload that cannot run.
    `version_id`/`created_at` are given by the upload trigger (deterministic), else new/now."""

    name: str
    package: PipelinePackage | None
    package_bytes: bytes | None = None
    display_name: str = ""
    description: str = ""
    package_url: str = ""
    code_source_url: str = ""
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    version_id: str = ""
    created_at: str = ""
    error: dict[str, Any] | None = None


def create_pipeline(
    runtime: Runtime, name: str, display_name: str, description: str, namespace: str, tags: Mapping[str, str]
) -> Pipeline:
    """A new pipeline. AlreadyExists when the name is taken in the namespace."""
    _check_pipeline_names(runtime, name, display_name)
    pipeline = Pipeline(new_id(), name, display_name or name, namespace, now_text(), description, dict(tags))
    created = runtime.store.catalog.create_pipeline(pipeline)
    catalog_changes.pipeline_created(created)
    return created


def _check_pipeline_names(runtime: Runtime, name: str, display_name: str) -> None:
    check_name(runtime.settings.limits, "pipeline.name", name, looked_up_by_path=True)
    if display_name:
        check_name(runtime.settings.limits, "pipeline.display_name", display_name)


def find_or_create_pipeline(runtime: Runtime, name: str, namespace: str, description: str) -> Pipeline:
    """The pipeline `name` of the namespace, created if missing (race-safe: the name claim decides)."""
    catalog = runtime.store.catalog
    found = catalog.find_pipeline(namespace, name)
    if found is not None:
        return found
    try:
        return create_pipeline(runtime, name, name, description, namespace, {})
    except AlreadyExists:
        found = catalog.find_pipeline(namespace, name)
        if found is None:
            raise
        return found


def create_version(runtime: Runtime, pipeline: Pipeline, request: VersionRequest) -> PipelineVersion:
    """Store a version of `pipeline`. AlreadyExists (name or id taken), NotFound (pipeline gone)."""
    version = _stored_version(runtime, pipeline, request)
    try:
        created = runtime.store.catalog.create_version(version)
    except Exception:
        if not request.version_id:  # a derived id's objects may belong to a concurrent duplicate
            _delete_objects(runtime, (version.package_key, version.spec_key))
        raise
    catalog_changes.version_created(created)
    return created


def create_pipeline_with_version(
    runtime: Runtime,
    name: str,
    display_name: str,
    description: str,
    namespace: str,
    tags: Mapping[str, str],
    version: VersionRequest,
) -> Pipeline:
    """A new pipeline and its first version, written in one transaction (a crash leaves both or neither)."""
    _check_pipeline_names(runtime, name, display_name)
    pipeline = Pipeline(new_id(), name, display_name or name, namespace, now_text(), description, dict(tags))
    first = _stored_version(runtime, pipeline, version)
    try:
        created = runtime.store.catalog.create_pipeline(pipeline, first)
    except Exception:
        _delete_objects(runtime, (first.package_key, first.spec_key))
        raise
    catalog_changes.pipeline_created(created, first)
    return created


def _stored_version(runtime: Runtime, pipeline: Pipeline, request: VersionRequest) -> PipelineVersion:
    """The version record for `request`, its package bytes and validated spec written to the objects first."""
    check_name(runtime.settings.limits, "pipeline_version.name", request.name, looked_up_by_path=True)
    if request.display_name:
        check_name(runtime.settings.limits, "pipeline_version.display_name", request.display_name)
    version_id = request.version_id or new_id()
    keys = ("", "")
    if request.package is not None:
        keys = (
            package_key(pipeline.pipeline_id, version_id),
            version_spec_key(pipeline.pipeline_id, version_id),
        )
        data = request.package_bytes if request.package_bytes is not None else request.package.to_json_bytes()
        runtime.store.objects.put_bytes(keys[0], data)
        runtime.store.objects.put_json(keys[1], request.package.to_struct())
    description = request.description or (request.package.description if request.package else "") or ""
    return PipelineVersion(
        pipeline_id=pipeline.pipeline_id,
        version_id=version_id,
        name=request.name,
        display_name=request.display_name or request.name,
        namespace=pipeline.namespace,
        created_at=request.created_at or now_text(),
        description=description,
        package_key=keys[0],
        spec_key=keys[1],
        package_url=request.package_url,
        code_source_url=request.code_source_url,
        tags=dict(request.tags),
        error=request.error,
    )


def version_package(runtime: Runtime, version: PipelineVersion) -> PipelinePackage:
    """The validated package of a stored version. NotFound for a version recorded with an error."""
    if not version.spec_key:
        raise NotFound(f"pipeline version {version.version_id} has no valid spec")
    return spec_from_struct(
        runtime.store.objects.get_json(version.spec_key), source=f"pipeline version {version.version_id}"
    )


def latest_version(runtime: Runtime, pipeline_id: str) -> PipelineVersion | None:
    """The newest version that has a valid spec (a version recorded with an `error` — a bad package dropped
    into `pipelines/` — cannot be run, so it is never "latest")."""
    versions = sorted(
        (v for v in runtime.store.catalog.list_versions(pipeline_id) if not v.error),
        key=lambda v: (v.created_at, v.version_id),
    )
    return versions[-1] if versions else None


def delete_pipeline(runtime: Runtime, pipeline_id: str, cascade: bool) -> None:
    catalog = runtime.store.catalog
    pipeline = catalog.get_pipeline(pipeline_id)
    versions = list(catalog.list_versions(pipeline.pipeline_id))
    if versions and not cascade:
        raise FailedPrecondition(
            f"Pipeline {pipeline_id} has {len(versions)} version(s); delete them first or pass cascade=true"
        )
    for version in versions:
        _delete_version(runtime, version)
    catalog.delete_pipeline(pipeline_id)
    catalog_changes.pipeline_deleted(pipeline)


def delete_version(runtime: Runtime, pipeline_id: str, version_id: str) -> None:
    _delete_version(runtime, runtime.store.catalog.get_version(pipeline_id, version_id))


def _delete_version(runtime: Runtime, version: PipelineVersion) -> None:
    runtime.store.catalog.delete_version(version.pipeline_id, version.version_id)
    catalog_changes.version_deleted(version)
    _delete_objects(runtime, (version.package_key, version.spec_key))


def _delete_objects(runtime: Runtime, keys: tuple[str, ...]) -> None:
    for key in keys:
        if key:
            try:
                runtime.store.objects.delete(key)
            except StoreError:
                pass  # unreachable without the version record
