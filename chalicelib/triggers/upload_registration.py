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

from aws_lambda_powertools import Logger

from chalicelib.settings import Settings
from chalicelib.spec import PipelinePackage, SpecError, load_package
from chalicelib.store import catalog
from chalicelib.store.errors import AlreadyExists, NotFound
from chalicelib.store.objects import ObjectStore, package_key, version_spec_key
from chalicelib.store.tables import VersionItem
from chalicelib.timestamps import format_time, now_text, parse_time
from chalicelib.triggers.s3_events import (
    UploadedObject,
    idempotency_key,
    parse_upload_event,
    refusal_reason,
    registration_name,
)

logger = Logger()

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


def register_upload(
    event: Mapping[str, Any], settings: Settings, objects: ObjectStore
) -> RegistrationOutcome:
    """Handle one S3 "Object Created" EventBridge event (a dict). Raises InvalidUploadEvent when the event has
    no bucket, key or revision; StoreError on a storage failure (the Lambda retries the event)."""
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
    pipeline_id = catalog.find_pipeline_id(name, UPLOAD_NAMESPACE)
    if pipeline_id and _version_exists(pipeline_id, version_id):
        return _logged(RegistrationOutcome(RegistrationResult.DUPLICATE, obj.key, pipeline_id, version_id))
    try:
        data = objects.get_revision(obj.key, obj.version_id, obj.etag)
    except NotFound as exc:
        return _logged(
            RegistrationOutcome(
                RegistrationResult.SUPERSEDED, obj.key, pipeline_id or "", version_id, str(exc)
            )
        )
    file_name = obj.key.rsplit("/", 1)[-1]
    package: PipelinePackage | None = None
    error = ""
    try:
        package = load_package(data, file_name, settings.max_upload_bytes)
    except SpecError as exc:
        error = str(exc)
    pipeline_id = pipeline_id or _pipeline_for(name, package)
    item = VersionItem(
        pipeline_id,
        version_id,
        name=upload_version_name(file_name, obj),
        display_name=upload_version_name(file_name, obj),
        description=(package.description or "") if package else "",
        created_at=_event_time(event),
        code_source_url=f"s3://{obj.bucket}/{obj.key}",
        tags={"s3_key": obj.key, "s3_revision": obj.version_id or obj.etag.strip('"')},
    )
    if package is not None:
        item.package_key = package_key(pipeline_id, version_id)
        item.spec_key = version_spec_key(pipeline_id, version_id)
        # Deterministic keys and the same bytes: a concurrent duplicate delivery writes the same objects.
        objects.put_bytes(item.package_key, data)
        objects.put_json(item.spec_key, package.to_struct())
    else:
        item.error = {"code": 3, "message": f"s3://{obj.bucket}/{obj.key}: {error}"}
    try:
        catalog.create_version(item)
    except AlreadyExists:
        return _logged(RegistrationOutcome(RegistrationResult.DUPLICATE, obj.key, pipeline_id, version_id))
    result = RegistrationResult.REGISTERED if package is not None else RegistrationResult.INVALID
    return _logged(RegistrationOutcome(result, obj.key, pipeline_id, version_id, error))


def _version_exists(pipeline_id: str, version_id: str) -> bool:
    try:
        catalog.get_version(pipeline_id, version_id)
    except NotFound:
        return False
    return True


def _pipeline_for(name: str, package: PipelinePackage | None) -> str:
    """Create the pipeline `name`, or find it when a concurrent registration created it first."""
    try:
        description = (package.description or "") if package else ""
        return catalog.create_pipeline(name, name, description, UPLOAD_NAMESPACE, {}).pipeline_id
    except AlreadyExists:
        pipeline_id = catalog.find_pipeline_id(name, UPLOAD_NAMESPACE)
        if not pipeline_id:
            raise
        return pipeline_id


def _event_time(event: Mapping[str, Any]) -> str:
    """The event's time (when S3 created the object) in the store's format, else now."""
    raw = event.get("time")
    if isinstance(raw, str) and raw:
        try:
            return format_time(parse_time(raw))
        except ValueError:
            pass
    return now_text()


def _logged(outcome: RegistrationOutcome) -> RegistrationOutcome:
    if outcome.result is RegistrationResult.INVALID:
        logger.warning("uploaded pipeline package is invalid", extra=outcome.to_log())
    else:
        logger.info("uploaded pipeline package handled", extra=outcome.to_log())
    return outcome
