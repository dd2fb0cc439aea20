"""CreatePVC / DeletePVC as platform operations, the workspace config, and the pods' S3 settings of the local
stack's Kubernetes executor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.executors.k8s.errors import KubernetesApiError, LaunchRejected
from chalicelib.executors.k8s.manifest import build_pod
from chalicelib.executors.k8s.settings import parse_launcher_env
from chalicelib.local.stack import StackOptions, stack_settings
from chalicelib.platform_operations import (
    CREATE_PVC,
    DELETE_PVC,
    platform_operation,
    run_platform_operation,
    workspace_config,
)
from tests.executors.k8s_fake.support import attempt, task_spec


class Claims:
    """Records claim calls; `error` is raised by every call when set."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[Any, ...]] = []

    def create_pvc(self, run_id: str, namespace: str, inputs: dict[str, Any]) -> str:
        self.calls.append(("create", run_id, namespace, inputs))
        if self.error:
            raise self.error
        return f"{run_id}-{inputs['pvc_name_suffix'].lstrip('-')}"

    def create_workspace_pvc(self, run_id: str, namespace: str, workspace: dict[str, Any]) -> str:
        self.calls.append(("workspace", run_id, namespace, workspace))
        return f"{run_id}-kfp-workspace"

    def delete_pvc(self, namespace: str, name: str) -> None:
        self.calls.append(("delete", namespace, name))
        if self.error:
            raise self.error


@pytest.mark.parametrize(
    ("image", "operation"),
    [
        ("argostub/createpvc", CREATE_PVC),
        ("argostub/deletepvc:latest", DELETE_PVC),
        ("docker.io/argostub/createpvc", CREATE_PVC),
        ("python:3.11", ""),
        ("registry:5000/argostub/createpvc", ""),
        ("", ""),
    ],
)
def test_platform_operations_are_recognised_by_their_stub_image(image, operation):
    assert platform_operation({"image": image}) == operation


def test_create_pvc_outputs_the_claim_name():
    claims = Claims()
    spec = task_spec(
        container={"image": "argostub/createpvc"}, parameters={"pvc_name_suffix": "-data", "size": "1Gi"}
    )
    outcome = run_platform_operation(claims, spec, "ns")
    assert (outcome.succeeded, outcome.parameters) == (True, {"name": f"{spec.run_id}-data"})
    assert claims.calls[0][:3] == ("create", spec.run_id, "ns")


def test_delete_pvc_deletes_the_named_claim_and_needs_a_name():
    claims = Claims()
    deleted = run_platform_operation(
        claims, task_spec(container={"image": "argostub/deletepvc"}, parameters={"pvc_name": "c1"}), "ns"
    )
    missing = run_platform_operation(claims, task_spec(container={"image": "argostub/deletepvc"}), "ns")
    assert deleted.succeeded and claims.calls == [("delete", "ns", "c1")]
    assert (missing.succeeded, missing.error) == (False, "DeletePVC needs pvc_name")


def test_an_executor_without_claims_fails_the_task_with_a_reason():
    outcome = run_platform_operation(object(), task_spec(container={"image": "argostub/createpvc"}), "ns")
    assert not outcome.succeeded and "needs the kubernetes executor" in outcome.error


@pytest.mark.parametrize(
    "error", [LaunchRejected("CreatePVC needs a size"), KubernetesApiError("forbidden", 403)]
)
def test_rejected_claims_fail_the_task(error):
    spec = task_spec(container={"image": "argostub/createpvc"}, parameters={"pvc_name_suffix": "-x"})
    outcome = run_platform_operation(Claims(error), spec, "ns")
    assert not outcome.succeeded and str(error) in outcome.error


def test_server_errors_propagate_so_the_next_pass_retries():
    spec = task_spec(container={"image": "argostub/createpvc"}, parameters={"pvc_name_suffix": "-x"})
    with pytest.raises(KubernetesApiError):
        run_platform_operation(Claims(KubernetesApiError("unavailable", 503)), spec, "ns")


def test_workspace_config_comes_from_the_kubernetes_pipeline_config():
    workspace = {"size": "1Gi", "kubernetes": {"pvcSpecPatch": {"storageClassName": "standard"}}}
    platform_spec = {"platforms": {"kubernetes": {"pipelineConfig": {"workspace": workspace}}}}
    assert workspace_config(platform_spec) == workspace
    assert workspace_config(None) == {} and workspace_config({"platforms": {}}) == {}


def test_local_stack_gives_kubernetes_launcher_containers_its_s3_endpoint(tmp_path: Path):
    options = StackOptions(data_dir=tmp_path, executor="kubernetes", store="dynamodb", namespace="pods")
    app_settings = stack_settings(options, "http://127.0.0.1:5999")
    settings = app_settings.kubernetes
    pod = build_pod(attempt(), settings)

    launcher_env = dict(settings.launcher_env)
    assert launcher_env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5999" and "AWS_ACCESS_KEY_ID" in launcher_env
    assert app_settings.pipeline_root == "s3://kfps-data/artifacts"
    for container in [*pod["spec"]["initContainers"], *pod["spec"]["containers"]]:
        values = {e["name"]: e.get("value") for e in container["env"]}
        expected = None if container["name"] == "main" else "http://127.0.0.1:5999"
        assert values.get("AWS_ENDPOINT_URL") == expected
    assert stack_settings(StackOptions(data_dir=tmp_path), "http://x").kubernetes is None


def test_launcher_env_must_be_a_json_object():
    assert parse_launcher_env("") == ()
    assert parse_launcher_env(json.dumps({"B": 1, "A": "x"})) == (("A", "x"), ("B", "1"))
    with pytest.raises(ValueError):
        parse_launcher_env('["A"]')
