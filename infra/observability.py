"""The stack's CloudWatch dashboard and alarms. The app's own metrics are named in
`chalicelib/observability/metric_names.py` (the functions emit them as EMF); the rest are AWS's (Lambda,
API Gateway, SQS)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.observability import metric_names as m
from infra import template_parts as parts

FUNCTION_IDS = ("APIHandler", "Reconcile", "ReconcileTick", "FireRecurringRun", "RegisterUploadedPipeline")
API_STAGE = "api"


def _app_metric(metric: m.MetricName, stage: str) -> list[Any]:
    return [m.NAMESPACE, metric.name, m.STAGE_DIMENSION, stage, {"stat": metric.statistic}]


def _widget(title: str, metrics: list[list[Any]], x: int, y: int, stat: str = "Sum") -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "stat": stat,
            "period": 300,
            "view": "timeSeries",
            "metrics": metrics,
        },
    }


def dashboard_body(stage: str) -> str:
    """The dashboard JSON with `${...}` placeholders for Fn::Sub (function names, queue, API, stage)."""
    lambda_errors = [
        ["AWS/Lambda", "Errors", "FunctionName", f"${{{function}}}"] for function in FUNCTION_IDS
    ]
    lambda_durations = [
        ["AWS/Lambda", "Duration", "FunctionName", f"${{{function}}}", {"stat": "p90"}]
        for function in FUNCTION_IDS
    ]
    widgets = [
        _widget(
            "Runs",
            [
                _app_metric(x, stage)
                for x in (m.RUNS_CREATED, m.RUNS_SUCCEEDED, m.RUNS_FAILED, m.RUNS_CANCELED)
            ],
            0,
            0,
        ),
        _widget(
            "Task attempts",
            [_app_metric(x, stage) for x in (m.TASK_ATTEMPTS_STARTED, m.TASK_ATTEMPTS_FAILED)],
            12,
            0,
        ),
        _widget(
            "Reconcile passes",
            [_app_metric(x, stage) for x in (m.RECONCILE_PASS_DURATION, m.LAUNCHES_PER_PASS)],
            0,
            6,
        ),
        _widget(
            "Task end → dependant launch, oldest run without progress",
            [_app_metric(x, stage) for x in (m.TASK_END_TO_LAUNCH_GAP, m.OLDEST_RUN_WITHOUT_PROGRESS)],
            12,
            6,
        ),
        _widget(
            "Recurring runs and uploads",
            [
                _app_metric(x, stage)
                for x in (m.RECURRING_FIRES, m.RECURRING_SKIPS, m.UPLOAD_REGISTRATIONS, m.UPLOAD_ERRORS)
            ],
            0,
            12,
        ),
        _widget(
            "API requests and errors",
            [
                ["AWS/ApiGateway", name, "ApiName", "${AWS::StackName}", "Stage", API_STAGE]
                for name in ("Count", "4XXError", "5XXError")
            ],
            12,
            12,
        ),
        _widget("Function errors", lambda_errors, 0, 18),
        _widget("Function duration (p90)", lambda_durations, 12, 18, stat="p90"),
        _widget(
            "Dead-letter queue",
            [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${DeadLetterQueue.QueueName}"]],
            0,
            24,
            stat="Maximum",
        ),
    ]
    return json.dumps({"widgets": widgets}, separators=(",", ":"))


def dashboard(stage: str, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": parts.ref("AWS::StackName"),
            "DashboardBody": parts.sub(dashboard_body(stage)),
            "Tags": parts.tag_list(tags),
        },
    }


def _alarm(description: str, tags: dict[str, str], **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "AlarmActions": [parts.ref("AlarmTopic")],
            "OKActions": [parts.ref("AlarmTopic")],
            "EvaluationPeriods": 1,
            "Period": 300,
            **properties,
            "Tags": parts.tag_list(tags),
        },
    }


def alarms(stage: str, tags: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"Tags": parts.tag_list(tags)},
        },
        "ReconcileErrorsAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": "The reconciler functions raised errors",
                "AlarmActions": [parts.ref("AlarmTopic")],
                "OKActions": [parts.ref("AlarmTopic")],
                "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "Threshold": 1,
                "TreatMissingData": "notBreaching",
                "Metrics": [
                    _lambda_errors_query("reconcile", "Reconcile"),
                    _lambda_errors_query("tick", "ReconcileTick"),
                    _lambda_errors_query("result", "ReconcileResult"),
                    {"Id": "errors", "Expression": "reconcile + tick + result", "Label": "reconciler errors"},
                ],
                "Tags": parts.tag_list(tags),
            },
        },
        "DeadLettersAlarm": _alarm(
            "Asynchronous invocations failed for good: messages in the dead-letter queue",
            tags,
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": parts.get_att("DeadLetterQueue", "QueueName")}],
            Statistic="Maximum",
            ComparisonOperator="GreaterThanThreshold",
            Threshold=0,
            TreatMissingData="notBreaching",
        ),
        "StalledRunAlarm": _alarm(
            "A run has been active without progress for longer than StalledRunSeconds",
            tags,
            Namespace=m.NAMESPACE,
            MetricName=m.OLDEST_RUN_WITHOUT_PROGRESS.name,
            Dimensions=[{"Name": m.STAGE_DIMENSION, "Value": stage}],
            Statistic="Maximum",
            ComparisonOperator="GreaterThanThreshold",
            Threshold=parts.ref("StalledRunSeconds"),
            TreatMissingData="notBreaching",
        ),
        "Api5xxAlarm": _alarm(
            "More than 5% of API requests answered 5xx",
            tags,
            Namespace="AWS/ApiGateway",
            MetricName="5XXError",
            Dimensions=[
                {"Name": "ApiName", "Value": parts.ref("AWS::StackName")},
                {"Name": "Stage", "Value": API_STAGE},
            ],
            Statistic="Average",
            ComparisonOperator="GreaterThanThreshold",
            Threshold=0.05,
            TreatMissingData="notBreaching",
        ),
    }


def _lambda_errors_query(query_id: str, function_id: str) -> dict[str, Any]:
    return {
        "Id": query_id,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": parts.ref(function_id)}],
            },
            "Period": 300,
            "Stat": "Sum",
        },
    }
