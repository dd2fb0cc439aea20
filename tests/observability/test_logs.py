"""The one logger: JSON records with the service name in Lambda, plain lines for `kfps up`, the invocation's
keys on the invoking thread's lines only."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from chalicelib.observability import logs
from chalicelib.observability.invocations import invocation
from chalicelib.settings import Settings


class FakeContext:
    function_name = "kfps-dev-Reconcile"
    aws_request_id = "req-1"


@pytest.fixture
def fresh_logger(monkeypatch):
    """A logger built anew for the test (the process's one is left as it was). powertools configures the
    standard logger of a service name once, so each test's has a name of its own."""
    monkeypatch.setattr(logs, "SERVICE", f"kfp-serverless-{uuid.uuid4().hex[:8]}")
    monkeypatch.setattr(logs, "_logger", None)
    monkeypatch.setattr(logs, "_plain", False)
    yield


def test_records_are_json_with_the_service_and_invocation_keys(fresh_logger, capsys) -> None:
    with invocation(Settings(stage="dev"), FakeContext()):
        logs.logger().info("run created", extra={"run_id": "r1"})

    record = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert record["message"] == "run created" and record["level"] == "INFO"
    assert record["service"] == logs.SERVICE and record["run_id"] == "r1"
    assert record["function_name"] == "kfps-dev-Reconcile" and record["function_request_id"] == "req-1"
    assert record["stage"] == "dev" and "cold_start" in record


def test_plain_lines_for_the_local_stack(fresh_logger, capsys) -> None:
    logs.logger().info("before", extra={"run_id": "r0"})
    logs.use_plain_lines()
    logs.logger().warning("task attempt failed", extra={"run_id": "r1", "task_id": "root.train"})

    before, after = capsys.readouterr().out.splitlines()[-2:]
    assert json.loads(before)["run_id"] == "r0"
    assert " WARNING task attempt failed " in after
    assert after.endswith("run_id=r1 task_id=root.train")
    assert "service=" not in after


def test_the_level_comes_from_powertools_log_level(fresh_logger, capsys, monkeypatch) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    logs.logger().info("hidden")
    logs.logger().warning("shown")
    assert [json.loads(line)["message"] for line in capsys.readouterr().out.splitlines()] == ["shown"]


def test_chalice_leaves_the_functions_logger_to_powertools() -> None:
    """The Chalice app's logger has the service's name; Chalice must not add its own plain handler (every
    line twice in CloudWatch) nor its ERROR level."""
    from app import app

    standard = logs.logger()._logger  # noqa: SLF001 - the standard logger under the powertools one
    assert app.log is standard
    assert standard.level != logging.ERROR
    assert not [h for h in standard.handlers if getattr(h.formatter, "_fmt", None) == app.FORMAT_STRING]


def test_invocation_keys_stay_on_the_invoking_thread_and_end_with_it(fresh_logger, capsys) -> None:
    import threading

    with invocation(Settings(stage="dev"), FakeContext()):
        worker = threading.Thread(target=lambda: logs.logger().info("from another thread"))
        worker.start()
        worker.join()
    logs.logger().info("after the invocation")

    other, after = (json.loads(line) for line in capsys.readouterr().out.splitlines()[-2:])
    assert "function_request_id" not in other and "function_request_id" not in after
