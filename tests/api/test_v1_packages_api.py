"""KFP v1 packages through the v2beta1 API with the unmodified kfp 2.17.3 client: upload, the version's
`pipeline_spec` (the workflow itself), runs from a version or from an inline workflow, and bad workflows
refused with a 400 that names the problem while nothing is stored."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from tests.spec.test_argo_packages import SMALL, corpus_root

V1_CORPUS = corpus_root() / "kfp-v1-compiled"


def _write(tmp_path: Path, workflow: dict, name: str = "pipeline.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(workflow))
    return path


def test_upload_of_a_v1_package_keeps_the_workflow_as_the_versions_pipeline_spec(
    kfp_client, tmp_path, unique
):
    path = _write(tmp_path, SMALL)
    pipeline = kfp_client.upload_pipeline(str(path), pipeline_name=f"v1-small-{unique}")
    (version,) = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions
    fetched = kfp_client.get_pipeline_version(pipeline.pipeline_id, version.pipeline_version_id)
    assert fetched.pipeline_spec == SMALL
    assert fetched.description == "two steps"


def test_v1_corpus_files_upload_through_the_client(kfp_client, unique):
    if not V1_CORPUS.is_dir():
        pytest.skip("no v1 corpus")
    for path in sorted(V1_CORPUS.glob("*.yaml"))[:12]:
        pipeline = kfp_client.upload_pipeline(str(path), pipeline_name=f"{path.stem}-{unique}")
        assert pipeline.pipeline_id


def test_a_run_from_an_inline_workflow_validates_its_parameters(api, unique):
    body = {
        "display_name": f"inline-{unique}",
        "pipeline_spec": SMALL,
        "runtime_config": {"parameters": {"text": "hi"}},
    }
    status, run = api.post("/runs", body)
    assert status == 200, run
    status, fetched = api.get(f"/runs/{run['run_id']}")
    assert fetched["pipeline_spec"] == SMALL
    assert fetched["runtime_config"]["parameters"] == {"text": "hi"}
    status, refused = api.post(
        "/runs", {**body, "runtime_config": {"parameters": {"count": "lots", "text": "x"}}}
    )
    assert status == 400 and "parameter 'count' expects NUMBER_INTEGER" in refused["message"]
    status, refused = api.post("/runs", {**body, "runtime_config": {"parameters": {}}})
    assert status == 400 and "missing required parameter 'text'" in refused["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda w: w["spec"]["templates"].append({"name": "x", "suspend": {}}),
            "template 'x' is a suspend template",
        ),
        (
            lambda w: w["spec"]["templates"][0]["dag"]["tasks"][0].update(template="gone"),
            "calls template 'gone'",
        ),
        (
            lambda w: w["spec"]["templates"][0]["dag"]["tasks"][0].update(dependencies=["again"]),
            "dependency cycle: again -> say -> again",
        ),
        (
            lambda w: w["spec"]["templates"][1]["container"].update(args=["{{inputs.parameters.nope}}"]),
            "input parameter 'nope' is not declared",
        ),
        (
            lambda w: w["spec"]["templates"][0]["dag"]["tasks"][1].update(when="1 >"),
            "has a 'when' that does not parse",
        ),
    ],
)
def test_bad_workflows_are_400_naming_the_problem_and_nothing_is_stored(
    api, kfp_client, tmp_path, unique, change, message
):
    workflow = copy.deepcopy(SMALL)
    change(workflow)
    name = f"bad-v1-{unique}"
    status, body = api.upload(f"/pipelines/upload?name={name}", yaml.safe_dump(workflow).encode(), "bad.yaml")
    assert status == 400 and message in body["error_message"], body
    status, body = api.post("/runs", {"display_name": name, "pipeline_spec": workflow})
    assert status == 400 and message in body["message"], body
    listed = kfp_client.list_pipelines(
        filter=json.dumps(
            {"predicates": [{"operation": "EQUALS", "key": "display_name", "string_value": name}]}
        )
    )
    assert not listed.pipelines
    runs = kfp_client.list_runs(
        filter=json.dumps(
            {"predicates": [{"operation": "EQUALS", "key": "display_name", "string_value": name}]}
        )
    )
    assert not runs.runs
