"""`oci://` input artifacts as image volumes (pure).

KFP maps an artifact URI `oci://registry/repo:tag` to the local path `/oci/registry_repo:tag` (a Model's data
is under `.../models`, the image's `/models` directory). KFP's backend serves it with a "modelcar" sidecar;
we mount the image itself there as a read-only image volume (Kubernetes `volumes[].image`, the ImageVolume
feature: alpha from 1.31, beta from 1.33), in the main container and in `kfp-prepare`, which checks that the
data is there. A cluster without image volumes cannot give a task its OCI artifacts, so the launch is refused
unless the deployment says the cluster has them (`KFPS_K8S_IMAGE_VOLUMES`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chalicelib.launcher.artifact_paths import OCI_PREFIX, local_path_of_uri


class OciArtifactError(ValueError):
    """The task has `oci://` input artifacts and the cluster cannot mount them."""


@dataclasses.dataclass(frozen=True)
class OciVolumes:
    volumes: tuple[dict[str, Any], ...] = ()
    mounts: tuple[dict[str, Any], ...] = ()


def oci_volumes(artifacts: Mapping[str, list[dict[str, Any]]], image_volumes: bool) -> OciVolumes:
    """One image volume per distinct `oci://` input artifact, mounted read-only at its KFP local path.

    Raises `OciArtifactError` naming the inputs when there are some and `image_volumes` is off.
    """
    uris = sorted(
        {
            artifact.get("uri", "")
            for items in artifacts.values()
            for artifact in items
            if artifact.get("uri", "").startswith(OCI_PREFIX)
        }
    )
    if not uris:
        return OciVolumes()
    if not image_volumes:
        names = sorted(
            name
            for name, items in artifacts.items()
            if any(a.get("uri", "").startswith(OCI_PREFIX) for a in items)
        )
        raise OciArtifactError(
            f"input artifact(s) {', '.join(names)} are oci:// images ({', '.join(uris)}), which pods get as image "
            "volumes; this deployment does not say its cluster supports them (KFPS_K8S_IMAGE_VOLUMES)"
        )
    volumes = []
    mounts = []
    for index, uri in enumerate(uris):
        name = f"kfp-oci-{index}"
        reference = uri.removeprefix(OCI_PREFIX)
        volumes.append({"name": name, "image": {"reference": reference, "pullPolicy": "IfNotPresent"}})
        mounts.append({"name": name, "mountPath": local_path_of_uri(uri), "readOnly": True})
    return OciVolumes(tuple(volumes), tuple(mounts))
