"""Where an artifact lives on the local file system, by the rules `kfp.dsl.Artifact.path` applies.

The user's code computes `Artifact.path` itself from the URI in executor_input, so the launcher must put input
data exactly there and pick outputs up from there: `s3://b/k` → `/s3/b/k`, `gs://b/k` → `/gcs/b/k`,
`minio://b/k` → `/minio/b/k`, `oci://a/b` → `/oci/a_b` (`/models` appended for `system.Model`); any other URI
(an absolute local path in the local stack) is the path itself. `mount_root` relocates the mount prefixes
(tests; the pod uses `/`).
"""

from __future__ import annotations

import os
from typing import Any

REMOTE_MOUNTS: dict[str, str] = {"gs://": "gcs", "s3://": "s3", "minio://": "minio"}
OCI_PREFIX = "oci://"
WORKSPACE_METADATA_KEY = "_kfp_workspace"


def is_remote_uri(uri: str) -> bool:
    """True for a URI that names object storage or a web location rather than a local path."""
    return "://" in uri


def local_path_of_uri(uri: str, mount_root: str = "/") -> str:
    """The local path KFP maps `uri` to (the URI itself for a local path)."""
    for prefix, mount in REMOTE_MOUNTS.items():
        if uri.startswith(prefix):
            return os.path.join(mount_root, mount, uri[len(prefix) :])
    if uri.startswith(OCI_PREFIX):
        return os.path.join(mount_root, "oci", uri[len(OCI_PREFIX) :].replace("/", "_"))
    return uri


def local_path_of_artifact(
    artifact: dict[str, Any], mount_root: str = "/", workspace_path: str = "/kfp-workspace"
) -> str:
    """The local path of a RuntimeArtifact dict, honouring Model's `/models` and `_kfp_workspace` metadata."""
    uri = artifact.get("uri", "")
    path = local_path_of_uri(uri, mount_root)
    schema_title = (artifact.get("type") or {}).get("schemaTitle", "")
    if uri.startswith(OCI_PREFIX) and schema_title == "system.Model":
        path = os.path.join(path, "models")
    if (artifact.get("metadata") or {}).get(WORKSPACE_METADATA_KEY) is True:
        path = os.path.join(workspace_path, ".artifacts", path.lstrip("/"))
    return path
