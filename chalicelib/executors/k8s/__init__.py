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


def build_kubernetes_executor(settings: Settings) -> KubernetesExecutor:
    """The executor for the app's settings (bucket, namespace, EKS cluster / kubeconfig, region), the
    executor's own `KFPS_LAUNCHER_*` / `KFPS_K8S_*` variables read from the environment."""
    from chalicelib.executors.k8s.executor import KubernetesExecutor
    from chalicelib.executors.k8s.settings import KubernetesSettings

    return KubernetesExecutor(KubernetesSettings.from_app_settings(settings))
