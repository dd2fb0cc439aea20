"""Deploying with a Kubernetes namespace per team (KFP) namespace: the options are checked, each team's pod
namespace gets the reconcilers' access and a pod identity for its profile service account, and the functions
learn the template and the namespaces to watch."""

from __future__ import annotations

import pytest

from infra.functions import FUNCTIONS, environment
from infra.stage import StageError, StageOptions
from infra.template import merge_template

TEAMS = ("team-a", "team-b")


def options(**changes) -> StageOptions:
    base = {"stage": "dev", "cluster": "c", "namespace": "kubeflow"}
    return StageOptions(**{**base, **changes})


def test_team_namespaces_map_through_the_template_into_the_parameters():
    chosen = options(team_namespaces=TEAMS, pod_namespace_template="kfp-{namespace}")
    assert chosen.pod_namespaces == ("kfp-team-a", "kfp-team-b")
    parameters = chosen.parameters()
    assert parameters["PodNamespaces"] == "kfp-team-a,kfp-team-b"
    assert parameters["PodNamespaceTemplate"] == "kfp-{namespace}"
    assert parameters["ProfileServiceAccount"] == "default-editor"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"team_namespaces": TEAMS}, "--team-namespaces and --pod-namespace-template"),
        ({"pod_namespace_template": "kfp-{namespace}"}, "--team-namespaces and --pod-namespace-template"),
        ({"team_namespaces": TEAMS, "pod_namespace_template": "kfp"}, "must contain {namespace}"),
        (
            {"team_namespaces": ("Team_A",), "pod_namespace_template": "{namespace}"},
            "'Team_A' is not a valid",
        ),
        ({"profile_service_account": "Bad SA"}, "--profile-service-account"),
    ],
)
def test_bad_team_options_are_refused_naming_the_option(changes, message):
    with pytest.raises(StageError, match=message):
        options(**changes)


def test_each_team_pod_namespace_gets_access_and_a_pod_identity():
    resources = merge_template("dev", ("kfp-team-a", "kfp-team-b"))["Resources"]
    for entry in (r for r in resources.values() if r.get("Type") == "AWS::EKS::AccessEntry"):
        (policy,) = entry["Properties"]["AccessPolicies"]
        assert policy["AccessScope"]["Namespaces"] == [{"Ref": "Namespace"}, "kfp-team-a", "kfp-team-b"]
    identities = {
        r["Properties"]["Namespace"] if isinstance(r["Properties"]["Namespace"], str) else "stage": r[
            "Properties"
        ]
        for r in resources.values()
        if r.get("Type") == "AWS::EKS::PodIdentityAssociation"
    }
    assert set(identities) == {"stage", "kfp-team-a", "kfp-team-b"}
    assert identities["kfp-team-a"]["ServiceAccount"] == {"Ref": "ProfileServiceAccount"}
    assert identities["kfp-team-a"]["RoleArn"] == {"Fn::GetAtt": ["PodRole", "Arn"]}


def test_without_teams_the_template_is_as_before():
    resources = merge_template("dev")["Resources"]
    assert sum(r.get("Type") == "AWS::EKS::PodIdentityAssociation" for r in resources.values()) == 1


def test_every_function_learns_the_template_and_the_namespaces_to_watch():
    for function in FUNCTIONS:
        variables = environment(function)
        assert variables["KFPS_K8S_NAMESPACE_TEMPLATE"] == {"Ref": "PodNamespaceTemplate"}
        assert variables["KFPS_K8S_NAMESPACES"] == {"Ref": "PodNamespaces"}
