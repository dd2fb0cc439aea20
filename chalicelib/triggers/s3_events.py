"""S3 "Object Created" events (S3 -> EventBridge -> `@app.on_cw_event`) that register pipelines.

S3 delivers these at least once, possibly twice and out of order, with URL-encoded keys. So: decode the key,
key the registration on bucket + key + version (or ETag), and order two events of one key by `sequencer`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.triggers.errors import InvalidUploadEvent

PIPELINES_PREFIX = "pipelines/"
# Longest first, so "x.tar.gz" is not read as "x.tar" + ".gz".
PACKAGE_EXTENSIONS = (".tar.gz", ".yaml", ".json", ".yml", ".zip", ".tgz")


@dataclasses.dataclass(frozen=True)
class UploadedObject:
    """The object an event reports: `key` decoded; `etag`, `version_id`, `sequencer` as S3 gave them."""

    bucket: str
    key: str
    etag: str = ""
    version_id: str = ""
    sequencer: str = ""


def parse_upload_event(event: Mapping[str, Any]) -> UploadedObject:
    """Read an EventBridge S3 "Object Created" event dict (`CloudWatchEvent.to_dict()`). Raises
    InvalidUploadEvent if the bucket name or object key is missing."""
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    found = detail.get("object") or {}
    raw_key = found.get("key")
    if not isinstance(bucket, str) or not bucket or not isinstance(raw_key, str) or not raw_key:
        raise InvalidUploadEvent(f"S3 event without bucket name or object key: detail={dict(detail)!r}")
    return UploadedObject(
        bucket=bucket,
        key=unquote_plus(raw_key),
        etag=str(found.get("etag") or ""),
        version_id=str(found.get("version-id") or ""),
        sequencer=str(found.get("sequencer") or ""),
    )


def registration_name(key: str) -> str | None:
    """The pipeline name an uploaded key registers, or None if it registers nothing (see `refusal_reason`):
    the file name without its package extension, for keys under `pipelines/`."""
    return _classify(key)[0]


def refusal_reason(key: str) -> str | None:
    """Why `key` registers no pipeline, or None if it does."""
    return _classify(key)[1]


def _classify(key: str) -> tuple[str | None, str | None]:
    if not key.startswith(PIPELINES_PREFIX):
        return None, f"{key!r} is not under {PIPELINES_PREFIX}"
    relative = key[len(PIPELINES_PREFIX) :]
    if not relative or relative.endswith("/"):
        return None, f"{key!r} is a folder, not a file"
    if "\\" in relative or any(ord(char) < 32 or ord(char) == 127 for char in relative):
        return None, f"{key!r} contains a backslash or control character"
    segments = relative.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return None, f"{key!r} has an empty, '.' or '..' path segment"
    file_name = segments[-1]
    extension = next((ext for ext in PACKAGE_EXTENSIONS if file_name.lower().endswith(ext)), None)
    if extension is None:
        return None, f"{key!r} does not end in one of {', '.join(PACKAGE_EXTENSIONS)}"
    name = file_name[: -len(extension)].strip()
    if not name or name.startswith("."):
        return None, f"{key!r} leaves an empty or hidden pipeline name"
    return name, None


def idempotency_key(obj: UploadedObject) -> str:
    """One key per uploaded object version: bucket + key + version id, else ETag, else sequencer. A duplicate
    delivery gives the same key; an overwrite of the same key gives a new one."""
    if obj.version_id:
        revision = f"version:{obj.version_id}"
    elif obj.etag:
        revision = f"etag:{obj.etag}"
    elif obj.sequencer:
        revision = f"sequencer:{obj.sequencer}"
    else:
        raise InvalidUploadEvent(f"s3://{obj.bucket}/{obj.key}: event has no version id, ETag or sequencer")
    return f"s3://{obj.bucket}/{obj.key}#{revision}"


def is_later_upload(sequencer: str, than: str) -> bool:
    """Whether the event with `sequencer` happened after the one with `than`, for the same key. S3 says:
    compare as hexadecimal after left-padding the shorter with zeros. An empty sequencer is never later."""
    if not sequencer:
        return False
    if not than:
        return True
    width = max(len(sequencer), len(than))
    return sequencer.upper().rjust(width, "0") > than.upper().rjust(width, "0")
