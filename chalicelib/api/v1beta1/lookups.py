"""Reads the v1 API needs that v2 does not: a pipeline version by its id alone, a pipeline's default version,
a version's parameters and the Workflow-or-PipelineSpec package of a run's source.

v1 addresses versions without their pipeline (`/pipeline_versions/{id}`, PIPELINE_VERSION references). The
store keys versions by (pipeline, version), so the version is looked for among the pipelines of the namespaces
in reach: the one the request names, the default namespace "" (kfp.Client's single-user namespace, and the
shared pipelines) and, in multi-user mode, the caller's own namespaces.
The default version of a pipeline is its latest valid version, as KFP 2 backends answer v1 requests.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.api.errors import NotFound
from chalicelib.api.v1beta1.shapes import package_parameters_v1, version_v1
from chalicelib.auth.request_principal import current_principal
from chalicelib.runtime import Runtime
from chalicelib.services.pipelines import latest_version, version_package
from chalicelib.store.errors import StoreError
from chalicelib.store.records import Pipeline, PipelineVersion


def find_version(runtime: Runtime, version_id: str, namespaces: Iterable[str] = ("",)) -> PipelineVersion:
    """The version `version_id` of some pipeline in `namespaces` or in the caller's own namespaces. NotFound."""
    catalog = runtime.store.catalog
    own = sorted(current_principal().namespaces)
    for namespace in dict.fromkeys([*namespaces, *own]):
        for pipeline in catalog.list_pipelines(namespace):
            for version in catalog.list_versions(pipeline.pipeline_id):
                if version.version_id == version_id:
                    return version
    raise NotFound(f"Pipeline version {version_id} not found")


def version_parameters(runtime: Runtime, version: PipelineVersion) -> list[dict[str, str]]:
    """The version's pipeline parameters in v1 form ([] for a version recorded with an error)."""
    if not version.spec_key:
        return []
    try:
        return package_parameters_v1(version_package(runtime, version))
    except StoreError:
        return []


def version_view(runtime: Runtime, version: PipelineVersion) -> dict:
    return version_v1(version, version_parameters(runtime, version))


def default_version_view(runtime: Runtime, pipeline: Pipeline) -> dict | None:
    version = latest_version(runtime, pipeline.pipeline_id)
    return version_view(runtime, version) if version is not None else None
