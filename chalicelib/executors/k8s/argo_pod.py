"""The pod of one attempt of a KFP v1 step (an Argo container template), pure like `manifest.py`.

Same three-part layout as a KFP v2 task's pod: `kfp-prepare` (launcher image) stages the input artifacts and
writes the step script into the shared `/kfp-launcher` volume, `main` runs the template's container with its
image through `/bin/sh /kfp-launcher/run.sh` (the step script places the inputs at their paths, runs the
command and copies the outputs back into `/kfp-launcher`), and `kfp-collect` stores the outputs. Around
them, what the template and the workflow ask for, as Argo builds its pods: the user's init containers (after
`kfp-prepare`) and sidecars, volumes and mounts, nodeSelector, tolerations, affinity, security contexts,
image pull secrets, DNS settings, the template's `activeDeadlineSeconds`, its metadata and the
`workflows.argoproj.io/workflow` label, then `podSpecPatch` merged on top (strategic merge: lists of named
items merge by name). The workflow's `serviceAccountName: pipeline-runner` (and an empty one) maps to the
deployment's service account, which carries the S3 access. A step with no command and nothing to place or
collect runs its image's entrypoint in a pod without launcher containers (`is_bare`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import yaml

from chalicelib.executors.k8s import names
from chalicelib.executors.k8s.manifest import (
    COLLECT_CONTAINER,
    LAUNCHER_DIR,
    LAUNCHER_VOLUME,
    MAIN_CONTAINER,
    PREPARE_CONTAINER,
    attempt_annotations,
    launcher_container,
    pod_manifest,
    result_uri,
    task_uri,
)
from chalicelib.executors.k8s.platform_config import PlatformSpecError
from chalicelib.executors.k8s.resources import with_default_requests
from chalicelib.executors.k8s.settings import KubernetesSettings
from chalicelib.executors.protocol import AttemptLaunch

KFP_SERVICE_ACCOUNT = "pipeline-runner"
_OWN_CONTAINER_FIELDS = ("name", "command", "args", "volumeMounts")
_POD_FIELDS = (
    "nodeSelector",
    "tolerations",
    "affinity",
    "securityContext",
    "imagePullSecrets",
    "dnsConfig",
    "dnsPolicy",
    "hostAliases",
    "priorityClassName",
    "schedulerName",
    "automountServiceAccountToken",
)


def _launcher_mount() -> dict[str, str]:
    return {"name": LAUNCHER_VOLUME, "mountPath": LAUNCHER_DIR}


def _main_container(container: Mapping[str, Any]) -> dict[str, Any]:
    main = {key: copy.deepcopy(value) for key, value in container.items() if key not in _OWN_CONTAINER_FIELDS}
    main["name"] = MAIN_CONTAINER
    main["command"] = ["/bin/sh", f"{LAUNCHER_DIR}/run.sh"]
    main["volumeMounts"] = [_launcher_mount(), *copy.deepcopy(container.get("volumeMounts") or [])]
    return main


def _user_container(container: Mapping[str, Any], role: str, index: int) -> dict[str, Any]:
    copied = copy.deepcopy(dict(container))
    copied.setdefault("name", f"{role}-{index}")
    copied.pop("mirrorVolumeMounts", None)
    if copied["name"] in (MAIN_CONTAINER, PREPARE_CONTAINER, COLLECT_CONTAINER):
        raise PlatformSpecError(f"{role} container name {copied['name']!r} is reserved")
    return copied


def _privileged_problem(pod_spec: Mapping[str, Any]) -> str:
    for container in [*pod_spec.get("initContainers", []), *pod_spec.get("containers", [])]:
        if ((container.get("securityContext") or {}).get("privileged")) is True:
            return f"container {container.get('name')!r} asks to be privileged"
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(field):
            return f"the pod asks for {field}"
    for volume in pod_spec.get("volumes") or []:
        if "hostPath" in volume:
            return f"volume {volume.get('name')!r} is a hostPath"
    return ""


def strategic_merge(base: Any, patch: Any) -> Any:
    """Merge `patch` into `base` like a strategic merge patch on a PodSpec: mappings merge key by key, lists of
    mappings that all have a `name` merge by name, anything else is replaced; a None value deletes a key."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = strategic_merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        merged_list = [copy.deepcopy(item) for item in base]
        for item in patch:
            found = next(
                (index for index, old in enumerate(merged_list) if old["name"] == item["name"]), None
            )
            if found is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[found] = strategic_merge(merged_list[found], item)
        return merged_list
    return copy.deepcopy(patch)


def _named(items: list[Any]) -> bool:
    return all(isinstance(item, dict) and "name" in item for item in items)


def _parse_patch(text: str) -> dict[str, Any]:
    try:
        patch = json.loads(text)
    except ValueError:
        try:
            patch = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise PlatformSpecError(f"podSpecPatch is neither JSON nor YAML: {error}") from error
    if not isinstance(patch, dict):
        raise PlatformSpecError("podSpecPatch must be a mapping of PodSpec fields")
    return patch


def is_bare(step: Mapping[str, Any]) -> bool:
    """A step without a command and without inputs or outputs runs its image's own entrypoint (which only the
    container runtime knows), so its pod has no launcher containers: main's exit code is the outcome."""
    return not step["container"].get("command") and not (
        step.get("input_artifacts") or step.get("output_parameters") or step.get("output_artifacts")
    )


def build_argo_pod(attempt: AttemptLaunch, settings: KubernetesSettings) -> dict[str, Any]:
    """The Pod manifest of a KFP v1 step attempt; raises `PlatformSpecError` for pods the deployment refuses."""
    spec = attempt.spec
    step = spec.argo_step
    pod_settings = step.get("pod") or {}
    name = names.pod_name(spec.run_id, spec.task_id, spec.attempt)
    result = result_uri(settings, spec.run_id, spec.task_id, spec.attempt)

    task_file = ["--task-file", task_uri(settings, spec.run_id, spec.task_id, spec.attempt)]
    module = ["--launcher-module", settings.launcher_module]
    prepare = launcher_container(PREPARE_CONTAINER, "prepare", settings, task_file + module)
    collect = launcher_container(
        COLLECT_CONTAINER, "collect", settings, task_file + module + ["--result-file", result]
    )
    for launcher in (prepare, collect):
        launcher["volumeMounts"] = [_launcher_mount()]

    init_containers = [
        _user_container(container, "init", index)
        for index, container in enumerate(step.get("init_containers") or [])
    ]
    sidecars = [
        _user_container(container, "sidecar", index)
        for index, container in enumerate(step.get("sidecars") or [])
    ]
    bare = is_bare(step)
    if bare:
        main = {**copy.deepcopy(step["container"]), "name": MAIN_CONTAINER}
        launcher_init, launcher_side, volumes = [], [], []
    else:
        main = _main_container(step["container"])
        launcher_init, launcher_side = [prepare], [collect]
        volumes = [{"name": LAUNCHER_VOLUME, "emptyDir": {}}]
    resources = with_default_requests(main.get("resources") or {}, settings.default_requests)
    if resources:
        main["resources"] = resources
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [main, *launcher_side, *sidecars],
        "volumes": [*volumes, *copy.deepcopy(pod_settings.get("volumes") or [])],
    }
    if launcher_init or init_containers:
        pod_spec["initContainers"] = [*launcher_init, *init_containers]
    for field in _POD_FIELDS:
        if pod_settings.get(field) not in (None, {}, []):
            pod_spec[field] = copy.deepcopy(pod_settings[field])
    deadline = pod_settings.get("activeDeadlineSeconds")
    if deadline not in (None, ""):
        pod_spec["activeDeadlineSeconds"] = int(str(deadline))
    account = str(pod_settings.get("serviceAccountName") or "")
    if account in ("", KFP_SERVICE_ACCOUNT):
        account = attempt.service_account or settings.service_account
    if account:
        pod_spec["serviceAccountName"] = account
    if sidecars:
        pod_spec["shareProcessNamespace"] = True
    for patch in pod_settings.get("podSpecPatches") or []:
        pod_spec = strategic_merge(pod_spec, _parse_patch(str(patch)))
    problem = _privileged_problem(pod_spec)
    if problem and not settings.allow_privileged:
        raise PlatformSpecError(f"{problem}, which needs KFPS_K8S_ALLOW_PRIVILEGED")

    labels = {
        **{str(k): str(v) for k, v in (pod_settings.get("labels") or {}).items()},
        **names.pod_labels(spec.run_id, spec.task_id, spec.attempt, spec.pipeline_name),
    }
    annotations = {
        **{str(k): str(v) for k, v in (pod_settings.get("annotations") or {}).items()},
        **attempt_annotations(spec, result),
    }
    if bare:
        annotations[names.ANNOTATION_COLLECT] = "none"
    return pod_manifest(name, attempt.namespace, labels, annotations, pod_spec)
