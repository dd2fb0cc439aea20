"""Parsing the uploaded file out of a multipart/form-data request, as kfp.Client sends it."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import kfp_server_api
import pytest
import requests
import urllib3

from chalicelib.api.errors import InvalidArgument, PayloadTooLarge
from chalicelib.api.multipart import UploadedFile, parse_upload, safe_basename

PIPELINE_YAML = b"# PIPELINE DEFINITION\n# Name: hello-pipeline\ncomponents:\n  comp-hello: {}\r\n"


def _encode(filename: str, data: bytes, field: str = "uploadfile") -> tuple[bytes, str]:
    """A body built like kfp_server_api builds it: urllib3 fields of (filename, data, mimetype)."""
    return urllib3.encode_multipart_formdata({field: (filename, data, "application/octet-stream")})


class _CapturingPool(urllib3.PoolManager):
    """Stands in for urllib3's PoolManager: urllib3 encodes the body, we keep it instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, bytes, dict]] = []

    def urlopen(self, method, url, redirect=True, body=None, headers=None, **_):
        self.requests.append((url, body, dict(headers or {})))
        return urllib3.HTTPResponse(body=b'{"pipeline_id": "p-1"}', status=200, preload_content=True)


def test_body_sent_by_kfp_server_api_upload_is_parsed(tmp_path: Path):
    package = tmp_path / "hello_pipeline.yaml"
    package.write_bytes(PIPELINE_YAML)
    api_client = kfp_server_api.ApiClient(kfp_server_api.Configuration(host="http://kfp.test"))
    pool = _CapturingPool()
    api_client.rest_client.pool_manager = pool

    kfp_server_api.PipelineUploadServiceApi(api_client).upload_pipeline(
        uploadfile=str(package), name="hello-pipeline"
    )

    [(url, body, headers)] = pool.requests
    assert url.endswith("/apis/v2beta1/pipelines/upload?name=hello-pipeline")
    assert headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert parse_upload(body, headers["Content-Type"]) == UploadedFile("hello_pipeline.yaml", PIPELINE_YAML)


def test_trace_shaped_body_is_parsed():
    body = (
        b"--86dc358b6c383028069edb3f1d941caf\r\n"
        b'Content-Disposition: form-data; name="uploadfile"; filename="hello_pipeline.yaml"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + PIPELINE_YAML + b"\r\n"
        b"--86dc358b6c383028069edb3f1d941caf--\r\n"
    )
    upload = parse_upload(body, "multipart/form-data; boundary=86dc358b6c383028069edb3f1d941caf")
    assert upload == UploadedFile("hello_pipeline.yaml", PIPELINE_YAML)


def test_body_prepared_by_requests_is_parsed():
    prepared = requests.Request(
        "POST", "http://kfp.test/upload", files={"uploadfile": ("p.json", b'{"a": 1}', "application/json")}
    ).prepare()

    upload = parse_upload(prepared.body, prepared.headers["Content-Type"])

    assert upload == UploadedFile("p.json", b'{"a": 1}')


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pipeline.yaml", PIPELINE_YAML * 50)
        archive.writestr("noise.bin", os.urandom(4096))
    return buffer.getvalue()


def _tgz_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("pipeline.yaml")
        info.size = len(PIPELINE_YAML)
        archive.addfile(info, io.BytesIO(PIPELINE_YAML))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_zip_bytes(), id="zip"),
        pytest.param(_tgz_bytes(), id="tar.gz"),
        pytest.param(bytes(range(256)) * 64, id="every-byte-value"),
        pytest.param(b"\r\n\r\n--\r\r\n\n\r", id="line-endings-and-dashes"),
        pytest.param(b"ends with a lone CR\r", id="trailing-cr"),
        pytest.param(b"ends with CRLF\r\n", id="trailing-crlf"),
        pytest.param(b"\x00", id="single-nul"),
    ],
)
def test_binary_payload_round_trips_byte_exact(data):
    body, content_type = _encode("package.zip", data)
    assert parse_upload(body, content_type).data == data


def test_zip_payload_still_opens_after_parsing():
    body, content_type = _encode("package.zip", _zip_bytes())

    data = parse_upload(body, content_type).data

    assert zipfile.ZipFile(io.BytesIO(data)).read("pipeline.yaml") == PIPELINE_YAML * 50


def test_file_field_is_found_among_other_form_fields():
    body, content_type = urllib3.encode_multipart_formdata(
        [("description", "d"), ("uploadfile", ("x.yaml", b"abc", "text/yaml")), ("name", "n")]
    )
    assert parse_upload(body, content_type) == UploadedFile("x.yaml", b"abc")


def test_another_field_name_can_be_asked_for():
    body, content_type = _encode("x.yaml", b"abc", field="file")
    assert parse_upload(body, content_type, field="file").data == b"abc"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../x.yaml", "x.yaml"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\x.yaml", "x.yaml"),
        ("C:\\Users\\me\\pipeline.yaml", "pipeline.yaml"),
        ("dir/sub\\mixed.yaml", "mixed.yaml"),
        ("naïve.yaml", "naïve.yaml"),
        ("plain.yaml", "plain.yaml"),
        ("..", ""),
    ],
)
def test_filename_keeps_only_the_basename(sent, kept):
    body, content_type = _encode(sent, b"abc")
    assert parse_upload(body, content_type).filename == kept


def test_quoted_pairs_in_filename_are_unescaped():
    body = b'--b\r\nContent-Disposition: form-data; name="uploadfile"; filename="a\\"b.yaml"\r\n\r\nabc\r\n--b--\r\n'
    assert parse_upload(body, "multipart/form-data; boundary=b").filename == 'a"b.yaml'


def test_rfc2231_filename_is_decoded():
    body = (
        b"--b\r\nContent-Disposition: form-data; name=uploadfile; filename*=UTF-8''na%C3%AFve.yaml\r\n\r\n"
        b"abc\r\n--b--\r\n"
    )
    assert parse_upload(body, "multipart/form-data; boundary=b").filename == "naïve.yaml"


def test_part_without_filename_gives_an_empty_filename():
    body, content_type = urllib3.encode_multipart_formdata({"uploadfile": "abc"})
    assert parse_upload(body, content_type) == UploadedFile("", b"abc")


def test_safe_basename_of_a_plain_name_is_unchanged():
    assert safe_basename("pipeline.yaml") == "pipeline.yaml"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        pytest.param(_encode("x.yaml", b"abc")[0], "multipart/form-data", "no boundary", id="no-boundary"),
        pytest.param(
            _encode("x.yaml", b"abc")[0], "application/json", "multipart/form-data", id="not-multipart"
        ),
        pytest.param(_encode("x.yaml", b"abc")[0], "", "multipart/form-data", id="no-content-type"),
        pytest.param(
            _encode("x.yaml", b"abc")[0],
            "multipart/form-data; boundary=other",
            "boundary",
            id="wrong-boundary",
        ),
        pytest.param(b"", "multipart/form-data; boundary=b", "empty", id="empty-body"),
        pytest.param(b"just some bytes", "multipart/form-data; boundary=b", "boundary", id="junk-body"),
        pytest.param(*_encode("x.yaml", b"abc", field="file"), "'uploadfile'", id="missing-field"),
        pytest.param(*_encode("x.yaml", b""), "empty", id="empty-file"),
    ],
)
def test_bad_upload_is_invalid_argument_with_a_clear_message(body, content_type, message):
    with pytest.raises(InvalidArgument) as caught:
        parse_upload(body, content_type)
    assert caught.value.http_status == 400
    assert message in caught.value.message


def test_upload_over_the_limit_is_payload_too_large():
    body, content_type = _encode("x.yaml", b"a" * 2048)

    with pytest.raises(PayloadTooLarge) as caught:
        parse_upload(body, content_type, max_bytes=1024)
    assert caught.value.http_status == 413
