"""The Kubernetes executor: one pod per task attempt (no driver pods), reached over the Kubernetes API.

Modules: `names` (deterministic pod names, labels, S3 keys), `settings`, `resources` and `platform_config`
(IR resources and the kfp-kubernetes config → pod parts), `manifest` (the pod), `pvc` (CreatePVC / workspace
claims), `pod_status` (pod → phase), `executor` (`KubernetesExecutor`), `client` (EKS / kubeconfig /
in-cluster), `pod_entrypoint` (what the launcher-image containers run inside the pod).

Nothing here imports `kubernetes` at module import; only `executor`/`client` do, inside functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.executors.k8s.executor import KubernetesExecutor
    from chalicelib.settings import Settings
    from chalicelib.store.protocols import Store


def build_kubernetes_executor(settings: Settings, store: Store) -> KubernetesExecutor:
    """The executor for the app's settings (`settings.kubernetes`, else derived from the app's bucket, namespace,
    EKS cluster / kubeconfig and region). Task and result files go through the store's objects, which must be
    the S3 bucket the pods reach."""
    from chalicelib.executors.k8s.executor import KubernetesExecutor
    from chalicelib.executors.k8s.settings import KubernetesSettings

    if store.kind != "dynamodb":
        raise ValueError("the Kubernetes executor needs the S3-backed store (pods read and write the bucket)")
    kubernetes = settings.kubernetes or KubernetesSettings.from_app_settings(settings, {})
    return KubernetesExecutor(kubernetes, store.objects)
