"""The S3 object store: package bytes, spec snapshots, task logs, large task records.

Key layout (one place):
  packages/<pipeline_id>/<version_id>        uploaded package bytes as received
  specs/<pipeline_id>/<version_id>.json      the validated spec struct of that version
  runs/<run_id>/spec.json                    the run's immutable spec snapshot
  runs/<run_id>/tasks/<task_id>.json         a task record too large for its DynamoDB item
  logs/<run_id>/<task_id>/<attempt>.log      task logs (written when the attempt ends)
  logs/<run_id>/<task_id>/<attempt>.live.log the log so far of an attempt still running (for following)
`pipelines/` is left to users: a package put there is registered by the S3 upload trigger.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from chalicelib.settings import Settings
from chalicelib.store.errors import NotFound, StoreError


def package_key(pipeline_id: str, version_id: str) -> str:
    return f"packages/{pipeline_id}/{version_id}"


def version_spec_key(pipeline_id: str, version_id: str) -> str:
    return f"specs/{pipeline_id}/{version_id}.json"


def run_spec_key(run_id: str) -> str:
    return f"runs/{run_id}/spec.json"


def task_record_key(run_id: str, task_id: str) -> str:
    return f"runs/{run_id}/tasks/{task_id}.json"


def log_key(run_id: str, task_id: str, attempt: int) -> str:
    return f"logs/{run_id}/{task_id}/{attempt}.log"


def live_log_key(run_id: str, task_id: str, attempt: int) -> str:
    """A separate key, so a late copy of a running attempt's log can never overwrite its final log."""
    return f"logs/{run_id}/{task_id}/{attempt}.live.log"


@functools.cache
def _client():  # noqa: ANN202 - boto3 client type is dynamic
    import boto3

    return boto3.client("s3", region_name=Settings.from_env().region)


class ObjectStore:
    """Bytes and JSON documents in one bucket."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        try:
            _client().put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except Exception as exc:  # botocore errors never leave the store
            raise StoreError(f"cannot write s3://{self.bucket}/{key}: {exc}") from exc

    def get_bytes(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return _client().get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise NotFound(f"s3://{self.bucket}/{key} not found") from exc
            raise StoreError(f"cannot read s3://{self.bucket}/{key}: {exc}") from exc

    def get_revision(self, key: str, version_id: str = "", etag: str = "") -> bytes:
        """The bytes of one revision of `key`: object version `version_id` if given, else the current object
        only if its ETag is still `etag`. NotFound when that revision is gone (deleted or overwritten)."""
        from botocore.exceptions import ClientError

        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            request["VersionId"] = version_id
        elif etag:
            request["IfMatch"] = etag if etag.startswith('"') else f'"{etag}"'
        try:
            return _client().get_object(**request)["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "NoSuchVersion", "404", "NotFound", "PreconditionFailed", "412"):
                raise NotFound(f"s3://{self.bucket}/{key} ({version_id or etag}) not found") from exc
            raise StoreError(f"cannot read s3://{self.bucket}/{key}: {exc}") from exc

    def put_json(self, key: str, value: Any) -> None:
        self.put_bytes(key, json.dumps(value, sort_keys=True).encode(), "application/json")

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

    def delete(self, key: str) -> None:
        try:
            _client().delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise StoreError(f"cannot delete s3://{self.bucket}/{key}: {exc}") from exc

    def create_bucket(self) -> None:
        """Create the bucket if missing (local stack and tests; the cloud uses infra/)."""
        client = _client()
        try:
            client.head_bucket(Bucket=self.bucket)
        except Exception:
            region = client.meta.region_name
            kwargs: dict[str, Any] = {"Bucket": self.bucket}
            if region and region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            client.create_bucket(**kwargs)
