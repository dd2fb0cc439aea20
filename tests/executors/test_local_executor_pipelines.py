"""Whole pipelines through `kfp.Client` on the local stack's executor: the same outcome, outputs and logs with
and without the fork server, I/O-bound fan-outs running together, and an oversize task failing clearly."""

import contextlib
import dataclasses
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl

from chalicelib import runtime
from chalicelib.launcher.runner import PREWARMED_LOG_PREFIX
from chalicelib.local.background import ReconcileLoop
from chalicelib.pod_policy import PodPolicy
from tests.conformance.run_waiting import only_task, task_log, tasks_by_name, wait_for_run

TIMEOUT = 180.0
FORKED = f"{PREWARMED_LOG_PREFIX} the Python step runs in a fork"


@dsl.component(base_image="python:3.11")
def make_rows(count: int, rows: dsl.Output[dsl.Dataset]) -> int:
    with open(rows.path, "w") as f:
        f.write("\n".join(f"row {i}" for i in range(count)))
    rows.metadata["count"] = count
    print(f"wrote {count} rows")
    return count


@dsl.component(base_image="python:3.11")
def scale(rows: dsl.Input[dsl.Dataset], factor: int) -> int:
    with open(rows.path) as f:
        lines = f.read().splitlines()
    print(f"scaling {len(lines)} rows by {factor}")
    return len(lines) * factor


@dsl.component(base_image="python:3.11")
def add_all(values: list) -> int:
    return sum(values)


@dsl.component(base_image="python:3.11")
def explode(value: int):
    raise RuntimeError(f"exploding on {value}")


@dsl.pipeline(name="prewarm-values")
def values_pipeline(count: int = 3):
    rows = make_rows(count=count).set_caching_options(False)
    with dsl.ParallelFor([1, 2, 3]) as factor:
        scaled = scale(rows=rows.outputs["rows"], factor=factor).set_caching_options(False)
    add_all(values=dsl.Collected(scaled.output)).set_caching_options(False)


@dsl.pipeline(name="prewarm-failure")
def failure_pipeline():
    rows = make_rows(count=2).set_caching_options(False)
    explode(value=rows.outputs["Output"]).set_caching_options(False)


@dsl.component(base_image="python:3.11")
def wait_for_release(markers: str, index: int):
    import os
    import time

    open(os.path.join(markers, f"started-{index}"), "w").close()
    while not os.path.exists(os.path.join(markers, "release")):
        time.sleep(0.05)


@dsl.pipeline(name="io-bound-fan-out")
def fan_out_pipeline(markers: str):
    with dsl.ParallelFor(list(range(8))) as index:
        wait_for_release(markers=markers, index=index).set_caching_options(False)


@dsl.component(base_image="python:3.11")
def greedy():
    print("never runs")


@dsl.pipeline(name="oversize")
def oversize_pipeline():
    greedy().set_cpu_request("1000").set_caching_options(False)


@contextlib.contextmanager
def own_reconcile_loop(local_stack: Any, prewarm: bool) -> Iterator[ReconcileLoop]:
    """The session's loop paused, and one whose local executor has the fork server on or off."""
    stack_runtime = local_stack.runtime
    settings = dataclasses.replace(stack_runtime.settings, local_prewarm=prewarm)
    with local_stack.background_paused():
        loop = ReconcileLoop(dataclasses.replace(stack_runtime, settings=settings)).start()
        try:
            server = getattr(loop.executor, "fork_server", None)
            assert (server is not None) is prewarm
            if server is not None:
                assert server.wait_ready(TIMEOUT)
            yield loop
        finally:
            loop.stop()


def outcome(url: str, run: dict[str, Any]) -> tuple[str, list[tuple]]:
    """The run's state and, per container task, what a user sees — with the run id and times taken out."""
    run_id = run["run_id"]
    tasks = []
    for task in run["run_details"]["task_details"]:
        if not task.get("pod_name"):
            continue  # DAG and loop nodes
        log = task_log(url, run_id, task["task_id"])
        tasks.append(
            (
                task["display_name"],
                task["state"],
                task.get("output_parameters", {}),
                normalized((task.get("error") or {}).get("message", ""), run_id),
                FORKED in log,
                normalized(log, run_id),
            )
        )
    return run["state"], sorted(tasks, key=repr)


def normalized(text: str, run_id: str) -> str:
    """Without what differs between two runs: the run id, times, temporary directories, the prewarmed
    launcher's own line."""
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", "<time>", text.replace(run_id, "<run>"))
    text = re.sub(r"/tmp/tmp\.\w+", "<program dir>", text)
    return "\n".join(line for line in text.splitlines() if PREWARMED_LOG_PREFIX not in line)


@pytest.mark.parametrize(
    ("pipeline", "state"), [(values_pipeline, "SUCCEEDED"), (failure_pipeline, "FAILED")]
)
def test_a_pipeline_has_the_same_outcome_outputs_and_logs_with_and_without_the_fork_server(
    local_stack, kfp_client, pipeline, state
):
    outcomes = {}
    for prewarm in (False, True):
        with own_reconcile_loop(local_stack, prewarm):
            run_id = kfp_client.create_run_from_pipeline_func(
                pipeline, arguments={}, enable_caching=False
            ).run_id
            run = wait_for_run(local_stack.url, run_id, TIMEOUT)
        run_state, tasks = outcome(local_stack.url, run)
        assert run_state == state, run.get("error")
        assert {forked for *_, forked, _ in tasks} == {prewarm}, tasks
        outcomes[prewarm] = (run_state, [task[:4] + task[5:] for task in tasks])
    assert outcomes[True] == outcomes[False]
    if pipeline is values_pipeline:
        assert only_task(run, "add-all")["output_parameters"] == {"Output": 3 + 6 + 9}
    else:
        assert "RuntimeError: exploding on 2" in only_task(run, "explode")["error"]["message"]


def test_an_io_bound_fan_out_runs_all_at_once_on_the_default_stack(local_stack, kfp_client, tmp_path):
    """Eight tasks that wait for one another's start: with a CPU-count cap they would never all start."""
    run_id = kfp_client.create_run_from_pipeline_func(
        fan_out_pipeline, arguments={"markers": str(tmp_path)}, enable_caching=False
    ).run_id
    deadline = time.monotonic() + TIMEOUT
    while len(list(tmp_path.glob("started-*"))) < 8:
        assert time.monotonic() < deadline, (
            f"only {sorted(p.name for p in tmp_path.glob('started-*'))} started"
        )
        time.sleep(0.1)
    Path(tmp_path / "release").touch()

    run = wait_for_run(local_stack.url, run_id, TIMEOUT)
    assert run["state"] == "SUCCEEDED", run.get("error")
    assert len(tasks_by_name(run)["wait-for-release"]) == 8


def test_a_task_asking_for_more_cpu_than_the_machine_fails_naming_request_and_capacity(
    local_stack, kfp_client
):
    # The default pod policy refuses 1000 CPUs at run creation: the admin lifts the maximum for this run.
    stack_runtime = local_stack.runtime
    no_maximum = dataclasses.replace(stack_runtime.settings, pod_policy=PodPolicy(max_cpu=""))
    runtime.install(dataclasses.replace(stack_runtime, settings=no_maximum))
    try:
        run_id = kfp_client.create_run_from_pipeline_func(
            oversize_pipeline, arguments={}, enable_caching=False
        ).run_id
    finally:
        runtime.install(stack_runtime)

    run = wait_for_run(local_stack.url, run_id, TIMEOUT)

    assert run["state"] == "FAILED"
    message = only_task(run, "greedy")["error"]["message"]
    assert "cannot launch" in message and "requests 1000 CPU" in message and "this machine has" in message
