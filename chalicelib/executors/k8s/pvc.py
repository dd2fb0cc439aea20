"""PersistentVolumeClaim manifests for kfp-kubernetes CreatePVC and the run workspace (pure).

CreatePVC / DeletePVC tasks (images `argostub/createpvc`, `argostub/deletepvc`) run no container: the
reconciler calls `KubernetesExecutor.create_pvc` / `delete_pvc`, which use these manifests. Names are
deterministic per run, so creating twice is harmless (409 = already there).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from chalicelib.executors.k8s import names


class PvcSpecError(ValueError):
    """CreatePVC inputs that cannot make a claim (no size, both or neither name fields, ...)."""


def _merge(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """JSON merge-patch semantics: dicts merge recursively, None deletes, anything else replaces."""
    for key, value in patch.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def created_pvc_name(run_id: str, inputs: Mapping[str, Any]) -> str:
    """`pvc_name`, or the run's prefix + `pvc_name_suffix` (KFP: `<workflow name><suffix>`)."""
    name, suffix = inputs.get("pvc_name"), inputs.get("pvc_name_suffix")
    if bool(name) == bool(suffix):
        raise PvcSpecError("CreatePVC needs exactly one of pvc_name and pvc_name_suffix")
    if name:
        return str(name)
    suffix = str(suffix)
    return names.run_pvc_prefix(run_id) + (suffix if suffix.startswith("-") else f"-{suffix}")


def create_pvc_manifest(run_id: str, namespace: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The claim a CreatePVC task asks for; `inputs` are the task's resolved input parameters."""
    if not inputs.get("size"):
        raise PvcSpecError("CreatePVC needs a size")
    access_modes = inputs.get("access_modes") or []
    if not access_modes:
        raise PvcSpecError("CreatePVC needs access_modes")
    spec: dict[str, Any] = {
        "accessModes": list(access_modes),
        "resources": {"requests": {"storage": str(inputs["size"])}},
    }
    if inputs.get("storage_class_name") is not None:
        spec["storageClassName"] = str(inputs["storage_class_name"])
    if inputs.get("volume_name"):
        spec["volumeName"] = str(inputs["volume_name"])
    if inputs.get("data_source"):
        spec["dataSource"] = dict(inputs["data_source"])
    metadata: dict[str, Any] = {
        "name": created_pvc_name(run_id, inputs),
        "namespace": namespace,
        "labels": {names.LABEL_MANAGED_BY: names.MANAGED_BY, names.LABEL_RUN_ID: names.label_value(run_id)},
    }
    if inputs.get("annotations"):
        metadata["annotations"] = {str(k): str(v) for k, v in dict(inputs["annotations"]).items()}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}


def workspace_pvc_manifest(run_id: str, namespace: str, workspace: Mapping[str, Any]) -> dict[str, Any]:
    """The run's workspace claim from `pipelineConfig.workspace{size, kubernetes.pvcSpecPatch}`."""
    if not workspace.get("size"):
        raise PvcSpecError("pipelineConfig.workspace needs a size")
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": str(workspace["size"])}},
    }
    _merge(spec, (workspace.get("kubernetes") or {}).get("pvcSpecPatch") or {})
    metadata = {
        "name": names.workspace_pvc_name(run_id),
        "namespace": namespace,
        "labels": {names.LABEL_MANAGED_BY: names.MANAGED_BY, names.LABEL_RUN_ID: names.label_value(run_id)},
    }
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}
