"""Fixtures for the trigger handlers: the real app in process (chalice.test.Client) on the session's store, and
small builders for recurring runs and uploads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from chalice.test import Client

from tests.support.specs import HELLO

HELLO_SPEC = yaml.safe_load(HELLO)
HOURLY = {"periodic_schedule": {"interval_second": 3600}}


class AppClient:
    """The app's HTTP routes (JSON in and out) and its Lambda handlers, in process."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else b""
        response = getattr(self.client.http, method.lower())(
            "/apis/v2beta1" + path, body=data, headers={"Content-Type": "application/json"}
        )
        return response.status_code, json.loads(response.body) if response.body else None

    def invoke(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        return self.client.lambda_.invoke(name, event).payload

    def create_recurring_run(self, unique: str, **fields: Any) -> dict[str, Any]:
        status, experiment = self.call("POST", "/experiments", {"display_name": f"rr-{unique}"})
        assert status == 200, experiment
        body = {
            "display_name": f"rr-{unique}",
            "experiment_id": experiment["experiment_id"],
            "pipeline_spec": HELLO_SPEC,
            "max_concurrency": 10,
            "trigger": HOURLY,
            "mode": "ENABLE",
            **fields,
        }
        status, created = self.call("POST", "/recurringruns", body)
        assert status == 200, created
        return created


@pytest.fixture(scope="session")
def app_client(app_runtime) -> Iterator[AppClient]:
    from app import app

    with Client(app, stage_name="test") as client:
        yield AppClient(client)
