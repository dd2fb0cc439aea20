"""What a run or recurring run body asks for: its pipeline — an inline `pipeline_spec`, a
`pipeline_version_reference` (latest version when no version id is given), or the deprecated
`pipeline_version_id` — and its `runtime_config` (parameters, pipeline root)."""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib.api.errors import InvalidArgument, NotFound
from chalicelib.api.request_helpers import object_field
from chalicelib.runtime import Runtime
from chalicelib.services.pipelines import latest_version, version_package
from chalicelib.spec import PipelinePackage, spec_from_struct


@dataclasses.dataclass(frozen=True)
class PipelineSource:
    package: PipelinePackage
    pipeline_id: str = ""
    pipeline_version_id: str = ""


def runtime_config_of(body: dict[str, Any], what: str) -> tuple[dict[str, Any], str]:
    """The body's runtime parameters and pipeline root (both optional)."""
    config = object_field(body, "runtime_config", what)
    unknown = sorted(set(config) - {"parameters", "pipeline_root"})
    if unknown:
        raise InvalidArgument(f"unknown field(s) in {what}.runtime_config: {', '.join(unknown)}")
    parameters = config.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InvalidArgument(f"{what}.runtime_config.parameters must be an object")
    root = config.get("pipeline_root") or ""
    if not isinstance(root, str):
        raise InvalidArgument(f"{what}.runtime_config.pipeline_root must be a string")
    return parameters, root


def resolve_pipeline_source(runtime: Runtime, body: dict[str, Any], what: str) -> PipelineSource:
    spec = body.get("pipeline_spec")
    reference = body.get("pipeline_version_reference")
    legacy_version = body.get("pipeline_version_id")
    given = [
        name
        for name, value in (
            ("pipeline_spec", spec),
            ("pipeline_version_reference", reference),
            ("pipeline_version_id", legacy_version),
        )
        if value
    ]
    if len(given) != 1:
        raise InvalidArgument(
            f"{what} needs exactly one of pipeline_spec, pipeline_version_reference or pipeline_version_id"
            + (f"; got {', '.join(given)}" if given else "")
        )
    if spec:
        if not isinstance(spec, dict):
            raise InvalidArgument(f"{what}.pipeline_spec must be an object")
        return PipelineSource(spec_from_struct(spec, source=f"{what}.pipeline_spec"))
    if reference:
        if not isinstance(reference, dict):
            raise InvalidArgument(f"{what}.pipeline_version_reference must be an object")
        pipeline_id = str(reference.get("pipeline_id") or "")
        version_id = str(reference.get("pipeline_version_id") or "")
        if not pipeline_id:
            raise InvalidArgument(f"{what}.pipeline_version_reference.pipeline_id is required")
        catalog = runtime.store.catalog
        if version_id:
            version = catalog.get_version(pipeline_id, version_id)
        else:
            catalog.get_pipeline(pipeline_id)
            version = latest_version(runtime, pipeline_id)
            if version is None:
                raise NotFound(f"Pipeline {pipeline_id} has no versions")
        return PipelineSource(version_package(runtime, version), pipeline_id, version.version_id)
    raise InvalidArgument(
        f"{what}.pipeline_version_id alone is not enough here: use pipeline_version_reference "
        "with pipeline_id and pipeline_version_id"
    )
