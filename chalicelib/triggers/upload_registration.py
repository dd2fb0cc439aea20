"""Register a pipeline package put under `s3://<bucket>/pipelines/`: the S3 "Object Created" event (through
EventBridge in the cloud, through the local stack's watcher locally) becomes a pipeline version.

- The pipeline is named after the file (`pipelines/team/hello.yaml` → `hello`), in the default namespace "":
  the name is known before the package is parsed, so a bad package still has a pipeline to show its error on.
  A new name creates the pipeline; an existing name gets a new version.
- The version is keyed on bucket + key + object version id (else ETag): its id is a uuid5 of that key and its
  name is `<file name>@<first 12 characters of the version id or ETag>`, both deterministic, so a duplicated
  delivery finds the version and does nothing. The package is read at exactly that revision (VersionId, else
  If-Match on the ETag); an event whose object has been overwritten or deleted since registers nothing (the
  later upload's own event registers that one). The version's `created_at` is the event time, so the latest
  upload is the latest version even when events arrive out of order.
- A package that does not parse or validate becomes a version with `error` set (and a log line); no other
  pipeline or version changes.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Mapping
from typing import Any

from chalicelib.observability import metric_names
from chalicelib.observability.outcomes import OutcomeLine, log_outcome
from chalicelib.runtime import Runtime
from chalicelib.services.pipelines import VersionRequest, create_version, find_or_create_pipeline
from chalicelib.spec import PipelinePackage, SpecError, load_package
from chalicelib.store.errors import AlreadyExists, NotFound
from chalicelib.timestamps import format_time, now_text, parse_time
from chalicelib.triggers.s3_events import (
    UploadedObject,
    idempotency_key,
    parse_upload_event,
    refusal_reason,
    registration_name,
)

UPLOAD_NAMESPACE = ""
_VERSION_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "kfp-serverless/s3-upload-version")  # fixed forever
_SHORT_REVISION = 12


class RegistrationResult(enum.Enum):
    REGISTERED = "registered"  # a new version (and the pipeline, if it was new)
    INVALID = "invalid"  # a new version carrying the package's error
    DUPLICATE = "duplicate"  # this revision is registered already
    SUPERSEDED = "superseded"  # the object changed or went away since the event
    IGNORED = "ignored"  # another bucket, or a key that is not a package under pipelines/


@dataclasses.dataclass(frozen=True)
class RegistrationOutcome:
    result: RegistrationResult
    key: str = ""
    pipeline_id: str = ""
    version_id: str = ""
    message: str = ""

    def to_log(self) -> dict[str, Any]:
        return {
            "result": self.result.value,
            "key": self.key,
            "pipeline_id": self.pipeline_id,
            "version_id": self.version_id,
            "reason": self.message,
        }


def upload_version_id(obj: UploadedObject) -> str:
    """The deterministic version id of one uploaded revision. Raises InvalidUploadEvent without a revision."""
    return str(uuid.uuid5(_VERSION_ID_NAMESPACE, idempotency_key(obj)))


def upload_version_name(file_name: str, obj: UploadedObject) -> str:
    """`<file name>@<short revision>`: unique per revision within the pipeline, and deterministic."""
    revision = obj.version_id or obj.etag.strip('"') or obj.sequencer
    return f"{file_name}@{revision[:_SHORT_REVISION]}"


def register_upload(event: Mapping[str, Any], runtime: Runtime) -> RegistrationOutcome:
    """Handle one S3 "Object Created" EventBridge event (a dict). Raises InvalidUploadEvent when the event has
    no bucket, key or revision; StoreError on a storage failure (the Lambda retries the event)."""
    settings, store = runtime.settings, runtime.store
    obj = parse_upload_event(event)
    if obj.bucket != settings.bucket:
        return _logged(
            RegistrationOutcome(RegistrationResult.IGNORED, obj.key, message=f"bucket {obj.bucket}")
        )
    name = registration_name(obj.key)
    if name is None:
        return _logged(
            RegistrationOutcome(RegistrationResult.IGNORED, obj.key, message=refusal_reason(obj.key) or "")
        )
    version_id = upload_version_id(obj)
    pipeline = store.catalog.find_pipeline(UPLOAD_NAMESPACE, name)
    if pipeline is not None and _version_exists(runtime, pipeline.pipeline_id, version_id):
        return _logged(
            RegistrationOutcome(RegistrationResult.DUPLICATE, obj.key, pipeline.pipeline_id, version_id)
        )
    try:
        data = store.objects.get_revision(obj.key, obj.version_id, obj.etag)
    except NotFound as exc:
        return _logged(
            RegistrationOutcome(
                RegistrationResult.SUPERSEDED,
                obj.key,
                pipeline.pipeline_id if pipeline else "",
                version_id,
                str(exc),
            )
        )
    file_name = obj.key.rsplit("/", 1)[-1]
    package: PipelinePackage | None = None
    error = ""
    try:
        package = load_package(data, file_name, settings.limits.max_upload_bytes)
    except SpecError as exc:
        error = str(exc)
    description = (package.description or "") if package else ""
    pipeline = pipeline or find_or_create_pipeline(runtime, name, UPLOAD_NAMESPACE, description)
    version_name = upload_version_name(file_name, obj)
    request = VersionRequest(
        name=version_name,
        package=package,
        package_bytes=data,
        display_name=version_name,
        description=description,
        code_source_url=f"s3://{obj.bucket}/{obj.key}",
        tags={"s3_key": obj.key, "s3_revision": obj.version_id or obj.etag.strip('"')},
        version_id=version_id,
        created_at=_event_time(event),
        error=None
        if package is not None
        else {"code": 3, "message": f"s3://{obj.bucket}/{obj.key}: {error}"},
    )
    try:
        # Deterministic keys and the same bytes: a concurrent duplicate delivery writes the same objects.
        create_version(runtime, pipeline, request)
    except AlreadyExists:
        return _logged(
            RegistrationOutcome(RegistrationResult.DUPLICATE, obj.key, pipeline.pipeline_id, version_id)
        )
    result = RegistrationResult.REGISTERED if package is not None else RegistrationResult.INVALID
    return _logged(RegistrationOutcome(result, obj.key, pipeline.pipeline_id, version_id, error))


def _version_exists(runtime: Runtime, pipeline_id: str, version_id: str) -> bool:
    try:
        runtime.store.catalog.get_version(pipeline_id, version_id)
    except NotFound:
        return False
    return True


def _event_time(event: Mapping[str, Any]) -> str:
    """The event's time (when S3 created the object) in the store's format, else now."""
    raw = event.get("time")
    if isinstance(raw, str) and raw:
        try:
            return format_time(parse_time(raw))
        except ValueError:
            pass
    return now_text()


# One line per upload: registered, refused (an invalid package: a version carrying the error) or ignored (not a
# package, another bucket); a delivery that changed nothing (duplicate, superseded) only at DEBUG.
_REGISTRATION_LINES = {
    RegistrationResult.REGISTERED: OutcomeLine(
        "info", "uploaded pipeline registered", metric_names.UPLOAD_REGISTRATIONS
    ),
    RegistrationResult.INVALID: OutcomeLine(
        "warning", "uploaded pipeline refused", metric_names.UPLOAD_ERRORS
    ),
    RegistrationResult.IGNORED: OutcomeLine("info", "uploaded object ignored"),
}
_ALREADY_HANDLED = OutcomeLine("debug", "uploaded pipeline already handled")


def _logged(outcome: RegistrationOutcome) -> RegistrationOutcome:
    log_outcome(_REGISTRATION_LINES.get(outcome.result, _ALREADY_HANDLED), outcome.to_log())
    return outcome
