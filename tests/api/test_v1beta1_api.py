"""The v1beta1 API in process: v1 shapes, v1 and v2 views of the same objects agreeing, bad inputs refused with
a v1 error body naming the field and nothing written, unknown ids 404."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import yaml

from tests.support.specs import HELLO

SPEC = yaml.safe_load(HELLO)
TYPED = dict(
    SPEC,
    root=dict(
        SPEC["root"],
        inputDefinitions={
            "parameters": {
                "name": {"parameterType": "STRING", "defaultValue": "world", "isOptional": True},
                "count": {"parameterType": "NUMBER_INTEGER"},
                "flags": {"parameterType": "LIST", "isOptional": True, "defaultValue": []},
            }
        },
    ),
)
TYPED_YAML = yaml.safe_dump(TYPED).encode()


def _name_filter(name: str) -> str:
    return quote(json.dumps({"predicates": [{"op": 1, "key": "name", "stringValue": name}]}))


def _assert_v1_error(status: int, body: dict, expected_status: int, *words: str) -> None:
    assert status == expected_status, body
    assert set(body) == {"error", "code", "message", "details"}, body
    assert body["error"] == body["message"]
    for word in words:
        assert word in body["message"], body


def _experiment(api_v1, unique: str) -> dict:
    status, body = api_v1.post("/experiments", {"name": f"v1-{unique}", "description": "d"})
    assert status == 200, body
    return body


def _upload(api_v1, name: str, data: bytes = TYPED_YAML) -> dict:
    status, body = api_v1.upload(f"/pipelines/upload?name={name}&description=pd", data, "p.yaml")
    assert status == 200, body
    return body


# ---------------------------------------------------------------- experiments


def test_an_experiment_made_with_v1_is_seen_by_v2_and_back(api, api_v1, unique):
    made = _experiment(api_v1, unique)
    assert made["storage_state"] == "STORAGESTATE_AVAILABLE" and made["created_at"]
    status, seen = api.get(f"/experiments/{made['id']}")
    assert status == 200 and seen["display_name"] == f"v1-{unique}" and seen["description"] == "d"

    _, v2 = api.post("/experiments", {"display_name": f"v2-{unique}"})
    status, listed = api_v1.get(f"/experiments?filter={_name_filter(f'v2-{unique}')}")
    assert status == 200 and [e["id"] for e in listed["experiments"]] == [v2["experiment_id"]]


def test_archiving_through_v1_archives_for_v2(api, api_v1, unique):
    made = _experiment(api_v1, unique)
    assert api_v1.post(f"/experiments/{made['id']}:archive") == (200, {})
    assert api.get(f"/experiments/{made['id']}")[1]["storage_state"] == "ARCHIVED"
    assert api_v1.get(f"/experiments/{made['id']}")[1]["storage_state"] == "STORAGESTATE_ARCHIVED"
    assert api_v1.post(f"/experiments/{made['id']}:unarchive") == (200, {})
    assert api.get(f"/experiments/{made['id']}")[1]["storage_state"] == "AVAILABLE"
    assert api_v1.delete(f"/experiments/{made['id']}") == (200, {})
    assert api.get(f"/experiments/{made['id']}")[0] == 404


def test_experiments_in_a_namespace_are_listed_by_their_namespace_reference(api_v1, unique):
    namespace = f"team-{unique}"
    reference = {"key": {"type": "NAMESPACE", "id": namespace}, "relationship": "OWNER"}
    status, made = api_v1.post("/experiments", {"name": "in-ns", "resource_references": [reference]})
    assert status == 200 and made["resource_references"] == [reference]
    scope = f"resource_reference_key.type=NAMESPACE&resource_reference_key.id={namespace}"
    assert [e["id"] for e in api_v1.get(f"/experiments?{scope}")[1]["experiments"]] == [made["id"]]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, ("experiment.name",)),
        ({"name": 3}, ("experiment.name",)),
        ({"name": "x", "resource_references": [{"key": {"type": "PIPELINE", "id": "p"}}]}, ("key.type",)),
        ({"name": "x", "resource_references": "ns"}, ("resource_references",)),
        ({"name": "x", "colour": "red"}, ("colour",)),
    ],
)
def test_bad_experiment_bodies_are_400_naming_the_field(api_v1, body, words):
    before = api_v1.get("/experiments?page_size=200")[1].get("total_size", 0)
    status, answer = api_v1.post("/experiments", body)
    _assert_v1_error(status, answer, 400, *words)
    assert api_v1.get("/experiments?page_size=200")[1].get("total_size", 0) == before


def test_unknown_ids_are_404_in_the_v1_shape(api_v1):
    for path in (
        "/experiments/nope",
        "/pipelines/nope",
        "/pipeline_versions/nope",
        "/runs/nope",
        "/jobs/nope",
    ):
        status, body = api_v1.get(path)
        _assert_v1_error(status, body, 404)
        assert body["code"] == 5


def test_a_taken_experiment_name_is_409(api_v1, unique):
    _experiment(api_v1, unique)
    status, body = api_v1.post("/experiments", {"name": f"v1-{unique}"})
    _assert_v1_error(status, body, 409)


def test_bad_list_queries_are_400(api_v1):
    _assert_v1_error(*api_v1.get("/experiments?sort_by=colour"), 400, "colour")
    _assert_v1_error(
        *api_v1.get("/runs?resource_reference_key.type=PIPELINE&resource_reference_key.id=x"), 400
    )
    _assert_v1_error(*api_v1.get("/runs?resource_reference_key.type=EXPERIMENT"), 400, "id")
    _assert_v1_error(*api_v1.get("/pipeline_versions"), 400, "resource_key")


# ---------------------------------------------------------------- pipelines and versions


def test_upload_shows_the_default_version_and_its_parameters(api, api_v1, unique):
    pipeline = _upload(api_v1, f"p-{unique}")
    assert pipeline["name"] == f"p-{unique}" and pipeline["description"] == "pd"
    names = {p["name"]: p.get("value") for p in pipeline["parameters"]}
    assert names == {"name": "world", "count": None, "flags": "[]"}
    assert pipeline["default_version"]["parameters"] == pipeline["parameters"]
    _, v2 = api.get(f"/pipelines/{pipeline['id']}")
    assert v2["name"] == f"p-{unique}"
    versions = api.get(f"/pipelines/{pipeline['id']}/versions")[1]["pipeline_versions"]
    assert [v["pipeline_version_id"] for v in versions] == [pipeline["default_version"]["id"]]
    status, found = api_v1.get(f"/namespaces/-/pipelines/p-{unique}")
    assert status == 200 and found["id"] == pipeline["id"]
    status, listed = api_v1.get(f"/pipelines?filter={_name_filter(f'p-{unique}')}")
    assert [p["id"] for p in listed["pipelines"]] == [pipeline["id"]]


def test_versions_by_id_templates_and_the_default_version(api_v1, unique):
    pipeline = _upload(api_v1, f"p-{unique}")
    first = pipeline["default_version"]
    status, second = api_v1.upload(
        f"/pipelines/upload_version?name=second&pipelineid={pipeline['id']}",
        yaml.safe_dump(SPEC).encode(),
        "s.yaml",
    )
    assert status == 200, second
    assert second["resource_references"] == [
        {"key": {"type": "PIPELINE", "id": pipeline["id"]}, "relationship": "OWNER"}
    ]
    assert api_v1.get(f"/pipelines/{pipeline['id']}")[1]["default_version"]["id"] == second["id"]
    scope = f"resource_key.type=PIPELINE&resource_key.id={pipeline['id']}"
    listed = api_v1.get(f"/pipeline_versions?{scope}&sort_by=created_at")[1]
    assert [v["id"] for v in listed["versions"]] == [first["id"], second["id"]]
    assert api_v1.get(f"/pipeline_versions/{first['id']}")[1]["name"] == f"p-{unique}"

    template = api_v1.get(f"/pipeline_versions/{first['id']}/templates")[1]["template"]
    assert yaml.safe_load(template) == TYPED
    assert yaml.safe_load(api_v1.get(f"/pipelines/{pipeline['id']}/templates")[1]["template"]) == SPEC

    assert api_v1.post(f"/pipelines/{pipeline['id']}/default_version/{second['id']}") == (200, {})
    status, body = api_v1.post(f"/pipelines/{pipeline['id']}/default_version/{first['id']}")
    _assert_v1_error(status, body, 400, "latest")

    assert api_v1.delete(f"/pipeline_versions/{second['id']}") == (200, {})
    assert api_v1.get(f"/pipeline_versions/{second['id']}")[0] == 404
    assert api_v1.delete(f"/pipelines/{pipeline['id']}") == (200, {})
    assert api_v1.get(f"/pipelines/{pipeline['id']}")[0] == 404
    assert api_v1.get(f"/pipeline_versions/{first['id']}")[0] == 404


def test_bad_uploads_are_400_and_store_nothing(api_v1, unique):
    before = api_v1.get("/pipelines?page_size=200")[1].get("total_size", 0)
    status, body = api_v1.upload(f"/pipelines/upload?name=bad-{unique}", b"root: [unclosed", "bad.yaml")
    _assert_v1_error(status, body, 400)
    status, body = api_v1.upload("/pipelines/upload_version?name=v", TYPED_YAML, "v.yaml")
    _assert_v1_error(status, body, 400, "pipelineid")
    status, body = api_v1.upload("/pipelines/upload_version?name=v&pipelineid=nope", TYPED_YAML, "v.yaml")
    _assert_v1_error(status, body, 400, "nope")
    assert api_v1.get("/pipelines?page_size=200")[1].get("total_size", 0) == before


def test_a_version_body_needs_its_pipeline_and_a_package_url(api_v1, unique):
    pipeline = _upload(api_v1, f"p-{unique}")
    status, body = api_v1.post(
        "/pipeline_versions", {"name": "v", "package_url": {"pipeline_url": "s3://b/k"}}
    )
    _assert_v1_error(status, body, 400, "PIPELINE")
    reference = {"key": {"type": "PIPELINE", "id": pipeline["id"]}, "relationship": "OWNER"}
    status, body = api_v1.post("/pipeline_versions", {"name": "v", "resource_references": [reference]})
    _assert_v1_error(status, body, 400, "package_url")
    status, body = api_v1.post(
        "/pipeline_versions",
        {"name": "v", "resource_references": [reference], "package_url": {"pipeline_url": "ftp://x/y"}},
    )
    _assert_v1_error(status, body, 400, "ftp://x/y")


# ---------------------------------------------------------------- runs


def _run_body(experiment_id: str, **spec) -> dict:
    return {
        "name": "r",
        "pipeline_spec": spec,
        "resource_references": [
            {"key": {"type": "EXPERIMENT", "id": experiment_id}, "relationship": "OWNER"}
        ],
    }


def test_a_run_from_a_manifest_takes_v1_text_parameters_as_typed_values(api, api_v1, unique):
    experiment = _experiment(api_v1, unique)
    body = _run_body(
        experiment["id"],
        pipeline_manifest=json.dumps(TYPED),
        parameters=[{"name": "count", "value": "3"}, {"name": "flags", "value": '["a"]'}],
    )
    status, detail = api_v1.post("/runs", body)
    assert status == 200, detail
    run = detail["run"]
    assert run["status"] == "Pending" and run["storage_state"] == "STORAGESTATE_AVAILABLE"
    assert {"key": {"type": "EXPERIMENT", "id": experiment["id"]}, "relationship": "OWNER"} in run[
        "resource_references"
    ]
    assert api.get(f"/runs/{run['id']}")[1]["runtime_config"]["parameters"] == {"count": 3, "flags": ["a"]}
    manifest = json.loads(detail["pipeline_runtime"]["workflow_manifest"])
    assert manifest["kind"] == "Workflow" and manifest["status"]["phase"] == "Pending"
    assert manifest["spec"]["arguments"]["parameters"] == [
        {"name": "count", "value": "3"},
        {"name": "flags", "value": '["a"]'},
    ]

    got = api_v1.get(f"/runs/{run['id']}")[1]
    assert json.loads(got["run"]["pipeline_spec"]["pipeline_manifest"]) == TYPED
    scope = f"resource_reference_key.type=EXPERIMENT&resource_reference_key.id={experiment['id']}"
    assert [r["id"] for r in api_v1.get(f"/runs?{scope}")[1]["runs"]] == [run["id"]]


def test_a_run_from_a_pipeline_uses_its_default_version_and_from_a_version_that_version(api, api_v1, unique):
    experiment = _experiment(api_v1, unique)
    pipeline = _upload(api_v1, f"p-{unique}")
    _, second = api_v1.upload(
        f"/pipelines/upload_version?name=second&pipelineid={pipeline['id']}",
        yaml.safe_dump(SPEC).encode(),
        "s.yaml",
    )
    status, detail = api_v1.post("/runs", _run_body(experiment["id"], pipeline_id=pipeline["id"]))
    assert status == 200, detail
    reference = api.get(f"/runs/{detail['run']['id']}")[1]["pipeline_version_reference"]
    assert reference == {"pipeline_id": pipeline["id"], "pipeline_version_id": second["id"]}

    body = _run_body(experiment["id"], parameters=[{"name": "count", "value": "1"}])
    first_id = pipeline["default_version"]["id"]
    body["resource_references"].append(
        {"key": {"type": "PIPELINE_VERSION", "id": first_id}, "relationship": "CREATOR"}
    )
    status, detail = api_v1.post("/runs", body)
    assert status == 200, detail
    assert (
        api.get(f"/runs/{detail['run']['id']}")[1]["pipeline_version_reference"]["pipeline_version_id"]
        == first_id
    )
    assert {"key": {"type": "PIPELINE_VERSION", "id": first_id}, "relationship": "CREATOR"} in detail["run"][
        "resource_references"
    ]


@pytest.mark.parametrize(
    ("spec", "words", "expected"),
    [
        ({"workflow_manifest": "{not json"}, ("run.pipeline_spec.workflow_manifest",), 400),
        ({"pipeline_manifest": json.dumps(TYPED)}, ("count",), 400),
        (
            {"pipeline_manifest": json.dumps(TYPED), "parameters": [{"name": "count", "value": "many"}]},
            ("count", "NUMBER_INTEGER"),
            400,
        ),
        ({"pipeline_manifest": json.dumps(TYPED), "pipeline_id": "p"}, ("not both",), 400),
        ({"pipeline_manifest": json.dumps({"root": {}})}, ("run.pipeline_spec.pipeline_manifest",), 400),
        ({}, ("workflow_manifest",), 400),
        ({"pipeline_id": "no-such-pipeline"}, (), 404),
        (
            {"pipeline_manifest": json.dumps(SPEC), "parameters": [{"name": "x"}, {"name": "x"}]},
            ("twice",),
            400,
        ),
        ({"pipeline_manifest": json.dumps(SPEC), "colour": 1}, ("colour",), 400),
    ],
)
def test_bad_runs_are_refused_naming_the_field_and_store_nothing(api_v1, unique, spec, words, expected):
    experiment = _experiment(api_v1, unique)
    status, body = api_v1.post("/runs", _run_body(experiment["id"], **spec))
    _assert_v1_error(status, body, expected, *words)
    scope = f"resource_reference_key.type=EXPERIMENT&resource_reference_key.id={experiment['id']}"
    assert api_v1.get(f"/runs?{scope}")[1] == {}


def test_a_run_in_an_unknown_experiment_is_404_and_needs_a_name(api_v1):
    status, body = api_v1.post("/runs", _run_body("no-such-experiment", pipeline_manifest=json.dumps(SPEC)))
    _assert_v1_error(status, body, 404)
    body = _run_body("x", pipeline_manifest=json.dumps(SPEC))
    body["name"] = " "
    _assert_v1_error(*api_v1.post("/runs", body), 400, "run.name")


def test_run_actions_through_v1_are_seen_by_v2(api, api_v1, unique):
    experiment = _experiment(api_v1, unique)
    run = api_v1.post("/runs", _run_body(experiment["id"], pipeline_manifest=json.dumps(SPEC)))[1]["run"]
    assert api_v1.post(f"/runs/{run['id']}:archive") == (200, {})
    assert api.get(f"/runs/{run['id']}")[1]["storage_state"] == "ARCHIVED"
    archived = quote(
        json.dumps(
            {"predicates": [{"op": "EQUALS", "key": "storage_state", "stringValue": "STORAGESTATE_ARCHIVED"}]}
        )
    )
    assert run["id"] in [r["id"] for r in api_v1.get(f"/runs?filter={archived}")[1]["runs"]]
    assert api_v1.post(f"/runs/{run['id']}:unarchive") == (200, {})
    assert api_v1.post(f"/runs/{run['id']}/terminate") == (200, {})
    assert api_v1.post(f"/runs/{run['id']}/terminate") == (200, {})  # idempotent
    assert api_v1.get(f"/runs/{run['id']}")[1]["run"]["status"] in ("Terminating", "Failed")
    assert api_v1.delete(f"/runs/{run['id']}") == (200, {})
    assert api_v1.get(f"/runs/{run['id']}")[0] == 404
    _assert_v1_error(*api_v1.post("/runs/nope/retry"), 404)
    _assert_v1_error(*api_v1.post(f"/runs/{run['id']}:explode"), 404)


# ---------------------------------------------------------------- jobs


def test_a_job_is_a_recurring_run_for_v2(api, api_v1, unique):
    experiment = _experiment(api_v1, unique)
    body = _run_body(experiment["id"], pipeline_manifest=json.dumps(SPEC))
    body.update(
        trigger={"periodic_schedule": {"interval_second": "3600"}},
        max_concurrency="2",
        enabled=False,
        no_catchup=True,
    )
    status, job = api_v1.post("/jobs", body)
    assert status == 200, job
    assert job["mode"] == "DISABLED" and job["enabled"] is False and job["max_concurrency"] == "2"
    v2 = api.get(f"/recurringruns/{job['id']}")[1]
    assert v2["status"] == "DISABLED" and v2["experiment_id"] == experiment["id"] and v2["no_catchup"] is True
    assert api_v1.post(f"/jobs/{job['id']}/enable") == (200, {})
    assert api.get(f"/recurringruns/{job['id']}")[1]["status"] == "ENABLED"
    assert api_v1.post(f"/jobs/{job['id']}/disable") == (200, {})
    assert api_v1.get(f"/jobs/{job['id']}")[1]["mode"] == "DISABLED"
    scope = f"resource_reference_key.type=EXPERIMENT&resource_reference_key.id={experiment['id']}"
    assert [j["id"] for j in api_v1.get(f"/jobs?{scope}")[1]["jobs"]] == [job["id"]]
    assert api_v1.delete(f"/jobs/{job['id']}") == (200, {})
    assert api.get(f"/recurringruns/{job['id']}")[0] == 404


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"trigger": {}}, ("job.trigger",)),
        (
            {
                "trigger": {
                    "cron_schedule": {"cron": "0 0 * * * *"},
                    "periodic_schedule": {"interval_second": "60"},
                }
            },
            ("exactly one",),
        ),
        ({"trigger": {"cron_schedule": {"cron": "not a cron"}}}, ("job.trigger",)),
        ({"max_concurrency": "0"}, ("job.max_concurrency",)),
        ({"enabled": "yes"}, ("job.enabled",)),
        ({"mode": "ENABLED", "enabled": False}, ("disagree",)),
    ],
)
def test_bad_jobs_are_400_naming_the_field_and_store_nothing(api_v1, unique, changes, words):
    experiment = _experiment(api_v1, unique)
    body = _run_body(experiment["id"], pipeline_manifest=json.dumps(SPEC))
    body["trigger"] = {"cron_schedule": {"cron": "0 0 * * * *"}}
    body.update(changes)
    _assert_v1_error(*api_v1.post("/jobs", body), 400, *words)
    scope = f"resource_reference_key.type=EXPERIMENT&resource_reference_key.id={experiment['id']}"
    assert api_v1.get(f"/jobs?{scope}")[1] == {}
