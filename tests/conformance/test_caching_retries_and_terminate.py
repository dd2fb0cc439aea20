"""Caching across runs (CACHED tasks run nothing and re-publish outputs; `enable_caching=False` honoured),
`set_retry` with backoff, and run terminate (processes killed, CANCELING then CANCELED, exit handler still
runs) followed by run retry (failed and cancelled tasks run again, succeeded ones kept)."""

import functools
import os
import time
import uuid

import pytest
from kfp import dsl
from kfp.dsl import Dataset, Input, Output
from run_waiting import get_run, only_task, task_log
from submitting import output_parameter, submit

component = functools.partial(dsl.component, base_image="python:3.11", install_kfp_package=False)


@component
def produce(marker_dir: str, salt: str, out: Output[Dataset]) -> str:
    import pathlib

    with open(pathlib.Path(marker_dir, "produce.count"), "a") as handle:
        handle.write("x")
    with open(out.path, "w") as handle:
        handle.write(f"data {salt}")
    out.metadata["salt"] = salt
    return f"made {salt}"


@component
def consume(marker_dir: str, data: Input[Dataset]) -> str:
    import pathlib

    with open(pathlib.Path(marker_dir, "consume.count"), "a") as handle:
        handle.write("x")
    with open(data.path) as handle:
        return handle.read()


@dsl.pipeline(name="conformance-cache")
def cache_pipeline(marker_dir: str, salt: str) -> str:
    made = produce(marker_dir=marker_dir, salt=salt)
    return consume(marker_dir=marker_dir, data=made.outputs["out"]).output


@component
def flaky(counter_path: str) -> str:
    import os

    count = int(open(counter_path).read()) if os.path.exists(counter_path) else 0
    count += 1
    with open(counter_path, "w") as handle:
        handle.write(str(count))
    if count < 2:
        raise RuntimeError(f"flaky attempt {count}")
    return f"attempt={count}"


@dsl.pipeline(name="conformance-retry-policy")
def retry_pipeline(counter_path: str) -> str:
    return (
        flaky(counter_path=counter_path)
        .set_retry(num_retries=2, backoff_duration="1s", backoff_factor=2.0)
        .output
    )


@component
def count_run(marker_dir: str, name: str) -> str:
    import pathlib

    with open(pathlib.Path(marker_dir, f"{name}.count"), "a") as handle:
        handle.write("x")
    return name


@component
def sleep_first_time(marker_dir: str) -> str:
    import os
    import pathlib
    import time

    first = pathlib.Path(marker_dir, "slept")
    if not first.exists():
        pathlib.Path(marker_dir, "sleeper.pid").write_text(str(os.getpid()))
        first.write_text("yes")
        time.sleep(120)
    return "woke"


@component
def note_status(status: dsl.PipelineTaskFinalStatus, marker_dir: str) -> str:
    import pathlib

    with open(pathlib.Path(marker_dir, "exit.states"), "a") as handle:
        handle.write(status.state + "\n")
    return status.state


@dsl.pipeline(name="conformance-terminate")
def terminate_pipeline(marker_dir: str):
    with dsl.ExitHandler(note_status(marker_dir=marker_dir)):
        quick = count_run(marker_dir=marker_dir, name="quick")
        sleeper = sleep_first_time(marker_dir=marker_dir).after(quick)
        count_run(marker_dir=marker_dir, name="after").after(sleeper)


def _count(directory, name: str) -> int:
    path = directory / f"{name}.count"
    return len(path.read_text()) if path.exists() else 0


@pytest.fixture(scope="module")
def cache_runs(executor_stack, tmp_path_factory):
    client = executor_stack.client
    marker_dir = tmp_path_factory.mktemp("cache")
    arguments = {"marker_dir": str(marker_dir), "salt": uuid.uuid4().hex}
    first = executor_stack.wait_for_run(submit(client, cache_pipeline, arguments, enable_caching=True))
    counts_after_first = {name: _count(marker_dir, name) for name in ("produce", "consume")}
    second = executor_stack.wait_for_run(submit(client, cache_pipeline, arguments, enable_caching=True))
    counts_after_second = {name: _count(marker_dir, name) for name in ("produce", "consume")}
    third = executor_stack.wait_for_run(submit(client, cache_pipeline, arguments, enable_caching=False))
    counts_after_third = {name: _count(marker_dir, name) for name in ("produce", "consume")}
    return {
        "runs": (first, second, third),
        "counts": (counts_after_first, counts_after_second, counts_after_third),
        "salt": arguments["salt"],
    }


def test_second_identical_run_is_cached_and_runs_nothing(cache_runs):
    first, second, _ = cache_runs["runs"]
    assert first["state"] == second["state"] == "SUCCEEDED"
    assert only_task(first, "produce")["state"] == "SUCCEEDED"
    assert {only_task(second, name)["state"] for name in ("produce", "consume")} == {"CACHED"}
    assert cache_runs["counts"][0] == cache_runs["counts"][1] == {"produce": 1, "consume": 1}


def test_cached_tasks_republish_outputs(cache_runs):
    first, second, _ = cache_runs["runs"]
    for name in ("produce", "consume"):
        assert only_task(second, name)["output_parameters"] == only_task(first, name)["output_parameters"]
    assert only_task(second, "produce")["outputs"] == only_task(first, "produce")["outputs"]
    assert only_task(second, "produce")["outputs"]["out"]["artifacts"][0]["metadata"] == {
        "salt": cache_runs["salt"]
    }
    assert output_parameter(second, "consume") == f"data {cache_runs['salt']}"


def test_enable_caching_false_runs_everything_again(cache_runs):
    _, _, third = cache_runs["runs"]
    assert third["state"] == "SUCCEEDED"
    assert {only_task(third, name)["state"] for name in ("produce", "consume")} == {"SUCCEEDED"}
    assert cache_runs["counts"][2] == {"produce": 2, "consume": 2}


def test_set_retry_runs_a_failed_attempt_again_after_backoff(executor_stack, tmp_path):
    counter = tmp_path / "counter"
    run = executor_stack.wait_for_run(
        submit(executor_stack.client, retry_pipeline, {"counter_path": str(counter)})
    )
    assert run["state"] == "SUCCEEDED", run.get("error")
    assert output_parameter(run, "flaky") == "attempt=2"
    assert counter.read_text() == "2"
    task_id = only_task(run, "flaky")["task_id"]
    first_log = get_log(executor_stack.url, run["run_id"], task_id, attempt=1)
    assert "flaky attempt 1" in first_log
    assert "flaky attempt" not in task_log(executor_stack.url, run["run_id"], task_id)


def get_log(base_url: str, run_id: str, task_id: str, attempt: int) -> str:
    import urllib.request

    url = f"{base_url}/apis/v2beta1/runs/{run_id}/tasks/{task_id}/logs?attempt={attempt}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def _wait_for_task_state(base_url: str, run_id: str, display_name: str, state: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = get_run(base_url, run_id)
        found = [
            t for t in run.get("run_details", {}).get("task_details", []) if t["display_name"] == display_name
        ]
        if found and found[0]["state"] == state:
            return run
        time.sleep(0.2)
    raise TimeoutError(f"{display_name} not {state} after {timeout}s")


def _process_gone(pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_terminate_kills_the_process_cancels_and_still_runs_the_exit_handler_then_retry_finishes(
    executor_stack, tmp_path
):
    kfp_client = executor_stack.client
    run_id = submit(kfp_client, terminate_pipeline, {"marker_dir": str(tmp_path)})
    _wait_for_task_state(executor_stack.url, run_id, "sleep-first-time", "RUNNING")
    deadline = time.monotonic() + 60
    while not (tmp_path / "sleeper.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    pid = int((tmp_path / "sleeper.pid").read_text())
    kfp_client.terminate_run(run_id)
    run = executor_stack.wait_for_run(run_id)
    assert run["state"] == "CANCELED"
    history = [entry["state"] for entry in run["state_history"]]
    assert history[-2:] == ["CANCELING", "CANCELED"]
    assert only_task(run, "sleep-first-time")["state"] == "CANCELED"
    assert only_task(run, "count-run")["state"] == "SUCCEEDED"
    assert only_task(run, "note-status")["state"] == "SUCCEEDED"
    assert "count-run-2" not in {
        t["display_name"] for t in run["run_details"]["task_details"] if t["state"] == "SUCCEEDED"
    }
    assert _process_gone(pid)

    kfp_client.runs.run_service_retry_run(run_id=run_id)
    retried = executor_stack.wait_for_run(run_id, until=frozenset({"SUCCEEDED", "FAILED"}))
    assert retried["state"] == "SUCCEEDED", retried.get("error")
    assert only_task(retried, "sleep-first-time")["output_parameters"] == {"Output": "woke"}
    assert only_task(retried, "count-run-2")["state"] == "SUCCEEDED"
    assert _count(tmp_path, "quick") == 1  # the succeeded task was kept, not run again
    assert _count(tmp_path, "after") == 1
