"""Waiting in tests for something another process or thread does, with a generous deadline (no timing asserts)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

DEFAULT_TIMEOUT = 60.0


def wait_until(condition: Callable[[], bool], what: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Poll `condition` until it holds; fail the test naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
