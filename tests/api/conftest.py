from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from tests.support.multipart import multipart_upload


class Api:
    """A thin JSON layer over chalice.test.Client: the real app, in process, on the session's store."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        response = getattr(self.client.http, method.lower())(
            "/apis/v2beta1" + path,
            body=data,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            payload = json.loads(response.body) if response.body else None
        except ValueError:
            payload = response.body
        return response.status_code, payload

    def get(self, path: str) -> tuple[int, Any]:
        return self.call("GET", path)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return self.call("POST", path, body, **kwargs)

    def delete(self, path: str) -> tuple[int, Any]:
        return self.call("DELETE", path)

    def upload(self, path: str, data: bytes, filename: str) -> tuple[int, Any]:
        body, content_type = multipart_upload(data, filename)
        return self.call("POST", path, raw=body, headers={"Content-Type": content_type})


@pytest.fixture(scope="session")
def api(app_runtime) -> Iterator[Api]:
    from app import app

    with Client(app, stage_name="test") as client:
        yield Api(client)
