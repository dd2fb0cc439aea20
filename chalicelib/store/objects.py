"""The S3 object store: package bytes, spec snapshots, task logs, large task records.

Key layout (one place):
  packages/<pipeline_id>/<version_id>        uploaded package bytes as received
  specs/<pipeline_id>/<version_id>.json      the validated spec struct of that version
  runs/<run_id>/spec.json                    the run's immutable spec snapshot
  runs/<run_id>/tasks/<task_id>.json         a task record too large for its DynamoDB item
  logs/<run_id>/<task_id>/<attempt>.log      task logs (written when the attempt ends)
  logs/<run_id>/<task_id>/<attempt>.live.log the log so far of an attempt still running (for following)
  uploads/<upload_id>/<file name>            a large package PUT with a presigned URL, until registered
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


def upload_prefix(upload_id: str) -> str:
    return f"uploads/{upload_id}/"


@functools.cache
def _client():  # noqa: ANN202 - boto3 client type is dynamic
    import boto3
    from botocore.config import Config

    # SigV4 also for presigned URLs (botocore would sign those with SigV2, which newer regions refuse).
    return boto3.client("s3", region_name=Settings.from_env().region, config=Config(signature_version="s3v4"))


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

    def size(self, key: str) -> int:
        """The object's size in bytes; NotFound when there is no such object."""
        from botocore.exceptions import ClientError

        try:
            return int(_client().head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise NotFound(f"s3://{self.bucket}/{key} not found") from exc
            raise StoreError(f"cannot read s3://{self.bucket}/{key}: {exc}") from exc

    def keys(self, prefix: str, limit: int = 1000) -> list[str]:
        """Up to `limit` keys under `prefix`, in key order."""
        try:
            page = _client().list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=limit)
        except Exception as exc:
            raise StoreError(f"cannot list s3://{self.bucket}/{prefix}: {exc}") from exc
        return [item["Key"] for item in page.get("Contents", [])]

    def presigned_put_url(self, key: str, expires_seconds: int) -> str:
        """A URL anyone holding it may PUT the object `key` to, for `expires_seconds` (signed locally with
        this process's credentials: their s3:PutObject permission is what the URL grants)."""
        try:
            return _client().generate_presigned_url(
                "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_seconds
            )
        except Exception as exc:
            raise StoreError(f"cannot sign a PUT of s3://{self.bucket}/{key}: {exc}") from exc

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
