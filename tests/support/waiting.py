"""Polling until something holds (the limit only stops a hung test; nothing asserts how long it took)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

Found = TypeVar("Found")

WAIT_SECONDS = 120.0


def wait_for(check: Callable[[], Found], what: str, limit: float = WAIT_SECONDS) -> Found:
    """The first truthy value `check()` returns, polled every 0.1 s; AssertionError after `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")
