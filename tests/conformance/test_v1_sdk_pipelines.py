"""Pipelines written with the kfp 1.8 SDK (tests/conformance/v1_pipelines, compiled in the kfp 1.8 venv) run
through the kfp 2.17.3 client, on the local executor and on the Kubernetes executor: data passing through
InputPath/OutputPath (files and folders), `file_outputs` anywhere in the file system, ParallelFor over objects
with a parallelism limit, conditions on an output, a component from YAML text, the exit handler, a step
timeout and retries."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
import run_waiting
import v1_submitting
from kfp1_compiler import compile_v1

PIPELINES = {
    "features": ("features.py", "features_pipeline", {"count": 4, "word": "kfp"}),
    "timeout": ("features.py", "timeout_pipeline", {}),
    "retry": ("features.py", "retry_pipeline", {}),
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("v1-compiled")
    return {
        name: compile_v1(source, function, folder / f"{name}.yaml")
        for name, (source, function, _) in PIPELINES.items()
    }


@pytest.fixture(scope="module")
def finished(compiled, executor_stack) -> dict[str, dict[str, Any]]:
    run_ids = {
        name: v1_submitting.run_v1(executor_stack.client, compiled[name], PIPELINES[name][2])
        for name in PIPELINES
    }
    done = executor_stack.wait_for_runs(run_ids.values(), timeout=400)
    return {name: done[run_id] for name, run_id in run_ids.items()}


def _outputs(run: dict[str, Any], name: str) -> dict[str, Any]:
    return run_waiting.only_task(run, name).get("output_parameters", {})


def _artifact_members(stack: Any, run: dict[str, Any], task: str, name: str) -> dict[str, bytes]:
    detail = run_waiting.only_task(run, task)
    data = run_waiting.read_artifact(stack.url, run["run_id"], detail["task_id"], name)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return {
            member.name: archive.extractfile(member).read()
            for member in archive.getmembers()
            if member.isfile()
        }


@pytest.mark.timeout(900)
def test_v1_sdk_pipeline_passes_data_loops_branches_and_runs_its_exit_handler(finished, executor_stack):
    run = finished["features"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    assert _outputs(run, "total") == {"total-Output": "10"}
    assert _artifact_members(executor_stack, run, "produce", "produce-Output") == {"data": b"produced"}
    assert _artifact_members(executor_stack, run, "files", "files-top") == {"kfp-v1-test.txt": b"in-srv"}
    assert _artifact_members(executor_stack, run, "files", "files-app") == {"result": b"in-opt"}
    assert not Path("/srv/kfp-v1-test.txt").exists() and not Path("/opt/kfp-v1").exists(), (
        "a step wrote to the host"
    )
    assert _artifact_members(executor_stack, run, "reverse", "reverse-reversed") == {"data": b"pfk\n"}
    shouted = []
    for task in run_waiting.tasks_by_name(run)["shout"]:
        data = run_waiting.read_artifact(executor_stack.url, run["run_id"], task["task_id"], "shout-Output")
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            shouted.append(archive.extractfile("data").read().decode())
    assert sorted(shouted) == ["X", "Y", "Z"]
    states = {
        name: sorted(task["state"] for task in tasks)
        for name, tasks in run_waiting.tasks_by_name(run).items()
    }
    assert states["goodbye"] == ["SUCCEEDED"]
    assert states["condition-5"] == ["SKIPPED"] and "never" not in states
    members = _artifact_members(executor_stack, run, "produce", "produce-folder")
    assert members == {"data/nested/note.txt": b"in a folder"}
    assert _artifact_members(executor_stack, run, "produce", "produce-numbers") == {"data": b"1\n2\n3\n4"}


def test_a_step_past_its_timeout_fails_the_run(finished):
    run = finished["timeout"]
    assert run["state"] == "FAILED"
    assert run_waiting.only_task(run, "sleeper")["state"] == "FAILED"


def test_set_retry_runs_a_failed_step_again_as_a_new_attempt(finished):
    run = finished["retry"]
    assert run["state"] == "SUCCEEDED", run.get("error")
