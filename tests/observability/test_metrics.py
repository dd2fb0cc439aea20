"""The metrics collector: off without a namespace (never printing, never raising), one EMF document per flush
with only the `stage` dimension when on."""

from __future__ import annotations

import json

import pytest

from chalicelib.observability import metric_names as m
from chalicelib.observability import metrics


@pytest.fixture(autouse=True)
def _off_afterwards():
    yield
    metrics.configure("", "")


def test_without_a_namespace_metrics_are_dropped_silently(capsys) -> None:
    metrics.configure("", "dev")
    for _ in range(250):  # past powertools' 100-value early flush, which needs a namespace
        metrics.add(m.RUNS_CREATED)
    metrics.flush()
    assert not metrics.enabled()
    assert capsys.readouterr().out == ""


def test_one_flush_writes_one_document_with_the_stage_dimension_only(capsys, monkeypatch) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "something-else")
    metrics.configure(m.NAMESPACE, "dev")
    metrics.add(m.RUNS_CREATED)
    metrics.add(m.RUNS_CREATED)
    metrics.add(m.RECONCILE_PASS_DURATION, 12.5)
    metrics.flush()
    metrics.flush()  # nothing new: nothing written

    (line,) = capsys.readouterr().out.splitlines()
    document = json.loads(line)
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == m.NAMESPACE
    assert directive["Dimensions"] == [["stage"]]
    assert {metric["Name"]: metric["Unit"] for metric in directive["Metrics"]} == {
        "RunsCreated": "Count",
        "ReconcilePassDuration": "Milliseconds",
    }
    assert document["stage"] == "dev" and "service" not in document
    assert document["RunsCreated"] == [1.0, 1.0] and document["ReconcilePassDuration"] == [12.5]


def test_switching_metrics_off_drops_what_was_collected(capsys) -> None:
    metrics.configure(m.NAMESPACE, "dev")
    metrics.add(m.RUNS_FAILED)
    metrics.configure("", "dev")
    metrics.configure(m.NAMESPACE, "dev")
    metrics.flush()
    assert capsys.readouterr().out == ""
