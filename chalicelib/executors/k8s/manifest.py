"""The pod manifest for one task attempt (pure: no I/O, no kubernetes import; plain dicts).

Layout of the pod (restartPolicy Never; a retry is a new pod with attempt + 1):

- init container `kfp-prepare` (launcher image): `pod_entrypoint prepare` runs the launcher's `prepare`
  (TaskSpec from S3, input artifacts downloaded, executor_input written), then writes the resolved argv as a
  shell script and the POSIX-sh wrapper into the shared emptyDir `/kfp-launcher`.
- container `main` (the user's image, any image with /bin/sh): `/bin/sh /kfp-launcher/run.sh` runs the
  command, records its exit code in `/kfp-launcher/exit_code`, and exits with it.
- container `kfp-collect` (launcher image): waits for the exit-code file, then runs the launcher's `collect`
  (outputs and metadata uploaded to S3, TaskResult written to `s3://<bucket>/runs/<run>/tasks/<task>/<n>/result.json`).

Artifacts are exchanged through emptyDirs at KFP's local paths (`/s3`, `/minio`, `/gcs`) mounted in all three
containers, so the user command reads and writes `{{$.inputs/outputs.artifacts[...].path}}` directly; `oci://`
inputs are image volumes at `/oci/...` (`oci_artifacts`). Init containers from the platform config run after
`kfp-prepare`.
"""

from __future__ import annotations

from typing import Any

from chalicelib.executors.k8s import names
from chalicelib.executors.k8s.oci_artifacts import oci_volumes
from chalicelib.executors.k8s.platform_config import platform_parts, uses_workspace
from chalicelib.executors.k8s.resources import (
    container_resources,
    resolve_parameter_placeholders,
    with_default_requests,
)
from chalicelib.executors.k8s.settings import KubernetesSettings
from chalicelib.executors.protocol import AttemptLaunch
from chalicelib.task_contract import TaskSpec

LAUNCHER_DIR = "/kfp-launcher"
LAUNCHER_VOLUME = "kfp-launcher"
ARTIFACT_ROOTS = {"kfp-artifacts-s3": "/s3", "kfp-artifacts-minio": "/minio", "kfp-artifacts-gcs": "/gcs"}
MAIN_CONTAINER = "main"
PREPARE_CONTAINER = "kfp-prepare"
COLLECT_CONTAINER = "kfp-collect"
ENTRYPOINT_MODULE = "chalicelib.executors.k8s.pod_entrypoint"


def task_uri(settings: KubernetesSettings, run_id: str, task_id: str, attempt: int) -> str:
    return f"s3://{settings.bucket}/{names.task_key(run_id, task_id, attempt)}"


def result_uri(settings: KubernetesSettings, run_id: str, task_id: str, attempt: int) -> str:
    return f"s3://{settings.bucket}/{names.result_key(run_id, task_id, attempt)}"


def _shared_mounts() -> list[dict[str, Any]]:
    mounts = [{"name": LAUNCHER_VOLUME, "mountPath": LAUNCHER_DIR}]
    mounts += [{"name": volume, "mountPath": path} for volume, path in ARTIFACT_ROOTS.items()]
    return mounts


def launcher_container(
    name: str, step: str, settings: KubernetesSettings, extra: list[str]
) -> dict[str, Any]:
    return {
        "name": name,
        "image": settings.launcher_image,
        "imagePullPolicy": settings.launcher_image_pull_policy,
        "command": ["python", "-m", ENTRYPOINT_MODULE, step, "--launcher-dir", LAUNCHER_DIR, *extra],
        "env": [{"name": "PYTHONUNBUFFERED", "value": "1"}]
        + [{"name": key, "value": value} for key, value in settings.launcher_env],
        "resources": {
            "requests": {"cpu": settings.launcher_cpu_request, "memory": settings.launcher_memory_request}
        },
        "securityContext": {"allowPrivilegeEscalation": False},
    }


def build_pod(attempt: AttemptLaunch, settings: KubernetesSettings) -> dict[str, Any]:
    """The Pod manifest for `attempt`; raises `PlatformSpecError` / `ResourceSpecError` on bad specs and
    `OciArtifactError` for `oci://` inputs the cluster cannot mount."""
    spec = attempt.spec
    container = spec.container
    parts = platform_parts(
        attempt.platform,
        spec.parameters,
        run_id=spec.run_id,
        needs_workspace=uses_workspace(spec.parameters, spec.artifacts),
        allow_privileged=settings.allow_privileged,
    )
    oci = oci_volumes(spec.artifacts, settings.image_volumes)
    name = names.pod_name(spec.run_id, spec.task_id, spec.attempt)
    result = result_uri(settings, spec.run_id, spec.task_id, spec.attempt)
    labels = {**parts.labels, **names.pod_labels(spec.run_id, spec.task_id, spec.attempt, spec.pipeline_name)}
    annotations = {**parts.annotations, **attempt_annotations(spec, result)}

    env: list[dict[str, Any]] = [
        {"name": e["name"], "value": str(e.get("value", ""))} for e in container.get("env") or []
    ]
    env += [{"name": k, "value": v} for k, v in sorted(spec.env.items())]
    env += list(parts.env)
    env += [
        {"name": "KFP_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "KFP_POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
    ]
    workspace_mounts = [m for m in parts.mounts if m["name"] == "kfp-workspace"]
    main: dict[str, Any] = {
        "name": MAIN_CONTAINER,
        "image": resolve_parameter_placeholders(container["image"], spec.parameters),
        "command": ["/bin/sh", f"{LAUNCHER_DIR}/run.sh"],
        "env": env,
        "volumeMounts": _shared_mounts() + list(parts.mounts) + list(oci.mounts),
    }
    resources = with_default_requests(
        container_resources(container.get("resources"), spec.parameters), settings.default_requests
    )
    if resources:
        main["resources"] = resources
    if parts.image_pull_policy:
        main["imagePullPolicy"] = parts.image_pull_policy
    if parts.security_context:
        main["securityContext"] = dict(parts.security_context)

    task_file = ["--task-file", task_uri(settings, spec.run_id, spec.task_id, spec.attempt)]
    module = ["--launcher-module", settings.launcher_module]
    prepare = launcher_container(PREPARE_CONTAINER, "prepare", settings, task_file + module)
    collect = launcher_container(
        COLLECT_CONTAINER, "collect", settings, task_file + module + ["--result-file", result]
    )
    for launcher in (prepare, collect):
        launcher["volumeMounts"] = _shared_mounts() + workspace_mounts
    prepare["volumeMounts"] += list(oci.mounts)  # it checks that the OCI data is there

    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "initContainers": [prepare, *parts.init_containers],
        "containers": [main, collect],
        "volumes": [{"name": LAUNCHER_VOLUME, "emptyDir": {}}]
        + [{"name": volume, "emptyDir": {}} for volume in ARTIFACT_ROOTS]
        + list(parts.volumes)
        + list(oci.volumes),
    }
    service_account = attempt.service_account or settings.service_account
    if service_account:
        pod_spec["serviceAccountName"] = service_account
    if parts.node_selector:
        pod_spec["nodeSelector"] = dict(parts.node_selector)
    if parts.affinity:
        pod_spec["affinity"] = dict(parts.affinity)
    if parts.tolerations:
        pod_spec["tolerations"] = list(parts.tolerations)
    if parts.image_pull_secrets:
        pod_spec["imagePullSecrets"] = list(parts.image_pull_secrets)
    if parts.active_deadline_seconds:
        pod_spec["activeDeadlineSeconds"] = parts.active_deadline_seconds
    pod_spec.update(parts.host_namespaces)

    return pod_manifest(name, attempt.namespace, labels, annotations, pod_spec)


def attempt_annotations(spec: TaskSpec, result: str) -> dict[str, str]:
    """The annotations that tie a pod to its attempt (`pod_status.pod_identity` reads them back)."""
    return {
        names.ANNOTATION_RUN_ID: spec.run_id,
        names.ANNOTATION_TASK_ID: spec.task_id,
        names.ANNOTATION_TASK_NAME: spec.task_name,
        names.ANNOTATION_DISPLAY_NAME: spec.display_name,
        names.ANNOTATION_PIPELINE_NAME: spec.pipeline_name,
        names.ANNOTATION_RESULT_URI: result,
    }


def pod_manifest(
    name: str, namespace: str, labels: dict[str, str], annotations: dict[str, str], pod_spec: dict[str, Any]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations},
        "spec": pod_spec,
    }
