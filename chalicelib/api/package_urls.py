"""Fetching a pipeline package named by `package_url.pipeline_url` (s3:// or http(s)://), size-capped.

A deployed stage fetches http(s) packages from public addresses only: a host (or a redirect's host) that
resolves to a loopback, private, link-local (the instance metadata endpoint) or otherwise non-global address is
refused, so the API cannot be used to reach what sits next to it. The local stack fetches from any host (a
package served on localhost is the common case there)."""

from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlparse

from chalicelib.api.errors import InvalidArgument
from chalicelib.redaction import redact
from chalicelib.store.errors import StoreError
from chalicelib.store.protocols import ObjectStore


def fetch_package(url: str, max_bytes: int, objects: ObjectStore, private_hosts: bool = False) -> bytes:
    """The bytes at `url` (s3:// URLs through the store's objects). Unsupported schemes, unreachable URLs,
    non-public hosts (unless `private_hosts`) and oversize packages → InvalidArgument, whose message shows no
    credentials (a presigned URL's signature)."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        return _fetch_s3(objects, parsed.netloc, parsed.path.lstrip("/"), url, max_bytes)
    if parsed.scheme in ("http", "https"):
        return _fetch_http(url, max_bytes, private_hosts)
    raise InvalidArgument(
        redact(f"package_url.pipeline_url {url!r}: only s3:// and http(s):// URLs are supported")
    )


def _fetch_s3(objects: ObjectStore, bucket: str, key: str, url: str, max_bytes: int) -> bytes:
    try:
        data = objects.read_bucket_object(bucket, key, max_bytes)
    except StoreError as exc:  # any failure is the caller's bad URL
        raise InvalidArgument(redact(f"cannot read package_url.pipeline_url {url!r}: {exc}")) from exc
    return _capped(data, url, max_bytes)


def check_public_host(url: str) -> None:
    """InvalidArgument unless every address `url`'s host resolves to is a global (public) one."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parsed.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise InvalidArgument(
            redact(f"cannot resolve the host of package_url.pipeline_url {url!r}: {exc}")
        ) from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global:
            raise InvalidArgument(
                redact(
                    f"package_url.pipeline_url {url!r}: host {host!r} is {address}, not a public address; "
                    "packages are fetched from public hosts only"
                )
            )


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to an http(s) URL on a public host."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if urlparse(newurl).scheme not in ("http", "https"):
            raise InvalidArgument(redact(f"package_url.pipeline_url redirects to {newurl!r}: not http(s)"))
        check_public_host(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _fetch_http(url: str, max_bytes: int, private_hosts: bool) -> bytes:
    if private_hosts:
        opener = urllib.request.build_opener()
    else:
        check_public_host(url)
        opener = urllib.request.build_opener(_CheckedRedirects())
    try:
        with opener.open(url, timeout=10) as response:
            data = response.read(max_bytes + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise InvalidArgument(redact(f"cannot fetch package_url.pipeline_url {url!r}: {exc}")) from exc
    return _capped(data, url, max_bytes)


def _capped(data: bytes, url: str, max_bytes: int) -> bytes:
    if len(data) > max_bytes:
        raise InvalidArgument(redact(f"package at {url!r} is larger than {max_bytes} bytes"))
    return data
