"""Keep a recurring run's EventBridge Scheduler schedule in step with the recurring run: created on create,
replaced (with the new state) on `:enable`/`:disable`, removed on delete.

Off when `settings.scheduler_target` is empty (no fire Lambda to target): the calls are skipped and the local
stack's firer fires recurring runs itself. The local stack and the tests set a made-up target, so schedules are
kept in moto (which stores them but never fires them). The target and role may be given as names; they are
turned into ARNs with the caller's account (STS GetCallerIdentity needs no permission).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from chalicelib.aws_clients import aws_client
from chalicelib.settings import AwsAccess, Settings
from chalicelib.store.records import RecurringRun
from chalicelib.triggers.errors import SchedulerError
from chalicelib.triggers.schedule_expressions import to_eventbridge
from chalicelib.triggers.scheduler_client import delete_schedule, ensure_group, put_schedule


def schedules_enabled(settings: Settings) -> bool:
    """Whether recurring runs get EventBridge schedules (a fire Lambda target is configured)."""
    return bool(settings.scheduler_target)


def sync_schedule(
    item: RecurringRun, settings: Settings, *, now: datetime | None = None, client: Any = None
) -> str:
    """Create or replace the schedule of `item` with its trigger and its enabled state. Returns the schedule
    ARN, or "" when schedules are off. Creates the schedule group if it is missing. Raises SchedulerError, or
    InvalidSchedule for a trigger EventBridge cannot express (the API refuses those on create)."""
    if not schedules_enabled(settings):
        return ""
    expression = to_eventbridge(item.trigger or {})
    client = client or aws_client("scheduler", settings.aws)
    arguments = (
        item.recurring_run_id,
        expression,
        bool(item.enabled),
        lambda_arn(settings.scheduler_target, settings),
        role_arn(settings.scheduler_role, settings),
        settings.schedule_group,
    )
    try:
        return put_schedule(*arguments, now=now, client=client)
    except SchedulerError:  # the group may not exist yet (moto fails that call without a clean error)
        ensure_group(settings.schedule_group, client=client)
        return put_schedule(*arguments, now=now, client=client)


def drop_schedule(recurring_run_id: str, settings: Settings, *, client: Any = None) -> None:
    """Delete the recurring run's schedule (a missing one is fine). Raises SchedulerError."""
    if schedules_enabled(settings):
        client = client or aws_client("scheduler", settings.aws)
        delete_schedule(recurring_run_id, settings.schedule_group, client=client)


def lambda_arn(target: str, settings: Settings) -> str:
    """`target` if it is an ARN, else the ARN of the Lambda function of that name in this account."""
    if target.startswith("arn:"):
        return target
    return f"arn:aws:lambda:{settings.region}:{_account_id(settings.aws)}:function:{target}"


def role_arn(role: str, settings: Settings) -> str:
    """`role` if it is an ARN, else the ARN of the IAM role of that name in this account."""
    if role.startswith("arn:"):
        return role
    return f"arn:aws:iam::{_account_id(settings.aws)}:role/{role}"


@functools.cache
def _account_id(access: AwsAccess) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return aws_client("sts", access).get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as exc:
        raise SchedulerError(f"cannot find the account for the schedule target: {exc}") from exc
