"""Errors the Kubernetes executor raises; kubernetes/botocore exceptions never leave the executor."""

from __future__ import annotations

from chalicelib.executors.protocol import LaunchRefused


class KubernetesExecutorError(Exception):
    """Base class of the executor's errors."""


class LaunchRejected(KubernetesExecutorError, LaunchRefused):
    """The attempt cannot become a pod (bad resources, platform spec, or a field the deployment forbids)."""


class KubernetesApiError(KubernetesExecutorError):
    """The API server answered with an unexpected status (carried in `status`)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status
