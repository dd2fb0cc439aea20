"""Each recurring run's EventBridge Scheduler schedule follows it: created, enabled/disabled, deleted (moto).
The stack keeps schedules only when it is moto-backed (`--store dynamodb`); the embedded stack has none."""

from __future__ import annotations

import dataclasses
import json

import boto3
import pytest

from chalicelib.settings import Settings
from chalicelib.triggers.scheduler_client import schedule_name
from chalicelib.triggers.schedules import drop_schedule, lambda_arn, role_arn, sync_schedule
from tests.conftest import require_moto_backed_stack
from tests.triggers.conftest import AppClient


@pytest.fixture
def scheduler(local_stack, aws_endpoint: str):
    require_moto_backed_stack(local_stack, "EventBridge Scheduler")
    return boto3.client("scheduler")


@pytest.fixture
def group(app_runtime) -> str:
    return app_runtime.settings.schedule_group


def stored(scheduler, recurring_run_id: str, group: str) -> dict:
    return scheduler.get_schedule(Name=schedule_name(recurring_run_id), GroupName=group)


def test_schedule_follows_create_disable_enable_and_delete(
    app_client: AppClient, app_runtime, scheduler, group: str, unique: str
) -> None:
    rid = app_client.create_recurring_run(unique, trigger={"cron_schedule": {"cron": "0 30 9 * * 1-5"}})[
        "recurring_run_id"
    ]

    schedule = stored(scheduler, rid, group)
    assert schedule["ScheduleExpression"] == "cron(30 9 ? * 2-6 *)"
    assert schedule["State"] == "ENABLED"
    assert schedule["Target"]["Arn"] == app_runtime.settings.scheduler_target
    assert json.loads(schedule["Target"]["Input"])["recurring_run_id"] == rid

    app_client.call("POST", f"/recurringruns/{rid}:disable")
    assert stored(scheduler, rid, group)["State"] == "DISABLED"
    app_client.call("POST", f"/recurringruns/{rid}:enable")
    assert stored(scheduler, rid, group)["State"] == "ENABLED"

    assert app_client.call("DELETE", f"/recurringruns/{rid}") == (200, {})
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        stored(scheduler, rid, group)


def test_recurring_run_created_disabled_gets_a_disabled_schedule(
    app_client: AppClient, scheduler, group: str, unique: str
) -> None:
    rid = app_client.create_recurring_run(unique, mode="DISABLE")["recurring_run_id"]
    try:
        assert stored(scheduler, rid, group)["ScheduleExpression"] == "rate(1 hour)"
        assert stored(scheduler, rid, group)["State"] == "DISABLED"
    finally:
        app_client.call("DELETE", f"/recurringruns/{rid}")


def test_schedules_are_skipped_without_a_target(
    app_client: AppClient, app_runtime, scheduler, group: str, unique: str
) -> None:
    rid = app_client.create_recurring_run(unique, mode="DISABLE")["recurring_run_id"]
    off = dataclasses.replace(app_runtime.settings, scheduler_target="", schedule_group=f"g-{unique}")
    try:
        assert sync_schedule(app_runtime.store.recurring_runs.get_recurring_run(rid), off) == ""
        drop_schedule(rid, off)
        assert (
            stored(scheduler, rid, group)["State"] == "DISABLED"
        )  # the configured group's schedule is untouched
    finally:
        app_client.call("DELETE", f"/recurringruns/{rid}")


def test_target_and_role_names_become_arns_in_the_callers_account(aws_access) -> None:
    settings = Settings(aws=dataclasses.replace(aws_access, region="eu-west-1"))
    assert lambda_arn("kfp-serverless-dev-fire_recurring_run", settings) == (
        "arn:aws:lambda:eu-west-1:123456789012:function:kfp-serverless-dev-fire_recurring_run"
    )
    assert role_arn("kfps-dev-scheduler", settings) == "arn:aws:iam::123456789012:role/kfps-dev-scheduler"
    assert role_arn("arn:aws:iam::1:role/x", settings) == "arn:aws:iam::1:role/x"
