"""The S3 object store (the `ObjectStore` protocol over one bucket). botocore errors leave as store errors."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from chalicelib.aws_clients import aws_client
from chalicelib.settings import AwsAccess
from chalicelib.store.errors import NotFound, StoreError
from chalicelib.store.protocols import ObjectStore
from chalicelib.store.records import ObjectInfo
from chalicelib.timestamps import format_time

_MISSING = ("NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404", "NotFound")


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class S3ObjectStore(ObjectStore):
    """Bytes and JSON documents in one bucket."""

    def __init__(self, bucket: str, access: AwsAccess) -> None:
        self.bucket = bucket
        self._access = access

    @functools.cached_property
    def _s3(self) -> Any:
        return aws_client("s3", self._access)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except Exception as exc:  # botocore errors never leave the store
            raise StoreError(f"cannot write s3://{self.bucket}/{key}: {exc}") from exc

    def get_bytes(self, key: str) -> bytes:
        return self._get({"Bucket": self.bucket, "Key": key}, f"s3://{self.bucket}/{key}")

    def _get(self, request: dict[str, Any], what: str, max_bytes: int | None = None) -> bytes:
        try:
            body = self._s3.get_object(**request)["Body"]
            return body.read() if max_bytes is None else body.read(max_bytes + 1)
        except Exception as exc:
            code = _error_code(exc)
            if code in _MISSING or code in ("PreconditionFailed", "412"):
                raise NotFound(f"{what} not found") from exc
            raise StoreError(f"cannot read {what}: {exc}") from exc

    def get_revision(self, key: str, version_id: str = "", etag: str = "") -> bytes:
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            request["VersionId"] = version_id
        elif etag:
            request["IfMatch"] = etag if etag.startswith('"') else f'"{etag}"'
        return self._get(request, f"s3://{self.bucket}/{key} ({version_id or etag})")

    def delete(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise StoreError(f"cannot delete s3://{self.bucket}/{key}: {exc}") from exc

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                for entry in page.get("Contents", []):
                    yield ObjectInfo(
                        key=entry["Key"],
                        etag=str(entry.get("ETag", "")).strip('"'),
                        size=int(entry.get("Size", 0)),
                        modified_at=format_time(entry["LastModified"]),
                    )
        except Exception as exc:
            raise StoreError(f"cannot list s3://{self.bucket}/{prefix}: {exc}") from exc

    def presigned_put_url(self, key: str, expires_seconds: int) -> str:
        try:
            presigner = aws_client("s3", self._access, signature_version="s3v4")
            return presigner.generate_presigned_url(
                "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_seconds
            )
        except Exception as exc:
            raise StoreError(f"cannot sign a PUT of s3://{self.bucket}/{key}: {exc}") from exc

    def read_bucket_object(self, bucket: str, key: str, max_bytes: int) -> bytes:
        return self._get({"Bucket": bucket, "Key": key}, f"s3://{bucket}/{key}", max_bytes)

    def create_bucket(self) -> None:
        """Create the bucket if missing (local stack and tests; the cloud uses infra/)."""
        try:
            self._s3.head_bucket(Bucket=self.bucket)
            return
        except Exception as exc:
            if _error_code(exc) not in _MISSING:
                raise StoreError(f"cannot reach s3://{self.bucket}: {exc}") from exc
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if self._access.region and self._access.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self._access.region}
        try:
            self._s3.create_bucket(**kwargs)
        except Exception as exc:
            raise StoreError(f"cannot create s3://{self.bucket}: {exc}") from exc
