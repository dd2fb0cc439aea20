"""`KubernetesExecutor`: one pod per task attempt, no driver pods (see `manifest.py` for the pod's layout).

- `launch` writes the TaskSpec to `s3://<bucket>/runs/<run>/tasks/<task>/<n>/task.json` and creates the pod
  under its deterministic name; 409 means the pod is already there, so launching twice is harmless.
- `poll` makes ONE pod list per namespace (label selector on managed-by and the run ids), classifies each pod
  (`pod_status.pod_verdict`) and, for finished pods, reads the launcher's result.json from S3.
  Attempts this process launched whose pods vanished before finishing are reported LOST; a reconciler in a
  fresh process must itself treat a launched, unfinished attempt that `poll` no longer reports as LOST.
- `logs` reads the main container's log (or its S3 copy once the pod is gone); `cleanup` copies the log to
  `s3://<bucket>/logs/<run>/<task>/<n>.log` and deletes the pod; `cancel` deletes the pod.
- `create_pvc` / `create_workspace_pvc` / `delete_pvc` serve kfp-kubernetes CreatePVC/DeletePVC and
  `pipelineConfig.workspace`; no container runs for them.
- KFP v1 steps get their pod from `argo_pod.py` (with `{{pod.name}}` filled in); `apply_object` /
  `read_object` / `delete_object` serve v1 resource templates (`objects.py`).

The executor's own credentials (Lambda role) need pods create/get/list/delete, pods/log get and PVC
create/delete in the namespaces; the pods' S3 access comes from their service account (IRSA / Pod Identity).
`kubernetes` is imported lazily, when the first client is needed; S3 goes through the store's objects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.executors.k8s import names
from chalicelib.executors.k8s.argo_pod import build_argo_pod
from chalicelib.executors.k8s.errors import KubernetesApiError, LaunchRejected
from chalicelib.executors.k8s.manifest import COLLECT_CONTAINER, MAIN_CONTAINER, PREPARE_CONTAINER, build_pod
from chalicelib.executors.k8s.objects import KubernetesObjects
from chalicelib.executors.k8s.oci_artifacts import OciArtifactError
from chalicelib.executors.k8s.platform_config import PlatformSpecError
from chalicelib.executors.k8s.pod_status import PodIdentity, PodVerdict, pod_identity, pod_verdict
from chalicelib.executors.k8s.pvc import PvcSpecError, create_pvc_manifest, workspace_pvc_manifest
from chalicelib.executors.k8s.resources import ResourceSpecError
from chalicelib.executors.k8s.settings import KubernetesSettings
from chalicelib.executors.protocol import AttemptLaunch, AttemptPhase, AttemptStatus
from chalicelib.store.errors import NotFound
from chalicelib.store.protocols import ObjectStore
from chalicelib.task_contract import TaskResult
from chalicelib.timestamps import utc_now

logger = logging.getLogger(__name__)

AttemptKey = tuple[str, str, int]
MAX_SELECTOR_RUN_IDS = 50
LOG_TAIL_LINES = 20


def run_selector(run_ids: Iterable[str]) -> str:
    """Label selector for our pods of these runs; with many runs, all our pods (filtered client-side)."""
    values = sorted({names.label_value(r) for r in run_ids})
    selector = f"{names.LABEL_MANAGED_BY}={names.MANAGED_BY}"
    if 0 < len(values) <= MAX_SELECTOR_RUN_IDS:
        selector += f",{names.LABEL_RUN_ID} in ({','.join(values)})"
    return selector


def attempt_selector(run_id: str, task_id: str, attempt: int) -> str:
    """Label selector for the pod of one attempt."""
    labels = names.pod_labels(run_id, task_id, attempt, "")
    return ",".join(
        f"{key}={labels[key]}"
        for key in (names.LABEL_MANAGED_BY, names.LABEL_RUN_ID, names.LABEL_TASK, names.LABEL_ATTEMPT)
    )


class KubernetesExecutor:
    """The Executor protocol over the Kubernetes API and the S3 bucket the pods use.

    objects: the store's object store on that bucket (task.json, result.json, copied logs).
    core_api: a `kubernetes.client.CoreV1Api` (built from `settings` on first use when None).
    now: the clock, returning an aware datetime (grace times are measured with it).
    """

    keeps_final_logs = True  # cleanup copies the pod's log to S3 before deleting the pod

    def __init__(
        self,
        settings: KubernetesSettings,
        objects: ObjectStore,
        *,
        core_api: Any = None,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._objects = objects
        self._core_api = core_api
        self._now = now
        self._unfinished: dict[AttemptKey, str] = {}  # launched here and not yet seen final → namespace
        self._cluster_objects: KubernetesObjects | None = None

    # -- clients -----------------------------------------------------------------------------------------
    @property
    def core(self) -> Any:
        if self._core_api is None:
            from chalicelib.executors.k8s.client import core_v1_api, kube_configuration

            self._core_api = core_v1_api(kube_configuration(self._settings))
        return self._core_api

    def _api(
        self, call: Callable[..., Any], *args: Any, tolerate: tuple[int, ...] = (), **kwargs: Any
    ) -> Any:
        """Call the API; returns the raw response, or None for a tolerated status (e.g. 404, 409)."""
        from kubernetes.client.exceptions import ApiException

        try:
            return call(*args, _preload_content=False, **kwargs)
        except ApiException as error:
            if error.status in tolerate:
                return None
            raise KubernetesApiError(
                f"{call.__name__}: {error.status} {error.reason}", error.status
            ) from error

    # -- S3 ------------------------------------------------------------------------------------------------
    def _put(self, key: str, body: str, content_type: str) -> None:
        self._objects.put_bytes(key, body.encode(), content_type)

    def _get(self, key: str) -> str | None:
        try:
            return self._objects.get_bytes(key).decode()
        except NotFound:
            return None

    # -- protocol --------------------------------------------------------------------------------------------
    def launch(self, attempt: AttemptLaunch) -> str:
        """Store the TaskSpec and create the pod unless it exists; returns the pod name.

        Raises `LaunchRejected` when the spec cannot become a pod (nothing is created then).
        """
        spec = attempt.spec
        try:
            if spec.is_argo_step:
                spec = spec.with_pod_name(names.pod_name(spec.run_id, spec.task_id, spec.attempt))
                pod = build_argo_pod(dataclasses.replace(attempt, spec=spec), self._settings)
            else:
                pod = build_pod(attempt, self._settings)
        except (PlatformSpecError, ResourceSpecError, OciArtifactError) as error:
            raise LaunchRejected(f"task {spec.task_name!r}: {error}") from error
        name = pod["metadata"]["name"]
        self._put(names.task_key(spec.run_id, spec.task_id, spec.attempt), spec.to_json(), "application/json")
        created = self._api(self.core.create_namespaced_pod, attempt.namespace, pod, tolerate=(409,))
        logger.info(
            "pod %s %s", name, "created" if created else "already exists", extra={"run_id": spec.run_id}
        )
        self._unfinished[(spec.run_id, spec.task_id, spec.attempt)] = attempt.namespace
        return name

    def poll(self, run_ids: Iterable[str]) -> list[AttemptStatus]:
        wanted = set(run_ids)
        if not wanted:
            return []
        now = self._now()
        statuses: list[AttemptStatus] = []
        seen: set[AttemptKey] = set()
        for pod in self._pods(run_selector(wanted)):
            identity = pod_identity(pod)
            if identity is None or identity.run_id not in wanted:
                continue
            key = (identity.run_id, identity.task_id, identity.attempt)
            seen.add(key)
            verdict = pod_verdict(
                pod,
                now,
                pending_grace_seconds=self._settings.pending_grace_seconds,
                collect_grace_seconds=self._settings.collect_grace_seconds,
            )
            status = self._status(identity, verdict)
            if status.phase.is_final:
                self._unfinished.pop(key, None)
            statuses.append(status)
        for key in [k for k in self._unfinished if k[0] in wanted and k not in seen]:
            del self._unfinished[key]
            message = "the pod disappeared before it finished"
            statuses.append(
                AttemptStatus(
                    *key,
                    phase=AttemptPhase.LOST,
                    name=names.pod_name(*key),
                    reason="PodMissing",
                    message=message,
                )
            )
        return statuses

    def _status(self, identity: PodIdentity, verdict: PodVerdict) -> AttemptStatus:
        key = (identity.run_id, identity.task_id, identity.attempt)
        phase, reason, message, exit_code = verdict.phase, verdict.reason, verdict.message, verdict.exit_code
        result = None
        if verdict.needs_result:
            text = self._get(names.result_key(*key))
            result = TaskResult.from_json(text) if text else None
        if phase is AttemptPhase.RUNNING and result is not None:
            # Main ended and collect wrote the result (its last act) before the pod's status caught up.
            phase = AttemptPhase.SUCCEEDED if exit_code == 0 else AttemptPhase.FAILED
            reason = "" if exit_code == 0 else "Error"
        if phase is AttemptPhase.SUCCEEDED and result is None and not identity.collected:
            result = TaskResult(0, started_at=verdict.started_at, finished_at=verdict.finished_at)
        if phase is AttemptPhase.SUCCEEDED:
            if result is None:
                phase, reason, message = AttemptPhase.FAILED, "ResultMissing", "the pod wrote no result.json"
            elif result.exit_code != 0:
                phase, reason, message = AttemptPhase.FAILED, "Error", result.error
        if phase is AttemptPhase.FAILED and result is not None:
            message = message or result.error
            exit_code = exit_code if exit_code is not None else result.exit_code
            if not result.log_tail:  # the command's output is in the main container's log, not collect's
                tail = self._log_tail(identity.name, identity.namespace, MAIN_CONTAINER)
                result = dataclasses.replace(result, log_tail=tail)
        if reason == "PrepareFailed" and not message:
            message = self._log_tail(identity.name, identity.namespace, PREPARE_CONTAINER)
        return AttemptStatus(
            *key,
            phase=phase,
            name=identity.name,
            reason=reason,
            message=message,
            exit_code=exit_code,
            result=result,
            started_at=verdict.started_at or (result.started_at if result else ""),
            finished_at=verdict.finished_at or (result.finished_at if result else ""),
        )

    def _pods(self, selector: str) -> list[dict[str, Any]]:
        """The pods `selector` matches: one list across all namespaces when pods go to a namespace per KFP
        namespace, else one list per watched namespace (and each namespace this process launched in)."""
        if self._settings.per_namespace_pods:
            response = self._api(self.core.list_pod_for_all_namespaces, label_selector=selector)
            return json.loads(response.data).get("items") or []
        pods: list[dict[str, Any]] = []
        for namespace in dict.fromkeys([*self._settings.watched_namespaces, *self._unfinished.values()]):
            response = self._api(self.core.list_namespaced_pod, namespace, label_selector=selector)
            pods += json.loads(response.data).get("items") or []
        return pods

    def _namespaces_of(self, key: AttemptKey) -> list[str]:
        known = self._unfinished.get(key)
        if known:
            return [known]
        if self._settings.per_namespace_pods:
            found = self._pods(attempt_selector(*key))
            return list(dict.fromkeys(pod["metadata"]["namespace"] for pod in found)) or [
                self._settings.namespace
            ]
        return list(self._settings.watched_namespaces)

    def _log_tail(self, name: str, namespace: str, container: str) -> str:
        response = self._api(
            self.core.read_namespaced_pod_log,
            name,
            namespace,
            container=container,
            tail_lines=LOG_TAIL_LINES,
            tolerate=(400, 404),
        )
        return response.data.decode(errors="replace") if response is not None else ""

    def _pod_log(self, key: AttemptKey, container: str) -> str | None:
        """The container's log from the first namespace that has the pod; None when no pod was found."""
        for namespace in self._namespaces_of(key):
            response = self._api(
                self.core.read_namespaced_pod_log,
                names.pod_name(*key),
                namespace,
                container=container,
                tolerate=(400, 404),
            )
            if response is not None:
                return response.data.decode(errors="replace")
        return None

    def cancel(self, run_id: str, task_id: str, attempt: int) -> None:
        key = (run_id, task_id, attempt)
        for namespace in self._namespaces_of(key):
            self._api(self.core.delete_namespaced_pod, names.pod_name(*key), namespace, tolerate=(404,))
        self._unfinished.pop(key, None)

    def logs(self, run_id: str, task_id: str, attempt: int) -> str:
        key = (run_id, task_id, attempt)
        text = self._pod_log(key, MAIN_CONTAINER)
        if text is None:
            text = self._get(names.log_key(*key))
        return text or ""

    def cleanup(self, run_id: str, task_id: str, attempt: int) -> None:
        """Copy the main container's log (and the launcher containers' logs) to S3, then delete the pod."""
        key = (run_id, task_id, attempt)
        text = self._pod_log(key, MAIN_CONTAINER)
        if text is not None:
            self._put(names.log_key(*key), text, "text/plain")
            launcher_log = "".join(
                f"==> {container} <==\n{self._pod_log(key, container) or ''}"
                for container in (PREPARE_CONTAINER, COLLECT_CONTAINER)
            )
            self._put(names.log_key(*key).removesuffix(".log") + ".launcher.log", launcher_log, "text/plain")
        self.cancel(run_id, task_id, attempt)

    def close(self) -> None:
        """Nothing to release: pods run on the cluster, and API clients hold nothing between calls."""

    # -- platform operations ---------------------------------------------------------------------------------
    def create_pvc(self, run_id: str, namespace: str, inputs: dict[str, Any]) -> str:
        """Create the claim of a CreatePVC task (idempotent); returns its name (the task's `name` output)."""
        try:
            manifest = create_pvc_manifest(run_id, namespace, inputs)
        except PvcSpecError as error:
            raise LaunchRejected(str(error)) from error
        self._api(self.core.create_namespaced_persistent_volume_claim, namespace, manifest, tolerate=(409,))
        return manifest["metadata"]["name"]

    def create_workspace_pvc(self, run_id: str, namespace: str, workspace: dict[str, Any]) -> str:
        """Create the run's workspace claim from `pipelineConfig.workspace` (idempotent); returns its name."""
        try:
            manifest = workspace_pvc_manifest(run_id, namespace, workspace)
        except PvcSpecError as error:
            raise LaunchRejected(str(error)) from error
        self._api(self.core.create_namespaced_persistent_volume_claim, namespace, manifest, tolerate=(409,))
        return manifest["metadata"]["name"]

    def delete_pvc(self, namespace: str, name: str) -> None:
        """Delete a claim (DeletePVC); a claim that is already gone is fine."""
        self._api(self.core.delete_namespaced_persistent_volume_claim, name, namespace, tolerate=(404,))

    # -- objects of KFP v1 resource templates (`chalicelib.argo_resources.ObjectOperations`) --------------------
    @property
    def cluster_objects(self) -> KubernetesObjects:
        if self._cluster_objects is None:
            self._cluster_objects = KubernetesObjects(self.core.api_client)
        return self._cluster_objects

    def apply_object(
        self, namespace: str, action: str, manifest: dict[str, Any], merge_strategy: str
    ) -> dict[str, Any] | None:
        return self.cluster_objects.apply_object(namespace, action, manifest, merge_strategy)

    def read_object(self, namespace: str, api_version: str, kind: str, name: str) -> dict[str, Any] | None:
        return self.cluster_objects.read_object(namespace, api_version, kind, name)

    def delete_object(self, namespace: str, api_version: str, kind: str, name: str) -> None:
        self.cluster_objects.delete_object(namespace, api_version, kind, name)
