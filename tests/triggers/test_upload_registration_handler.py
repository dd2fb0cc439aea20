"""The `register_uploaded_pipeline` handler: S3 "Object Created" events (as EventBridge delivers them) for
packages put under `pipelines/` of the session's store (the bucket, or the embedded store's directory), each
delivered twice and out of order, through the app in process."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import BUCKET
from tests.triggers.conftest import HELLO, AppClient

# The session stack's upload watcher would register these uploads before the hand-delivered events.
pytestmark = pytest.mark.usefixtures("quiet_stack")


@pytest.fixture
def s3(app_runtime):
    """The store's objects (what S3 is in the cloud)."""
    return app_runtime.store.objects


@pytest.fixture
def catalog(app_runtime):
    return app_runtime.store.catalog


def put(objects, key: str, body: bytes) -> str:
    """Put the object; returns its ETag (the MD5 of the bytes, as S3 gives for a simple put)."""
    objects.put_bytes(key, body)
    return hashlib.md5(body).hexdigest()


def deliver(app_client: AppClient, key: str, etag: str, bucket: str = BUCKET, time: str = "") -> dict:
    event = app_client.client.events.generate_cw_event(
        source="aws.s3",
        detail_type="Object Created",
        detail={"bucket": {"name": bucket}, "object": {"key": key, "etag": etag, "size": 1}},
        resources=[f"arn:aws:s3:::{bucket}"],
    )
    if time:
        event["time"] = time
    return app_client.invoke("register_uploaded_pipeline", event)


def versions_of(catalog, name: str) -> list:
    pipeline = catalog.find_pipeline("", name)
    return sorted(catalog.list_versions(pipeline.pipeline_id), key=lambda v: v.created_at) if pipeline else []


def test_upload_registers_a_pipeline_named_after_the_file_once(
    app_client: AppClient, s3, catalog, unique: str
) -> None:
    key = f"pipelines/team/hello-{unique}.yaml"
    etag = put(s3, key, HELLO.encode())

    first = deliver(app_client, key, etag)
    again = deliver(app_client, key, etag)

    assert (first["result"], again["result"]) == ("registered", "duplicate")
    assert again["version_id"] == first["version_id"]
    (version,) = versions_of(catalog, f"hello-{unique}")
    assert version.name == f"hello-{unique}.yaml@{etag[:12]}"
    assert version.error is None
    _, shown = app_client.call("GET", f"/pipelines/{first['pipeline_id']}/versions/{first['version_id']}")
    assert shown["pipeline_spec"]["pipelineInfo"]["name"] == "hello-pipeline"


def test_overwrite_adds_a_version_and_a_stale_event_registers_nothing(
    app_client: AppClient, s3, catalog, unique: str
) -> None:
    key = f"pipelines/over-{unique}.yml"
    old_etag = put(s3, key, HELLO.encode())
    new_etag = put(s3, key, HELLO.replace("hello-pipeline", "hello-two").encode())

    newer = deliver(app_client, key, new_etag, time="2031-01-01T00:00:02Z")
    older = deliver(app_client, key, old_etag, time="2031-01-01T00:00:01Z")
    newer_again = deliver(app_client, key, new_etag)

    assert [newer["result"], older["result"], newer_again["result"]] == [
        "registered",
        "superseded",
        "duplicate",
    ]
    (version,) = versions_of(catalog, f"over-{unique}")
    assert version.name == f"over-{unique}.yml@{new_etag[:12]}"
    assert version.created_at.startswith("2031-01-01T00:00:02")


def test_bad_package_becomes_a_version_with_its_error_and_changes_nothing_else(
    app_client: AppClient, s3, catalog, unique: str
) -> None:
    key = f"pipelines/bad-{unique}.yaml"
    good = deliver(app_client, key, put(s3, key, HELLO.encode()), time="2031-01-01T00:00:01Z")
    bad_etag = put(s3, key, b"pipelineInfo: {name: x}\nroot: 3\n")

    outcome = deliver(app_client, key, bad_etag, time="2031-01-01T00:00:02Z")
    deliver(app_client, key, bad_etag, time="2031-01-01T00:00:02Z")

    assert outcome["result"] == "invalid" and outcome["pipeline_id"] == good["pipeline_id"]
    good_version, bad_version = versions_of(catalog, f"bad-{unique}")
    assert good_version.version_id == good["version_id"] and good_version.error is None
    assert bad_version.error["message"].startswith(f"s3://{BUCKET}/{key}")
    assert not bad_version.spec_key
    _, shown = app_client.call("GET", f"/pipelines/{good['pipeline_id']}/versions/{bad_version.version_id}")
    assert shown["error"]["message"] == bad_version.error["message"]


def test_keys_that_are_not_packages_and_other_buckets_are_ignored(
    app_client: AppClient, s3, catalog, unique: str
) -> None:
    key = f"pipelines/notes-{unique}.txt"
    etag = put(s3, key, b"hello")

    assert deliver(app_client, key, etag)["result"] == "ignored"
    assert (
        deliver(app_client, f"pipelines/x-{unique}.yaml", etag, bucket="someone-else")["result"] == "ignored"
    )
    assert catalog.find_pipeline("", f"notes-{unique}") is None
    assert catalog.find_pipeline("", f"x-{unique}") is None


def test_url_encoded_key_is_decoded(app_client: AppClient, s3, catalog, unique: str) -> None:
    key = f"pipelines/my pipeline {unique}.json"
    import json

    import yaml

    etag = put(s3, key, json.dumps(yaml.safe_load(HELLO)).encode())

    outcome = deliver(app_client, key.replace(" ", "+"), etag)

    assert outcome["result"] == "registered"
    assert catalog.find_pipeline("", f"my pipeline {unique}").pipeline_id == outcome["pipeline_id"]


def test_event_without_key_is_dropped(app_client: AppClient) -> None:
    event = app_client.client.events.generate_cw_event(
        source="aws.s3", detail_type="Object Created", detail={"bucket": {"name": BUCKET}}, resources=[]
    )

    assert app_client.invoke("register_uploaded_pipeline", event)["result"] == "invalid"
