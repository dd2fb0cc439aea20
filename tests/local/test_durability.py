"""What `kfps up` acknowledged survives it being killed: `kfps up` runs as a subprocess on the default (embedded)
store, is driven with `kfp.Client`, and is SIGKILLed (the whole process group), stopped with SIGTERM and with
SIGINT at chosen points, then started again on the same data directory.

Each step of the run appends its name to a marker file only when the test opens its gate, so a step's effect
can be counted and a kill can land while a step is known to be running. Task processes run in their own
sessions: a SIGKILL of the stack leaves them running and the restarted stack adopts them; a clean stop ends
them, and the restarted stack runs those attempts again (they were lost).
"""

import collections
import io
import socket
import threading
from pathlib import Path

import pytest
import requests
from kfp import compiler, dsl

from tests.local.kfps_process import KfpsUp
from tests.support.waiting import wait_for

WAIT_SECONDS = 120


@dsl.component
def gated_step(name: str, gate: str, marker: str, previous: str = "") -> str:
    import os
    import time

    with open(f"{gate}/{name}.started", "a") as handle:
        handle.write("started\n")
    deadline = time.time() + 300
    while not os.path.exists(f"{gate}/{name}.go") and time.time() < deadline:
        time.sleep(0.05)
    with open(marker, "a") as handle:
        handle.write(name + "\n")
    return previous + name


@dsl.component
def report(text: str, out: dsl.Output[dsl.Artifact]):
    with open(out.path, "w") as handle:
        handle.write(text)


@dsl.pipeline(name="durable-chain")
def durable_chain(gate: str, marker: str):
    first = gated_step(name="a", gate=gate, marker=marker)
    second = gated_step(name="b", gate=gate, marker=marker, previous=first.output)
    third = gated_step(name="c", gate=gate, marker=marker, previous=second.output)
    report(text=third.output)


@dsl.pipeline(name="durable-hello")
def durable_hello(gate: str, marker: str):
    gated_step(name="hello", gate=gate, marker=marker)


def starts(gate: Path, name: str) -> int:
    path = gate / f"{name}.started"
    return len(path.read_text().splitlines()) if path.exists() else 0


def effects(marker: Path) -> collections.Counter[str]:
    return collections.Counter(marker.read_text().split()) if marker.exists() else collections.Counter()


def client(stack: KfpsUp):
    import kfp

    return kfp.Client(host=stack.url)


def stopped(stack: KfpsUp, how: str) -> None:
    if how == "SIGKILL":
        stack.kill()
        return
    stack.signal_process(__import__("signal").Signals[how])
    assert stack.wait(timeout=60) == 0
    assert stack.group_is_gone()


@pytest.fixture
def start_stack():
    """Starts `kfps up` processes; whatever still runs at the end of the test is SIGKILLed."""
    started: list[KfpsUp] = []

    def start(data: Path, *options: str) -> KfpsUp:
        stack = KfpsUp(data, *options).start()
        started.append(stack)
        return stack

    yield start
    for stack in started:
        stack.kill()


@pytest.fixture
def gate(tmp_path: Path):
    """The steps' gate directory; every gate is opened at the end, so no task process waits on."""
    path = tmp_path / "gate"
    path.mkdir()
    yield path
    for name in ("a", "b", "c"):
        (path / f"{name}.go").touch()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    path = tmp_path / "durable-chain.yaml"
    compiler.Compiler().compile(durable_chain, str(path))
    return path


def test_acknowledged_objects_and_a_running_run_survive_kills_and_clean_stops(
    tmp_path: Path, package: Path, gate: Path, start_stack
):
    data, marker = tmp_path / "data", tmp_path / "marker.txt"
    # 1. Acknowledged objects, and a run whose reconciler stops for good between its first step's end and its
    #    second step's launch (the second launch document is written, nothing else): SIGKILL there.
    stack = start_stack(data, "--pause-at", "launch-document:2")
    kfp_client = client(stack)
    experiment = kfp_client.create_experiment("durable")
    pipeline = kfp_client.upload_pipeline(str(package), pipeline_name="durable-chain")
    version = kfp_client.upload_pipeline_version(str(package), "v2", pipeline_id=pipeline.pipeline_id)
    recurring = kfp_client.create_recurring_run(
        experiment.experiment_id,
        "hourly",
        interval_second=3600,
        pipeline_package_path=str(package),
        params={"gate": str(gate), "marker": str(tmp_path / "recurring-marker.txt")},
    )
    run = kfp_client.run_pipeline(
        experiment.experiment_id,
        "durable",
        pipeline_id=pipeline.pipeline_id,
        version_id=version.pipeline_version_id,
        params={"gate": str(gate), "marker": str(marker)},
        enable_caching=False,
    )
    wait_for(lambda: starts(gate, "a") == 1, "step a to start")
    (gate / "a.go").touch()
    wait_for(lambda: (data / "paused-at-launch-document").exists(), "the reconciler to pause after a ended")
    stopped(stack, "SIGKILL")
    assert effects(marker) == {"a": 1} and starts(gate, "b") == 0

    # 2. Restart: b is launched; SIGKILL the stack while b runs (b's process survives and is adopted).
    (data / "paused-at-launch-document").unlink()
    stack = start_stack(data)
    wait_for(lambda: starts(gate, "b") == 1, "step b to start after the restart")
    stopped(stack, "SIGKILL")

    # 3. Restart: b finishes under the new stack, c starts; a clean stop (SIGTERM) ends c's process.
    stack = start_stack(data)
    (gate / "b.go").touch()
    wait_for(lambda: starts(gate, "c") == 1, "step c to start")
    stopped(stack, "SIGTERM")

    # 4. Restart: c's lost attempt runs again; stop with SIGINT to the process alone (Ctrl-C's signal).
    stack = start_stack(data)
    wait_for(lambda: starts(gate, "c") == 2, "step c's second attempt")
    stopped(stack, "SIGINT")

    # 5. Restart, let c finish: the run succeeds with every step's effect exactly once.
    stack = start_stack(data)
    kfp_client = client(stack)
    wait_for(lambda: starts(gate, "c") == 3, "step c's third attempt")
    (gate / "c.go").touch()
    final = kfp_client.wait_for_run_completion(run.run_id, timeout=WAIT_SECONDS)
    try:
        assert final.state == "SUCCEEDED", final.error
        assert effects(marker) == {"a": 1, "b": 1, "c": 1}
        tasks = {task.display_name: task for task in final.run_details.task_details}
        assert tasks["report"].state == "SUCCEEDED"
        attempts = {record["display_name"]: record for record in _task_details(stack, run.run_id)}
        assert attempts["gated-step-3"]["output_parameters"] == {"Output": "abc"}
        log = requests.get(
            f"{stack.url}/apis/v2beta1/runs/{run.run_id}/tasks/{tasks['gated-step'].task_id}/logs", timeout=30
        )
        assert log.status_code == 200
        artifact = requests.get(
            f"{stack.url}/apis/v2beta1/runs/{run.run_id}/nodes/{tasks['report'].task_id}/artifacts/out:read",
            timeout=30,
        )
        assert artifact.status_code == 200 and artifact.json()["data"]

        # Everything acknowledged before the first kill is still there.
        assert kfp_client.get_experiment(experiment_id=experiment.experiment_id).display_name == "durable"
        versions = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions
        assert {v.pipeline_version_id for v in versions} >= {version.pipeline_version_id}
        kept = kfp_client.get_recurring_run(recurring.recurring_run_id)
        assert kept.status == "ENABLED" and kept.trigger.periodic_schedule.interval_second == "3600"
    finally:
        stopped(stack, "SIGTERM")


def _task_details(stack: KfpsUp, run_id: str) -> list[dict]:
    return stack.get(f"/runs/{run_id}")["run_details"]["task_details"]


def test_only_acknowledged_uploads_exist_after_a_sigkill_mid_upload(
    tmp_path: Path, package: Path, start_stack
):
    data = tmp_path / "data"
    stack = start_stack(data)
    body = package.read_bytes()
    acknowledged: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def upload_until_killed() -> None:
        session = requests.Session()
        for number in range(10_000):
            if stop.is_set():
                return
            files = {"uploadfile": (f"p{number}.yaml", io.BytesIO(body))}
            try:
                response = session.post(
                    f"{stack.url}/apis/v2beta1/pipelines/upload", params={"name": f"p{number}"}, files=files
                )
            except requests.ConnectionError:
                return
            if response.status_code == 200:
                acknowledged.append(response.json()["pipeline_id"])
            else:
                failures.append(response.text)

    # An upload whose body is still on its way when the stack dies.
    partial = socket.create_connection(("127.0.0.1", stack.port))
    boundary = "kfpsboundary"
    head = (
        f"POST /apis/v2beta1/pipelines/upload?name=partial HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body) * 4}\r\n\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="uploadfile"; filename="partial.yaml"\r\n\r\n'
    ).encode()
    partial.sendall(head + body[: len(body) // 2])
    uploader = threading.Thread(target=upload_until_killed)
    uploader.start()
    wait_for(lambda: len(acknowledged) >= 5, "five acknowledged uploads")
    stack.kill()
    stop.set()
    uploader.join(timeout=60)
    partial.close()
    assert not failures, failures[:3]

    stack = start_stack(data)
    try:
        listed = _all_pipelines(stack)
        assert set(acknowledged) <= set(listed), "an acknowledged upload was lost"
        assert "partial" not in listed.values()
        for pipeline_id in listed:
            versions = stack.get(f"/pipelines/{pipeline_id}/versions")["pipeline_versions"]
            assert len(versions) == 1, f"pipeline {pipeline_id} has {len(versions)} versions"
    finally:
        stopped(stack, "SIGTERM")


def _all_pipelines(stack: KfpsUp) -> dict[str, str]:
    """Every pipeline id → name, through all pages."""
    found: dict[str, str] = {}
    token = ""
    while True:
        page = stack.get(f"/pipelines?page_size=200&page_token={token}")
        found.update({p["pipeline_id"]: p["name"] for p in page.get("pipelines", [])})
        token = page.get("next_page_token", "")
        if not token:
            return found
