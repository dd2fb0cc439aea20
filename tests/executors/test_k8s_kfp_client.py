"""The Kubernetes executor end to end through the product: kfp.Client → API → reconciler → KubernetesExecutor →
fake API server → process kubelet (pod containers as local processes) → real launcher → moto S3.

Every test counts the pods the API server accepted: exactly one per task attempt, each a valid Pod manifest.
"""

import collections
import os
import sysconfig
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl

from chalicelib.executors.k8s import names
from tests.executors.k8s_fake.support import validate_manifest

RUN_TIMEOUT = 240.0
FINAL_RUN_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})


def wait_for_run(kfp_client: Any, run_id: str) -> dict[str, Any]:
    """Poll the run through kfp.Client until it is final; returns it as a dict (the limit stops a hung test)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while (run := kfp_client.get_run(run_id)).state not in FINAL_RUN_STATES:
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run.state} after {RUN_TIMEOUT}s")
        time.sleep(0.25)
    return run.to_dict()


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def write_lines(count: int, data: dsl.Output[dsl.Dataset]):
    with open(data.path, "w") as handle:
        handle.write("".join(f"line {i}\n" for i in range(count)))


@dsl.component
def count_lines(data: dsl.Input[dsl.Dataset]) -> int:
    with open(data.path) as handle:
        return len(handle.readlines())


@dsl.container_component
def shout(text: str, out: dsl.Output[dsl.Artifact]):
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c", 'mkdir -p "$(dirname "$1")" && printf "%s!" "$0" > "$1"'],
        args=[text, out.path],
    )


@dsl.pipeline(name="k8s-chain")
def chain_pipeline(a: int = 2, b: int = 3) -> int:
    total = add(a=a, b=b)
    lines = write_lines(count=total.output)
    shout(text="done")
    return count_lines(data=lines.outputs["data"]).output


@dsl.container_component
def exit_with(code: int):
    return dsl.ContainerSpec(
        image="alpine:3.20", command=["sh", "-c", 'echo "failing with $0" >&2; exit "$0"'], args=[code]
    )


@dsl.pipeline(name="k8s-failing")
def failing_pipeline():
    exit_with(code=3)


@dsl.component
def flaky(marker: str) -> str:
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise SystemExit(7)
    return "second time lucky"


@dsl.pipeline(name="k8s-retry")
def retry_pipeline(marker: str):
    flaky(marker=marker).set_retry(num_retries=2, backoff_duration="0s")


@dsl.container_component
def nap(seconds: int):
    return dsl.ContainerSpec(
        image="alpine:3.20", command=["sh", "-c", 'echo napping; sleep "$0"'], args=[seconds]
    )


@dsl.pipeline(name="k8s-nap")
def nap_pipeline(seconds: int = 300):
    nap(seconds=seconds)


@dsl.pipeline(name="k8s-fan-out")
def fan_out_pipeline() -> list[int]:
    with dsl.ParallelFor([1, 2, 3]) as item:
        summed = add(a=item, b=10)
    return dsl.Collected(summed.output)


@dsl.pipeline(name="k8s-add")
def add_pipeline(a: int = 1, b: int = 1):
    add(a=a, b=b)


def uses_greeting() -> str:
    import kfps_greeting

    return kfps_greeting.GREETING


@pytest.fixture
def submit(kubernetes_stack, kfp_client):
    """Create a run of a pipeline function (no caching); returns its run id."""

    def create(pipeline: Any, **arguments: Any) -> str:
        result = kfp_client.create_run_from_pipeline_func(pipeline, arguments=arguments, enable_caching=False)
        return result.run_id

    return create


@pytest.fixture
def run_to_end(submit, kfp_client):
    """Create a run and wait until it is final; returns the run as a dict."""

    def run(pipeline: Any, **arguments: Any) -> dict[str, Any]:
        return wait_for_run(kfp_client, submit(pipeline, **arguments))

    return run


def attempts_per_pod(kubernetes_stack, run_id: str) -> collections.Counter:
    """(task id, attempt) → how many pods were created for it; every manifest validated on the way."""
    counts: collections.Counter = collections.Counter()
    for pod in kubernetes_stack.pods_created_for(run_id):
        validate_manifest({k: v for k, v in pod.items() if k != "status"})
        labels = pod["metadata"]["labels"]
        counts[(pod["metadata"]["annotations"][names.ANNOTATION_TASK_ID], labels[names.LABEL_ATTEMPT])] += 1
    return counts


def task_records(run_id: str) -> dict[str, Any]:
    """The run's task records by task name (loop iterations: the last one wins)."""
    from chalicelib import runtime

    records = runtime.current().store.runs.load_tasks(run_id)
    return {record.name: record for record in records.values()}


def task_records_all(run_id: str) -> list[Any]:
    from chalicelib import runtime

    return list(runtime.current().store.runs.load_tasks(run_id).values())


def stored_log(run_id: str, task_id: str, attempt: int) -> str:
    """The attempt's log as the reconciler stored it (read from the pod before the pod was deleted)."""
    from chalicelib import runtime
    from chalicelib.store.object_keys import log_key

    return runtime.current().store.objects.get_bytes(log_key(run_id, task_id, attempt)).decode()


def wait_until(condition: Any, what: str, limit: float = 120) -> None:
    """Poll `condition` until true (the limit only stops a hung test)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.2)


def test_chain_of_python_and_container_components_runs_one_pod_per_task(kubernetes_stack, run_to_end):
    run = run_to_end(chain_pipeline, a=2, b=3)

    assert run["state"] == "SUCCEEDED", run
    records = task_records(run["run_id"])
    assert records["add"].parameters == {"Output": 5}
    assert records["count-lines"].parameters == {"Output": 5}
    (shouted,) = records["shout"].artifacts["out"]
    assert shouted["uri"].startswith(f"s3://{kubernetes_stack.settings.bucket}/artifacts/k8s-chain/")
    counts = attempts_per_pod(kubernetes_stack, run["run_id"])
    container_tasks = {records[name].task_id for name in ("add", "write-lines", "count-lines", "shout")}
    assert counts == {(task_id, "1"): 1 for task_id in container_tasks}
    assert kubernetes_stack.live_pods_of(run["run_id"]) == []  # each pod deleted once its attempt ended


def test_launcher_containers_get_the_stacks_s3_endpoint_and_users_do_not(kubernetes_stack, run_to_end):
    run = run_to_end(add_pipeline, a=1, b=1)

    assert run["state"] == "SUCCEEDED", run
    (pod,) = kubernetes_stack.pods_created_for(run["run_id"])
    containers = [*pod["spec"]["initContainers"], *pod["spec"]["containers"]]
    endpoints = {
        c["name"]: {e["name"]: e.get("value") for e in c["env"]}.get("AWS_ENDPOINT_URL") for c in containers
    }
    assert endpoints == {
        "kfp-prepare": os.environ["AWS_ENDPOINT_URL"],
        "main": None,
        "kfp-collect": os.environ["AWS_ENDPOINT_URL"],
    }


def test_failing_task_fails_the_run_with_its_exit_code(kubernetes_stack, run_to_end):
    run = run_to_end(failing_pipeline)

    assert run["state"] == "FAILED", run
    record = task_records(run["run_id"])["exit-with"]
    assert (record.state.value, record.exit_code) == ("FAILED", 3)
    assert "exit code 3" in record.error
    assert "failing with 3" in stored_log(run["run_id"], record.task_id, 1)
    assert list(attempts_per_pod(kubernetes_stack, run["run_id"]).values()) == [1]


def test_retry_runs_a_new_pod_for_the_next_attempt(kubernetes_stack, run_to_end, tmp_path):
    run = run_to_end(retry_pipeline, marker=str(tmp_path / "first-attempt-ran"))

    assert run["state"] == "SUCCEEDED", run
    record = task_records(run["run_id"])["flaky"]
    assert (record.attempt, record.parameters) == (2, {"Output": "second time lucky"})
    assert attempts_per_pod(kubernetes_stack, run["run_id"]) == {
        (record.task_id, "1"): 1,
        (record.task_id, "2"): 1,
    }


def test_terminate_deletes_the_running_pod_and_cancels_the_run(
    kubernetes_stack, submit, kfp_client, local_stack
):
    run_id = submit(nap_pipeline, seconds=300)

    def napping() -> bool:
        pods = kubernetes_stack.live_pods_of(run_id)
        return bool(pods) and pods[0].get("status", {}).get("phase") == "Running"

    wait_until(napping, "the nap pod runs")
    kfp_client.terminate_run(run_id)
    run = wait_for_run(kfp_client, run_id)

    assert run["state"] == "CANCELED", run
    assert kubernetes_stack.live_pods_of(run_id) == []
    assert task_records(run_id)["nap"].state.value == "CANCELED"
    assert list(attempts_per_pod(kubernetes_stack, run_id).values()) == [1]


def test_parallel_for_runs_one_pod_per_iteration(kubernetes_stack, run_to_end):
    run = run_to_end(fan_out_pipeline)

    assert run["state"] == "SUCCEEDED", run
    counts = attempts_per_pod(kubernetes_stack, run["run_id"])
    assert len(counts) == 3 and set(counts.values()) == {1}
    records = task_records_all(run["run_id"])
    sums = sorted(r.parameters["Output"] for r in records if r.name == "add")
    assert sums == [11, 12, 13]


def test_packages_to_install_go_to_the_pods_own_directory_not_the_stacks_venv(
    kubernetes_stack, run_to_end, tmp_path
):
    wheel = build_wheel(tmp_path, "kfps_greeting", 'GREETING = "hello from a wheel"\n')
    component = dsl.component(uses_greeting, packages_to_install=[str(wheel)])

    @dsl.pipeline(name="k8s-packages")
    def packages_pipeline() -> str:
        return component().output

    site_packages = Path(sysconfig.get_paths()["purelib"])
    before = sorted(p.name for p in site_packages.iterdir())
    run = run_to_end(packages_pipeline)

    assert run["state"] == "SUCCEEDED", run
    assert task_records(run["run_id"])["uses-greeting"].parameters == {"Output": "hello from a wheel"}
    assert sorted(p.name for p in site_packages.iterdir()) == before
    assert list(attempts_per_pod(kubernetes_stack, run["run_id"]).values()) == [1]


def build_wheel(directory: Path, module: str, source: str) -> Path:
    """A minimal pure-Python wheel holding one module (pip installs it offline)."""
    name = module.replace("_", "-")
    dist_info = f"{module}-1.0.dist-info"
    files = {
        f"{module}.py": source,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist_info}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{dist_info}/RECORD"])
    wheel = directory / f"{module}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def run_package(kfp_client: Any, package: Path) -> dict[str, Any]:
    result = kfp_client.create_run_from_pipeline_package(str(package), arguments={}, enable_caching=False)
    return wait_for_run(kfp_client, result.run_id)


def claims_of(pod: dict[str, Any]) -> dict[str, str]:
    """Mount path → claim name of the pod's main container."""
    volumes = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    }
    main = next(c for c in pod["spec"]["containers"] if c["name"] == "main")
    return {m["mountPath"]: volumes[m["name"]] for m in main["volumeMounts"] if m["name"] in volumes}


def test_create_pvc_and_delete_pvc_run_no_pod_and_the_claim_carries_data(
    kubernetes_stack, kfp_client, corpus
):
    run = run_package(kfp_client, corpus / "valid" / "pipeline_with_volume.yaml")

    assert run["state"] == "SUCCEEDED", run
    records = task_records(run["run_id"])
    claim = records["createpvc"].parameters["name"]
    assert claim.endswith("-my-pvc")
    assert records["consumer"].parameters == {"Output": "Hello world"}
    assert records["deletepvc"].state.value == "SUCCEEDED"
    pods = kubernetes_stack.pods_created_for(run["run_id"])
    assert sorted(p["metadata"]["annotations"][names.ANNOTATION_TASK_NAME] for p in pods) == [
        "consumer",
        "producer",
    ]
    assert [claims_of(p) for p in pods] == [{"/data": claim}, {"/data": claim}]
    assert set(attempts_per_pod(kubernetes_stack, run["run_id"]).values()) == {1}
    claim_path = f"/api/v1/namespaces/{kubernetes_stack.settings.namespace}/persistentvolumeclaims"
    assert kubernetes_stack.claim_requests("DELETE").count(f"{claim_path}/{claim}") == 1
    assert (kubernetes_stack.settings.namespace, claim) not in kubernetes_stack.fake.objects[
        "persistentvolumeclaims"
    ]


def test_workspace_claim_lives_as_long_as_the_run(kubernetes_stack, kfp_client, corpus):
    claims_created_before = len(kubernetes_stack.claim_requests("POST"))
    run = run_package(kfp_client, corpus / "valid" / "critical" / "pipeline_with_workspace.yaml")

    assert run["state"] == "SUCCEEDED", run
    claim = names.workspace_pvc_name(run["run_id"])
    records = task_records(run["run_id"])
    assert records["read-from-workspace"].parameters == {"Output": "Hello from workspace!"}
    pods = kubernetes_stack.pods_created_for(run["run_id"])
    assert [claims_of(p) for p in pods] == [{"/kfp-workspace": claim}, {"/kfp-workspace": claim}]
    assert set(attempts_per_pod(kubernetes_stack, run["run_id"]).values()) == {1}
    assert len(kubernetes_stack.claim_requests("POST")) == claims_created_before + 1
    namespace = kubernetes_stack.settings.namespace
    assert (
        kubernetes_stack.claim_requests("DELETE").count(
            f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim}"
        )
        == 1
    )
    assert (namespace, claim) not in kubernetes_stack.fake.objects["persistentvolumeclaims"]


@dsl.container_component
def read_flag(flag: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine:3.20", command=["sh", "-c", 'cp /work/flag "$0"', flag])


@dsl.pipeline(name="k8s-init-container")
def init_container_pipeline():
    read_flag()


@dsl.component
def model_size(model: dsl.Input[dsl.Model]) -> int:
    import os

    return len(os.listdir(model.path))


@dsl.pipeline(name="k8s-oci-model")
def oci_model_pipeline():
    imported = dsl.importer(artifact_uri="oci://registry.example.com/models/llm:v1", artifact_class=dsl.Model)
    model_size(model=imported.output)


def package_with_platform(tmp_path: Path, pipeline: Any, executors: dict[str, Any]) -> Path:
    """The compiled pipeline plus a kubernetes platform spec document, as kfp-kubernetes writes it."""
    import yaml
    from kfp import compiler

    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    platform = {"platforms": {"kubernetes": {"deploymentSpec": {"executors": executors}}}}
    path.write_text(path.read_text() + "---\n" + yaml.safe_dump(platform))
    return path


def test_platform_init_container_prepares_a_volume_the_task_reads(kubernetes_stack, kfp_client, tmp_path):
    init = {
        "name": "write-flag",
        "image": "busybox:1.36",
        "command": ["sh", "-c", "printf ready > /w/flag"],
        "volumeMounts": [{"volumeName": "work", "mountPath": "/w"}],
    }
    executors = {
        "exec-read-flag": {
            "emptyDirMounts": [{"volumeName": "work", "mountPath": "/work"}],
            "initContainers": [init],
        }
    }
    run = run_package(kfp_client, package_with_platform(tmp_path, init_container_pipeline, executors))

    assert run["state"] == "SUCCEEDED", run
    assert task_records(run["run_id"])["read-flag"].parameters == {"flag": "ready"}
    (pod,) = kubernetes_stack.pods_created_for(run["run_id"])
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["kfp-prepare", "write-flag"]
    assert set(attempts_per_pod(kubernetes_stack, run["run_id"]).values()) == {1}


def test_oci_artifact_without_image_volumes_fails_the_task_without_a_pod(kubernetes_stack, run_to_end):
    run = run_to_end(oci_model_pipeline)

    assert run["state"] == "FAILED", run
    consumer = task_records(run["run_id"])["model-size"]
    assert consumer.state.value == "FAILED"
    assert "cannot launch" in consumer.error and "KFPS_K8S_IMAGE_VOLUMES" in consumer.error
    assert kubernetes_stack.pods_created_for(run["run_id"]) == []
