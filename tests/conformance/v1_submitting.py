"""Submitting KFP v1 packages (Argo Workflow YAML) through the kfp 2.17.3 `kfp.Client`: upload the package as a
pipeline, then run its version. (kfp 2's `run_pipeline(pipeline_package_path=...)` parses the file as a v2
PipelineSpec on the client side, so v1 packages go through `upload_pipeline` first, as in the KFP UI.)"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

EXPERIMENT = "kfp-v1"


def upload_v1(kfp_client: Any, package: Path, name: str = "") -> tuple[str, str]:
    """Upload `package` as a new pipeline; its (pipeline id, version id)."""
    pipeline = kfp_client.upload_pipeline(
        str(package), pipeline_name=name or f"v1-{package.stem}-{uuid.uuid4().hex[:8]}"
    )
    versions = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions
    return pipeline.pipeline_id, versions[0].pipeline_version_id


def run_v1(kfp_client: Any, package: Path, params: dict[str, Any] | None = None, name: str = "") -> str:
    """Upload and run a v1 package; the run id."""
    pipeline_id, version_id = upload_v1(kfp_client, package, name)
    experiment = kfp_client.create_experiment(EXPERIMENT)
    result = kfp_client.run_pipeline(
        experiment.experiment_id,
        f"v1 {package.stem}",
        pipeline_id=pipeline_id,
        version_id=version_id,
        params=params or {},
    )
    return result.run_id
