"""The Kubernetes executor: one pod per task attempt (no driver pods), reached over the Kubernetes API.

Modules: `names` (deterministic pod names, labels, S3 keys), `settings`, `resources` and `platform_config`
(IR resources and the kfp-kubernetes config → pod parts), `manifest` (the pod), `pvc` (CreatePVC / workspace
claims), `pod_status` (pod → phase), `executor` (`KubernetesExecutor`), `client` (EKS / kubeconfig /
in-cluster), `pod_entrypoint` (what the launcher-image containers run inside the pod).

Nothing here imports `kubernetes` at module import; only `executor`/`client` do, inside functions.
"""
