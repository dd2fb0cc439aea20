"""The environment the local stack gives the app and, with the Kubernetes executor, the launcher pods."""

import json
from pathlib import Path

from chalicelib.local.stack import StackOptions, stack_environment


def test_pods_get_the_embedded_aws_endpoint_they_can_reach():
    options = StackOptions(
        executor="kubernetes", data_dir=Path("/tmp/x"), pod_aws_endpoint="http://10.0.0.5:5000"
    )
    environment = stack_environment(options, "http://127.0.0.1:5000")
    assert environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert json.loads(environment["KFPS_K8S_LAUNCHER_ENV"])["AWS_ENDPOINT_URL"] == "http://10.0.0.5:5000"


def test_pods_default_to_the_stack_endpoint_and_local_runs_get_no_pod_settings():
    kubernetes = stack_environment(StackOptions(executor="kubernetes"), "http://127.0.0.1:5000")
    assert json.loads(kubernetes["KFPS_K8S_LAUNCHER_ENV"])["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    local = stack_environment(StackOptions(executor="local"), "http://127.0.0.1:5000")
    assert "KFPS_K8S_LAUNCHER_ENV" not in local
    assert local["KFPS_PIPELINE_ROOT"].endswith("pipeline_root")
