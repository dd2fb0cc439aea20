from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import yaml

from chalicelib.store.records import moved_to
from chalicelib.timestamps import now_text
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
                "ratio": {"parameterType": "NUMBER_DOUBLE", "isOptional": True, "defaultValue": 0.5},
            }
        },
    ),
)


def _experiment(api, unique: str) -> str:
    return api.post("/experiments", {"display_name": f"runs-{unique}"})[1]["experiment_id"]


def _runs_named(api, eid: str, name: str) -> list:
    flt = quote(json.dumps({"predicates": [{"operation": 1, "key": "display_name", "stringValue": name}]}))
    return api.get(f"/runs?experiment_id={eid}&filter={flt}")[1].get("runs", [])


def test_create_run_from_spec_is_pending_with_snapshot(api, unique):
    eid = _experiment(api, unique)
    status, run = api.post(
        "/runs",
        {
            "experiment_id": eid,
            "display_name": "r1",
            "pipeline_spec": TYPED,
            "runtime_config": {"parameters": {"count": 3}},
        },
    )
    assert status == 200, run
    assert run["state"] == "PENDING" and run["experiment_id"] == eid
    assert run["runtime_config"]["parameters"] == {"count": 3}
    status, got = api.get(f"/runs/{run['run_id']}")
    assert got["pipeline_spec"]["pipelineInfo"]["name"] == "hello-pipeline"
    assert got["state_history"][0]["state"] == "PENDING"


def test_run_without_experiment_goes_to_default(api):
    status, run = api.post("/runs", {"display_name": "r-default", "pipeline_spec": SPEC})
    assert status == 200
    _, experiment = api.get(f"/experiments/{run['experiment_id']}")
    assert experiment["display_name"] == "Default"
    assert api.delete(f"/experiments/{run['experiment_id']}")[0] == 409


def test_run_from_version_reference_and_latest_version(api, unique):
    _, pipeline = api.upload(f"/pipelines/upload?name=ref-{unique}", HELLO.encode(), "a.yaml")
    pid = pipeline["pipeline_id"]
    _, versions = api.get(f"/pipelines/{pid}/versions")
    vid = versions["pipeline_versions"][0]["pipeline_version_id"]
    status, run = api.post(
        "/runs",
        {
            "display_name": "by-ref",
            "pipeline_version_reference": {"pipeline_id": pid, "pipeline_version_id": vid},
        },
    )
    assert status == 200, run
    assert run["pipeline_version_reference"] == {"pipeline_id": pid, "pipeline_version_id": vid}
    status, latest = api.post(
        "/runs", {"display_name": "latest", "pipeline_version_reference": {"pipeline_id": pid}}
    )
    assert status == 200 and latest["pipeline_version_reference"]["pipeline_version_id"] == vid


def test_bad_runs_are_400_and_store_nothing(api, unique):
    eid = _experiment(api, unique)
    base = {"experiment_id": eid, "display_name": "bad", "pipeline_spec": TYPED}
    cases = [
        (dict(base, runtime_config={"parameters": {"count": "three"}}), "count"),
        (dict(base, runtime_config={"parameters": {"count": 1, "nope": 1}}), "nope"),
        (dict(base, runtime_config={"parameters": {}}), "count"),
        (dict(base, runtime_config={"parameters": {"count": 1.5}}), "count"),
        (dict(base, runtime_config={"parameters": {"count": True}}), "count"),
        (dict(base, colour="red", runtime_config={"parameters": {"count": 1}}), "colour"),
        ({"experiment_id": eid, "display_name": "bad"}, "pipeline_spec"),
        (dict(base, pipeline_version_reference={"pipeline_id": "x"}), "exactly one"),
        (dict(base, plugins_output={"a": {}}), "plugins_output"),
        (dict(base, display_name=""), "display_name"),
    ]
    for body, words in cases:
        status, payload = api.post("/runs", body)
        assert status == 400, (body, payload)
        assert words in payload["message"], (words, payload)
    assert _runs_named(api, eid, "bad") == []
    assert (
        api.post("/runs", dict(base, experiment_id="missing", runtime_config={"parameters": {"count": 1}}))[0]
        == 404
    )


def test_run_actions_are_state_transitions(api, unique):
    eid = _experiment(api, unique)
    _, run = api.post("/runs", {"experiment_id": eid, "display_name": "act", "pipeline_spec": SPEC})
    rid = run["run_id"]
    assert api.post(f"/runs/{rid}:retry", raw=b"")[0] == 400  # only FAILED/CANCELED runs
    assert api.post(f"/runs/{rid}:terminate", raw=b"") == (200, {})
    assert api.get(f"/runs/{rid}")[1]["state"] in ("CANCELING", "CANCELED")
    assert api.post(f"/runs/{rid}:archive", raw=b"") == (200, {})
    assert api.get(f"/runs/{rid}")[1]["storage_state"] == "ARCHIVED"
    assert api.post(f"/runs/{rid}:unarchive", raw=b"") == (200, {})
    assert api.post(f"/runs/{rid}:fly", raw=b"")[0] == 404
    assert api.delete(f"/runs/{rid}") == (200, {})
    assert api.get(f"/runs/{rid}")[0] == 404


@pytest.mark.parametrize("ended", ["SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"])
def test_terminate_on_an_ended_run_is_200_and_changes_nothing(api, unique, quiet_stack, app_runtime, ended):
    runs = app_runtime.store.runs
    eid = _experiment(api, unique)
    _, run = api.post("/runs", {"experiment_id": eid, "display_name": "ended", "pipeline_spec": SPEC})
    rid = run["run_id"]
    runs.update_run(moved_to(runs.get_run(rid), ended, now_text()))
    _, before = api.get(f"/runs/{rid}")
    version = runs.get_run(rid).version
    assert api.post(f"/runs/{rid}:terminate", raw=b"") == (200, {})
    _, after = api.get(f"/runs/{rid}")
    assert after == before
    assert after["state"] == ended and after["finished_at"]
    assert [change["state"] for change in after["state_history"]] == ["PENDING", ended]
    assert runs.get_run(rid).version == version  # nothing was written


def test_terminate_twice_records_canceling_once(api, unique, quiet_stack):
    eid = _experiment(api, unique)
    _, run = api.post("/runs", {"experiment_id": eid, "display_name": "twice", "pipeline_spec": SPEC})
    rid = run["run_id"]
    assert api.post(f"/runs/{rid}:terminate", raw=b"") == (200, {})
    _, canceling = api.get(f"/runs/{rid}")
    assert canceling["state"] == "CANCELING"
    assert api.post(f"/runs/{rid}:terminate", raw=b"") == (200, {})
    assert api.get(f"/runs/{rid}")[1] == canceling


def test_terminate_of_an_unknown_run_is_404(api):
    status, body = api.post("/runs/no-such-run:terminate", raw=b"")
    assert status == 404 and "no-such-run" in body["message"]


def test_archiving_experiment_archives_its_runs_and_blocks_unarchive_of_run(api, unique):
    eid = _experiment(api, unique)
    _, run = api.post("/runs", {"experiment_id": eid, "display_name": "a", "pipeline_spec": SPEC})
    assert api.post(f"/experiments/{eid}:archive", raw=b"") == (200, {})
    assert api.get(f"/runs/{run['run_id']}")[1]["storage_state"] == "ARCHIVED"
    status, body = api.post(f"/runs/{run['run_id']}:unarchive", raw=b"")
    assert status == 400 and "archived" in body["message"]


def test_list_runs_filters_and_sorts(api, unique):
    eid = _experiment(api, unique)
    for name in ("b", "a", "c"):
        api.post("/runs", {"experiment_id": eid, "display_name": name, "pipeline_spec": SPEC})
    _, listed = api.get(f"/runs?experiment_id={eid}&sort_by=display_name%20desc&page_size=2")
    assert [r["display_name"] for r in listed["runs"]] == ["c", "b"] and listed["total_size"] == 3
    _, rest = api.get(f"/runs?experiment_id={eid}&page_token={listed['next_page_token']}&page_size=2")
    assert [r["display_name"] for r in rest["runs"]] == ["a"]
    flt = quote(
        json.dumps(
            {
                "predicates": [
                    {"operation": "IN", "key": "display_name", "stringValues": {"values": ["a", "c"]}}
                ]
            }
        )
    )
    _, some = api.get(f"/runs?experiment_id={eid}&filter={flt}")
    assert sorted(r["display_name"] for r in some["runs"]) == ["a", "c"]
    assert api.get(f"/runs?experiment_id={eid}&sort_by=colour")[0] == 400


def test_recurring_run_crud_enable_disable(api, unique):
    eid = _experiment(api, unique)
    body = {
        "display_name": "nightly",
        "experiment_id": eid,
        "pipeline_spec": SPEC,
        "runtime_config": {"parameters": {}},
        "max_concurrency": 1,
        "trigger": {"cron_schedule": {"cron": "0 0 9 ? * 2-6"}},
        "mode": "ENABLE",
        "no_catchup": True,
    }
    status, created = api.post("/recurringruns", body)
    assert status == 200, created
    rid = created["recurring_run_id"]
    assert created["status"] == "ENABLED" and created["max_concurrency"] == "1"
    _, listed = api.get(f"/recurringruns?experiment_id={eid}")
    assert [r["recurring_run_id"] for r in listed["recurringRuns"]] == [rid]
    assert api.post(f"/recurringruns/{rid}:disable", raw=b"") == (200, {})
    assert api.get(f"/recurringruns/{rid}")[1]["status"] == "DISABLED"
    assert api.post(f"/recurringruns/{rid}:enable", raw=b"") == (200, {})
    assert api.get(f"/recurringruns/{rid}")[1]["status"] == "ENABLED"
    assert api.delete(f"/recurringruns/{rid}") == (200, {})
    assert api.get(f"/recurringruns/{rid}")[0] == 404


def test_bad_recurring_runs_are_400(api, unique):
    eid = _experiment(api, unique)
    base = {"display_name": "bad", "experiment_id": eid, "pipeline_spec": SPEC}
    for trigger in [
        {},
        {"cron_schedule": {"cron": "not a cron"}},
        {"periodic_schedule": {"interval_second": 5}},
    ]:
        status, body = api.post("/recurringruns", dict(base, trigger=trigger))
        assert status == 400, (trigger, body)
    status, body = api.post(
        "/recurringruns", dict(base, trigger={"cron_schedule": {"cron": "0 0 * * * *"}}, max_concurrency=0)
    )
    assert status == 400 and "max_concurrency" in body["message"]
    _, listed = api.get(f"/recurringruns?experiment_id={eid}")
    assert listed == {}


def _with_platform(executor_config: dict) -> dict:
    platform = {
        "platforms": {"kubernetes": {"deploymentSpec": {"executors": {"exec-hello": executor_config}}}}
    }
    return {"pipeline_spec": SPEC, "platform_spec": platform}


def test_platform_fields_no_pod_can_be_given_refuse_the_run_and_recurring_run(api, unique):
    eid = _experiment(api, unique)
    unsupported = _with_platform(
        {"podResourceClaims": [{"resourceClaimTemplateName": "gpu"}], "nodeSelector": {"labels": {"a": "b"}}}
    )
    status, body = api.post(
        "/runs", {"experiment_id": eid, "display_name": "claims", "pipeline_spec": unsupported}
    )
    assert status == 400, body
    assert "exec-hello asks for podResourceClaims" in body["message"]
    assert _runs_named(api, eid, "claims") == []
    recurring = {
        "display_name": "claims",
        "experiment_id": eid,
        "pipeline_spec": unsupported,
        "trigger": {"cron_schedule": {"cron": "0 0 * * * *"}},
    }
    status, body = api.post("/recurringruns", recurring)
    assert status == 400 and "podResourceClaims" in body["message"], body
    assert api.get(f"/recurringruns?experiment_id={eid}")[1] == {}


def test_platform_fields_that_are_mapped_are_accepted(api, unique, quiet_stack):
    eid = _experiment(api, unique)
    mapped = _with_platform(
        {
            "podAffinity": [{"matchPodLabels": {"app": "x"}, "topologyKey": "kubernetes.io/hostname"}],
            "initContainers": [{"name": "warm", "image": "busybox"}],
        }
    )
    status, run = api.post("/runs", {"experiment_id": eid, "display_name": "mapped", "pipeline_spec": mapped})
    assert status == 200, run
    assert api.post(f"/runs/{run['run_id']}:terminate", raw=b"") == (200, {})
