"""S3 "Object Created" EventBridge events that register pipelines."""

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.triggers.errors import InvalidUploadEvent
from chalicelib.triggers.s3_events import (
    UploadedObject,
    idempotency_key,
    is_later_upload,
    parse_upload_event,
    refusal_reason,
    registration_name,
)


def object_created(key: str, **object_fields: str) -> dict:
    """The event `@app.on_cw_event` hands over, as Chalice's test client builds it."""
    with Client(Chalice("uploads")) as client:
        return client.events.generate_cw_event(
            source="aws.s3",
            detail_type="Object Created",
            detail={
                "version": "0",
                "bucket": {"name": "kfps-data"},
                "object": {"key": key, "size": 1024, **object_fields},
                "reason": "PutObject",
            },
            resources=["arn:aws:s3:::kfps-data"],
        )


def test_event_parses_to_uploaded_object_with_decoded_key() -> None:
    event = object_created(
        "pipelines/my+pipeline%28v2%29.yaml",
        etag="abc123",
        sequencer="0062E99A88DC407460",
        **{"version-id": "v1"},
    )

    assert parse_upload_event(event) == UploadedObject(
        bucket="kfps-data",
        key="pipelines/my pipeline(v2).yaml",
        etag="abc123",
        version_id="v1",
        sequencer="0062E99A88DC407460",
    )


def test_event_without_version_leaves_it_empty() -> None:
    assert parse_upload_event(object_created("pipelines/a.yaml", etag="e")).version_id == ""


@pytest.mark.parametrize("detail", [{}, {"bucket": {"name": "b"}}, {"object": {"key": "pipelines/a.yaml"}}])
def test_event_without_bucket_or_key_is_refused(detail: dict) -> None:
    with pytest.raises(InvalidUploadEvent):
        parse_upload_event({"detail": detail})


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("pipelines/train.yaml", "train"),
        ("pipelines/train.YML", "train"),
        ("pipelines/train.json", "train"),
        ("pipelines/train.zip", "train"),
        ("pipelines/train.tar.gz", "train"),
        ("pipelines/train.tgz", "train"),
        ("pipelines/team-a/train v2.yaml", "train v2"),
        ("pipelines/my.pipeline.yaml", "my.pipeline"),
    ],
)
def test_package_under_pipelines_registers_by_file_name(key: str, name: str) -> None:
    assert registration_name(key) == name
    assert refusal_reason(key) is None


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("other/train.yaml", "not under pipelines/"),
        ("train.yaml", "not under pipelines/"),
        ("pipelines/", "folder"),
        ("pipelines/team-a/", "folder"),
        ("pipelines/train.txt", "does not end in"),
        ("pipelines/train", "does not end in"),
        ("pipelines/.yaml", "empty or hidden"),
        ("pipelines/ .yaml", "empty or hidden"),
        ("pipelines/.hidden.yaml", "empty or hidden"),
        ("pipelines/../secrets/x.yaml", "'..'"),
        ("pipelines/./x.yaml", "'.'"),
        ("pipelines//x.yaml", "empty"),
        ("pipelines/a\\..\\x.yaml", "backslash"),
        ("pipelines/a\nb.yaml", "control character"),
    ],
)
def test_key_that_registers_nothing_says_why(key: str, reason: str) -> None:
    assert registration_name(key) is None
    assert reason in refusal_reason(key)


def test_idempotency_key_prefers_version_then_etag_then_sequencer() -> None:
    versioned = UploadedObject("b", "pipelines/a.yaml", etag="e", version_id="v", sequencer="s")
    unversioned = UploadedObject("b", "pipelines/a.yaml", etag="e", sequencer="s")
    bare = UploadedObject("b", "pipelines/a.yaml", sequencer="s")

    assert idempotency_key(versioned) == "s3://b/pipelines/a.yaml#version:v"
    assert idempotency_key(unversioned) == "s3://b/pipelines/a.yaml#etag:e"
    assert idempotency_key(bare) == "s3://b/pipelines/a.yaml#sequencer:s"


def test_duplicate_delivery_has_same_idempotency_key_and_overwrite_a_new_one() -> None:
    first = parse_upload_event(object_created("pipelines/a.yaml", etag="e1", sequencer="01"))
    duplicate = parse_upload_event(object_created("pipelines/a.yaml", etag="e1", sequencer="01"))
    overwrite = parse_upload_event(object_created("pipelines/a.yaml", etag="e2", sequencer="02"))

    assert idempotency_key(first) == idempotency_key(duplicate)
    assert idempotency_key(first) != idempotency_key(overwrite)


def test_idempotency_key_needs_some_revision() -> None:
    with pytest.raises(InvalidUploadEvent):
        idempotency_key(UploadedObject("b", "pipelines/a.yaml"))


@pytest.mark.parametrize(
    ("sequencer", "than", "later"),
    [
        ("0062E99A88DC407461", "0062E99A88DC407460", True),
        ("0062E99A88DC407460", "0062E99A88DC407461", False),
        ("0062E99A88DC407460", "0062E99A88DC407460", False),
        ("62E99A88DC407461", "0062E99A88DC407460", True),  # shorter is left-padded
        ("0062e99a88dc407461", "0062E99A88DC407460", True),
        ("A0", "9F", True),
        ("01", "", True),
        ("", "01", False),
    ],
)
def test_sequencers_order_events_of_one_key(sequencer: str, than: str, later: bool) -> None:
    assert is_later_upload(sequencer, than) is later
