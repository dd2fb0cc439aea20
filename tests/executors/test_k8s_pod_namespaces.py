"""Multi-user pods on Kubernetes: with `KFPS_K8S_NAMESPACE_TEMPLATE`, a run's pods go to the Kubernetes namespace
mapped from its KFP namespace, as that namespace's service account (Kubeflow profiles' `default-editor`), and
the reconciler follows them there with one pod list across namespaces."""

import uuid

import pytest
from kfp import dsl

from tests.conftest import require_moto_backed_stack
from tests.executors.k8s_fake.kubelet import mount_namespaces_available
from tests.executors.k8s_fake.stack import kubernetes_stack
from tests.executors.test_k8s_kfp_client import wait_for_run

pytestmark = pytest.mark.timeout(600)
TEMPLATE = "kfp-{namespace}"


@dsl.component
def double(x: int) -> int:
    return x * 2


@dsl.pipeline(name="k8s-per-namespace")
def double_twice(x: int = 3):
    double(x=double(x=x).output)


@pytest.fixture(scope="module")
def per_namespace_stack(local_stack, tmp_path_factory):
    require_moto_backed_stack(local_stack)
    if not mount_namespaces_available():
        pytest.skip("the process kubelet needs root and `unshare --mount` to mount pod volumes")
    changes = {"pod_namespace_template": TEMPLATE, "multi_user": False}
    with local_stack.background_paused():
        with kubernetes_stack(local_stack, tmp_path_factory.mktemp("k8s-ns"), changes) as stack:
            yield stack


def test_a_runs_pods_run_in_its_namespaces_kubernetes_namespace(per_namespace_stack, kfp_client):
    experiment = f"ns-{uuid.uuid4().hex[:6]}"
    created = kfp_client.create_run_from_pipeline_func(
        double_twice, arguments={"x": 3}, experiment_name=experiment, namespace="team-a", enable_caching=False
    )
    run = wait_for_run(kfp_client, created.run_id)
    assert run["state"] == "SUCCEEDED", run
    pods = per_namespace_stack.pods_created_for(created.run_id)
    assert len(pods) == 2
    assert {pod["metadata"]["namespace"] for pod in pods} == {"kfp-team-a"}
    assert {pod["spec"].get("serviceAccountName") for pod in pods} == {"default-editor"}
