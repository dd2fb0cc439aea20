"""Capturing what the functions write to stdout (powertools log lines and EMF metric documents) while the app's
runtime has metrics on, as a deployed stage has."""

from __future__ import annotations

import collections
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import runtime
from chalicelib.observability import metric_names, metrics
from chalicelib.settings import Settings

STAGE = "test-stage"


@dataclasses.dataclass
class Output:
    """Everything written to stdout since the last `read`, split into log records and EMF documents."""

    capsys: pytest.CaptureFixture[str]
    settings: Settings
    logs: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    documents: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def read(self) -> Output:
        for line in self.capsys.readouterr().out.splitlines():
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if not isinstance(parsed, dict):
                continue
            if "_aws" in parsed:
                self.documents.append(parsed)
            elif "message" in parsed and "level" in parsed:
                self.logs.append(parsed)
        return self

    def lines(self, message: str, **keys: Any) -> list[dict[str, Any]]:
        return [
            line
            for line in self.logs
            if line["message"] == message and all(line.get(k) == v for k, v in keys.items())
        ]

    def metric_values(self) -> dict[str, list[float]]:
        """Metric name → every value of it in the EMF documents (checked to be in our namespace and stage)."""
        values: dict[str, list[float]] = collections.defaultdict(list)
        for document in self.documents:
            (directive,) = document["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == metric_names.NAMESPACE
            assert directive["Dimensions"] == [[metric_names.STAGE_DIMENSION]]
            assert document[metric_names.STAGE_DIMENSION] == STAGE
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values[metric["Name"]].extend(value if isinstance(value, list) else [value])
        return values

    def totals(self) -> dict[str, float]:
        return {name: sum(values) for name, values in self.metric_values().items()}


@pytest.fixture
def output(app_runtime, quiet_stack, capsys) -> Iterator[Output]:
    """The session stack's runtime with metrics on (namespace and stage as a deployed function has them),
    installed as the app's runtime; stdout captured from here on."""
    settings = dataclasses.replace(
        app_runtime.settings, metrics_namespace=metric_names.NAMESPACE, stage=STAGE
    )
    runtime.install(dataclasses.replace(app_runtime, settings=settings))
    capsys.readouterr()
    try:
        yield Output(capsys, settings)
    finally:
        runtime.install(app_runtime)
        metrics.configure("", "")


@pytest.fixture(scope="module")
def app_client(app_runtime):
    """The app in process (routes and Lambda handlers), as the trigger tests use it."""
    from chalice.test import Client

    from app import app
    from tests.triggers.conftest import AppClient

    with Client(app, stage_name="test") as client:
        yield AppClient(client)
