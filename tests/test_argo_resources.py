"""Resource steps of KFP v1 runs, without a cluster: the manifest the reconciler sends, and the clear failure
on an executor that has no Kubernetes objects."""

from __future__ import annotations

import pytest

from chalicelib.argo_resources import RUN_LABEL, ResourceStepError, prepared_manifest, start_resource_step
from chalicelib.executors.local import LocalExecutor
from chalicelib.task_contract import TaskSpec


def resource_spec(manifest: str, action: str = "create", attempt: int = 1) -> TaskSpec:
    return TaskSpec(
        run_id="run-1",
        task_id="root.make",
        attempt=attempt,
        task_name="make",
        display_name="make",
        pipeline_name="p",
        pipeline_root="/tmp/root",
        container={},
        input_definitions={},
        output_definitions={},
        parameters={},
        artifacts={},
        output_artifact_uris={},
        argo_step={"template": "make", "resource": {"action": action, "manifest": manifest}},
    )


def test_generated_names_are_derived_from_the_attempt_and_objects_carry_the_run_label():
    manifest = "apiVersion: v1\nkind: Secret\nmetadata:\n  generateName: my-secret-\n"
    first = prepared_manifest(resource_spec(manifest), "ns")
    assert first["metadata"]["name"].startswith("my-secret-") and "generateName" not in first["metadata"]
    assert first["metadata"]["name"] == prepared_manifest(resource_spec(manifest), "ns")["metadata"]["name"]
    assert (
        first["metadata"]["name"]
        != prepared_manifest(resource_spec(manifest, attempt=2), "ns")["metadata"]["name"]
    )
    assert first["metadata"]["namespace"] == "ns" and first["metadata"]["labels"][RUN_LABEL] == "run-1"
    kept = prepared_manifest(
        resource_spec(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  labels: {kfp-serverless.io/keep: 'true'}\n"
        ),
        "ns",
    )
    assert RUN_LABEL not in kept["metadata"]["labels"]
    deleted = prepared_manifest(
        resource_spec("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n", "delete"), "ns"
    )
    assert "labels" not in deleted["metadata"]


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: default\n",
            "may only touch objects in",
        ),
        ("kind: Secret\nmetadata: {name: s}\n", "must be one object with apiVersion and kind"),
        ("apiVersion: v1\nkind: Secret\nmetadata: {}\n", "neither metadata.name nor metadata.generateName"),
        ("a: [unclosed", "not valid YAML"),
    ],
)
def test_bad_manifests_are_refused_naming_the_problem(manifest, problem):
    with pytest.raises(ResourceStepError, match=problem):
        prepared_manifest(resource_spec(manifest), "ns")


def test_the_local_executor_fails_resource_steps_with_a_clear_message(tmp_path):
    progress = start_resource_step(
        LocalExecutor(tmp_path),
        resource_spec("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"),
        "default",
    )
    assert not progress.waiting and not progress.succeeded
    assert "need the kubernetes executor" in progress.error
