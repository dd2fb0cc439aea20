"""The Argo Workflow view of a run (pure): one node per task record, the root under the workflow's name, KFP's
v2 → v1 state mapping, Argo's Error phase, outputs as Argo shows them."""

from __future__ import annotations

import pytest

from chalicelib.api.v1beta1.shapes import run_status_v1, storage_state_v1
from chalicelib.api.v1beta1.workflow_manifest import workflow_manifest
from chalicelib.engine.argo.values import PHASE_KEY
from chalicelib.engine.model import TaskRecord
from chalicelib.store.records import Run
from chalicelib.task_contract import TaskState
from tests.spec.test_argo_packages import SMALL

IR_SPEC = {"pipelineInfo": {"name": "p"}, "root": {"dag": {"tasks": {}}}}


def _run(state: str = "SUCCEEDED", **fields) -> Run:
    return Run(
        run_id="run-1",
        display_name="r",
        experiment_id="e",
        namespace="",
        spec_key="runs/run-1/spec.json",
        created_at="2026-01-01T00:00:00Z",
        state=state,
        **{"parameters": {"n": 3}, **fields},
    )


def _record(task_id: str, kind: str, state: TaskState, parent: str = "", **fields) -> TaskRecord:
    return TaskRecord(task_id=task_id, name=task_id, kind=kind, state=state, parent_id=parent, **fields)


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("PENDING", "Pending"),
        ("PAUSED", "Pending"),
        ("RUNNING", "Running"),
        ("SUCCEEDED", "Succeeded"),
        ("SKIPPED", "Skipped"),
        ("FAILED", "Failed"),
        ("CANCELED", "Failed"),
        ("CANCELING", "Terminating"),
        ("RUNTIME_STATE_UNSPECIFIED", "Unknown"),
    ],
)
def test_run_states_map_as_kfp_maps_them_to_v1(state, status):
    assert run_status_v1(state) == status


def test_storage_states_map_to_v1_names():
    assert storage_state_v1("AVAILABLE") == "STORAGESTATE_AVAILABLE"
    assert storage_state_v1("ARCHIVED") == "STORAGESTATE_ARCHIVED"


def test_every_task_record_is_a_node_and_the_root_is_named_after_the_workflow():
    records = {
        "root": _record("root", "dag", TaskState.SUCCEEDED, started_at="2026-01-01T00:00:01Z"),
        "loop": _record("loop", "loop", TaskState.SUCCEEDED, "root"),
        "loop.0": _record("loop.0", "iteration", TaskState.SUCCEEDED, "loop"),
        "say": _record(
            "say",
            "container",
            TaskState.CACHED,
            "loop.0",
            display_name="Say",
            parameters={"Output": 7},
            artifacts={"data": [{"uri": "s3://bucket/a/b"}], "local": [{"uri": "/tmp/x"}]},
        ),
        "skipped": _record("skipped", "container", TaskState.SKIPPED, "root"),
        "broken": _record("broken", "container", TaskState.FAILED, "root", error="boom", exit_code=2),
    }
    manifest = workflow_manifest(_run(), IR_SPEC, records)
    nodes = manifest["status"]["nodes"]
    assert manifest["metadata"]["name"] == "run-1" and set(nodes) == {
        "run-1",
        "loop",
        "loop.0",
        "say",
        "skipped",
        "broken",
    }
    assert nodes["run-1"]["children"] == ["broken", "loop", "skipped"] and nodes["run-1"]["type"] == "DAG"
    assert (nodes["loop"]["type"], nodes["loop.0"]["type"], nodes["say"]["type"]) == (
        "TaskGroup",
        "DAG",
        "Pod",
    )
    assert nodes["loop.0"]["children"] == ["say"]
    assert nodes["say"]["phase"] == "Succeeded" and nodes["say"]["displayName"] == "Say"
    assert nodes["say"]["outputs"] == {
        "parameters": [{"name": "Output", "value": "7"}],
        "artifacts": [
            {"name": "data", "s3": {"bucket": "bucket", "key": "a/b"}},
            {"name": "local", "path": "/tmp/x"},
        ],
    }
    assert nodes["skipped"]["phase"] == "Skipped"
    assert nodes["broken"]["phase"] == "Failed" and nodes["broken"]["message"] == "boom (exit code 2)"
    assert manifest["status"]["phase"] == "Succeeded"
    assert manifest["spec"] == {"arguments": {"parameters": [{"name": "n", "value": "3"}]}}


def test_without_a_root_record_a_dag_node_holds_the_top_level_tasks():
    records = {name: _record(name, "container", TaskState.RUNNING) for name in ("a", "b")}
    nodes = workflow_manifest(_run("RUNNING"), IR_SPEC, records)["status"]["nodes"]
    assert nodes["run-1"]["children"] == ["a", "b"] and nodes["run-1"]["phase"] == "Running"


def test_a_v1_run_keeps_its_workflow_name_and_arguments_and_ends_in_error_as_argo_did():
    root = _record("root", "dag", TaskState.FAILED, data={PHASE_KEY: "Error", "template": "main"})
    handler = _record("onexit", "container", TaskState.SUCCEEDED)
    run = _run("FAILED", parameters={"text": "hi", "count": "5"})
    manifest = workflow_manifest(run, SMALL, {"root": root, "onexit": handler})
    name = manifest["metadata"]["name"]
    assert name.startswith("small-") and set(manifest["status"]["nodes"]) == {name, "onexit"}
    assert manifest["status"]["phase"] == "Error" and manifest["status"]["nodes"][name]["phase"] == "Error"
    assert manifest["status"]["nodes"][name]["templateName"] == "main"
    assert manifest["spec"]["arguments"]["parameters"] == [
        {"name": "count", "value": "5"},
        {"name": "text", "value": "hi"},
    ]
    assert manifest["spec"]["templates"] == SMALL["spec"]["templates"]
