"""KubernetesExecutor against the fake API server (real kubernetes client over HTTP) and moto S3.

No kubelet here: tests set pod statuses the way a kubelet would, with a controllable clock.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib.executors.k8s import names
from chalicelib.executors.k8s.errors import LaunchRejected
from chalicelib.executors.k8s.executor import KubernetesExecutor
from chalicelib.executors.protocol import AttemptPhase
from chalicelib.store.dynamo.s3_objects import S3ObjectStore
from chalicelib.task_contract import TaskResult
from tests.executors.k8s_fake.server import FakeKube
from tests.executors.k8s_fake.support import attempt, core_api, settings, task_spec, validate_manifest

RUN = task_spec().run_id
NS = "kubeflow"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeKube]:
    server = FakeKube()
    server.url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def bucket(aws_endpoint: str, unique: str) -> str:
    name = f"k8s-exec-{unique}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3(bucket: str) -> Any:
    return boto3.client("s3")


@pytest.fixture
def clock() -> Clock:
    return Clock()


def objects(bucket: str, aws_access) -> S3ObjectStore:
    return S3ObjectStore(bucket, aws_access)


@pytest.fixture
def executor(fake: FakeKube, bucket: str, aws_access, clock: Clock) -> KubernetesExecutor:
    return KubernetesExecutor(
        settings(bucket=bucket, namespace=NS, pending_grace_seconds=60, collect_grace_seconds=60),
        objects(bucket, aws_access),
        core_api=core_api(fake.url),  # type: ignore[attr-defined]
        now=clock,
    )


def terminated(code: int, reason: str = "", finished: str = "2026-01-01T00:00:10Z") -> dict[str, Any]:
    reason = reason or ("Completed" if code == 0 else "Error")
    return {
        "terminated": {
            "exitCode": code,
            "reason": reason,
            "startedAt": "2026-01-01T00:00:00Z",
            "finishedAt": finished,
        }
    }


def pod_status(
    phase: str, main: dict[str, Any] | None = None, collect: dict[str, Any] | None = None, **extra: Any
):
    containers = []
    if main is not None:
        containers.append({"name": "main", "state": main})
    if collect is not None:
        containers.append({"name": "kfp-collect", "state": collect})
    return {"phase": phase, "containerStatuses": containers, "startTime": "2026-01-01T00:00:00Z", **extra}


def put_result(
    s3: Any, bucket: str, result: TaskResult, task_id: str = "train-model", attempt_number: int = 1
) -> None:
    s3.put_object(
        Bucket=bucket, Key=names.result_key(RUN, task_id, attempt_number), Body=result.to_json().encode()
    )


def only_status(executor: KubernetesExecutor):
    (status,) = executor.poll([RUN])
    return status


def list_requests(fake: FakeKube) -> list[str]:
    return [r.path for r in fake.requests if r.method == "GET" and "/pods?" in r.path]


# -- launch ------------------------------------------------------------------------------------------------------
def test_launch_creates_one_valid_pod_and_stores_the_task_spec(executor, fake, s3, bucket):
    name = executor.launch(attempt(namespace=NS))
    (pod,) = fake.pods(NS)
    assert pod["metadata"]["name"] == name == names.pod_name(RUN, "train-model", 1)
    manifest = {k: pod[k] for k in ("apiVersion", "kind", "spec")} | {
        "metadata": {k: pod["metadata"][k] for k in ("name", "namespace", "labels", "annotations")}
    }
    validate_manifest(manifest)
    stored = s3.get_object(Bucket=bucket, Key=names.task_key(RUN, "train-model", 1))["Body"].read()
    assert json.loads(stored)["task_id"] == "train-model"


def test_launching_the_same_attempt_twice_leaves_one_pod(executor, fake):
    first = executor.launch(attempt(namespace=NS))
    second = executor.launch(attempt(namespace=NS))
    assert first == second
    assert len(fake.pods(NS)) == 1
    assert [r.method for r in fake.requests].count("POST") == 2  # the second create got 409


def test_each_attempt_gets_its_own_pod(executor, fake):
    executor.launch(attempt(namespace=NS, attempt=1))
    executor.launch(attempt(namespace=NS, attempt=2))
    assert len(fake.pods(NS)) == 2


def test_a_spec_that_cannot_become_a_pod_is_rejected_without_creating_anything(executor, fake):
    with pytest.raises(LaunchRejected, match="pvcMount"):
        executor.launch(attempt({"pvcMount": [{"mountPath": "/d"}]}, namespace=NS))
    assert fake.pods() == []


# -- poll ----------------------------------------------------------------------------------------------------------
def test_poll_lists_pods_once_per_namespace_and_only_for_the_asked_runs(executor, fake):
    executor.launch(attempt(namespace=NS, task_id="a"))
    executor.launch(attempt(namespace=NS, task_id="b"))
    executor.launch(attempt(namespace=NS, run_id="other-run", task_id="c"))
    before = len(list_requests(fake))
    statuses = executor.poll([RUN])
    assert len(list_requests(fake)) - before == 1
    assert not [r for r in fake.requests if r.method == "GET" and r.path.split("?")[0].count("/") > 5]
    assert sorted(s.task_id for s in statuses) == ["a", "b"]
    assert {s.phase for s in statuses} == {AttemptPhase.PENDING}
    assert executor.poll([]) == []


def test_succeeded_pod_reports_the_launchers_result(executor, fake, s3, bucket):
    name = executor.launch(attempt(namespace=NS))
    fake.set_status(NS, name, pod_status("Succeeded", terminated(0), terminated(0)))
    put_result(s3, bucket, TaskResult(0, parameters={"n": 3}))
    status = only_status(executor)
    assert status.phase is AttemptPhase.SUCCEEDED
    assert status.result.parameters == {"n": 3}
    assert status.exit_code == 0 and status.name == name


def test_succeeded_pod_without_result_is_failed(executor, fake):
    name = executor.launch(attempt(namespace=NS))
    fake.set_status(NS, name, pod_status("Succeeded", terminated(0), terminated(0)))
    status = only_status(executor)
    assert (status.phase, status.reason) == (AttemptPhase.FAILED, "ResultMissing")


def test_failing_command_reports_its_exit_code(executor, fake, s3, bucket):
    name = executor.launch(attempt(namespace=NS))
    fake.set_status(NS, name, pod_status("Failed", terminated(3), terminated(0)))
    put_result(s3, bucket, TaskResult(3, error="command exited with 3"))
    status = only_status(executor)
    assert (status.phase, status.reason, status.exit_code) == (AttemptPhase.FAILED, "Error", 3)
    assert status.result.error == "command exited with 3"


def test_failing_command_reports_the_tail_of_the_main_containers_log(executor, fake, s3, bucket):
    name = executor.launch(attempt(namespace=NS))
    fake.set_status(NS, name, pod_status("Failed", terminated(3), terminated(0)))
    fake.set_log(NS, name, "main", "".join(f"line {i}\n" for i in range(30)) + "Traceback: boom\n")
    put_result(s3, bucket, TaskResult(3, error="command exited with 3"))
    tail = only_status(executor).result.log_tail
    assert tail.endswith("line 29\nTraceback: boom\n") and "line 10\n" not in tail


def test_running_pod_is_running(executor, fake):
    name = executor.launch(attempt(namespace=NS))
    fake.set_status(NS, name, pod_status("Running", {"running": {}}, {"running": {}}))
    assert only_status(executor).phase is AttemptPhase.RUNNING


def test_oom_killed_main_container_fails_at_once(executor, fake):
    name = executor.launch(attempt(namespace=NS))
    fake.set_status(NS, name, pod_status("Running", terminated(137, "OOMKilled"), {"running": {}}))
    status = only_status(executor)
    assert (status.phase, status.reason, status.exit_code) == (AttemptPhase.FAILED, "OOMKilled", 137)


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError"])
def test_image_pull_errors_fail_only_after_the_grace_time(executor, fake, clock, reason):
    name = executor.launch(attempt(namespace=NS))
    waiting = {"waiting": {"reason": reason, "message": "pull access denied"}}
    fake.set_status(NS, name, pod_status("Pending", waiting, waiting))
    status = only_status(executor)
    assert (status.phase, status.reason) == (AttemptPhase.PENDING, reason)
    clock.now += dt.timedelta(seconds=61)
    status = only_status(executor)
    assert (status.phase, status.reason, status.message) == (
        AttemptPhase.FAILED,
        reason,
        "pull access denied",
    )


def test_unschedulable_pod_fails_after_the_grace_time(executor, fake, clock):
    name = executor.launch(attempt(namespace=NS))
    condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes"}
    fake.set_status(NS, name, {"phase": "Pending", "conditions": [condition]})
    assert only_status(executor).phase is AttemptPhase.PENDING
    clock.now += dt.timedelta(minutes=5)
    status = only_status(executor)
    assert (status.phase, status.reason, status.message) == (
        AttemptPhase.FAILED,
        "Unschedulable",
        "0/3 nodes",
    )


def test_evicted_pod_is_lost(executor, fake):
    name = executor.launch(attempt(namespace=NS))
    fake.set_status(NS, name, {"phase": "Failed", "reason": "Evicted", "message": "low on memory"})
    status = only_status(executor)
    assert (status.phase, status.reason) == (AttemptPhase.LOST, "Evicted")


def test_pod_being_deleted_is_lost(executor, fake):
    name = executor.launch(attempt(namespace=NS))
    with fake.lock:
        fake.objects["pods"][(NS, name)]["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert only_status(executor).phase is AttemptPhase.LOST


def test_pod_deleted_behind_our_back_is_lost_once(executor, fake):
    name = executor.launch(attempt(namespace=NS))
    fake.delete("pods", NS, name)
    status = only_status(executor)
    assert (status.phase, status.reason, status.name) == (AttemptPhase.LOST, "PodMissing", name)
    assert executor.poll([RUN]) == []


def test_collect_that_never_finishes_fails_after_the_grace_time(executor, fake, clock):
    name = executor.launch(attempt(namespace=NS))
    finished = clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.set_status(NS, name, pod_status("Running", terminated(137, "Error", finished), {"running": {}}))
    assert only_status(executor).phase is AttemptPhase.RUNNING
    clock.now += dt.timedelta(seconds=120)
    assert only_status(executor).reason == "CollectTimeout"


def test_a_result_written_before_the_pod_status_caught_up_decides(executor, fake, s3, bucket, clock):
    """The S3 result event can wake a pass while collect is still exiting: its result.json is the outcome."""
    name = executor.launch(attempt(namespace=NS))
    finished = clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.set_status(NS, name, pod_status("Running", terminated(0, "Completed", finished), {"running": {}}))
    assert only_status(executor).phase is AttemptPhase.RUNNING
    put_result(s3, bucket, TaskResult(0, parameters={"n": 4}))
    status = only_status(executor)
    assert (status.phase, status.result.parameters) == (AttemptPhase.SUCCEEDED, {"n": 4})


def test_a_failed_command_whose_result_landed_early_fails(executor, fake, s3, bucket, clock):
    name = executor.launch(attempt(namespace=NS))
    finished = clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.set_status(NS, name, pod_status("Running", terminated(2, "Error", finished), {"running": {}}))
    put_result(s3, bucket, TaskResult(2, error="command exited with 2"))
    status = only_status(executor)
    assert (status.phase, status.exit_code, status.message) == (
        AttemptPhase.FAILED,
        2,
        "command exited with 2",
    )


def test_failed_prepare_reports_the_launcher_log(executor, fake):
    name = executor.launch(attempt(namespace=NS))
    status = {"phase": "Failed", "initContainerStatuses": [{"name": "kfp-prepare", "state": terminated(1)}]}
    fake.set_status(NS, name, status)
    fake.set_log(NS, name, "kfp-prepare", "line\n[launcher] ERROR input artifact s3://b/k is missing\n")
    status = only_status(executor)
    assert (status.phase, status.reason) == (AttemptPhase.FAILED, "PrepareFailed")
    assert "input artifact s3://b/k is missing" in status.message


def test_a_fresh_executor_sees_pods_launched_by_another_process(
    executor, fake, s3, bucket, aws_access, clock
):
    name = executor.launch(attempt(namespace=NS))
    fake.set_status(NS, name, pod_status("Running", {"running": {}}, {"running": {}}))
    fresh = KubernetesExecutor(
        settings(bucket=bucket, namespace=NS),
        objects(bucket, aws_access),
        core_api=core_api(fake.url),
        now=clock,
    )
    (status,) = fresh.poll([RUN])
    assert (status.task_id, status.attempt, status.phase) == ("train-model", 1, AttemptPhase.RUNNING)


# -- cancel, logs, cleanup --------------------------------------------------------------------------------------------
def test_cancel_deletes_the_pod_and_is_idempotent(executor, fake):
    executor.launch(attempt(namespace=NS))
    executor.cancel(RUN, "train-model", 1)
    assert fake.pods() == []
    executor.cancel(RUN, "train-model", 1)
    assert executor.poll([RUN]) == []


def test_logs_come_from_the_main_container_then_from_s3_after_cleanup(executor, fake, s3, bucket):
    name = executor.launch(attempt(namespace=NS))
    fake.set_status(NS, name, pod_status("Succeeded", terminated(0), terminated(0)))
    fake.set_log(NS, name, "main", "hello from main\n")
    fake.set_log(NS, name, "kfp-collect", "uploaded\n")
    assert executor.logs(RUN, "train-model", 1) == "hello from main\n"
    executor.cleanup(RUN, "train-model", 1)
    assert fake.pods() == []
    copied = s3.get_object(Bucket=bucket, Key=f"logs/{RUN}/train-model/1.log")["Body"].read().decode()
    assert copied == "hello from main\n"
    launcher_log = (
        s3.get_object(Bucket=bucket, Key=f"logs/{RUN}/train-model/1.launcher.log")["Body"].read().decode()
    )
    assert "uploaded" in launcher_log
    assert executor.logs(RUN, "train-model", 1) == "hello from main\n"
    executor.cleanup(RUN, "train-model", 1)  # idempotent


def test_logs_of_an_unknown_attempt_are_empty(executor):
    assert executor.logs(RUN, "nope", 7) == ""


# -- claims -----------------------------------------------------------------------------------------------------------
def test_create_and_delete_pvc_are_idempotent(executor, fake):
    inputs = {"access_modes": ["ReadWriteOnce"], "size": "1Gi", "pvc_name_suffix": "-data"}
    name = executor.create_pvc(RUN, NS, inputs)
    assert executor.create_pvc(RUN, NS, inputs) == name
    assert list(fake.objects["persistentvolumeclaims"]) == [(NS, name)]
    executor.delete_pvc(NS, name)
    executor.delete_pvc(NS, name)
    assert fake.objects["persistentvolumeclaims"] == {}


def test_workspace_pvc_is_created_under_the_runs_name(executor, fake):
    name = executor.create_workspace_pvc(RUN, NS, {"size": "2Gi"})
    assert name == names.workspace_pvc_name(RUN)
    assert (NS, name) in fake.objects["persistentvolumeclaims"]


def test_bad_create_pvc_inputs_are_rejected(executor):
    with pytest.raises(LaunchRejected, match="size"):
        executor.create_pvc(RUN, NS, {"access_modes": ["ReadWriteOnce"], "pvc_name": "x"})


# -- a Kubernetes namespace per KFP namespace ------------------------------------------------------------------
def test_per_namespace_pods_are_found_by_a_fresh_executor_with_one_list_across_namespaces(
    fake, s3, bucket, aws_access, clock
):
    per_namespace = settings(bucket=bucket, namespace=NS, per_namespace_pods=True)
    first = KubernetesExecutor(
        per_namespace, objects(bucket, aws_access), core_api=core_api(fake.url), now=clock
    )
    name = first.launch(attempt(namespace="kfp-team-a"))
    fake.set_status("kfp-team-a", name, pod_status("Running", {"running": {}}, {"running": {}}))
    fake.set_log("kfp-team-a", name, "main", "working\n")
    fresh = KubernetesExecutor(
        per_namespace, objects(bucket, aws_access), core_api=core_api(fake.url), now=clock
    )
    fake.requests.clear()
    (status,) = fresh.poll([RUN])
    assert (status.task_id, status.phase) == ("train-model", AttemptPhase.RUNNING)
    assert [path.split("?")[0] for path in list_requests(fake)] == ["/api/v1/pods"]
    assert fresh.logs(RUN, "train-model", 1) == "working\n"
    fresh.cancel(RUN, "train-model", 1)
    assert fake.pods() == []
