"""KFP v1 resource templates (ResourceOp / VolumeOp / VolumeSnapshotOp) against the fake API server: the
object is created in the run's namespace with the run's label, the success condition is waited on across
passes, outputs come from the object, and the object is deleted with the run."""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))

import run_waiting  # noqa: E402
import v1_submitting  # noqa: E402

from chalicelib.argo_resources import RUN_LABEL, parse_condition, render_jq_path, render_jsonpath  # noqa: E402
from tests.executors.k8s_fake.stack import NAMESPACE  # noqa: E402

SNAPSHOTS = "snapshot.storage.k8s.io/volumesnapshots"

WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "snapshot-"},
    "spec": {
        "entrypoint": "main",
        "serviceAccountName": "pipeline-runner",
        "arguments": {"parameters": [{"name": "size", "value": "1Gi"}]},
        "templates": [
            {
                "name": "main",
                "inputs": {"parameters": [{"name": "size"}]},
                "dag": {
                    "tasks": [
                        {
                            "name": "volume",
                            "template": "volume",
                            "arguments": {
                                "parameters": [{"name": "size", "value": "{{inputs.parameters.size}}"}]
                            },
                        },
                        {
                            "name": "snapshot",
                            "template": "snapshot",
                            "dependencies": ["volume"],
                            "arguments": {
                                "parameters": [
                                    {
                                        "name": "claim",
                                        "value": "{{tasks.volume.outputs.parameters.volume-name}}",
                                    }
                                ]
                            },
                        },
                        {
                            "name": "use",
                            "template": "use",
                            "dependencies": ["snapshot"],
                            "arguments": {
                                "parameters": [
                                    {
                                        "name": "size",
                                        "value": "{{tasks.snapshot.outputs.parameters.snapshot-size}}",
                                    },
                                    {
                                        "name": "claim",
                                        "value": "{{tasks.volume.outputs.parameters.volume-name}}",
                                    },
                                ]
                            },
                        },
                    ]
                },
            },
            {
                "name": "volume",
                "inputs": {"parameters": [{"name": "size"}]},
                "resource": {
                    "action": "create",
                    "manifest": (
                        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: '{{workflow.name}}-data'\n"
                        "spec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n"
                        "      storage: '{{inputs.parameters.size}}'\n"
                    ),
                },
                "outputs": {
                    "parameters": [
                        {"name": "volume-name", "valueFrom": {"jsonPath": "{.metadata.name}"}},
                        {"name": "volume-size", "valueFrom": {"jsonPath": "{.status.capacity.storage}"}},
                    ]
                },
            },
            {
                "name": "snapshot",
                "inputs": {"parameters": [{"name": "claim"}]},
                "resource": {
                    "action": "create",
                    "successCondition": "status.readyToUse == true",
                    "failureCondition": "status.error",
                    "manifest": (
                        "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\n"
                        "metadata:\n  generateName: '{{workflow.name}}-snap-'\n"
                        "spec:\n  source:\n    persistentVolumeClaimName: '{{inputs.parameters.claim}}'\n"
                    ),
                },
                "outputs": {
                    "parameters": [
                        {"name": "snapshot-name", "valueFrom": {"jsonPath": "{.metadata.name}"}},
                        {"name": "snapshot-size", "valueFrom": {"jsonPath": "{.status.restoreSize}"}},
                    ]
                },
            },
            {
                "name": "use",
                "inputs": {"parameters": [{"name": "size"}, {"name": "claim"}]},
                "container": {
                    "image": "alpine",
                    "command": [
                        "sh",
                        "-c",
                        "cat /data/marker && echo {{inputs.parameters.size}} | tee /tmp/size",
                    ],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                },
                "volumes": [
                    {"name": "data", "persistentVolumeClaim": {"claimName": "{{inputs.parameters.claim}}"}}
                ],
                "outputs": {"parameters": [{"name": "seen", "valueFrom": {"path": "/tmp/size"}}]},
            },
        ],
    },
}


def _wait_until(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def _snapshots(stack):
    return stack.fake.objects_of(SNAPSHOTS, NAMESPACE)


def test_resource_steps_create_wait_extract_and_are_deleted_with_the_run(
    kubernetes_stack, kfp_client, local_stack, tmp_path
):
    stack = kubernetes_stack
    path = tmp_path / "snapshot.yaml"
    path.write_text(yaml.safe_dump(WORKFLOW))
    run_id = v1_submitting.run_v1(kfp_client, path)
    (snapshot,) = _wait_until(lambda: _snapshots(stack))
    claims = stack.fake.objects_of("persistentvolumeclaims", NAMESPACE)
    (claim,) = [c for c in claims if c["metadata"]["labels"].get(RUN_LABEL) == run_id]
    assert claim["metadata"]["name"].startswith("snapshot-") and claim["metadata"]["name"].endswith("-data")
    assert snapshot["metadata"]["labels"][RUN_LABEL] == run_id
    assert snapshot["spec"]["source"]["persistentVolumeClaimName"] == claim["metadata"]["name"]
    claim_dir = stack.kubelet.root / "claims" / NAMESPACE / claim["metadata"]["name"]
    claim_dir.mkdir(parents=True, exist_ok=True)
    (claim_dir / "marker").write_text("restored\n")

    # The snapshot is not ready: passes go by, the step waits (no pod, no sleeping reconciler).
    time.sleep(3)
    waiting = run_waiting.get_run(local_stack.url, run_id)
    assert waiting["state"] == "RUNNING"
    states = {task["display_name"]: task["state"] for task in waiting["run_details"]["task_details"]}
    assert states["snapshot"] == "RUNNING" and "use" not in states

    assert stack.fake.set_object_status(
        SNAPSHOTS, NAMESPACE, snapshot["metadata"]["name"], {"readyToUse": True, "restoreSize": "1Gi"}
    )
    run = run_waiting.wait_for_run(local_stack.url, run_id, timeout=120)
    assert run["state"] == "SUCCEEDED", run.get("error")
    outputs = {
        task["display_name"]: task.get("output_parameters", {}) for task in run["run_details"]["task_details"]
    }
    assert outputs["volume"] == {"volume-name": claim["metadata"]["name"], "volume-size": "1Gi"}
    assert outputs["snapshot"]["snapshot-size"] == "1Gi"
    assert outputs["use"] == {"seen": "1Gi"}
    pods = [
        pod["metadata"]["annotations"]["kfp-serverless.io/task-name"]
        for pod in stack.pods_created_for(run_id)
    ]
    assert pods == ["use"], "resource steps run no pod"

    kfp_client.delete_run(run_id)
    _wait_until(
        lambda: (
            not _snapshots(stack)
            and not any(
                c["metadata"]["labels"].get(RUN_LABEL) == run_id
                for c in stack.fake.objects_of("persistentvolumeclaims", NAMESPACE)
            )
        )
    )
    _wait_until(lambda: _run_gone(local_stack.url, run_id))


def _run_gone(url: str, run_id: str) -> bool:
    import urllib.error

    try:
        run_waiting.get_run(url, run_id)
    except urllib.error.HTTPError as error:
        return error.code == 404
    return False


def test_a_failure_condition_fails_the_step_with_its_requirement(
    kubernetes_stack, kfp_client, local_stack, tmp_path
):
    stack = kubernetes_stack
    workflow = copy.deepcopy(WORKFLOW)
    path = tmp_path / "failing.yaml"
    path.write_text(yaml.safe_dump(workflow))
    run_id = v1_submitting.run_v1(kfp_client, path)
    mine = _wait_until(lambda: [s for s in _snapshots(stack) if s["metadata"]["labels"][RUN_LABEL] == run_id])
    stack.fake.set_object_status(
        SNAPSHOTS, NAMESPACE, mine[0]["metadata"]["name"], {"error": {"message": "no class"}}
    )
    run = run_waiting.wait_for_run(local_stack.url, run_id, timeout=120)
    assert run["state"] == "FAILED"
    assert "failure condition 'status.error' matched" in run["error"]["message"]


def test_an_unserved_kind_fails_the_step_naming_it(kubernetes_stack, kfp_client, local_stack, tmp_path):
    workflow = copy.deepcopy(WORKFLOW)
    snapshot = next(t for t in workflow["spec"]["templates"] if t["name"] == "snapshot")
    snapshot["resource"]["manifest"] = snapshot["resource"]["manifest"].replace("/v1\n", "/v1alpha1\n")
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(workflow))
    run = run_waiting.wait_for_run(local_stack.url, v1_submitting.run_v1(kfp_client, path), timeout=120)
    assert run["state"] == "FAILED"
    assert "does not serve snapshot.storage.k8s.io/v1alpha1" in run["error"]["message"]


@pytest.mark.parametrize(
    ("condition", "obj", "matches"),
    [
        ("status.phase == Succeeded", {"status": {"phase": "Succeeded"}}, True),
        ("status.phase = Succeeded", {"status": {"phase": "Running"}}, False),
        ("status.readyToUse == true", {"status": {"readyToUse": True}}, True),
        ("status.succeeded > 0", {"status": {"succeeded": 2}}, True),
        ("status.failed > 3", {"status": {"failed": 1}}, False),
        ("status.phase in (Bound,Lost)", {"status": {"phase": "Bound"}}, True),
        ("status.phase notin (Bound)", {"status": {"phase": "Pending"}}, True),
        ("status.error", {"status": {}}, False),
        ("!status.error", {"status": {}}, True),
        ("status.a == x, status.b == y", {"status": {"a": "x", "b": "z"}}, False),
    ],
)
def test_conditions_are_label_selector_requirements_over_object_paths(condition, obj, matches):
    assert all(requirement.matches(obj) for requirement in parse_condition(condition)) is matches


def test_json_paths_render_like_kubectl():
    obj = {"metadata": {"name": "n", "labels": {"a": "b"}}, "items": [{"x": 1}], "spec": {"ok": True}}
    assert render_jsonpath("{.metadata.name}", obj) == "n"
    assert render_jsonpath("{.items[0].x}-{.spec.ok}", obj) == "1-true"
    assert render_jsonpath("{.status.missing}", obj) == ""
    assert render_jsonpath("{.metadata.labels}", obj) == '{"a":"b"}'
    assert render_jq_path(".metadata.name", obj) == "n"
