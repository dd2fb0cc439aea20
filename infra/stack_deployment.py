"""Create or update a stage's stack and remove it again: artifacts to S3, one change set, progress as the
stack's events arrive, the failing resource's reason when it fails.

Every AWS call goes through the boto3 session passed in (its default chain honours AWS_ENDPOINT_URL, which
is how the tests point this at a moto server).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra import sam
from infra.packaging import PackagedStage
from infra.stage import StageOptions, stack_name
from infra.stage_data import delete_stage_data, find_stage_data

Printer = Callable[[str], None]
TERMINAL_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
TERMINAL_FAILED = {
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "UPDATE_FAILED",
    "DELETE_FAILED",
}
NO_CHANGES = ("didn't contain changes", "No updates are to be performed", "does not contain changes")
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]


class DeployError(RuntimeError):
    """The deployment did not reach a good state; the message says what failed and why."""


@dataclasses.dataclass(frozen=True)
class StackResult:
    stack_name: str
    status: str
    outputs: dict[str, str]

    @property
    def api_url(self) -> str:
        return self.outputs.get("ApiUrl", "")


def artifacts_bucket_name(account: str, region: str) -> str:
    """Where deployment packages and templates go: one bucket per account and region, shared by stages."""
    return f"kfps-deploy-{account}-{region}"


def _ensure_artifacts_bucket(s3: Any, name: str, region: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=name)
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise DeployError(f"cannot use the artifacts bucket {name}: {exc}") from exc
    request: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**request)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def _upload(s3: Any, bucket: str, key: str, data: bytes) -> bool:
    """Put `data` at a content-addressed `key` unless it is there already; whether it was uploaded."""
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except ClientError:
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        return True


def _upload_file(s3: Any, bucket: str, path: Path, say: Printer) -> str:
    """Upload a packaged zip as `packages/<name>-<digest>.zip` unless it is there already (content-addressed:
    stages and redeployments of unchanged code share it); returns its key."""
    data = path.read_bytes()
    key = f"packages/{path.stem}-{_digest(data)}{path.suffix}"
    uploaded = _upload(s3, bucket, key, data)
    state = "uploaded" if uploaded else "unchanged"
    say(f"{state} {path.name} ({len(data) / 2**20:.1f} MB): s3://{bucket}/{key}")
    return key


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def _template_url(bucket: str, region: str, key: str) -> str:
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def describe_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stacks[0] if stacks else None


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}


def deploy(
    options: StageOptions,
    packaged: PackagedStage,
    session: Any,
    say: Printer = print,
    poll_seconds: float = 5.0,
) -> StackResult:
    """Upload the package and the translated template, then create or update the stack with one change set
    and wait. Raises DeployError naming the failing resources and their reasons."""
    region = session.region_name
    if not region:
        raise DeployError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
    cfn = session.client("cloudformation")
    s3 = session.client("s3")
    account = session.client("sts").get_caller_identity()["Account"]
    name = options.stack_name
    existing = describe_stack(cfn, name)
    if existing and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        say(f"stack {name} failed to create earlier; deleting it before creating it again")
        _delete_and_wait(cfn, name, say, poll_seconds)
        existing = None
    if existing is None:
        _refuse_taken_data_names(options.stage, session, account)

    bucket = artifacts_bucket_name(account, region)
    _ensure_artifacts_bucket(s3, bucket, region)
    code_key = _upload_file(s3, bucket, packaged.package_path, say)
    layer_key = _upload_file(s3, bucket, packaged.layer_path, say)
    template = sam.translate(sam.with_code_location(packaged.template(), bucket, code_key, layer_key), region)
    body = json.dumps(template, sort_keys=True).encode()
    template_key = f"{options.stage}/template-{_digest(body)}.json"
    _upload(s3, bucket, template_key, body)
    change_type = "UPDATE" if existing and existing["StackStatus"] != "REVIEW_IN_PROGRESS" else "CREATE"
    change_set = f"kfps-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}"
    started = datetime.now(UTC)
    cfn.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        ChangeSetType=change_type,
        TemplateURL=_template_url(bucket, region, template_key),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in options.parameters().items()],
        Capabilities=CAPABILITIES,
        Tags=[{"Key": k, "Value": v} for k, v in options.tags().items()],
        Description=f"kfps deploy --stage {options.stage}",
    )
    described = _wait_for_change_set(cfn, name, change_set, poll_seconds)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        if any(marker in reason for marker in NO_CHANGES):
            cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
            say(f"stack {name}: no changes")
            return StackResult(name, existing["StackStatus"] if existing else "", _outputs(existing or {}))
        raise DeployError(f"change set {change_set} of stack {name} failed: {reason}")
    changes = described.get("Changes", [])
    say(f"{change_type.lower()} stack {name}: {len(changes)} change(s)")
    for change in changes:
        resource = change.get("ResourceChange", {})
        say(
            f"  {resource.get('Action', '?'):<8} {resource.get('LogicalResourceId')} ({resource.get('ResourceType')})"
        )
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    stack = _wait_for_stack(cfn, name, started, say, poll_seconds)
    result = StackResult(name, stack["StackStatus"], _outputs(stack))
    say(f"stack {name}: {result.status}")
    return result


def _refuse_taken_data_names(stage: str, session: Any, account: str) -> None:
    """A new stack cannot create tables or a bucket whose names exist already: say so before trying."""
    data = find_stage_data(stage, session, account)
    if data.bucket_state == "foreign":
        raise DeployError(
            f"the bucket name {data.bucket} is taken by another account (bucket names are global); "
            "deploy under another --stage"
        )
    if data.exists:
        raise DeployError(
            f"stage {stage} has data left from an earlier deployment ({data.describe()}); the stack cannot "
            f"create them again: `kfps destroy --stage {stage} --delete-data` deletes them, or deploy under "
            "another --stage"
        )


def _wait_for_change_set(cfn: Any, name: str, change_set: str, poll_seconds: float) -> dict[str, Any]:
    while True:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            # describe_change_set pages its changes; gather them all
            changes = list(described.get("Changes", []))
            token = described.get("NextToken")
            while token:
                page = cfn.describe_change_set(StackName=name, ChangeSetName=change_set, NextToken=token)
                changes.extend(page.get("Changes", []))
                token = page.get("NextToken")
            return {**described, "Changes": changes}
        time.sleep(poll_seconds)


def _new_events(cfn: Any, name: str, since: datetime, seen: set[str]) -> Iterator[dict[str, Any]]:
    events = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=name):
        for event in page["StackEvents"]:
            if event["EventId"] in seen:
                continue
            timestamp = event["Timestamp"]
            if timestamp.tzinfo is None:
                timestamp = timestamp.replace(tzinfo=UTC)
            if timestamp < since.replace(microsecond=0):
                continue
            seen.add(event["EventId"])
            events.append(event)
    yield from reversed(events)  # the API lists newest first


def _wait_for_stack(
    cfn: Any, name: str, since: datetime, say: Printer, poll_seconds: float
) -> dict[str, Any]:
    seen: set[str] = set()
    failures: list[str] = []
    while True:
        for event in _new_events(cfn, name, since, seen):
            status = event.get("ResourceStatus", "")
            reason = event.get("ResourceStatusReason", "")
            say(
                f"  {status:<22} {event['LogicalResourceId']} ({event.get('ResourceType', '')}) {reason}".rstrip()
            )
            if status.endswith("_FAILED") and reason and "cancelled" not in reason.lower():
                failures.append(f"{event['LogicalResourceId']} ({event.get('ResourceType', '')}): {reason}")
        stack = describe_stack(cfn, name)
        status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
        if status in TERMINAL_OK:
            return stack or {}
        if status in TERMINAL_FAILED:
            detail = "\n  ".join(failures) or (stack or {}).get("StackStatusReason", "no reason given")
            raise DeployError(f"stack {name} ended {status}:\n  {detail}")
        time.sleep(poll_seconds)


def _delete_and_wait(cfn: Any, name: str, say: Printer, poll_seconds: float) -> None:
    cfn.delete_stack(StackName=name)
    while True:
        stack = describe_stack(cfn, name)
        if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
            return
        if stack["StackStatus"] == "DELETE_FAILED":
            raise DeployError(f"stack {name} could not be deleted: {stack.get('StackStatusReason', '')}")
        time.sleep(poll_seconds)


def destroy(
    stage: str, session: Any, delete_data: bool, say: Printer = print, poll_seconds: float = 5.0
) -> None:
    """Delete the stage's stack. Its tables and bucket are retained by the stack; with `delete_data` they
    are deleted too (deletion protection turned off, every object version removed) — also when the stack
    is already gone and only its kept data is left."""
    cfn = session.client("cloudformation")
    name = stack_name(stage)
    stack = describe_stack(cfn, name)
    if stack is not None:
        say(f"deleting stack {name}")
        _delete_and_wait(cfn, name, say, poll_seconds)
    account = session.client("sts").get_caller_identity()["Account"]
    data = find_stage_data(stage, session, account)
    if stack is None and not (delete_data and data.exists):
        kept = f" (its kept data: {data.describe()}; --delete-data removes it)" if data.exists else ""
        raise DeployError(f"there is no stack {name} in {session.region_name}{kept}")
    if not delete_data:
        say(f"kept the data: {data.describe()} (kfps destroy --stage {stage} --delete-data removes it)")
        return
    delete_stage_data(data, session, say)
