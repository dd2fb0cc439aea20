"""Fetching a pipeline package named by `package_url.pipeline_url` (s3:// or http(s)://), size-capped."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlparse

from chalicelib.api.errors import InvalidArgument
from chalicelib.redaction import redact
from chalicelib.store.errors import StoreError
from chalicelib.store.protocols import ObjectStore


def fetch_package(url: str, max_bytes: int, objects: ObjectStore) -> bytes:
    """The bytes at `url` (s3:// URLs through the store's objects). Unsupported schemes, unreachable URLs and
    oversize packages → InvalidArgument, whose message shows no credentials (a presigned URL's signature)."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        return _fetch_s3(objects, parsed.netloc, parsed.path.lstrip("/"), url, max_bytes)
    if parsed.scheme in ("http", "https"):
        return _fetch_http(url, max_bytes)
    raise InvalidArgument(
        redact(f"package_url.pipeline_url {url!r}: only s3:// and http(s):// URLs are supported")
    )


def _fetch_s3(objects: ObjectStore, bucket: str, key: str, url: str, max_bytes: int) -> bytes:
    try:
        data = objects.read_bucket_object(bucket, key, max_bytes)
    except StoreError as exc:  # any failure is the caller's bad URL
        raise InvalidArgument(redact(f"cannot read package_url.pipeline_url {url!r}: {exc}")) from exc
    return _capped(data, url, max_bytes)


def _fetch_http(url: str, max_bytes: int) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - scheme checked above
            data = response.read(max_bytes + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise InvalidArgument(redact(f"cannot fetch package_url.pipeline_url {url!r}: {exc}")) from exc
    return _capped(data, url, max_bytes)


def _capped(data: bytes, url: str, max_bytes: int) -> bytes:
    if len(data) > max_bytes:
        raise InvalidArgument(redact(f"package at {url!r} is larger than {max_bytes} bytes"))
    return data
