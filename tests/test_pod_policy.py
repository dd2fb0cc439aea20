"""The default pod policy and limits admit every valid package of KFP's v2 and v1 corpora (validation only,
nothing runs); the rules each refuse what they name, in both formats."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chalicelib.limits import Limits
from chalicelib.pod_policy import PodPolicy, PolicyViolation, check_pod_policy
from chalicelib.services.admission import spec_task_count
from chalicelib.spec import InvalidPackage, load_package

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
V2_PACKAGES = sorted(p for p in (CORPUS / "kfp-compiled" / "valid").glob("**/*") if p.is_file())
V1_PACKAGES = sorted((CORPUS / "kfp-v1-compiled").glob("*.yaml"))

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: p-}
spec:
  entrypoint: p
  templates:
  - name: p
    dag:
      tasks:
      - {name: step, template: step}
  - name: step
    container: {image: alpine, command: [echo, hi]}
"""


def _loaded(path: Path):
    try:
        return load_package(path.read_bytes(), path.name)
    except InvalidPackage:
        return None  # a package we refuse already (documented in the corpus tests)


@pytest.mark.parametrize("path", V2_PACKAGES + V1_PACKAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_package_passes_the_default_policy_and_limits(path: Path) -> None:
    package = _loaded(path)
    if package is None:
        pytest.skip("refused at load")
    check_pod_policy(package, PodPolicy())
    assert spec_task_count(package) <= Limits().max_spec_tasks
    assert len(package.to_json_bytes()) <= Limits().max_spec_bytes


def test_the_corpus_is_there() -> None:
    assert len(V2_PACKAGES) >= 80 and len(V1_PACKAGES) >= 100


def _workflow(**template_changes) -> object:
    workflow = yaml.safe_load(WORKFLOW)
    workflow["spec"]["templates"][1].update(template_changes)
    return load_package(yaml.safe_dump(workflow).encode(), "w.yaml")


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"container": {"image": "alpine", "securityContext": {"privileged": True}}}, "privileged"),
        ({"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}, "hostPath volume 'root'"),
        ({"podSpecPatch": '{"hostNetwork": true}'}, "hostNetwork"),
        ({"podSpecPatch": '{"hostIPC": true}'}, "hostIPC"),
        (
            {"sidecars": [{"name": "s", "image": "alpine", "securityContext": {"privileged": True}}]},
            "privileged",
        ),
        ({"container": {"image": "alpine", "resources": {"limits": {"cpu": "100"}}}}, "cpu limits 100"),
        (
            {"container": {"image": "alpine", "resources": {"requests": {"memory": "1Ti"}}}},
            "memory requests 1Ti",
        ),
    ],
)
def test_an_argo_template_breaking_a_rule_is_named(changes: dict, rule: str) -> None:
    with pytest.raises(PolicyViolation, match=rf"task step: {rule}"):
        check_pod_policy(_workflow(**changes), PodPolicy())


def test_a_workflow_asking_for_host_namespaces_is_refused() -> None:
    workflow = yaml.safe_load(WORKFLOW)
    workflow["spec"]["hostPID"] = True
    package = load_package(yaml.safe_dump(workflow).encode(), "w.yaml")
    with pytest.raises(PolicyViolation, match="hostPID is not allowed"):
        check_pod_policy(package, PodPolicy())
    check_pod_policy(package, PodPolicy(allow_privileged=True))


def test_allowed_privileges_and_prefixes_admit() -> None:
    privileged = _workflow(container={"image": "reg.example/alpine", "securityContext": {"privileged": True}})
    check_pod_policy(privileged, PodPolicy(allow_privileged=True, allowed_image_prefixes=("reg.example/",)))
    with pytest.raises(PolicyViolation, match="image 'alpine' is not from an allowed registry"):
        check_pod_policy(_workflow(), PodPolicy(allowed_image_prefixes=("reg.example/",)))


def test_a_placeholder_image_or_resource_is_left_to_the_executor() -> None:
    templated = _workflow(
        inputs={"parameters": [{"name": "image", "value": "x"}, {"name": "cpu", "value": "9"}]},
        container={
            "image": "{{inputs.parameters.image}}",
            "resources": {"limits": {"cpu": "{{inputs.parameters.cpu}}"}},
        },
    )
    check_pod_policy(templated, PodPolicy(allowed_image_prefixes=("reg.example/",), max_cpu="1"))
