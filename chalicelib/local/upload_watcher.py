"""The local stack's stand-in for S3 → EventBridge → `register_uploaded_pipeline`: a thread lists the store's
`pipelines/` objects every second and hands each new (key, ETag) to the same `register_upload` the cloud
Lambda calls, as a synthetic "Object Created" event. With the embedded store, `pipelines/` is the directory
`<data dir>/store/objects/pipelines/`; with `--aws`, the bucket's prefix.

Each revision is handed over once per watcher; registration is idempotent anyway. An object changed less than
`SETTLE_SECONDS` ago waits a round, so a file still being copied into the directory is not registered half
written.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from aws_lambda_powertools import Logger

from chalicelib.local.periodic import PeriodicWorker
from chalicelib.runtime import Runtime
from chalicelib.store.object_keys import UPLOADS_PREFIX
from chalicelib.timestamps import parse_time, utc_now
from chalicelib.triggers.upload_registration import RegistrationOutcome, register_upload

logger = Logger()

POLL_SECONDS = 1.0
SETTLE_SECONDS = 1.0


def object_created_event(bucket: str, key: str, etag: str, size: int, when: str) -> dict[str, Any]:
    """An EventBridge S3 "Object Created" event as S3 sends it (key URL-encoded as S3 does)."""
    return {
        "version": "0",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": when,
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

    thread_name = "kfps-upload-watch"

    def __init__(self, runtime: Runtime, interval: float = POLL_SECONDS) -> None:
        super().__init__(interval)
        self.runtime = runtime
        self._seen: set[tuple[str, str]] = set()

    def poll(self, now: datetime | None = None) -> list[RegistrationOutcome]:
        """Register every package revision under `pipelines/` not handed over yet. Returns the outcomes."""
        settled_before = (now or utc_now()) - timedelta(seconds=SETTLE_SECONDS)
        bucket = self.runtime.settings.bucket
        outcomes: list[RegistrationOutcome] = []
        for info in self.runtime.store.objects.list_objects(UPLOADS_PREFIX):
            revision = (info.key, info.etag)
            if revision in self._seen or parse_time(info.modified_at) > settled_before:
                continue
            event = object_created_event(bucket, info.key, info.etag, info.size, info.modified_at)
            outcomes.append(register_upload(event, self.runtime))
            self._seen.add(revision)
        return outcomes

    def work(self) -> None:
        self.poll()
