"""Process-wide objects the routes share, built once from the environment at first use (warm Lambdas reuse
them; nothing per request is kept here)."""

from __future__ import annotations

import functools

from chalicelib.settings import Settings
from chalicelib.store.objects import ObjectStore


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def objects() -> ObjectStore:
    return ObjectStore(settings().bucket)
