"""kfp-kubernetes platform operations: CreatePVC / DeletePVC tasks and the run's workspace claim.

A CreatePVC / DeletePVC task (images `argostub/createpvc` / `argostub/deletepvc`, kfp-ir.md §1.3) runs no
container. The engine plans it like any container task (a Launch and a PENDING record, written ahead like
every launch); the reconciler, instead of the executor's `launch`, calls the executor's claim operations
(`ClaimOperations`) and records the attempt's outcome at once, so CreatePVC's `name` output feeds the
downstream `pvcMount`s in the same pass. Claim names are deterministic per run, so doing it twice after a
crash is harmless. Platform operations are never served from the cache: a cached CreatePVC would hand out
the name of a claim an earlier run has deleted.

`pipelineConfig.workspace` is one claim per run: created before the run's first task, deleted when the run
ends. Executors without claims (the local executor) fail CreatePVC/DeletePVC tasks with a clear message and
leave the workspace to themselves.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from chalicelib.task_contract import TaskSpec

logger = logging.getLogger(__name__)

CREATE_PVC = "createpvc"
DELETE_PVC = "deletepvc"
OPERATION_IMAGES = {"argostub/createpvc": CREATE_PVC, "argostub/deletepvc": DELETE_PVC}
OPERATION_TITLES = {CREATE_PVC: "CreatePVC", DELETE_PVC: "DeletePVC"}
SERVER_ERROR = 500


@runtime_checkable
class ClaimOperations(Protocol):
    """What an executor offers for PersistentVolumeClaims (the Kubernetes executor)."""

    def create_pvc(self, run_id: str, namespace: str, inputs: dict[str, Any]) -> str: ...

    def create_workspace_pvc(self, run_id: str, namespace: str, workspace: dict[str, Any]) -> str: ...

    def delete_pvc(self, namespace: str, name: str) -> None: ...


@dataclasses.dataclass(frozen=True)
class OperationOutcome:
    """How a platform operation ended: its output parameters, or why it failed."""

    succeeded: bool
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    error: str = ""


def platform_operation(container: Mapping[str, Any]) -> str:
    """`CREATE_PVC` / `DELETE_PVC` when the container is a platform-operation stub, else ''."""
    image = str(container.get("image") or "").split("@", 1)[0]
    repository, _, tag = image.rpartition(":")
    if repository and "/" not in tag:
        image = repository
    return OPERATION_IMAGES.get(image.removeprefix("docker.io/"), "")


def workspace_config(platform_spec: Mapping[str, Any] | None) -> dict[str, Any]:
    """`platforms.kubernetes.pipelineConfig.workspace`, or `{}`."""
    kubernetes = ((platform_spec or {}).get("platforms") or {}).get("kubernetes") or {}
    return dict((kubernetes.get("pipelineConfig") or {}).get("workspace") or {})


def _is_transient(error: Exception) -> bool:
    """API errors worth another pass (server errors, no status at all = no answer) rather than a failure."""
    status = getattr(error, "status", None)
    return status is not None and (status == 0 or status >= SERVER_ERROR)


def run_platform_operation(executor: object, spec: TaskSpec, namespace: str) -> OperationOutcome:
    """Create or delete the claim of a CreatePVC / DeletePVC task through `executor`.

    A rejected spec or a 4xx answer fails the attempt; a server error propagates, so the pass fails and the
    next pass redoes the (idempotent) operation.
    """
    from chalicelib.executors.k8s.errors import KubernetesExecutorError

    operation = platform_operation(spec.container)
    title = OPERATION_TITLES[operation]
    if not isinstance(executor, ClaimOperations):
        return OperationOutcome(False, error=f"{title} needs the kubernetes executor (no claims here)")
    try:
        if operation == CREATE_PVC:
            name = executor.create_pvc(spec.run_id, namespace, dict(spec.parameters))
            logger.info("created claim %s", name, extra={"run_id": spec.run_id})
            return OperationOutcome(True, {"name": name})
        name = spec.parameters.get("pvc_name")
        if not name:
            return OperationOutcome(False, error="DeletePVC needs pvc_name")
        executor.delete_pvc(namespace, str(name))
        logger.info("deleted claim %s", name, extra={"run_id": spec.run_id})
        return OperationOutcome(True)
    except KubernetesExecutorError as error:
        if _is_transient(error):
            raise
        return OperationOutcome(False, error=f"{title}: {error}")


def create_workspace(executor: object, run_id: str, namespace: str, workspace: Mapping[str, Any]) -> None:
    """Create the run's workspace claim when the executor has claims (idempotent)."""
    if workspace and isinstance(executor, ClaimOperations):
        executor.create_workspace_pvc(run_id, namespace, dict(workspace))


def delete_workspace(executor: object, run_id: str, namespace: str, workspace: Mapping[str, Any]) -> None:
    """Delete the run's workspace claim when the executor has claims (a claim already gone is fine)."""
    if workspace and isinstance(executor, ClaimOperations):
        from chalicelib.executors.k8s.names import workspace_pvc_name

        executor.delete_pvc(namespace, workspace_pvc_name(run_id))
