"""The local server answers every request with JSON: a method no route defines gets a 405 (never a 5xx), a body
over the request limit or a bad Content-Length a 4xx before the body is read."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

ROUTES = (
    "/apis/v2beta1/healthz",
    "/apis/v2beta1/experiments",
    "/apis/v2beta1/runs/some-run",
    "/apis/v1beta1/pipelines",
    "/pipelines/upload",
)


def _request(url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "FOO"])
@pytest.mark.parametrize("path", ROUTES)
def test_a_method_no_route_defines_is_a_json_405(local_stack, method: str, path: str) -> None:
    status, headers, body = _request(local_stack.url, method, path)
    assert status == 405
    assert headers["Content-Type"] == "application/json"
    assert "GET" in headers["Allow"]
    error = json.loads(body)
    assert method in error["message"]
    assert error["code"] == 12


def test_the_stack_still_serves_after_refused_methods(local_stack) -> None:
    _request(local_stack.url, "TRACE", "/apis/v2beta1/healthz")
    status, _, body = _request(local_stack.url, "GET", "/apis/v2beta1/healthz")
    assert status == 200, body


def test_a_body_over_the_request_limit_is_refused_before_it_is_read(local_stack) -> None:
    limit = local_stack.settings.limits.max_request_bytes
    headers = {"Content-Length": str(limit + 1), "Content-Type": "application/json"}
    # Only the headers are sent: the server must answer without waiting for the announced body.
    status, _, body = _request(local_stack.url, "POST", "/apis/v2beta1/experiments", b"", headers)
    assert status == 413
    message = json.loads(body)["message"]
    assert str(limit) in message and str(limit + 1) in message


@pytest.mark.parametrize("length", ["abc", "-5"])
def test_a_bad_content_length_is_a_400(local_stack, length: str) -> None:
    headers = {"Content-Length": length}
    status, _, body = _request(local_stack.url, "POST", "/apis/v2beta1/experiments", b"", headers)
    assert status == 400
    assert length in json.loads(body)["message"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": 'Bearer s3cr3t"\tx'}])
def test_a_path_no_route_matches_is_a_json_404_that_echoes_no_header(local_stack, headers: dict) -> None:
    status, _, body = _request(local_stack.url, "GET", "/apis/v2beta1/no-such-thing", None, headers)
    assert status == 404
    error = json.loads(body)
    assert "/apis/v2beta1/no-such-thing" in error["message"] and error["code"] == 5
    assert b"s3cr3t" not in body
