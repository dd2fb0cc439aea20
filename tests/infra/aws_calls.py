"""Every AWS call a process makes, recorded through botocore's event system, and the IAM requests each one
amounts to (action, resource ARN, condition keys), so they can be checked against a role's policy.

    with record_calls() as calls:   # before the code under test creates its clients
        ...
    requests = [r for call in calls for r in iam_requests(call, account, region)]

The hook is botocore's `before-parameter-build` event on every client created while recording (boto3's,
pynamodb's own botocore session, and presigned URLs, which are signed with the caller's credentials and
grant exactly the signer's permission for that operation).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

# Operations that need no permission at all (AWS documents GetCallerIdentity as always allowed).
NO_PERMISSION = {("sts", "GetCallerIdentity")}
_TRANSACT_WRITE_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclasses.dataclass(frozen=True)
class AwsCall:
    """One call as the caller made it: `principal` is who made it (set by the caller, see `acting_as`)."""

    principal: str
    service: str
    operation: str
    params: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AwsCall:
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class IamRequest:
    """What IAM authorizes for one call: an action on a resource, with the condition keys it sets."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        context = "".join(f" [{key}={value}]" for key, value in self.context)
        return f"{self.action} on {self.resource}{context}"


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[AwsCall] = []
        self.principal = "default"

    def on_parameters(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        self.calls.append(AwsCall(self.principal, service, model.name, _plain(params)))


_recorder: _Recorder | None = None


@contextlib.contextmanager
def record_calls() -> Iterator[list[AwsCall]]:
    """Record the calls of every botocore client created inside the block (in order)."""
    global _recorder
    import botocore.session

    recorder = _recorder = _Recorder()
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", recorder.on_parameters)
        return client

    botocore.session.Session.create_client = create_client
    try:
        yield recorder.calls
    finally:
        botocore.session.Session.create_client = original
        _recorder = None


@contextlib.contextmanager
def acting_as(principal: str) -> Iterator[None]:
    """Attribute the calls made inside the block to `principal` (e.g. a simulated pod's role)."""
    assert _recorder is not None, "acting_as needs record_calls"
    previous, _recorder.principal = _recorder.principal, principal
    try:
        yield
    finally:
        _recorder.principal = previous


def _plain(value: Any) -> Any:
    """The parameters without payloads (bodies, values), JSON-ready."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in ("Body", "Item", "Payload")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def iam_requests(call: AwsCall, account: str, region: str) -> list[IamRequest]:
    """The IAM requests `call` makes (empty for calls needing no permission). Raises ValueError for an
    operation this table does not know, so a new kind of call cannot slip past the check."""
    if (call.service, call.operation) in NO_PERMISSION:
        return []
    mapper = _MAPPERS.get(call.service)
    if mapper is None:
        raise ValueError(f"no IAM mapping for {call.service}:{call.operation}")
    return mapper(call.operation, call.params, account, region)


def _dynamodb(operation: str, params: dict[str, Any], account: str, region: str) -> list[IamRequest]:
    def table(name: str, index: str = "") -> str:
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if operation == "TransactWriteItems":
        requests = []
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            requests.append(IamRequest(f"dynamodb:{_TRANSACT_WRITE_ACTIONS[kind]}", table(body["TableName"])))
        return requests
    if operation == "TransactGetItems":
        return [
            IamRequest("dynamodb:GetItem", table(item["Get"]["TableName"]))
            for item in params["TransactItems"]
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [IamRequest(f"dynamodb:{operation}", table(name)) for name in params["RequestItems"]]
    if "TableName" not in params:
        raise ValueError(f"no IAM mapping for dynamodb:{operation}")
    return [IamRequest(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName", "")))]


def _s3(operation: str, params: dict[str, Any], account: str, region: str) -> list[IamRequest]:
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    if operation in ("ListObjectsV2", "ListObjects", "ListObjectVersions"):
        action = "s3:ListBucketVersions" if operation == "ListObjectVersions" else "s3:ListBucket"
        return [IamRequest(action, bucket, (("s3:prefix", params.get("Prefix", "")),))]
    if operation == "HeadBucket":
        return [IamRequest("s3:ListBucket", bucket)]
    if operation == "DeleteObjects":
        return [
            IamRequest("s3:DeleteObject", f"{bucket}/{item['Key']}") for item in params["Delete"]["Objects"]
        ]
    if operation in ("GetObject", "HeadObject"):
        action = "s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject"
        return [IamRequest(action, f"{bucket}/{params['Key']}")]
    if operation == "PutObject":
        return [IamRequest("s3:PutObject", f"{bucket}/{params['Key']}")]
    if operation == "DeleteObject":
        action = "s3:DeleteObjectVersion" if params.get("VersionId") else "s3:DeleteObject"
        return [IamRequest(action, f"{bucket}/{params['Key']}")]
    raise ValueError(f"no IAM mapping for s3:{operation}")


def _lambda(operation: str, params: dict[str, Any], account: str, region: str) -> list[IamRequest]:
    if operation != "Invoke":
        raise ValueError(f"no IAM mapping for lambda:{operation}")
    name = params["FunctionName"]
    arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
    return [IamRequest("lambda:InvokeFunction", arn)]


def _scheduler(operation: str, params: dict[str, Any], account: str, region: str) -> list[IamRequest]:
    if operation not in ("CreateSchedule", "UpdateSchedule", "DeleteSchedule", "GetSchedule"):
        raise ValueError(f"no IAM mapping for scheduler:{operation}")
    group = params.get("GroupName") or "default"
    requests = [
        IamRequest(
            f"scheduler:{operation}",
            f"arn:aws:scheduler:{region}:{account}:schedule/{group}/{params['Name']}",
        )
    ]
    role = (params.get("Target") or {}).get("RoleArn")
    if role:
        requests.append(
            IamRequest("iam:PassRole", role, (("iam:PassedToService", "scheduler.amazonaws.com"),))
        )
    return requests


def _eks(operation: str, params: dict[str, Any], account: str, region: str) -> list[IamRequest]:
    if operation != "DescribeCluster":
        raise ValueError(f"no IAM mapping for eks:{operation}")
    return [IamRequest("eks:DescribeCluster", f"arn:aws:eks:{region}:{account}:cluster/{params['name']}")]


_MAPPERS = {"dynamodb": _dynamodb, "s3": _s3, "lambda": _lambda, "scheduler": _scheduler, "eks": _eks}
