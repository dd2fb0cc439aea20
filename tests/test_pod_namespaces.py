"""Where a run's pods go: one Kubernetes namespace for everything, or (multi-user, `KFPS_K8S_NAMESPACE_TEMPLATE`)
one per KFP namespace with that namespace's service account."""

import pytest

from chalicelib.settings import Settings


def test_without_a_template_every_pod_runs_in_the_stages_namespace():
    settings = Settings.from_env({"KFPS_NAMESPACE": "kubeflow"})
    assert settings.pod_namespace("team-a") == "kubeflow"
    assert settings.pod_service_account("team-a", "") == ""
    assert settings.pod_service_account("team-a", "runner") == "runner"


def test_a_template_maps_each_kfp_namespace_and_its_service_account():
    settings = Settings.from_env(
        {"KFPS_NAMESPACE": "kubeflow", "KFPS_K8S_NAMESPACE_TEMPLATE": "kfp-{namespace}"}
    )
    assert settings.pod_namespace("team-a") == "kfp-team-a"
    assert settings.pod_namespace("") == "kubeflow"
    assert settings.pod_service_account("team-a", "") == "default-editor"
    assert settings.pod_service_account("team-a", "trainer") == "trainer"
    assert settings.pod_service_account("", "") == ""


@pytest.mark.parametrize("template", ["kfp", "{name}", "{namespace}-{other}"])
def test_a_template_without_the_one_placeholder_is_refused(template):
    with pytest.raises(ValueError, match="KFPS_K8S_NAMESPACE_TEMPLATE"):
        Settings.from_env({"KFPS_K8S_NAMESPACE_TEMPLATE": template})
