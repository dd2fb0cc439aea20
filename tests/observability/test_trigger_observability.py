"""The trigger Lambdas as the console sees them, through the app's handlers in process: a recurring-run fire
and a fire skipped at max_concurrency; an upload registered and a bad package refused. Each invocation logs
one line per change with the invocation's keys and flushes one EMF document; repeated deliveries log no change
again."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from chalicelib.observability import metric_names as m
from chalicelib.timestamps import format_time
from chalicelib.triggers.firing import scheduled_run_id
from tests.conftest import BUCKET
from tests.observability.conftest import STAGE, Output
from tests.support.specs import HELLO
from tests.triggers.conftest import AppClient

T1 = datetime(2032, 5, 6, 7, 0, tzinfo=UTC)
T2 = T1 + timedelta(hours=1)


def fire(app_client: AppClient, recurring_run_id: str, moment: datetime) -> dict:
    return app_client.invoke(
        "fire_recurring_run", {"recurring_run_id": recurring_run_id, "scheduled_time": format_time(moment)}
    )


def test_a_fire_and_a_skip_at_max_concurrency_are_logged_and_counted(
    output: Output, app_client: AppClient, unique: str
) -> None:
    rid = app_client.create_recurring_run(unique, max_concurrency=1)["recurring_run_id"]
    try:
        output.read()
        output.logs.clear()
        output.documents.clear()
        assert fire(app_client, rid, T1)["result"] == "created"
        assert fire(app_client, rid, T2)["result"] == "skipped"
        assert fire(app_client, rid, T1)["result"] == "duplicate"  # a repeated delivery
        output.read()
    finally:
        app_client.call("DELETE", f"/recurringruns/{rid}")

    run_id = scheduled_run_id(rid, T1)
    (fired,) = output.lines("recurring run fired", recurring_run_id=rid)
    assert fired["run_id"] == run_id and fired["scheduled_time"] == format_time(T1)
    (created,) = output.lines("run created", run_id=run_id)
    assert created["recurring_run_id"] == rid
    (skipped,) = output.lines("recurring run fire skipped", recurring_run_id=rid)
    assert skipped["level"] == "WARNING" and "max_concurrency is 1" in skipped["reason"]
    assert skipped["scheduled_time"] == format_time(T2)
    for line in (fired, created, skipped):
        assert line["function_name"] and line["function_request_id"] and line["stage"] == STAGE
    assert len([line for line in output.logs if line.get("recurring_run_id") == rid]) == 3
    assert output.totals() == {m.RECURRING_FIRES.name: 1, m.RECURRING_SKIPS.name: 1, m.RUNS_CREATED.name: 1}
    assert len(output.documents) == 2  # one per invocation that counted something


def put(objects, key: str, body: bytes) -> str:
    objects.put_bytes(key, body)
    return hashlib.md5(body).hexdigest()


def deliver(app_client: AppClient, key: str, etag: str) -> dict:
    event = app_client.client.events.generate_cw_event(
        source="aws.s3",
        detail_type="Object Created",
        detail={"bucket": {"name": BUCKET}, "object": {"key": key, "etag": etag, "size": 1}},
        resources=[f"arn:aws:s3:::{BUCKET}"],
    )
    return app_client.invoke("register_uploaded_pipeline", event)


def test_an_upload_registered_and_a_bad_package_refused_are_logged_and_counted(
    output: Output, app_client: AppClient, app_runtime, unique: str
) -> None:
    good_key, bad_key = f"pipelines/good-{unique}.yaml", f"pipelines/bad-{unique}.yaml"
    good_etag = put(app_runtime.store.objects, good_key, HELLO.encode())
    bad_etag = put(app_runtime.store.objects, bad_key, b"pipelineInfo: {name: x}\nroot: 3\n")

    registered = deliver(app_client, good_key, good_etag)
    refused = deliver(app_client, bad_key, bad_etag)
    assert deliver(app_client, good_key, good_etag)["result"] == "duplicate"
    assert deliver(app_client, bad_key, bad_etag)["result"] == "duplicate"
    output.read()

    assert registered["result"] == "registered" and refused["result"] == "invalid"
    (good,) = output.lines("uploaded pipeline registered", key=good_key)
    assert good["pipeline_id"] == registered["pipeline_id"] and good["version_id"] == registered["version_id"]
    (bad,) = output.lines("uploaded pipeline refused", key=bad_key)
    assert bad["level"] == "WARNING" and bad["pipeline_id"] == refused["pipeline_id"] and bad["reason"]
    assert not output.lines("uploaded pipeline already handled")  # DEBUG, below the default level
    assert output.totals() == {m.UPLOAD_REGISTRATIONS.name: 1, m.UPLOAD_ERRORS.name: 1}
    assert len(output.documents) == 2
