"""Hostile inputs over HTTP on the local stack: bombs, deep nesting, path tricks, invalid UTF-8, huge tokens
and filter injection. Each is a JSON 4xx naming the problem, and the store is unchanged afterwards."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import requests

from tests.support.multipart import multipart_upload
from tests.support.store_snapshot import stored

V2 = "/apis/v2beta1"
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
).encode()
DEEP_JSON = b'{"display_name": "x", "description": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
DEEP_SPEC = (
    b'{"display_name": "x", "pipeline_spec": {"root": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}}"
)


@pytest.fixture(scope="module")
def http(local_stack):
    with requests.Session() as session:
        yield lambda method, path, **kw: session.request(method, local_stack.url + path, timeout=60, **kw)


@pytest.fixture
def experiment(http, unique) -> str:
    return http("POST", f"{V2}/experiments", json={"display_name": f"hostile-{unique}"}).json()[
        "experiment_id"
    ]


def _refused(http, app_runtime, experiment, method, path, expected=(400,), **kw) -> str:
    before = stored(app_runtime, experiment)
    response = http(method, path, **kw)
    assert response.status_code in expected, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"] == "application/json"
    assert stored(app_runtime, experiment) == before
    body = response.json()
    return body.get("message") or body.get("error_message")


def test_a_yaml_alias_bomb_upload_is_refused(http, app_runtime, experiment) -> None:
    body, content_type = multipart_upload(BILLION_LAUGHS, "bomb.yaml")
    message = _refused(
        http,
        app_runtime,
        experiment,
        "POST",
        f"{V2}/pipelines/upload?name=bomb",
        data=body,
        headers={"Content-Type": content_type},
    )
    assert "alias" in message.lower() or "anchor" in message.lower()


@pytest.mark.parametrize(
    ("path", "body", "problem"),
    [
        ("/experiments", DEEP_JSON, "nested"),
        ("/runs", DEEP_SPEC, "nested"),
        ("/experiments", b'{"display_name": ' + b"9" * 100_000 + b"}", "not valid JSON"),
        ("/experiments", b'{"display_name": 1e999999}', "must be a string"),
        ("/experiments", b'{"display_name": "\xff\xfe"}', "not valid JSON"),
        ("/runs", b'{"display_name": "r", "pipeline_spec": {"x": NaN}, "experiment_id": "%s"}', ""),
    ],
)
def test_json_bombs_and_bad_bytes_are_refused(http, app_runtime, experiment, path, body, problem) -> None:
    headers = {"Content-Type": "application/json"}
    body = body.replace(b"%s", experiment.encode())
    message = _refused(http, app_runtime, experiment, "POST", V2 + path, data=body, headers=headers)
    assert problem in message


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path", "a\x00b", "%2e%2e%2fx", "..\\x"])
def test_path_tricks_in_pipeline_names_are_refused(http, app_runtime, experiment, name) -> None:
    """A pipeline's name is looked up as a path segment (`/pipelines/names/{name}`): no separators. Display
    names of experiments and runs are never used as paths or keys (ids are), so they may hold `/`."""
    if (
        "%" in name
    ):  # URL-encoded: stored as written would be harmless, but a name with '/' once decoded is not
        name = "%2e%2e/x"
    _refused(http, app_runtime, experiment, "POST", V2 + "/pipelines", json={"display_name": name})


@pytest.mark.parametrize(
    "path",
    [
        "/runs/%2e%2e%2f%2e%2e/nodes/x/artifacts/a:read",
        "/runs/x/nodes/..%2F..%2Fetc/artifacts/passwd:read",
        "/runs/x/nodes/y/artifacts/%2Fetc%2Fpasswd:read",
        "/runs/x/nodes/y/artifacts/a%00b:read",
        "/runs/..%2F..%2Fx/tasks/y/logs",
    ],
)
def test_path_tricks_in_artifact_and_log_reads_are_refused(http, app_runtime, experiment, path) -> None:
    _refused(http, app_runtime, experiment, "GET", V2 + path, expected=(400, 404))


@pytest.mark.parametrize(
    "query",
    [
        "page_token=" + "A" * 60_000,
        "page_token=%ff%fe",
        "filter=%ff",
        "filter=" + quote("{not json"),
        "filter=" + quote(json.dumps({"predicates": [{"key": "display_name; DROP TABLE", "operation": 1}]})),
        "filter="
        + quote(json.dumps({"predicates": [{"key": "display_name", "operation": 99, "string_value": "x"}]})),
        "filter="
        + quote(json.dumps({"predicates": [{"key": "display_name", "operation": 1, "$where": "1"}]})),
        "filter=" + quote(json.dumps({"predicates": "x"})),
        "filter="
        + quote(
            json.dumps(
                {
                    "predicates": [
                        {
                            "key": "display_name",
                            "operation": "IN",
                            "string_values": {"values": ["x"] * 100_000},
                        }
                    ]
                }
            )
        ),
        "sort_by=" + quote("display_name; drop"),
        "page_size=" + "9" * 5000,
        "page_size=-1",
        "filter=" + quote("[" * 50_000 + "]" * 50_000),
        "filter=" + quote('{"predicates": ' + "[" * 3000 + "]" * 3000 + "}"),
    ],
)
def test_hostile_list_queries_are_refused(http, app_runtime, experiment, query) -> None:
    _refused(http, app_runtime, experiment, "GET", f"{V2}/experiments?{query}", expected=(400, 413, 414))
