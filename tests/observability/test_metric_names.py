"""The metric names cannot drift: every metric the stack's dashboard and alarms read is emitted by the code,
every metric the code emits is on the dashboard, and both are exactly `metric_names.ALL_METRICS`."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from chalicelib.observability import metric_names
from infra import observability

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"


def _emitted() -> set[str]:
    """The metric constants chalicelib refers to (outside their declaration): the code only refers to one to
    emit it, through `metrics.add` (checked below to take nothing else)."""
    names = set()
    for path in CHALICELIB.rglob("*.py"):
        if path.name == "metric_names.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("m", "metric_names")
                and isinstance(getattr(metric_names, node.attr, None), metric_names.MetricName)
            ):
                names.add(getattr(metric_names, node.attr).name)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "metrics"
                and node.func.attr == "add"
            ):
                assert path.parent.name == "observability" or isinstance(node.args[0], ast.Attribute), (
                    f"{path}: pass a metric_names constant to metrics.add"
                )
    return names


def _referenced(stage: str) -> set[str]:
    body = json.loads(observability.dashboard_body(stage))
    names = {
        metric[1]
        for widget in body["widgets"]
        for metric in widget["properties"]["metrics"]
        if metric[0] == metric_names.NAMESPACE
    }
    for alarm in observability.alarms(stage, {}).values():
        properties = alarm["Properties"]
        if properties.get("Namespace") == metric_names.NAMESPACE:
            names.add(properties["MetricName"])
    return names


def test_every_metric_on_the_dashboard_and_alarms_is_emitted_and_vice_versa() -> None:
    declared = {metric.name for metric in metric_names.ALL_METRICS}
    assert _referenced("dev") == declared
    assert _emitted() == declared


def test_the_stalled_run_alarm_reads_a_metric_the_reconciler_emits() -> None:
    alarm = observability.alarms("dev", {})["StalledRunAlarm"]["Properties"]
    assert alarm["MetricName"] in _emitted()
    assert alarm["Dimensions"] == [{"Name": metric_names.STAGE_DIMENSION, "Value": "dev"}]
