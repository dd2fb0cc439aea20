"""EKS access without a kubeconfig: token shape, refresh, and the bearer token reaching the API server."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from chalicelib.executors.eks_auth import EksTokenSource, describe_cluster, eks_configuration, eks_token
from chalicelib.executors.k8s.client import core_v1_api, kube_configuration
from chalicelib.executors.k8s.executor import KubernetesExecutor
from chalicelib.store.dynamo.s3_objects import S3ObjectStore
from tests.executors.k8s_fake.server import FakeKube
from tests.executors.k8s_fake.support import attempt, settings


@pytest.fixture
def fake() -> Iterator[tuple[FakeKube, str]]:
    server = FakeKube()
    url = server.start()
    yield server, url
    server.stop()


def decoded_url(token: str) -> str:
    body = token.removeprefix("k8s-aws-v1.")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def test_token_is_a_presigned_sts_call_with_the_cluster_header_signed_in(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="eu-west-1"
    )
    token = eks_token("my-cluster", session)
    assert token.startswith("k8s-aws-v1.") and not token.endswith("=")
    url = urlsplit(decoded_url(token))
    query = parse_qs(url.query)
    assert url.netloc == "sts.eu-west-1.amazonaws.com"
    assert query["Action"] == ["GetCallerIdentity"]
    assert query["X-Amz-Expires"] == ["60"]
    assert query["X-Amz-SignedHeaders"] == ["host;x-k8s-aws-id"]


def test_token_source_reuses_a_token_until_it_is_ten_minutes_old():
    now = [0.0]
    minted = iter(["t1", "t2"])
    source = EksTokenSource("c", mint=lambda: next(minted), clock=lambda: now[0])
    assert source.token() == "t1"
    now[0] = 599
    assert source.token() == "t1"
    now[0] = 600
    assert source.token() == "t2"


def test_describe_cluster_reads_endpoint_and_ca_from_eks(aws_endpoint, unique):
    eks = boto3.client("eks")
    name = f"cluster-{unique}"
    eks.create_cluster(
        name=name,
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    cluster = describe_cluster(name)
    assert cluster["name"] == name and cluster["endpoint"].startswith("https://")
    assert "data" in cluster["certificateAuthority"]


def test_bearer_token_reaches_the_api_server_and_is_refreshed(fake):
    server, url = fake
    now = [0.0]
    minted = iter(["k8s-aws-v1.first", "k8s-aws-v1.second"])
    source = EksTokenSource("c", mint=lambda: next(minted), clock=lambda: now[0])
    configuration = eks_configuration("c", cluster={"endpoint": url}, token_source=source)
    api = core_v1_api(configuration)

    api.list_namespaced_pod("default")
    now[0] = 601
    api.list_namespaced_pod("default")

    assert [r.authorization for r in server.requests] == [
        "Bearer k8s-aws-v1.first",
        "Bearer k8s-aws-v1.second",
    ]


def test_ca_data_from_describe_cluster_is_written_for_tls(fake):
    _, url = fake
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    cluster = {"endpoint": url, "certificateAuthority": {"data": base64.b64encode(pem).decode()}}
    configuration = eks_configuration(
        "c", cluster=cluster, token_source=EksTokenSource("c", mint=lambda: "t")
    )
    assert Path(configuration.ssl_ca_cert).read_bytes() == pem


def test_executor_reaches_the_cluster_through_a_kubeconfig(fake, tmp_path, aws_access, unique):
    server, url = fake
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": url}}],
        "users": [{"name": "me", "user": {"token": "kubeconfig-token"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "fake", "user": "me"}}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(kubeconfig))
    bucket = f"k8s-auth-{unique}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    config = settings(bucket=bucket, namespace="kubeflow", kubeconfig=str(path), kube_context="ctx")

    executor = KubernetesExecutor(config, S3ObjectStore(bucket, aws_access))
    executor.launch(attempt(namespace="kubeflow"))

    assert len(server.pods("kubeflow")) == 1
    assert {r.authorization for r in server.requests} == {"Bearer kubeconfig-token"}


def test_eks_settings_choose_the_eks_configuration(monkeypatch, fake):
    _, url = fake
    calls = []

    def fake_eks_configuration(name, session, region):
        calls.append((name, region))
        return eks_configuration(
            name, cluster={"endpoint": url}, token_source=EksTokenSource(name, mint=lambda: "t")
        )

    monkeypatch.setattr("chalicelib.executors.eks_auth.eks_configuration", fake_eks_configuration)
    configuration = kube_configuration(
        dataclasses.replace(settings(), cluster_name="prod", region="us-west-2")
    )
    assert calls == [("prod", "us-west-2")] and configuration.host == url


def test_importing_the_executor_does_not_import_kubernetes():
    import subprocess
    import sys

    code = "import sys, chalicelib.executors.k8s.executor, chalicelib.executors.eks_auth; print('kubernetes' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "False"


def test_registry_builds_the_kubernetes_executor_from_app_settings(fake, tmp_path, aws_access, unique):
    from chalicelib.executors.registry import build_executor
    from chalicelib.settings import Settings
    from chalicelib.store import open_store

    server, url = fake
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": url}}],
        "users": [{"name": "me", "user": {"token": "t"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "fake", "user": "me"}}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(kubeconfig))
    bucket = f"k8s-registry-{unique}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    app_settings = Settings(
        bucket=bucket, executor="kubernetes", namespace="team-a", kubeconfig=str(path), aws=aws_access
    )

    executor = build_executor(app_settings, open_store(app_settings))
    executor.launch(attempt(namespace="team-a"))

    assert isinstance(executor, KubernetesExecutor)
    assert len(server.pods("team-a")) == 1
    (status,) = executor.poll([attempt().spec.run_id])
    assert status.task_id == "train-model"
