"""Credentials out of text a client or a log line sees: a URL's user info and signed query values (presigned S3
URLs: X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token; SigV2: Signature, AWSAccessKeyId)."""

from __future__ import annotations

import re

REDACTED = "REDACTED"
_SIGNED_PARAMETER = re.compile(
    r"(?i)\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId|x-amz-security-token)"
    r"=[^&\s'\"]*"
)
_USER_INFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s'\"]+@")


def redact(text: str) -> str:
    """`text` with signed URL parameters' values and URL user info replaced by REDACTED."""
    text = _SIGNED_PARAMETER.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    return _USER_INFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
