"""Reach an EKS cluster's API server from Lambda without a kubeconfig (aws-stack.md §4).

The bearer token is `k8s-aws-v1.` + base64url(presigned STS GetCallerIdentity URL) with `=` stripped, the
`x-k8s-aws-id: <cluster>` header signed into the URL. EKS accepts it for about 15 minutes from `X-Amz-Date`;
`EksTokenSource` re-mints after `refresh_seconds` (10 minutes). The Lambda role needs `eks:DescribeCluster`
and an EKS access entry (see the deployment docs); signing needs no IAM permission.

`kubernetes` is imported inside `eks_configuration` only, never at module import.
"""

from __future__ import annotations

import base64
import dataclasses
import tempfile
import time
from collections.abc import Callable
from typing import Any

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
REFRESH_SECONDS = 600.0


def eks_token(cluster_name: str, session: Any = None, region: str | None = None) -> str:
    """A fresh EKS bearer token for `cluster_name`, signed with the session's credentials."""
    import boto3

    session = session or boto3.session.Session()
    sts = session.client("sts", region_name=region or session.region_name)

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_HEADER] = cluster_name

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


@dataclasses.dataclass
class EksTokenSource:
    """Caches one token and re-mints it once it is older than `refresh_seconds` (clock injectable)."""

    cluster_name: str
    mint: Callable[[], str]
    refresh_seconds: float = REFRESH_SECONDS
    clock: Callable[[], float] = time.monotonic
    _token: str = ""
    _minted_at: float = 0.0

    def token(self) -> str:
        now = self.clock()
        if not self._token or now - self._minted_at >= self.refresh_seconds:
            self._token, self._minted_at = self.mint(), now
        return self._token


def describe_cluster(cluster_name: str, session: Any = None, region: str | None = None) -> dict[str, Any]:
    """`eks.describe_cluster(name)['cluster']` (endpoint and base64 CA data)."""
    import boto3

    session = session or boto3.session.Session()
    return session.client("eks", region_name=region or session.region_name).describe_cluster(
        name=cluster_name
    )["cluster"]


def eks_configuration(
    cluster_name: str,
    session: Any = None,
    region: str | None = None,
    *,
    cluster: dict[str, Any] | None = None,
    token_source: EksTokenSource | None = None,
) -> Any:
    """A `kubernetes.client.Configuration` for the cluster with a self-refreshing bearer token.

    `cluster` (a describe_cluster result) skips the EKS call; `token_source` overrides how tokens are minted.
    The api key is seeded: the legacy client only calls `refresh_api_key_hook` when a key already exists,
    and sends no Authorization header at all otherwise.
    """
    from kubernetes import client

    cluster = cluster or describe_cluster(cluster_name, session, region)
    source = token_source or EksTokenSource(cluster_name, lambda: eks_token(cluster_name, session, region))
    config = client.Configuration()
    config.host = cluster["endpoint"]
    ca_data = (cluster.get("certificateAuthority") or {}).get("data")
    if ca_data:
        with tempfile.NamedTemporaryFile(suffix=".pem", delete=False) as ca_file:
            ca_file.write(base64.b64decode(ca_data))
        config.ssl_ca_cert = ca_file.name
    config.api_key_prefix["authorization"] = "Bearer"
    config.api_key["authorization"] = source.token()

    def refresh(cfg: Any) -> None:
        cfg.api_key["authorization"] = source.token()

    config.refresh_api_key_hook = refresh
    return config
