"""The settings the local stack gives the app and, with the Kubernetes executor, the launcher pods."""

from pathlib import Path

import pytest

from chalicelib.local.stack import LocalStack, StackOptions, stack_settings


def test_pods_get_the_embedded_aws_endpoint_they_can_reach():
    options = StackOptions(
        executor="kubernetes",
        store="dynamodb",
        data_dir=Path("/tmp/x"),
        pod_aws_endpoint="http://10.0.0.5:5000",
    )
    settings = stack_settings(options, "http://127.0.0.1:5000")
    assert settings.aws.endpoint_url == "http://127.0.0.1:5000"
    assert dict(settings.kubernetes.launcher_env)["AWS_ENDPOINT_URL"] == "http://10.0.0.5:5000"
    assert dict(settings.kubernetes.launcher_env)["AWS_ACCESS_KEY_ID"] == "testing"


def test_pods_default_to_the_stack_endpoint_and_local_runs_get_no_pod_settings():
    kubernetes = stack_settings(
        StackOptions(executor="kubernetes", store="dynamodb"), "http://127.0.0.1:5000"
    )
    assert dict(kubernetes.kubernetes.launcher_env)["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    local = stack_settings(StackOptions(executor="local"))
    assert local.kubernetes is None
    assert local.default_pipeline_root.endswith("pipeline_root")


def test_the_default_stack_uses_the_embedded_store_without_aws():
    settings = stack_settings(StackOptions(data_dir=Path("/tmp/kfps-x")))
    assert settings.store == "embedded" and settings.local_data_dir == "/tmp/kfps-x"
    assert settings.aws.endpoint_url == "" and settings.scheduler_target == ""


def test_the_kubernetes_executor_needs_the_moto_backed_store():
    with pytest.raises(ValueError, match="moto-backed"):
        LocalStack(StackOptions(executor="kubernetes"))
