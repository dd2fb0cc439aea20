"""The triggers' Lambda entry points, called by `app.py`: an EventBridge Scheduler fire of a recurring run, and
an S3 "Object Created" event under `pipelines/`. Each reads its event, calls the one code path the local stack
also uses, and returns a summary for the log.

An event that can never succeed (no recurring run id, no key) is logged and dropped rather than raised, so
Lambda does not retry it; storage failures raise, so Lambda's retry delivers the event again (both paths are
idempotent).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.settings import Settings
from chalicelib.store.objects import ObjectStore
from chalicelib.timestamps import utc_now
from chalicelib.triggers.errors import InvalidFireEvent, InvalidUploadEvent
from chalicelib.triggers.fire_events import parse_fire_event
from chalicelib.triggers.recurring_fire import fire_scheduled_time
from chalicelib.triggers.upload_registration import register_upload

logger = Logger()


@functools.cache
def _settings() -> Settings:
    return Settings.from_env()


def fire_from_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """The `fire_recurring_run` Lambda: `{"recurring_run_id", "scheduled_time"}` → at most one run."""
    try:
        fire = parse_fire_event(event or {})
    except InvalidFireEvent as exc:
        logger.error("invalid recurring run fire event", extra={"error": str(exc)})
        return {"result": "invalid", "reason": str(exc)}
    settings = _settings()
    outcome = fire_scheduled_time(
        fire.recurring_run_id, fire.scheduled_time, settings, ObjectStore(settings.bucket), utc_now()
    )
    return outcome.to_log()


def register_from_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """The `register_uploaded_pipeline` Lambda: an S3 "Object Created" event → a pipeline version."""
    settings = _settings()
    try:
        outcome = register_upload(event or {}, settings, ObjectStore(settings.bucket))
    except InvalidUploadEvent as exc:
        logger.error("invalid S3 upload event", extra={"error": str(exc)})
        return {"result": "invalid", "reason": str(exc)}
    return outcome.to_log()
