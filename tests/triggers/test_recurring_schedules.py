"""Each recurring run's EventBridge Scheduler schedule follows it: created, enabled/disabled, deleted (moto)."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from chalicelib.settings import Settings
from chalicelib.store import recurring_runs as recurring_store
from chalicelib.triggers.scheduler_client import schedule_name
from chalicelib.triggers.schedules import drop_schedule, lambda_arn, role_arn, sync_schedule
from tests.triggers.conftest import AppClient


@pytest.fixture
def scheduler(aws_endpoint: str):
    return boto3.client("scheduler", region_name=os.environ["AWS_DEFAULT_REGION"])


def stored(scheduler, recurring_run_id: str) -> dict:
    return scheduler.get_schedule(
        Name=schedule_name(recurring_run_id), GroupName=os.environ["KFPS_SCHEDULE_GROUP"]
    )


def test_schedule_follows_create_disable_enable_and_delete(
    app_client: AppClient, scheduler, unique: str
) -> None:
    rid = app_client.create_recurring_run(unique, trigger={"cron_schedule": {"cron": "0 30 9 * * 1-5"}})[
        "recurring_run_id"
    ]

    schedule = stored(scheduler, rid)
    assert schedule["ScheduleExpression"] == "cron(30 9 ? * 2-6 *)"
    assert schedule["State"] == "ENABLED"
    assert schedule["Target"]["Arn"] == os.environ["KFPS_SCHEDULER_TARGET"]
    assert json.loads(schedule["Target"]["Input"])["recurring_run_id"] == rid

    app_client.call("POST", f"/recurringruns/{rid}:disable")
    assert stored(scheduler, rid)["State"] == "DISABLED"
    app_client.call("POST", f"/recurringruns/{rid}:enable")
    assert stored(scheduler, rid)["State"] == "ENABLED"

    assert app_client.call("DELETE", f"/recurringruns/{rid}") == (200, {})
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        stored(scheduler, rid)


def test_recurring_run_created_disabled_gets_a_disabled_schedule(
    app_client: AppClient, scheduler, unique: str
) -> None:
    rid = app_client.create_recurring_run(unique, mode="DISABLE")["recurring_run_id"]
    try:
        assert stored(scheduler, rid)["ScheduleExpression"] == "rate(1 hour)"
        assert stored(scheduler, rid)["State"] == "DISABLED"
    finally:
        app_client.call("DELETE", f"/recurringruns/{rid}")


def test_schedules_are_skipped_without_a_target(app_client: AppClient, scheduler, unique: str) -> None:
    rid = app_client.create_recurring_run(unique, mode="DISABLE")["recurring_run_id"]
    off = Settings.from_env({**os.environ, "KFPS_SCHEDULER_TARGET": "", "KFPS_SCHEDULE_GROUP": f"g-{unique}"})
    try:
        assert sync_schedule(recurring_store.get_recurring_run(rid), off) == ""
        drop_schedule(rid, off)
        assert stored(scheduler, rid)["State"] == "DISABLED"  # the configured group's schedule is untouched
    finally:
        app_client.call("DELETE", f"/recurringruns/{rid}")


def test_target_and_role_names_become_arns_in_the_callers_account(aws_endpoint: str) -> None:
    assert lambda_arn("kfp-serverless-dev-fire_recurring_run", "eu-west-1") == (
        "arn:aws:lambda:eu-west-1:123456789012:function:kfp-serverless-dev-fire_recurring_run"
    )
    assert role_arn("kfps-dev-scheduler", "eu-west-1") == "arn:aws:iam::123456789012:role/kfps-dev-scheduler"
    assert role_arn("arn:aws:iam::1:role/x", "eu-west-1") == "arn:aws:iam::1:role/x"
