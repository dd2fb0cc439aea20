"""What a v1 run or job body asks to run: its pipeline (`pipeline_spec.workflow_manifest` or
`pipeline_manifest` as JSON text, `pipeline_spec.pipeline_id`, or a PIPELINE / PIPELINE_VERSION resource
reference), its experiment or namespace, and its parameters (`pipeline_spec.parameters` as v1 text, or
`pipeline_spec.runtime_config.parameters` typed), validated before anything is written."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from chalicelib.api.errors import InvalidArgument, NotFound
from chalicelib.api.request_helpers import object_field, reject_unknown_fields, string_field
from chalicelib.api.v1beta1.lookups import find_version
from chalicelib.api.v1beta1.references import (
    EXPERIMENT,
    NAMESPACE,
    PIPELINE,
    PIPELINE_VERSION,
    References,
    parse_references,
)
from chalicelib.api.v1beta1.shapes import typed_parameters, v1_parameter_texts
from chalicelib.auth.request_principal import request_namespace
from chalicelib.platform_support import check_platform_support
from chalicelib.runtime import Runtime
from chalicelib.services.experiments import experiment_and_namespace
from chalicelib.services.pipelines import latest_version, version_package
from chalicelib.spec import PipelinePackage, spec_from_struct, validate_runtime_parameters

_SPEC_FIELDS = {
    "pipeline_id",
    "pipeline_name",
    "workflow_manifest",
    "pipeline_manifest",
    "parameters",
    "runtime_config",
}
_REFERENCE_TYPES = frozenset({EXPERIMENT, NAMESPACE, PIPELINE, PIPELINE_VERSION})


@dataclasses.dataclass(frozen=True)
class RunSource:
    """A validated v1 run/job request's pipeline, where it goes and with which parameters."""

    package: PipelinePackage
    experiment_id: str
    namespace: str
    parameters: dict[str, Any]
    pipeline_root: str = ""
    pipeline_id: str = ""
    pipeline_version_id: str = ""


def resolve_run_source(runtime: Runtime, body: dict[str, Any], what: str) -> RunSource:
    """The body's pipeline, experiment (else its namespace's "Default") and checked parameters.
    InvalidArgument names the bad field; NotFound for an unknown experiment, pipeline or version."""
    references = parse_references(body.get("resource_references"), what, _REFERENCE_TYPES)
    spec = object_field(body, "pipeline_spec", what)
    reject_unknown_fields(spec, _SPEC_FIELDS, f"{what}.pipeline_spec")
    package, pipeline_id, version_id = _pipeline(runtime, spec, references, what)
    texts = v1_parameter_texts(spec.get("parameters"), f"{what}.pipeline_spec")
    config = object_field(spec, "runtime_config", f"{what}.pipeline_spec")
    reject_unknown_fields(config, {"parameters", "pipeline_root"}, f"{what}.pipeline_spec.runtime_config")
    typed = object_field(config, "parameters", f"{what}.pipeline_spec.runtime_config")
    if texts and typed:
        raise InvalidArgument(f"{what}.pipeline_spec: give parameters or runtime_config.parameters, not both")
    parameters = typed or typed_parameters(package, texts, f"{what}.pipeline_spec")
    parameters = validate_runtime_parameters(package, parameters)
    check_platform_support(package)
    experiment_id, namespace = experiment_and_namespace(
        runtime, references.experiment_id, request_namespace(references.namespace)
    )
    return RunSource(
        package=package,
        experiment_id=experiment_id,
        namespace=namespace,
        parameters=parameters,
        pipeline_root=string_field(config, "pipeline_root", f"{what}.pipeline_spec.runtime_config"),
        pipeline_id=pipeline_id,
        pipeline_version_id=version_id,
    )


def _pipeline(
    runtime: Runtime, spec: dict[str, Any], references: References, what: str
) -> tuple[PipelinePackage, str, str]:
    manifests = [key for key in ("workflow_manifest", "pipeline_manifest") if spec.get(key)]
    pipeline_id = string_field(spec, "pipeline_id", f"{what}.pipeline_spec") or references.pipeline_id
    if references.pipeline_id and pipeline_id != references.pipeline_id:
        raise InvalidArgument(
            f"{what}: pipeline_spec.pipeline_id and the PIPELINE reference name different pipelines"
        )
    version_id = references.pipeline_version_id
    if len(manifests) > 1:
        raise InvalidArgument(f"{what}.pipeline_spec: give workflow_manifest or pipeline_manifest, not both")
    if manifests and (pipeline_id or version_id):
        raise InvalidArgument(
            f"{what}: give either a pipeline_spec manifest or a pipeline / pipeline version, not both"
        )
    if manifests:
        return _manifest_package(spec, manifests[0], what), "", ""
    catalog = runtime.store.catalog
    if version_id:
        version = (
            catalog.get_version(pipeline_id, version_id)
            if pipeline_id
            else find_version(runtime, version_id, (references.namespace, ""))
        )
    elif pipeline_id:
        catalog.get_pipeline(pipeline_id)
        version = latest_version(runtime, pipeline_id)
        if version is None:
            raise NotFound(f"Pipeline {pipeline_id} has no valid version")
    else:
        raise InvalidArgument(
            f"{what} needs pipeline_spec.workflow_manifest, pipeline_spec.pipeline_manifest, "
            "pipeline_spec.pipeline_id or a PIPELINE_VERSION reference"
        )
    return version_package(runtime, version), version.pipeline_id, version.version_id


def _manifest_package(spec: dict[str, Any], key: str, what: str) -> PipelinePackage:
    field = f"{what}.pipeline_spec.{key}"
    text = spec[key]
    if not isinstance(text, str):
        raise InvalidArgument(f"{field} must be a JSON string")
    try:
        struct = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"{field} is not valid JSON: {exc}") from None
    return spec_from_struct(struct, source=field)
