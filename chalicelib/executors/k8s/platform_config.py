"""The kfp-kubernetes executor config (`platforms.kubernetes.deploymentSpec.executors[label]`) → pod parts (pure).

`platform_parts(platform, parameters, ...)` turns the config into env vars, volumes, mounts and pod-level
fields that `manifest.build_pod` places into the pod. Each `*Parameter` / `*Json` field is an
InputParameterSpec resolved here against the task's resolved inputs (`TaskSpec.parameters`):

- `runtimeValue.constant` → the constant;
- `componentInputParameter: x` → `parameters[x]`;
- `taskOutputParameter{producerTask: p, outputParameterKey: k}` → `parameters['pipelinechannel--p-k']`
  (the engine puts upstream outputs there; it may also rewrite the spec to a `runtimeValue.constant`).

An optional feature whose name resolves to nothing is left out (as the KFP backend does); a required one is
a `PlatformSpecError`, and so is any field this module does not map (`unsupported_fields`): a task never runs
without something it asked for. Init containers run after `kfp-prepare`, hardened like the KFP backend's
(no privilege escalation, all capabilities dropped, RuntimeDefault seccomp); they may mount the volumes the
other fields define, named as KFP names them (the PVC, secret or config map name, or the `volumeName`).
Pod affinity terms become `podAffinity` / `podAntiAffinity` (`anti`), preferred when they have a `weight`.
The run's workspace claim (`pipelineConfig.workspace`, passed as
`platform['pipelineConfig']`) is mounted at /kfp-workspace when the task refers to the workspace.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from chalicelib.executors.k8s.names import workspace_pvc_name

WORKSPACE_PATH = "/kfp-workspace"
HOST_NAMESPACE_FIELDS = ("hostNetwork", "hostPID", "hostIPC")
KNOWN_FIELDS = frozenset(
    {
        "secretAsEnv",
        "secretAsVolume",
        "configMapAsEnv",
        "configMapAsVolume",
        "pvcMount",
        "imagePullSecret",
        "nodeSelector",
        "nodeAffinity",
        "podAffinity",
        "initContainers",
        "tolerations",
        "fieldPathAsEnv",
        "podMetadata",
        "imagePullPolicy",
        "activeDeadlineSeconds",
        "emptyDirMounts",
        "genericEphemeralVolume",
        "enabledSharedMemory",
        "securityContext",
        "pipelineConfig",
        *HOST_NAMESPACE_FIELDS,
    }
)
# Names of the pod's own containers (and KFP's reserved launcher name), which init containers may not take.
RESERVED_CONTAINER_NAMES = frozenset({"kfp-prepare", "main", "kfp-collect", "kfp-launcher"})
HARDENED_SECURITY_CONTEXT = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


class PlatformSpecError(ValueError):
    """The platform config asks for something missing, malformed, or not allowed by the deployment."""


@dataclasses.dataclass(frozen=True)
class PlatformParts:
    """Pod fragments derived from one platform config; empty values mean 'not set'."""

    env: tuple[dict[str, Any], ...] = ()
    volumes: tuple[dict[str, Any], ...] = ()
    mounts: tuple[dict[str, Any], ...] = ()
    node_selector: dict[str, str] = dataclasses.field(default_factory=dict)
    affinity: dict[str, Any] = dataclasses.field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] = ()
    image_pull_secrets: tuple[dict[str, str], ...] = ()
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)
    image_pull_policy: str = ""
    active_deadline_seconds: int | None = None
    security_context: dict[str, Any] = dataclasses.field(default_factory=dict)
    host_namespaces: dict[str, bool] = dataclasses.field(default_factory=dict)
    init_containers: tuple[dict[str, Any], ...] = ()


def unsupported_fields(platform: Mapping[str, Any] | None) -> list[str]:
    """The fields of one kfp-kubernetes executor config that no pod part is made from, sorted."""
    return sorted(set(platform or {}) - KNOWN_FIELDS)


def resolve_parameter(spec: Mapping[str, Any] | None, parameters: Mapping[str, Any]) -> Any:
    """The value of an InputParameterSpec (or of a deprecated pvcMount-style reference); None if unknown."""
    if not spec:
        return None
    if "runtimeValue" in spec:
        return (spec.get("runtimeValue") or {}).get("constant")
    if "componentInputParameter" in spec:
        return parameters.get(spec["componentInputParameter"])
    if "taskOutputParameter" in spec:
        ref = spec["taskOutputParameter"] or {}
        return parameters.get(f"pipelinechannel--{ref.get('producerTask')}-{ref.get('outputParameterKey')}")
    if "constant" in spec:
        return spec["constant"]
    return None


def _json_value(value: Any) -> Any:
    """A `*Json` parameter may arrive as a JSON string or as the already-parsed value."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise PlatformSpecError(f"not valid JSON: {value!r}") from err
    return value


def _name(entry: Mapping[str, Any], field: str, parameters: Mapping[str, Any], what: str) -> str | None:
    """`entry[field]` or the resolved `entry[field + 'Parameter']`; None when optional and unresolved."""
    name = entry.get(field) or resolve_parameter(entry.get(f"{field}Parameter"), parameters)
    if name in (None, ""):
        if entry.get("optional"):
            return None
        raise PlatformSpecError(f"{what}: no {field} given or resolved")
    if not isinstance(name, str):
        raise PlatformSpecError(f"{what}: {field} must be a string, got {name!r}")
    return name


def _compact(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v not in (None, "", [], {})}


def _key_env(entries: Any, platform_key: str, ref_kind: str, key_field: str, parameters: Mapping[str, Any]):
    env: list[dict[str, Any]] = []
    name_field = "secretName" if ref_kind == "secretKeyRef" else "configMapName"
    for entry in entries or []:
        name = _name(entry, name_field, parameters, platform_key)
        if name is None:
            continue
        for pair in entry.get("keyToEnv") or []:
            ref = {"name": name, "key": pair[key_field], "optional": bool(entry.get("optional", False))}
            env.append({"name": pair["envVar"], "valueFrom": {ref_kind: ref}})
    return env


def _tolerations(entries: Any, parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for entry in entries or []:
        if "tolerationJson" in entry:
            value = _json_value(resolve_parameter(entry["tolerationJson"], parameters))
            if value is None:
                continue
            result.extend(value if isinstance(value, list) else [value])
            continue
        toleration = _compact({k: entry.get(k) for k in ("key", "operator", "value", "effect")})
        if entry.get("tolerationSeconds") is not None:
            toleration["tolerationSeconds"] = int(entry["tolerationSeconds"])
        result.append(toleration)
    return result


def _selector_requirements(items: Any) -> list[dict[str, Any]]:
    return [
        _compact({"key": i.get("key"), "operator": i.get("operator"), "values": i.get("values")})
        for i in items
    ]


def _node_affinity(entries: Any, parameters: Mapping[str, Any]) -> dict[str, Any]:
    required: list[dict[str, Any]] = []
    preferred: list[dict[str, Any]] = []
    for entry in entries or []:
        if "nodeAffinityJson" in entry:
            value = _json_value(resolve_parameter(entry["nodeAffinityJson"], parameters))
            if not value:
                continue
            terms = (value.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get(
                "nodeSelectorTerms"
            )
            required.extend(terms or [])
            preferred.extend(value.get("preferredDuringSchedulingIgnoredDuringExecution") or [])
            continue
        term = _compact(
            {
                "matchExpressions": _selector_requirements(entry.get("matchExpressions") or []),
                "matchFields": _selector_requirements(entry.get("matchFields") or []),
            }
        )
        if entry.get("weight"):
            preferred.append({"weight": int(entry["weight"]), "preference": term})
        else:
            required.append(term)
    affinity: dict[str, Any] = {}
    if required:
        affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": required}
    if preferred:
        affinity["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return {"nodeAffinity": affinity} if affinity else {}


def _label_selector(labels: Any, expressions: Any) -> dict[str, Any]:
    return _compact(
        {
            "matchLabels": {str(k): str(v) for k, v in (labels or {}).items()},
            "matchExpressions": _selector_requirements(expressions or []),
        }
    )


def _pod_affinity(entries: Any) -> dict[str, Any]:
    """`podAffinity` terms → `podAffinity` / `podAntiAffinity` (`anti`), preferred when weighted."""
    kinds: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for i, entry in enumerate(entries or []):
        topology_key = entry.get("topologyKey")
        if not topology_key:
            raise PlatformSpecError(f"podAffinity[{i}]: topologyKey is required")
        term = _compact(
            {
                "labelSelector": _label_selector(
                    entry.get("matchPodLabels"), entry.get("matchPodExpressions")
                ),
                "namespaceSelector": _label_selector(
                    entry.get("matchNamespaceLabels"), entry.get("matchNamespaceExpressions")
                ),
                "namespaces": [str(n) for n in entry.get("namespaces") or []],
                "topologyKey": str(topology_key),
            }
        )
        kind = kinds.setdefault("podAntiAffinity" if entry.get("anti") else "podAffinity", {})
        if entry.get("weight"):
            weighted = {"weight": int(entry["weight"]), "podAffinityTerm": term}
            kind.setdefault("preferredDuringSchedulingIgnoredDuringExecution", []).append(weighted)
        else:
            kind.setdefault("requiredDuringSchedulingIgnoredDuringExecution", []).append(term)
    return kinds


def _resource_list(entry: Mapping[str, Any], what: str) -> dict[str, str]:
    quantities = entry or {}
    for name, quantity in quantities.items():
        if not name or not isinstance(quantity, str | int | float) or quantity in ("", None):
            raise PlatformSpecError(f"{what}: resource {name!r} needs a quantity, got {quantity!r}")
    return {str(name): str(quantity) for name, quantity in quantities.items()}


def _init_containers(entries: Any, volume_names: Mapping[str, str]) -> list[dict[str, Any]]:
    """`initContainers` → pod init containers; `volume_names` maps KFP's volume names to this pod's."""
    containers: list[dict[str, Any]] = []
    taken = set(RESERVED_CONTAINER_NAMES)
    for i, entry in enumerate(entries or []):
        name = entry.get("name") or ""
        what = f"initContainers[{i}] {name!r}"
        if not name:
            raise PlatformSpecError(f"initContainers[{i}]: name is required")
        if name in taken:
            raise PlatformSpecError(f"{what}: the name is already taken by another container of the pod")
        taken.add(name)
        if not entry.get("image"):
            raise PlatformSpecError(f"{what}: image is required")
        container: dict[str, Any] = {
            "name": name,
            "image": str(entry["image"]),
            "securityContext": json.loads(json.dumps(HARDENED_SECURITY_CONTEXT)),
        }
        for field in ("command", "args"):
            if entry.get(field):
                container[field] = [str(item) for item in entry[field]]
        env = []
        for variable in entry.get("env") or []:
            if not variable.get("name"):
                raise PlatformSpecError(f"{what}: an environment variable has no name")
            env.append({"name": str(variable["name"]), "value": str(variable.get("value", ""))})
        if env:
            container["env"] = env
        mounts = []
        for mount in entry.get("volumeMounts") or []:
            volume, path = mount.get("volumeName") or "", mount.get("mountPath") or ""
            if volume not in volume_names:
                known = ", ".join(sorted(volume_names)) or "none"
                raise PlatformSpecError(
                    f"{what}: mounts volume {volume!r}, which no other platform field defines (defined: {known})"
                )
            if not path.startswith("/"):
                raise PlatformSpecError(
                    f"{what}: volume {volume!r} needs an absolute mount path, got {path!r}"
                )
            mounts.append({"name": volume_names[volume], "mountPath": path})
        if mounts:
            container["volumeMounts"] = mounts
        restart_policy = entry.get("restartPolicy")
        if restart_policy:
            if restart_policy != "Always":
                raise PlatformSpecError(f"{what}: restartPolicy must be 'Always', got {restart_policy!r}")
            container["restartPolicy"] = "Always"
        resources = _compact(
            {
                "requests": _resource_list((entry.get("resources") or {}).get("requests"), what),
                "limits": _resource_list((entry.get("resources") or {}).get("limits"), what),
            }
        )
        if resources:
            container["resources"] = resources
        containers.append(container)
    return containers


def _node_selector(entry: Mapping[str, Any] | None, parameters: Mapping[str, Any]) -> dict[str, str]:
    if not entry:
        return {}
    if "nodeSelectorJson" in entry:
        value = _json_value(resolve_parameter(entry["nodeSelectorJson"], parameters))
        return {str(k): str(v) for k, v in (value or {}).items()}
    return {str(k): str(v) for k, v in (entry.get("labels") or {}).items()}


def uses_workspace(parameters: Mapping[str, Any], artifacts: Mapping[str, list[dict[str, Any]]]) -> bool:
    """KFP's rule: an input value mentions the workspace path, or an input artifact lives in the workspace."""
    for value in parameters.values():
        text = value if isinstance(value, str) else json.dumps(value)
        if WORKSPACE_PATH in text or "{{$.workspace_path}}" in text:
            return True
    return any((a.get("metadata") or {}).get("_kfp_workspace") for items in artifacts.values() for a in items)


def platform_parts(
    platform: Mapping[str, Any] | None,
    parameters: Mapping[str, Any],
    *,
    run_id: str = "",
    needs_workspace: bool = False,
    allow_privileged: bool = False,
) -> PlatformParts:
    """Translate one kfp-kubernetes executor config; raises `PlatformSpecError` on bad or forbidden input."""
    platform = platform or {}
    unknown = unsupported_fields(platform)
    if unknown:
        raise PlatformSpecError(f"unsupported kubernetes platform field(s): {', '.join(unknown)}")

    env = _key_env(platform.get("secretAsEnv"), "secretAsEnv", "secretKeyRef", "secretKey", parameters)
    env += _key_env(
        platform.get("configMapAsEnv"), "configMapAsEnv", "configMapKeyRef", "configMapKey", parameters
    )
    for entry in platform.get("fieldPathAsEnv") or []:
        env.append({"name": entry["name"], "valueFrom": {"fieldRef": {"fieldPath": entry["fieldPath"]}}})

    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    kfp_volume_names: dict[str, str] = {}  # the name KFP's backend gives a volume → its name in this pod

    def add(volume_name: str, source: dict[str, Any], mount: dict[str, Any], kfp_name: str = "") -> None:
        if not any(volume["name"] == volume_name for volume in volumes):
            volumes.append({"name": volume_name, **source})
        mounts.append({"name": volume_name, **_compact(mount)})
        kfp_volume_names.setdefault(kfp_name or volume_name, volume_name)

    for i, entry in enumerate(platform.get("secretAsVolume") or []):
        name = _name(entry, "secretName", parameters, "secretAsVolume")
        if name is not None:
            secret = {"secretName": name, "optional": bool(entry.get("optional", False))}
            mount = {"mountPath": entry["mountPath"], "readOnly": True}
            add(f"kfp-secret-{i}", {"secret": secret}, mount, kfp_name=name)
    for i, entry in enumerate(platform.get("configMapAsVolume") or []):
        name = _name(entry, "configMapName", parameters, "configMapAsVolume")
        if name is not None:
            config_map = {"name": name, "optional": bool(entry.get("optional", False))}
            add(
                f"kfp-configmap-{i}",
                {"configMap": config_map},
                {"mountPath": entry["mountPath"], "readOnly": True},
                kfp_name=name,
            )
    for i, entry in enumerate(platform.get("pvcMount") or []):
        claim = resolve_parameter(entry.get("pvcNameParameter"), parameters) or resolve_parameter(
            entry, parameters
        )
        if not isinstance(claim, str) or not claim:
            raise PlatformSpecError(f"pvcMount[{i}] at {entry.get('mountPath')}: claim name did not resolve")
        add(
            f"kfp-pvc-{i}",
            {"persistentVolumeClaim": {"claimName": claim}},
            {"mountPath": entry["mountPath"], "subPath": entry.get("subPath")},
            kfp_name=claim,
        )
    for entry in platform.get("emptyDirMounts") or []:
        empty_dir = _compact({"medium": entry.get("medium"), "sizeLimit": entry.get("sizeLimit")})
        add(entry["volumeName"], {"emptyDir": empty_dir}, {"mountPath": entry["mountPath"]})
    for entry in platform.get("genericEphemeralVolume") or []:
        claim_spec: dict[str, Any] = {
            "accessModes": list(entry.get("accessModes") or ["ReadWriteOnce"]),
            "resources": {"requests": {"storage": entry["size"]}},
        }
        if not entry.get("defaultStorageClass") and entry.get("storageClassName") is not None:
            claim_spec["storageClassName"] = entry["storageClassName"]
        template: dict[str, Any] = {"spec": claim_spec}
        metadata = _compact(
            {
                "labels": (entry.get("metadata") or {}).get("labels"),
                "annotations": (entry.get("metadata") or {}).get("annotations"),
            }
        )
        if metadata:
            template["metadata"] = metadata
        add(
            entry["volumeName"],
            {"ephemeral": {"volumeClaimTemplate": template}},
            {"mountPath": entry["mountPath"]},
        )
    shared_memory = platform.get("enabledSharedMemory")
    if shared_memory is not None:
        empty_dir = _compact({"medium": "Memory", "sizeLimit": shared_memory.get("size")})
        add(shared_memory.get("volumeName") or "kfp-shm", {"emptyDir": empty_dir}, {"mountPath": "/dev/shm"})
    workspace = (platform.get("pipelineConfig") or {}).get("workspace")
    if workspace and needs_workspace:
        claim = {"persistentVolumeClaim": {"claimName": workspace_pvc_name(run_id)}}
        add("kfp-workspace", claim, {"mountPath": WORKSPACE_PATH})

    image_pull_secrets = []
    for entry in platform.get("imagePullSecret") or []:
        name = entry.get("secretName") or resolve_parameter(entry.get("secretNameParameter"), parameters)
        if name:
            image_pull_secrets.append({"name": str(name)})

    metadata = platform.get("podMetadata") or {}
    security_context = dict(platform.get("securityContext") or {})
    host_namespaces = {k: True for k in HOST_NAMESPACE_FIELDS if platform.get(k)}
    wants_privilege = security_context.get("privileged") or security_context.get("allowPrivilegeEscalation")
    if (wants_privilege or host_namespaces) and not allow_privileged:
        asked = sorted([*host_namespaces, *(["privileged"] if wants_privilege else [])])
        raise PlatformSpecError(
            f"the deployment does not allow {', '.join(asked)} (KFPS_K8S_ALLOW_PRIVILEGED)"
        )
    deadline = platform.get("activeDeadlineSeconds")

    return PlatformParts(
        env=tuple(env),
        volumes=tuple(volumes),
        mounts=tuple(mounts),
        node_selector=_node_selector(platform.get("nodeSelector"), parameters),
        affinity={
            **_node_affinity(platform.get("nodeAffinity"), parameters),
            **_pod_affinity(platform.get("podAffinity")),
        },
        tolerations=tuple(_tolerations(platform.get("tolerations"), parameters)),
        image_pull_secrets=tuple(image_pull_secrets),
        labels={str(k): str(v) for k, v in (metadata.get("labels") or {}).items()},
        annotations={str(k): str(v) for k, v in (metadata.get("annotations") or {}).items()},
        image_pull_policy=str(platform.get("imagePullPolicy") or ""),
        active_deadline_seconds=int(deadline) if deadline else None,
        security_context=security_context,
        host_namespaces=host_namespaces,
        init_containers=tuple(_init_containers(platform.get("initContainers"), kfp_volume_names)),
    )
