"""Terminate, retry, task details and logs of KFP v1 runs through the kfp 2.17.3 client, on both executors."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import run_waiting
import v1_submitting
import yaml

EXIT_HANDLER = {"name": "bye", "container": {"image": "alpine", "command": ["sh", "-c", "echo bye"]}}


def _workflow(main_command: str, volumes: list | None = None) -> dict:
    container = {"image": "alpine", "command": ["sh", "-c", main_command]}
    if volumes:
        container["volumeMounts"] = [{"name": "state", "mountPath": "/state"}]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "v1-ops-"},
        "spec": {
            "entrypoint": "main",
            "onExit": "bye",
            "serviceAccountName": "pipeline-runner",
            "volumes": volumes or [],
            "templates": [
                {
                    "name": "main",
                    "dag": {
                        "tasks": [
                            {"name": "work", "template": "work"},
                            {"name": "after", "template": "after", "dependencies": ["work"]},
                        ]
                    },
                },
                {"name": "work", "container": container},
                {
                    "name": "after",
                    "container": {"image": "alpine", "command": ["sh", "-c", "echo after-work"]},
                },
                EXIT_HANDLER,
            ],
        },
    }


def _write(tmp_path: Path, workflow: dict) -> Path:
    path = tmp_path / f"{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(yaml.safe_dump(workflow))
    return path


def _states(run: dict) -> dict[str, list[str]]:
    return {name: sorted(t["state"] for t in tasks) for name, tasks in run_waiting.tasks_by_name(run).items()}


@pytest.mark.timeout(600)
def test_terminating_a_v1_run_stops_its_step_and_still_runs_the_exit_handler(executor_stack, tmp_path):
    run_id = v1_submitting.run_v1(
        executor_stack.client, _write(tmp_path, _workflow("echo started; sleep 300"))
    )
    run_waiting.wait_for_run(executor_stack.url, run_id, timeout=120, until=frozenset({"RUNNING"}))
    deadline = time.monotonic() + 120
    while _states(run_waiting.get_run(executor_stack.url, run_id)).get("work") != ["RUNNING"]:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    executor_stack.client.terminate_run(run_id)
    run = executor_stack.wait_for_run(run_id, timeout=180)
    assert run["state"] == "CANCELED"
    states = _states(run)
    assert states["work"] == ["CANCELED"] and "after" not in states
    assert states["bye"] == ["SUCCEEDED"]


@pytest.mark.timeout(600)
def test_retrying_a_failed_v1_run_reruns_the_failed_step_and_keeps_the_rest(executor_stack, tmp_path):
    state = f"retry-{uuid.uuid4().hex[:8]}"
    volumes = [{"name": "state", "persistentVolumeClaim": {"claimName": state}}]
    command = "if [ -e /state/seen ]; then echo second; else touch /state/seen; echo first; exit 3; fi"
    run_id = v1_submitting.run_v1(executor_stack.client, _write(tmp_path, _workflow(command, volumes)))
    failed = executor_stack.wait_for_run(run_id, timeout=180)
    assert failed["state"] == "FAILED"
    work = run_waiting.only_task(failed, "work")
    assert work["state"] == "FAILED" and "exit code 3" in work["error"]["message"]
    assert "first" in run_waiting.task_log(executor_stack.url, run_id, work["task_id"])
    executor_stack.client.runs.run_service_retry_run(run_id=run_id)
    run = executor_stack.wait_for_run(run_id, timeout=180, until=frozenset({"SUCCEEDED", "FAILED"}))
    assert run["state"] == "SUCCEEDED", run.get("error")
    states = _states(run)
    assert states["work"] == ["SUCCEEDED"] and states["after"] == ["SUCCEEDED"]
    assert states["bye"] == ["SUCCEEDED", "SUCCEEDED"], "the exit handler runs again after the retry"
    work = run_waiting.only_task(run, "work")
    assert "second" in run_waiting.task_log(executor_stack.url, run_id, work["task_id"])
