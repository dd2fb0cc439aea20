"""Failing tasks (exit code and log tail in the task error), fail-fast, exit handlers seeing
PipelineTaskFinalStatus COMPLETE / FAILED, and `.ignore_upstream_failure()`."""

import functools

import pytest
from kfp import dsl
from run_waiting import only_task, task_log, tasks_by_name
from submitting import output_parameter, states, submit

component = functools.partial(dsl.component, base_image="python:3.11", install_kfp_package=False)


@component
def maybe_fail(fail: bool, code: int = 3) -> str:
    import sys

    print("about to decide: line-for-the-log-tail")
    if fail:
        sys.exit(code)
    return "fine"


@component
def report(status: dsl.PipelineTaskFinalStatus) -> str:
    return f"{status.state}|{status.pipeline_task_name}|{status.error_code}"


@component
def echo(text: str) -> str:
    return text


@component
def slow(marker_dir: str) -> str:
    import pathlib
    import time

    pathlib.Path(marker_dir, "slow-started").write_text("yes")
    time.sleep(2)
    return "slow done"


@component
def fail_once_slow_runs(marker_dir: str):
    import pathlib
    import sys
    import time

    marker = pathlib.Path(marker_dir, "slow-started")
    for _ in range(600):
        if marker.exists():
            break
        time.sleep(0.1)
    sys.exit(5)


@dsl.pipeline(name="conformance-exit-handler")
def exit_pipeline(fail: bool = False):
    exit_task = report()
    with dsl.ExitHandler(exit_task, name="guarded"):
        maybe_fail(fail=fail)


@dsl.pipeline(name="conformance-ignore-upstream")
def ignore_upstream_pipeline():
    failing = maybe_fail(fail=True, code=4)
    echo(text="cleanup").after(failing).ignore_upstream_failure()
    echo(text="never").after(failing)


@dsl.pipeline(name="conformance-fail-fast")
def fail_fast_pipeline(marker_dir: str):
    slow_task = slow(marker_dir=marker_dir)
    fail_once_slow_runs(marker_dir=marker_dir)
    echo(text="after slow").after(slow_task)


@pytest.fixture(scope="module")
def runs(executor_stack, tmp_path_factory):
    ids = {
        "exit-ok": submit(executor_stack.client, exit_pipeline, {"fail": False}),
        "exit-failed": submit(executor_stack.client, exit_pipeline, {"fail": True}),
        "ignore-upstream": submit(executor_stack.client, ignore_upstream_pipeline),
        "fail-fast": submit(
            executor_stack.client, fail_fast_pipeline, {"marker_dir": str(tmp_path_factory.mktemp("ff"))}
        ),
    }
    finished = executor_stack.wait_for_runs(ids.values())
    return {key: finished[run_id] for key, run_id in ids.items()}


def test_exit_handler_sees_complete_when_the_guarded_tasks_succeed(runs):
    run = runs["exit-ok"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    assert output_parameter(run, "report").startswith("COMPLETE|")


def test_exit_handler_runs_and_sees_failed_when_a_guarded_task_fails(runs):
    run = runs["exit-failed"]
    assert run["state"] == "FAILED"
    assert only_task(run, "maybe-fail")["state"] == "FAILED"
    assert only_task(run, "report")["state"] == "SUCCEEDED"
    state, task_name, _ = output_parameter(run, "report").split("|")
    assert state == "FAILED" and task_name


def test_failed_task_error_names_exit_code_and_log_tail(runs, executor_stack):
    run = runs["exit-failed"]
    failed = only_task(run, "maybe-fail")
    message = failed["error"]["message"]
    assert "exit code 3" in message and "line-for-the-log-tail" in message
    assert failed["pod_name"] and failed["start_time"] and failed["end_time"]
    assert "line-for-the-log-tail" in task_log(executor_stack.url, run["run_id"], failed["task_id"])
    assert "maybe-fail" in run["error"]["message"]


def test_ignore_upstream_failure_task_runs_and_the_run_still_fails(runs):
    run = runs["ignore-upstream"]
    assert run["state"] == "FAILED"
    assert "exit code 4" in only_task(run, "maybe-fail")["error"]["message"]
    echoes = {task["output_parameters"].get("Output") for task in tasks_by_name(run)["echo"]}
    assert echoes == {"cleanup"}, states(run)
    assert all(task["state"] != "SUCCEEDED" for task in tasks_by_name(run).get("echo-2", []))


def test_fail_fast_lets_running_tasks_finish_and_starts_nothing_new(runs):
    run = runs["fail-fast"]
    assert run["state"] == "FAILED"
    assert only_task(run, "fail-once-slow-runs")["state"] == "FAILED"
    assert only_task(run, "slow")["state"] == "SUCCEEDED"
    assert all(task["state"] != "SUCCEEDED" for task in tasks_by_name(run).get("echo", []))
