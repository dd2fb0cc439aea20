"""Local admission by requested CPU and memory, as kube-scheduler admits pods: what fits starts together,
what does not waits, what can never fit is refused with a message naming the request and the capacity."""

import dataclasses
import os
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from kfp import compiler, dsl

from chalicelib.executors.k8s.resources import ResourceSpecError
from chalicelib.executors.local import LocalExecutor
from chalicelib.executors.local_admission import (
    DEFAULT_REQUEST,
    Resources,
    machine_capacity,
    parse_quantity,
    requested_resources,
)
from chalicelib.executors.protocol import AttemptLaunch, AttemptPhase, LaunchRefused
from chalicelib.task_contract import TaskSpec
from tests.support.waiting import wait_for

TIMEOUT = 60.0
GI = 2**30
MI = 2**20


def task(
    task_id: str, script: str, resources: dict | None = None, parameters: dict | None = None
) -> AttemptLaunch:
    container = {"image": "alpine:3", "command": ["sh", "-c", script]}
    if resources is not None:
        container["resources"] = resources
    return AttemptLaunch(
        TaskSpec(
            run_id="r1",
            task_id=task_id,
            attempt=1,
            task_name=task_id,
            display_name=task_id,
            pipeline_name="p",
            pipeline_root="/unused",
            container=container,
            input_definitions={},
            output_definitions={},
            parameters=parameters or {},
            artifacts={},
            output_artifact_uris={},
        )
    )


def phases(executor: LocalExecutor) -> dict[str, AttemptPhase]:
    return {s.task_id: s.phase for s in executor.poll(["r1"])}


@pytest.fixture
def executor(tmp_path: Path):
    made: list[LocalExecutor] = []

    def make(cpus: float = 2, memory: int = GI, **options) -> LocalExecutor:
        capacity = Resources(int(cpus * 1000), memory)
        made.append(LocalExecutor(tmp_path / "data", capacity=capacity, **options))
        return made[-1]

    yield make
    for local in made:
        for status in local.poll(["r1"]):
            local.cancel(status.run_id, status.task_id, status.attempt)


def blocked_wait_for(release: Path) -> str:
    return f"while [ ! -f {release} ]; do sleep 0.02; done"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        ("1.5Gi", Decimal(3 * 2**29)),
        ("64Mi", Decimal(64 * MI)),
        ("64M", Decimal(64_000_000)),
        ("0.064G", Decimal(64_000_000)),
        ("1e3", Decimal(1000)),
        ("2k", Decimal(2000)),
    ],
)
def test_quantities_are_read_as_kubernetes_reads_them(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["lots", "1Zi", "-1", "", "1.2.3"])
def test_a_bad_quantity_is_an_error_naming_it(text):
    with pytest.raises(ResourceSpecError, match=repr(text).replace(".", r"\.")):
        parse_quantity(text)


def test_requests_come_from_new_and_old_fields_limits_and_placeholders():
    assert requested_resources({}, {}) == DEFAULT_REQUEST
    assert requested_resources(
        {"resources": {"resourceCpuRequest": "500m", "resourceMemoryRequest": "1Gi"}}, {}
    ) == Resources(500, GI)
    assert requested_resources({"resources": {"cpuRequest": 2.0, "memoryRequest": 0.5}}, {}) == Resources(
        2000, 500_000_000
    )
    # a limit alone is the request (Kubernetes defaults it so); an unset dimension gets the default
    assert requested_resources({"resources": {"resourceCpuLimit": "3"}}, {}) == Resources(
        3000, DEFAULT_REQUEST.memory_bytes
    )
    placeholder = {"resources": {"resourceCpuRequest": "{{$.inputs.parameters['pipelinechannel--cpu']}}"}}
    assert requested_resources(placeholder, {"pipelinechannel--cpu": "250m"}).cpu_millis == 250


def test_the_sdks_set_cpu_and_memory_request_are_what_is_requested(tmp_path):
    @dsl.component(base_image="python:3.11")
    def heavy():
        pass

    @dsl.pipeline(name="requests")
    def pipeline():
        heavy().set_cpu_request("1500m").set_memory_request("3Gi")

    package = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline, str(package))
    (executor,) = yaml.safe_load(package.read_text())["deploymentSpec"]["executors"].values()

    assert requested_resources(executor["container"], {}) == Resources(1500, 3 * GI)


def test_machine_capacity_is_the_cpu_count_and_total_memory():
    capacity = machine_capacity()
    total_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    assert capacity == Resources((os.cpu_count() or 1) * 1000, total_kib * 1024)


def test_attempts_whose_requests_exceed_what_is_free_wait_and_start_when_it_frees(executor, tmp_path):
    local = executor(cpus=2)
    release = tmp_path / "release"
    for task_id in ("a", "b", "c"):
        local.launch(task(task_id, blocked_wait_for(release), {"resourceCpuRequest": "1"}))

    wait_for(lambda: list(phases(local).values()).count(AttemptPhase.RUNNING) == 2, "two attempts to run")
    assert phases(local)["c"] is AttemptPhase.PENDING
    release.touch()
    wait_for(lambda: set(phases(local).values()) == {AttemptPhase.SUCCEEDED}, "all three to finish")


def test_small_default_requests_run_together_beyond_the_cpu_count(executor, tmp_path):
    local = executor(cpus=2)
    release = tmp_path / "release"
    for index in range(8):
        started = tmp_path / f"started-{index}"
        local.launch(task(f"t{index}", f"touch {started}; {blocked_wait_for(release)}"))

    wait_for(lambda: len(list(tmp_path.glob("started-*"))) == 8, "all eight to run at once")
    assert set(phases(local).values()) == {AttemptPhase.RUNNING}
    release.touch()
    wait_for(lambda: set(phases(local).values()) == {AttemptPhase.SUCCEEDED}, "all eight to finish")


def test_memory_requests_are_admitted_against_memory(executor, tmp_path):
    local = executor(cpus=8, memory=GI)
    release = tmp_path / "release"
    for task_id in ("a", "b"):
        local.launch(task(task_id, blocked_wait_for(release), {"resourceMemoryRequest": "600Mi"}))

    wait_for(lambda: AttemptPhase.RUNNING in phases(local).values(), "one attempt to run")
    assert sorted(phases(local).values()) == [AttemptPhase.PENDING, AttemptPhase.RUNNING]
    release.touch()
    wait_for(lambda: set(phases(local).values()) == {AttemptPhase.SUCCEEDED}, "both to finish")


def test_a_small_attempt_starts_past_a_big_one_that_must_wait(executor, tmp_path):
    local = executor(cpus=2)
    release = tmp_path / "release"
    local.launch(task("running", blocked_wait_for(release), {"resourceCpuRequest": "1500m"}))
    local.launch(task("big", "true", {"resourceCpuRequest": "1"}))
    local.launch(task("small", "true", {"resourceCpuRequest": "100m"}))

    wait_for(lambda: phases(local)["small"] is AttemptPhase.SUCCEEDED, "the small attempt to run")
    assert phases(local)["big"] is AttemptPhase.PENDING
    release.touch()
    wait_for(lambda: phases(local)["big"] is AttemptPhase.SUCCEEDED, "the big attempt to run after")


def test_max_parallel_stays_an_upper_bound(executor, tmp_path):
    local = executor(cpus=64, max_parallel=2)
    release = tmp_path / "release"
    for task_id in ("a", "b", "c"):
        local.launch(task(task_id, blocked_wait_for(release)))

    wait_for(lambda: list(phases(local).values()).count(AttemptPhase.RUNNING) == 2, "two attempts to run")
    assert list(phases(local).values()).count(AttemptPhase.PENDING) == 1
    release.touch()
    wait_for(lambda: set(phases(local).values()) == {AttemptPhase.SUCCEEDED}, "all three to finish")


def test_a_task_asking_for_more_than_the_machine_is_refused_naming_request_and_capacity(executor, tmp_path):
    local = executor(cpus=2, memory=GI)

    with pytest.raises(LaunchRefused) as refused:
        local.launch(task("huge", "true", {"resourceCpuRequest": "4", "resourceMemoryRequest": "2Gi"}))

    message = str(refused.value)
    assert "'huge'" in message and "4 CPU and 2Gi memory" in message and "2 CPU and 1Gi memory" in message
    assert not (tmp_path / "data" / "runs" / "r1" / "huge").exists()


def test_an_unreadable_request_is_refused(executor):
    with pytest.raises(LaunchRefused, match="resources.*'lots'"):
        executor().launch(task("t", "true", {"resourceCpuRequest": "lots"}))


def test_an_adopted_attempt_too_big_for_this_machine_fails_with_the_reason(executor, tmp_path):
    big = dataclasses.replace(task("big", "true", {"resourceCpuRequest": "4"}).spec)
    workdir = tmp_path / "data" / "runs" / "r1" / "big" / "1"
    workdir.mkdir(parents=True)
    (workdir / "task.json").write_text(big.to_json())  # launched by an executor on a bigger machine

    (status,) = executor(cpus=2).poll(["r1"])

    assert status.phase is AttemptPhase.FAILED
    assert "cannot launch" in status.message and "4 CPU" in status.message
