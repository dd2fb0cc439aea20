"""boto3 clients built from `AwsAccess` (region, endpoint, credentials), one per service and access, made on
first use (building a client costs ~0.1 s) and shared: boto3 clients are thread-safe.

Only `chalicelib.store` creates S3 and DynamoDB clients (tests/test_store_boundary.py checks it); the rest of the
app uses this for Scheduler, STS and Lambda.
"""

from __future__ import annotations

import functools
from typing import Any

from chalicelib.settings import AwsAccess


@functools.cache
def aws_client(service: str, access: AwsAccess, signature_version: str = "") -> Any:
    """`signature_version` "s3v4" for presigned S3 URLs (botocore may sign those with SigV2 otherwise, which
    newer regions refuse)."""
    import boto3  # lazy: the API Lambda's cold start pays for it only when a route needs AWS
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=access.access_key_id or None,
        aws_secret_access_key=access.secret_access_key or None,
        aws_session_token=access.session_token or None,
        region_name=access.region or None,
    )
    config = Config(signature_version=signature_version) if signature_version else None
    return session.client(service, endpoint_url=access.endpoint_url or None, config=config)
