"""Large packages through a presigned S3 PUT and a register call (chalicelib/api/package_uploads.py); an
oversize multipart upload is 413 naming that route."""

from __future__ import annotations

import dataclasses
import json
import urllib.request

import pytest
import yaml

from chalicelib import runtime
from tests.conftest import require_moto_backed_stack
from tests.support.specs import HELLO


def put(url: str, data: bytes) -> int:
    # (urllib's default form Content-Type makes moto store an empty object)
    headers = {"Content-Type": "application/octet-stream"}
    request = urllib.request.Request(url, data=data, method="PUT", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def ticket(api, filename: str = "big.yaml") -> dict:
    status, body = api.post("/pipelines/uploads", {"filename": filename})
    assert status == 200, body
    return body


def register(api, ticket_body: dict, query: str = "") -> tuple[int, dict]:
    path = ticket_body["register_path"].removeprefix("/apis/v2beta1")
    return api.post(path + (f"?{query}" if query else ""))


def pipeline_names(api, unique: str) -> list[str]:
    status, body = api.get("/pipelines?page_size=200")
    assert status == 200
    return [p["display_name"] for p in body.get("pipelines", []) if unique in p["display_name"]]


@pytest.fixture
def small_upload_limit(app_runtime):
    """The API's upload limit lowered to 512 bytes (HELLO is larger)."""
    limited = dataclasses.replace(
        app_runtime.settings, limits=dataclasses.replace(app_runtime.settings.limits, max_upload_bytes=512)
    )
    runtime.install(dataclasses.replace(app_runtime, settings=limited))
    assert len(HELLO.encode()) > 512
    yield
    runtime.install(app_runtime)


@pytest.fixture
def s3_store(local_stack) -> None:
    """Presigned URLs need S3: the moto-backed store (`--store dynamodb`, the second pass of `make test`)."""
    require_moto_backed_stack(local_stack, "a presigned upload")


def test_the_embedded_store_refuses_presigned_uploads_saying_why(api, app_runtime) -> None:
    if app_runtime.store.kind != "embedded":
        pytest.skip("the session's store is not the embedded one")
    status, body = api.post("/pipelines/uploads", {"filename": "big.yaml"})
    assert status == 400, body
    assert "presigned uploads need S3" in body["error_message"] and "--aws" in body["error_message"]


def test_put_then_register_creates_the_pipeline_like_an_upload(api, unique, s3_store) -> None:
    upload = ticket(api)
    assert upload["upload_method"] == "PUT" and upload["expires_in_seconds"] > 0
    assert upload["register_path"] == f"/apis/v2beta1/pipelines/uploads/{upload['upload_id']}:register"
    assert put(upload["upload_url"], HELLO.encode()) == 200

    status, pipeline = register(api, upload, f"name=big-{unique}&description=large")
    assert status == 200, pipeline
    assert pipeline["display_name"] == f"big-{unique}" and pipeline["description"] == "large"
    status, versions = api.get(f"/pipelines/{pipeline['pipeline_id']}/versions")
    (version,) = versions["pipeline_versions"]
    status, full = api.get(f"/pipelines/{pipeline['pipeline_id']}/versions/{version['pipeline_version_id']}")
    assert full["pipeline_spec"]["pipelineInfo"]["name"] == "hello-pipeline"

    again = register(api, upload, f"name=big-{unique}&description=large")
    assert again == (200, pipeline), "a retried register answers with what the first one created"
    assert api.get(f"/pipelines/{pipeline['pipeline_id']}/versions")[1]["total_size"] == 1


def test_register_with_pipelineid_adds_a_version(api, unique, s3_store) -> None:
    status, pipeline = api.upload(f"/pipelines/upload?name=v-{unique}", HELLO.encode(), "h.yaml")
    assert status == 200, pipeline
    upload = ticket(api, "second.json")
    put(upload["upload_url"], json.dumps(yaml.safe_load(HELLO)).encode())
    query = f"pipelineid={pipeline['pipeline_id']}&name=second-{unique}"
    status, version = register(api, upload, query)
    assert status == 200, version
    assert version["display_name"] == f"second-{unique}"
    assert register(api, upload, query) == (200, version)
    assert api.get(f"/pipelines/{pipeline['pipeline_id']}/versions")[1]["total_size"] == 2


def test_register_named_after_the_file_when_no_name_is_given(api, unique, s3_store) -> None:
    upload = ticket(api, f"file-{unique}.yaml")
    put(upload["upload_url"], HELLO.encode())
    status, pipeline = register(api, upload)
    assert status == 200 and pipeline["display_name"] == f"file-{unique}.yaml"
    assert register(api, upload) == (200, pipeline)


def test_register_before_the_put_is_404_and_creates_nothing(api, unique, s3_store) -> None:
    upload = ticket(api)
    status, body = register(api, upload, f"name=early-{unique}")
    assert status == 404
    assert "PUT the file to its upload_url first" in body["error_message"]
    assert pipeline_names(api, unique) == []


def test_invalid_uploaded_package_is_400_and_creates_nothing(api, unique, s3_store) -> None:
    upload = ticket(api)
    put(upload["upload_url"], b"key: [unclosed")
    status, body = register(api, upload, f"name=broken-{unique}")
    assert status == 400 and "big.yaml" in body["error_message"]
    assert pipeline_names(api, unique) == []


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/pipelines/uploads", {"filename": "x.png"}, 400, "does not end in one of"),
        ("/pipelines/uploads", {"filename": "../"}, 400, "not a usable file name"),
        ("/pipelines/uploads", {"filename": 3}, 400, "upload.filename must be a string"),
        ("/pipelines/uploads", {"file": "x.yaml"}, 400, "unknown field(s) in upload: file"),
        ("/pipelines/uploads/not-an-id:register", None, 404, "there is no upload"),
        ("/pipelines/uploads/" + "0" * 36 + ":publish", None, 404, "unknown upload action"),
    ],
)
def test_bad_upload_requests_are_refused_naming_the_problem(api, path, body, status, message) -> None:
    got, answer = api.post(path, body)
    assert got == status, answer
    assert message in answer["error_message"]


def test_oversize_multipart_upload_is_413_naming_the_presigned_route(api, unique, small_upload_limit) -> None:
    status, body = api.upload(f"/pipelines/upload?name=huge-{unique}", HELLO.encode(), "h.yaml")
    assert status == 413
    assert "POST /apis/v2beta1/pipelines/uploads" in body["error_message"]
    assert pipeline_names(api, unique) == []


def test_oversize_presigned_package_is_413_and_creates_nothing(
    api, unique, small_upload_limit, s3_store
) -> None:
    upload = ticket(api)
    assert upload["max_bytes"] == 512
    put(upload["upload_url"], HELLO.encode())
    status, body = register(api, upload, f"name=huge-{unique}")
    assert status == 413 and "the limit is 512" in body["error_message"]
    assert pipeline_names(api, unique) == []


def test_readme_snippet_uploads_a_large_package_next_to_kfp_client(
    kfp_client, local_stack, unique, s3_store
) -> None:
    """The README's kfp.Client-side recipe, over HTTP against the local stack."""
    import requests

    host = local_stack.url
    ticket_body = requests.post(
        f"{host}/apis/v2beta1/pipelines/uploads", json={"filename": "big.yaml"}
    ).json()
    requests.put(ticket_body["upload_url"], data=HELLO.encode()).raise_for_status()
    answer = requests.post(host + ticket_body["register_path"], params={"name": f"readme-{unique}"})
    answer.raise_for_status()
    pipeline_id = answer.json()["pipeline_id"]
    assert kfp_client.get_pipeline(pipeline_id).display_name == f"readme-{unique}"
    (version,) = kfp_client.list_pipeline_versions(pipeline_id).pipeline_versions
    spec = kfp_client.get_pipeline_version(pipeline_id, version.pipeline_version_id).pipeline_spec
    assert spec["pipelineInfo"]["name"] == "hello-pipeline"


def test_a_presigned_url_expires_after_the_configured_seconds(api, app_runtime, s3_store) -> None:
    from urllib.parse import parse_qs, urlsplit

    assert app_runtime.settings.limits.presigned_url_seconds <= 15 * 60
    short = dataclasses.replace(app_runtime.settings.limits, presigned_url_seconds=120)
    runtime.install(
        dataclasses.replace(app_runtime, settings=dataclasses.replace(app_runtime.settings, limits=short))
    )
    try:
        upload = ticket(api)
    finally:
        runtime.install(app_runtime)
    assert upload["expires_in_seconds"] == 120
    assert parse_qs(urlsplit(upload["upload_url"]).query)["X-Amz-Expires"] == ["120"]
