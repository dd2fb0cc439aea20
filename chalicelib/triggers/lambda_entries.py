"""The triggers' Lambda entry points, called by `app.py`: an EventBridge Scheduler fire of a recurring run, and
an S3 "Object Created" event under `pipelines/`. Each reads its event, calls the one code path the local stack
also uses, and returns a summary for the log.

An event that can never succeed (no recurring run id, no key) is logged and dropped rather than raised, so
Lambda does not retry it; storage failures raise, so Lambda's retry delivers the event again (both paths are
idempotent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.runtime import Runtime
from chalicelib.services.recurring_fires import fire_scheduled_time
from chalicelib.timestamps import utc_now
from chalicelib.triggers.errors import InvalidFireEvent, InvalidUploadEvent
from chalicelib.triggers.fire_events import parse_fire_event
from chalicelib.triggers.upload_registration import register_upload

logger = Logger()


def fire_from_event(event: Mapping[str, Any], runtime: Runtime) -> dict[str, Any]:
    """The `fire_recurring_run` Lambda: `{"recurring_run_id", "scheduled_time"}` → at most one run."""
    try:
        fire = parse_fire_event(event or {})
    except InvalidFireEvent as exc:
        logger.error("invalid recurring run fire event", extra={"error": str(exc)})
        return {"result": "invalid", "reason": str(exc)}
    outcome = fire_scheduled_time(runtime, fire.recurring_run_id, fire.scheduled_time, utc_now())
    return outcome.to_log()


def register_from_event(event: Mapping[str, Any], runtime: Runtime) -> dict[str, Any]:
    """The `register_uploaded_pipeline` Lambda: an S3 "Object Created" event → a pipeline version."""
    try:
        outcome = register_upload(event or {}, runtime)
    except InvalidUploadEvent as exc:
        logger.error("invalid S3 upload event", extra={"error": str(exc)})
        return {"result": "invalid", "reason": str(exc)}
    return outcome.to_log()
