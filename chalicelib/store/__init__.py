"""The store: every record and object the app keeps, behind four protocols (`protocols.py`) with two
implementations of the same semantics — `dynamo` (DynamoDB + S3, the cloud) and `embedded` (SQLite + files, the
default of `kfps up`). Only this package talks to DynamoDB, S3 or the embedded database.

`open_store(settings)` picks the implementation `settings.store` names.
"""

from __future__ import annotations

from chalicelib.settings import EMBEDDED_STORE, Settings
from chalicelib.store.protocols import Store


def open_store(settings: Settings) -> Store:
    if settings.store == EMBEDDED_STORE:
        from chalicelib.store.embedded import open_embedded_store

        return open_embedded_store(settings)
    from chalicelib.store.dynamo import open_dynamo_store

    return open_dynamo_store(settings)
