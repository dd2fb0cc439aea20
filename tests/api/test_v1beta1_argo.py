"""KFP v1 packages (Argo Workflows) through the v1beta1 API in process: uploaded with their workflow arguments as
parameters and their template as YAML, runs from `pipeline_spec.workflow_manifest`, and bad workflows refused
with a v1 error naming the problem while nothing is stored."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from tests.spec.test_argo_packages import SMALL


def _experiment(api_v1, unique: str) -> str:
    status, body = api_v1.post("/experiments", {"name": f"argo-{unique}"})
    assert status == 200, body
    return body["id"]


def _run_body(experiment_id: str, workflow: dict, parameters: list) -> dict:
    return {
        "name": "argo-run",
        "pipeline_spec": {"workflow_manifest": json.dumps(workflow), "parameters": parameters},
        "resource_references": [
            {"key": {"type": "EXPERIMENT", "id": experiment_id}, "relationship": "OWNER"}
        ],
    }


def test_an_uploaded_workflow_shows_its_arguments_and_its_template(api_v1, unique):
    status, pipeline = api_v1.upload(
        f"/pipelines/upload?name=argo-{unique}", yaml.safe_dump(SMALL).encode(), "small.yaml"
    )
    assert status == 200, pipeline
    assert pipeline["parameters"] == [{"name": "count", "value": "3"}, {"name": "text"}]
    template = api_v1.get(f"/pipelines/{pipeline['id']}/templates")[1]["template"]
    assert yaml.safe_load(template) == SMALL


def test_a_run_from_a_workflow_manifest_keeps_the_workflow_and_its_text_parameters(api, api_v1, unique):
    experiment_id = _experiment(api_v1, unique)
    parameters = [{"name": "text", "value": "hi"}, {"name": "count", "value": "2"}]
    status, detail = api_v1.post("/runs", _run_body(experiment_id, SMALL, parameters))
    assert status == 200, detail
    run = detail["run"]
    assert json.loads(run["pipeline_spec"]["workflow_manifest"]) == SMALL
    assert "pipeline_manifest" not in run["pipeline_spec"]
    manifest = json.loads(detail["pipeline_runtime"]["workflow_manifest"])
    assert manifest["metadata"]["name"].startswith("small-") and manifest["metadata"]["uid"] == run["id"]
    assert manifest["spec"]["entrypoint"] == "main"
    assert manifest["spec"]["arguments"]["parameters"] == [
        {"name": "count", "value": "2"},
        {"name": "text", "value": "hi"},
    ]
    v2 = api.get(f"/runs/{run['id']}")[1]
    assert v2["runtime_config"]["parameters"] == {"text": "hi", "count": "2"}
    assert v2["pipeline_spec"] == SMALL


def _suspend_say(workflow: dict) -> None:
    say = workflow["spec"]["templates"][1]
    say.pop("container")
    say["suspend"] = {}


@pytest.mark.parametrize(
    ("change", "parameters", "message"),
    [
        (_suspend_say, [{"name": "text", "value": "x"}], "template 'say'"),
        (lambda w: w["spec"].update(entrypoint="nowhere"), [{"name": "text", "value": "x"}], "nowhere"),
        (lambda w: None, [{"name": "count", "value": "x"}], "count"),
        (lambda w: None, [], "text"),
    ],
)
def test_bad_workflows_and_parameters_are_400_and_store_nothing(api_v1, unique, change, parameters, message):
    experiment_id = _experiment(api_v1, unique)
    workflow = copy.deepcopy(SMALL)
    change(workflow)
    status, body = api_v1.post("/runs", _run_body(experiment_id, workflow, parameters))
    assert status == 400 and message in body["error"], body
    scope = f"resource_reference_key.type=EXPERIMENT&resource_reference_key.id={experiment_id}"
    assert api_v1.get(f"/runs?{scope}")[1] == {}
