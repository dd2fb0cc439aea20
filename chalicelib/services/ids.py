"""Ids of new resources: random UUIDs (fires and uploads derive theirs deterministically instead)."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return str(uuid.uuid4())
