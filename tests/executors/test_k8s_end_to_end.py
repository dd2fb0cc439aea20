"""End to end without a cluster: KubernetesExecutor → fake API server → process kubelet → real launcher → S3.

Each pod container runs as a local process in a private mount namespace with the pod's emptyDirs
bind-mounted at /kfp-launcher, /s3, /minio and /gcs, exactly as the pod manifest asks; S3 is the session's
moto server (AWS_ENDPOINT_URL is in every container's environment).
"""

import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from chalicelib.executors.k8s import names
from chalicelib.executors.k8s.executor import KubernetesExecutor
from chalicelib.executors.protocol import AttemptLaunch, AttemptPhase, AttemptStatus
from chalicelib.store.dynamo.s3_objects import S3ObjectStore
from chalicelib.task_contract import TaskSpec
from tests.executors.k8s_fake.kubelet import ProcessKubelet, mount_namespaces_available
from tests.executors.k8s_fake.server import FakeKube
from tests.executors.k8s_fake.support import core_api, settings

REPO = Path(__file__).resolve().parents[2]
NS = "kubeflow"

pytestmark = pytest.mark.skipif(
    not mount_namespaces_available(),
    reason="the process kubelet needs root and `unshare --mount` (private mount namespaces) to mount pod volumes",
)


def compile_container_component(command: list[str], tmp_path: Path) -> dict[str, Any]:
    """The IR of a one-component pipeline: `write(text) -> out` running `command` + [text, out.path]."""
    from kfp import compiler, dsl

    @dsl.container_component
    def write(text: str, out: dsl.Output[dsl.Artifact]):
        return dsl.ContainerSpec(image="alpine:3.20", command=command, args=[text, out.path])

    package = tmp_path / "write.yaml"
    compiler.Compiler().compile(write, str(package))
    return yaml.safe_load(package.read_text())


def task_from_ir(ir: dict[str, Any], bucket: str, text: str, attempt: int = 1) -> TaskSpec:
    component = ir["components"]["comp-write"]
    container = ir["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
    run_id = str(uuid.uuid4())
    root = f"s3://{bucket}/artifacts"
    return TaskSpec(
        run_id=run_id,
        task_id="write",
        attempt=attempt,
        task_name="write",
        display_name="write",
        pipeline_name=ir["pipelineInfo"]["name"],
        pipeline_root=root,
        container=container,
        input_definitions=component["inputDefinitions"],
        output_definitions=component["outputDefinitions"],
        parameters={"text": text},
        artifacts={},
        output_artifact_uris={"out": f"{root}/write/{run_id}/write/out"},
        run_create_time="2026-01-01T00:00:00Z",
    )


WRITE = ["sh", "-c", 'mkdir -p "$(dirname "$1")" && printf %s "$0" > "$1" && echo wrote "$1"']


@pytest.fixture
def bucket(aws_endpoint: str, unique: str) -> str:
    name = f"k8s-e2e-{unique}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FakeKube, ProcessKubelet]]:
    fake = FakeKube()
    url = fake.start()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(REPO),
    }
    kubelet = ProcessKubelet(fake, env, cwd=str(REPO), root=tmp_path / "kubelet")
    fake.url = url  # type: ignore[attr-defined]
    yield fake, kubelet
    for pod in fake.pods():
        fake.delete("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
    kubelet.wait_idle()
    fake.stop()


@pytest.fixture
def executor(cluster: tuple[FakeKube, ProcessKubelet], bucket: str, aws_access) -> KubernetesExecutor:
    fake, _ = cluster
    return KubernetesExecutor(
        settings(bucket=bucket, namespace=NS), S3ObjectStore(bucket, aws_access), core_api=core_api(fake.url)
    )


def wait_for(
    executor: KubernetesExecutor, run_id: str, phases: set[AttemptPhase], limit: float = 90
) -> AttemptStatus:
    """Poll until the attempt reaches one of `phases` (the limit only stops a hung test)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        statuses = executor.poll([run_id])
        if statuses and statuses[0].phase in phases:
            return statuses[0]
        time.sleep(0.2)
    raise AssertionError(f"attempt of {run_id} never reached {phases}: {executor.poll([run_id])}")


def pods_of(fake: FakeKube, spec: TaskSpec) -> list[dict[str, Any]]:
    return [p for p in fake.pods(NS) if p["metadata"]["annotations"][names.ANNOTATION_RUN_ID] == spec.run_id]


def test_container_component_runs_in_one_pod_and_its_artifact_lands_in_s3(
    executor, cluster, bucket, tmp_path
):
    fake, _ = cluster
    spec = task_from_ir(compile_container_component(WRITE, tmp_path), bucket, "hello from a pod")
    name = executor.launch(AttemptLaunch(spec, namespace=NS))
    assert executor.launch(AttemptLaunch(spec, namespace=NS)) == name

    status = wait_for(executor, spec.run_id, {AttemptPhase.SUCCEEDED, AttemptPhase.FAILED, AttemptPhase.LOST})

    assert status.phase is AttemptPhase.SUCCEEDED, (status, executor.logs(spec.run_id, "write", 1))
    assert status.exit_code == 0 and status.result is not None and status.result.exit_code == 0
    (artifact,) = status.result.artifacts["out"]
    assert artifact["uri"] == spec.output_artifact_uris["out"]
    key = artifact["uri"].removeprefix(f"s3://{bucket}/")
    assert boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"hello from a pod"
    assert [p["metadata"]["name"] for p in pods_of(fake, spec)] == [name]
    assert "wrote /s3/" in executor.logs(spec.run_id, "write", 1)

    executor.cleanup(spec.run_id, "write", 1)
    assert pods_of(fake, spec) == []
    log_key = names.log_key(spec.run_id, "write", 1)
    assert b"wrote /s3/" in boto3.client("s3").get_object(Bucket=bucket, Key=log_key)["Body"].read()


def test_failing_command_fails_the_attempt_with_its_exit_code(executor, cluster, bucket, tmp_path):
    fake, _ = cluster
    failing = ["sh", "-c", 'echo "no luck with $0" >&2; exit 3']
    spec = task_from_ir(compile_container_component(failing, tmp_path), bucket, "input")
    executor.launch(AttemptLaunch(spec, namespace=NS))

    status = wait_for(executor, spec.run_id, {AttemptPhase.SUCCEEDED, AttemptPhase.FAILED, AttemptPhase.LOST})

    assert (status.phase, status.exit_code) == (AttemptPhase.FAILED, 3)
    assert status.result is not None and status.result.exit_code == 3
    assert "no luck with input" in executor.logs(spec.run_id, "write", 1)
    assert len(pods_of(fake, spec)) == 1


def test_retry_is_a_second_pod_beside_the_first(executor, cluster, bucket, tmp_path):
    fake, _ = cluster
    spec = task_from_ir(compile_container_component(WRITE, tmp_path), bucket, "again")
    executor.launch(AttemptLaunch(spec, namespace=NS))
    retry = TaskSpec.from_json(spec.to_json().replace('"attempt": 1', '"attempt": 2'))
    executor.launch(AttemptLaunch(retry, namespace=NS))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        statuses = executor.poll([spec.run_id])
        if len(statuses) == 2 and all(s.phase.is_final for s in statuses):
            break
        time.sleep(0.2)
    assert sorted((s.attempt, s.phase) for s in statuses) == [
        (1, AttemptPhase.SUCCEEDED),
        (2, AttemptPhase.SUCCEEDED),
    ]
    assert len(pods_of(fake, spec)) == 2


def test_cancel_deletes_the_running_pod_and_stops_its_processes(executor, cluster, bucket, tmp_path):
    fake, kubelet = cluster
    sleeper = ["sh", "-c", 'echo started "$0"; sleep 60']
    spec = task_from_ir(compile_container_component(sleeper, tmp_path), bucket, "x")
    executor.launch(AttemptLaunch(spec, namespace=NS))
    deadline = time.monotonic() + 60
    while "started" not in executor.logs(spec.run_id, "write", 1) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert wait_for(executor, spec.run_id, {AttemptPhase.RUNNING}).phase is AttemptPhase.RUNNING

    executor.cancel(spec.run_id, "write", 1)

    assert pods_of(fake, spec) == []
    kubelet.wait_idle(timeout=30)
    assert not any(t.is_alive() for t in kubelet._threads)
    assert executor.poll([spec.run_id]) == []


def test_platform_secret_env_and_a_created_claim_carry_data_between_pods(executor, cluster, bucket, tmp_path):
    fake, _ = cluster
    fake.add_secret(NS, "db-creds", {"password": "s3cr3t"})
    producer_command = [
        "sh",
        "-c",
        'printf %s "$DB_PASSWORD" > /data/shared.txt; mkdir -p "$(dirname "$1")"; : > "$1"',
    ]
    consumer_command = ["sh", "-c", 'mkdir -p "$(dirname "$1")"; cat /data/shared.txt > "$1"']
    producer = task_from_ir(compile_container_component(producer_command, tmp_path), bucket, "p")
    consumer = task_from_ir(compile_container_component(consumer_command, tmp_path), bucket, "c")
    claim = executor.create_pvc(
        producer.run_id, NS, {"access_modes": ["ReadWriteOnce"], "size": "1Gi", "pvc_name_suffix": "-data"}
    )
    mount = {"pvcMount": [{"mountPath": "/data", "pvcNameParameter": {"runtimeValue": {"constant": claim}}}]}
    secret_env = {
        "secretAsEnv": [
            {"secretName": "db-creds", "keyToEnv": [{"secretKey": "password", "envVar": "DB_PASSWORD"}]}
        ]
    }

    executor.launch(AttemptLaunch(producer, namespace=NS, platform={**mount, **secret_env}))
    assert (
        wait_for(executor, producer.run_id, {AttemptPhase.SUCCEEDED, AttemptPhase.FAILED}).phase
        is AttemptPhase.SUCCEEDED
    )
    executor.launch(AttemptLaunch(consumer, namespace=NS, platform=mount))
    status = wait_for(executor, consumer.run_id, {AttemptPhase.SUCCEEDED, AttemptPhase.FAILED})

    assert status.phase is AttemptPhase.SUCCEEDED, executor.logs(consumer.run_id, "write", 1)
    key = status.result.artifacts["out"][0]["uri"].removeprefix(f"s3://{bucket}/")
    assert boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"s3cr3t"
