"""Deployment settings of the Kubernetes executor: one frozen dataclass, built once from the environment."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.settings import Settings


@dataclasses.dataclass(frozen=True)
class KubernetesSettings:
    """What the pod manifests and the executor need from the deployment.

    bucket: S3 bucket holding task.json / result.json / copied logs (`runs/...`, `logs/...`).
    launcher_image: image with Python, boto3 and chalicelib (infra/launcher.Dockerfile); runs the init and
        collect containers. The user's image only needs `/bin/sh`.
    launcher_module: the launcher CLI module (`python -m <module> prepare|collect ...`).
    namespaces: namespaces `poll` lists even when this process launched nothing there (a fresh Lambda).
    per_namespace_pods: pods go to a Kubernetes namespace per KFP namespace (the app's
        `pod_namespace_template`) and `namespaces` does not list them: `poll` then lists pods once across all
        namespaces, by label (which needs cluster-wide list rights; a deployed stage lists its team namespaces).
    service_account: pods' service account when the attempt names none; it carries the S3 access
        (IRSA / EKS Pod Identity). The launcher needs no Kubernetes permissions at all.
    pending_grace_seconds: how long image pull errors or an unschedulable pod are tolerated before FAILED.
    collect_grace_seconds: how long after the main container ended the collect container may still run.
    allow_privileged: whether platform specs may ask for privileged containers / host namespaces.
    image_volumes: whether the cluster mounts images as volumes (the ImageVolume feature), which `oci://`
        input artifacts need (`oci_artifacts.py`); without it a task with such inputs is refused.
    cluster_name / kubeconfig / kube_context / in_cluster: how to reach the API server (see `client.py`).
    launcher_env: extra environment of the launcher containers (`KFPS_K8S_LAUNCHER_ENV`, a JSON object), e.g.
        the S3 endpoint and static credentials of an S3-compatible store (the local stack's moto) when the
        pods' service account carries no S3 access.
    """

    bucket: str
    launcher_image: str = "kfp-serverless/launcher:latest"
    launcher_module: str = "chalicelib.launcher"
    launcher_image_pull_policy: str = "IfNotPresent"
    namespace: str = "default"
    namespaces: tuple[str, ...] = ()
    per_namespace_pods: bool = False
    service_account: str = ""
    pending_grace_seconds: float = 300.0
    collect_grace_seconds: float = 300.0
    allow_privileged: bool = False
    image_volumes: bool = False
    launcher_cpu_request: str = "50m"
    launcher_memory_request: str = "128Mi"
    cluster_name: str = ""
    region: str = ""
    kubeconfig: str = ""
    kube_context: str = ""
    in_cluster: bool = False
    launcher_env: tuple[tuple[str, str], ...] = ()
    # The pod policy's default requests for a task container that asks for nothing: ("cpu", "250m"), ...
    default_requests: tuple[tuple[str, str], ...] = ()

    @property
    def watched_namespaces(self) -> tuple[str, ...]:
        """The default namespace first, then any extra ones, without duplicates."""
        return tuple(dict.fromkeys((self.namespace, *self.namespaces)))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KubernetesSettings:
        """Read the variables `chalicelib.settings.Settings` reads (`KFPS_BUCKET`, `KFPS_NAMESPACE`,
        `KFPS_EKS_CLUSTER`, `KFPS_KUBECONFIG`, falling back to `KUBECONFIG`) plus the executor's own
        `KFPS_LAUNCHER_*` / `KFPS_K8S_*`; unset ones keep their defaults. In-cluster config is used when
        `KUBERNETES_SERVICE_HOST` is set and no kubeconfig is named."""
        env = os.environ if env is None else env
        defaults = cls(bucket="")

        def text(key: str, default: str) -> str:
            return env.get(key, default) or default

        return cls(
            bucket=env.get("KFPS_BUCKET", ""),
            launcher_image=text("KFPS_LAUNCHER_IMAGE", defaults.launcher_image),
            launcher_module=text("KFPS_LAUNCHER_MODULE", defaults.launcher_module),
            launcher_image_pull_policy=text(
                "KFPS_LAUNCHER_IMAGE_PULL_POLICY", defaults.launcher_image_pull_policy
            ),
            namespace=text("KFPS_NAMESPACE", defaults.namespace),
            namespaces=tuple(n for n in env.get("KFPS_K8S_NAMESPACES", "").split(",") if n),
            service_account=env.get("KFPS_K8S_SERVICE_ACCOUNT", ""),
            pending_grace_seconds=float(text("KFPS_K8S_PENDING_GRACE_SECONDS", "300")),
            collect_grace_seconds=float(text("KFPS_K8S_COLLECT_GRACE_SECONDS", "300")),
            allow_privileged=env.get("KFPS_K8S_ALLOW_PRIVILEGED", "").lower() in ("1", "true", "yes"),
            image_volumes=env.get("KFPS_K8S_IMAGE_VOLUMES", "").lower() in ("1", "true", "yes"),
            cluster_name=env.get("KFPS_EKS_CLUSTER", ""),
            region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "")),
            kubeconfig=env.get("KFPS_KUBECONFIG", "") or env.get("KUBECONFIG", ""),
            kube_context=env.get("KFPS_KUBE_CONTEXT", ""),
            in_cluster=bool(env.get("KUBERNETES_SERVICE_HOST"))
            and not (env.get("KFPS_KUBECONFIG") or env.get("KUBECONFIG")),
            launcher_env=parse_launcher_env(env.get("KFPS_K8S_LAUNCHER_ENV", "")),
        )

    @classmethod
    def from_app_settings(
        cls, settings: Settings, env: Mapping[str, str] | None = None
    ) -> KubernetesSettings:
        """`from_env`, with bucket, namespace, EKS cluster, kubeconfig and region taken from the app's settings."""
        base = cls.from_env(env)
        kubeconfig = settings.kubeconfig or base.kubeconfig
        return dataclasses.replace(
            base,
            bucket=settings.bucket,
            namespace=settings.namespace,
            per_namespace_pods=bool(settings.pod_namespace_template) and not base.namespaces,
            cluster_name=settings.eks_cluster,
            kubeconfig=kubeconfig,
            region=settings.region,
            in_cluster=base.in_cluster and not kubeconfig,
            default_requests=settings.pod_policy.default_requests,
        )


def parse_launcher_env(text: str) -> tuple[tuple[str, str], ...]:
    """`KFPS_K8S_LAUNCHER_ENV` (a JSON object of names to values) as sorted pairs; empty text → ()."""
    if not text.strip():
        return ()
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("KFPS_K8S_LAUNCHER_ENV must be a JSON object of environment variables")
    return tuple(sorted((str(name), str(item)) for name, item in value.items()))
