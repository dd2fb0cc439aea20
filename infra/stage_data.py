"""A stage's data outside its stack: the tables and the bucket the stack retains when it is deleted, found by
the names the template gives them (`<stack>-<kind>`, `<stack>-<account>-<region>`), so `kfps destroy
--delete-data` can remove them with or without the stack, and `kfps deploy` can say why a stage whose data
was kept cannot be created again."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from infra.stage import data_bucket_name, stack_name
from infra.tables import table_names

Printer = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class StageData:
    """What exists of one stage's data in one account and region.

    bucket: the data bucket's name; bucket_state: "ours" (it exists and we can reach it), "absent", or
    "foreign" (the name is taken and refuses us: another account's bucket, bucket names being global).
    tables: the stage's tables that exist.
    """

    bucket: str
    bucket_state: str
    tables: tuple[str, ...]

    @property
    def exists(self) -> bool:
        return bool(self.tables) or self.bucket_state == "ours"

    def describe(self) -> str:
        parts = [f"bucket {self.bucket}"] if self.bucket_state == "ours" else []
        if self.tables:
            parts.append(f"tables {', '.join(self.tables)}")
        return " and ".join(parts) or "nothing"


def find_stage_data(stage: str, session: Any, account: str) -> StageData:
    from botocore.exceptions import ClientError

    dynamodb = session.client("dynamodb")
    tables = []
    for table in table_names(stack_name(stage)):
        try:
            dynamodb.describe_table(TableName=table)
            tables.append(table)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
    bucket = data_bucket_name(stage, account, session.region_name)
    try:
        session.client("s3").head_bucket(Bucket=bucket)
        state = "ours"
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        state = "foreign" if code in ("403", "AccessDenied") else "absent"
        if code not in ("403", "AccessDenied", "404", "NoSuchBucket", "NotFound"):
            raise
    return StageData(bucket, state, tuple(tables))


def delete_stage_data(data: StageData, session: Any, say: Printer) -> None:
    """Delete the tables (deletion protection turned off first) and the bucket with every object version."""
    dynamodb = session.client("dynamodb")
    for table in data.tables:
        _delete_table(dynamodb, table, say)
    if data.bucket_state == "ours":
        _delete_bucket(session.client("s3"), data.bucket, say)


def _delete_table(dynamodb: Any, table: str, say: Printer) -> None:
    from botocore.exceptions import ClientError

    try:
        dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
        dynamodb.delete_table(TableName=table)
        say(f"deleted table {table}")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise


def _delete_bucket(s3: Any, bucket: str, say: Printer) -> None:
    from botocore.exceptions import ClientError

    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
        say(f"deleted bucket {bucket}")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise
