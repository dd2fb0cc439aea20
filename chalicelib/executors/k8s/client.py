"""Connect to the API server: EKS by cluster name, a kubeconfig, or the in-cluster service account.

`kubernetes` is imported here, inside the function, so nothing the API Lambda imports pulls it in.
"""

from __future__ import annotations

from typing import Any

from chalicelib.executors.k8s.settings import KubernetesSettings


def kube_configuration(settings: KubernetesSettings, session: Any = None) -> Any:
    """A `kubernetes.client.Configuration` chosen by the settings, in this order:

    `cluster_name` → EKS (describe_cluster + STS token, refreshed); `in_cluster` → the pod's service account;
    otherwise a kubeconfig (`kubeconfig` path, else `KUBECONFIG` / ~/.kube/config) and optional `kube_context`.
    """
    from kubernetes import client, config

    if settings.cluster_name:
        from chalicelib.executors.eks_auth import eks_configuration

        return eks_configuration(settings.cluster_name, session, settings.region or None)
    configuration = client.Configuration()
    if settings.in_cluster:
        config.load_incluster_config(client_configuration=configuration)
    else:
        config.load_kube_config(
            config_file=settings.kubeconfig or None,
            context=settings.kube_context or None,
            client_configuration=configuration,
        )
    return configuration


def core_v1_api(configuration: Any) -> Any:
    """A `CoreV1Api` over its own ApiClient for `configuration`."""
    from kubernetes import client

    return client.CoreV1Api(client.ApiClient(configuration))
