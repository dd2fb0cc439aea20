"""The local stack's stand-in for S3 → EventBridge → `register_uploaded_pipeline`: moto delivers S3 events
only to rules with real targets, so a thread lists `s3://<bucket>/pipelines/` every second and hands each new
(key, ETag) to the same `register_upload` the cloud Lambda calls, as a synthetic "Object Created" event.

It plays S3's part, so it lists the bucket with boto3 itself. Each revision is handed over once per watcher;
registration is idempotent anyway.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.local.periodic import PeriodicWorker
from chalicelib.settings import Settings
from chalicelib.store.objects import ObjectStore
from chalicelib.timestamps import format_time
from chalicelib.triggers.s3_events import PIPELINES_PREFIX
from chalicelib.triggers.upload_registration import RegistrationOutcome, register_upload

logger = Logger()

POLL_SECONDS = 1.0


def object_created_event(bucket: str, key: str, etag: str, size: int, when: datetime) -> dict[str, Any]:
    """An EventBridge S3 "Object Created" event as S3 sends it (key URL-encoded as S3 does)."""
    from urllib.parse import quote_plus

    return {
        "version": "0",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": format_time(when),
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": quote_plus(key, safe="/"), "size": size, "etag": etag.strip('"')},
            "reason": "PutObject",
        },
    }


class PipelineUploadWatcher(PeriodicWorker):
    """Start with `start()`, stop with `stop()`; `poll()` is one pass."""

    thread_name = "kfps-s3-watch"

    def __init__(self, settings: Settings, interval: float = POLL_SECONDS) -> None:
        super().__init__(interval)
        self.settings = settings
        self.objects = ObjectStore(settings.bucket)
        self._seen: set[tuple[str, str]] = set()
        self._client: Any = None

    def poll(self) -> list[RegistrationOutcome]:
        """Register every package revision under `pipelines/` not handed over yet. Returns the outcomes."""
        if self._client is None:  # one client for the watcher's life: building one costs ~0.1 s
            import boto3

            self._client = boto3.client("s3", region_name=self.settings.region)
        client = self._client
        outcomes: list[RegistrationOutcome] = []
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.settings.bucket, Prefix=PIPELINES_PREFIX
        )
        for page in pages:
            for entry in page.get("Contents", []):
                revision = (entry["Key"], entry.get("ETag", ""))
                if revision in self._seen:
                    continue
                event = object_created_event(
                    self.settings.bucket,
                    entry["Key"],
                    entry.get("ETag", ""),
                    entry.get("Size", 0),
                    entry["LastModified"],
                )
                outcomes.append(register_upload(event, self.settings, self.objects))
                self._seen.add(revision)
        return outcomes

    def work(self) -> None:
        self.poll()
