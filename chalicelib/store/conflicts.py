"""The one retry loop for versioned writes: read, change, and on ConcurrentUpdate read again and re-decide."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from chalicelib.store.errors import ConcurrentUpdate

Record = TypeVar("Record")
Result = TypeVar("Result")

DEFAULT_ATTEMPTS = 8


def retry_on_conflict(
    read: Callable[[], Record], change: Callable[[Record], Result], attempts: int = DEFAULT_ATTEMPTS
) -> Result:
    """`change(read())`, again on a fresh read each time `change` raises ConcurrentUpdate (another writer won
    the race), at most `attempts` times with a short jittered pause. `change` must make at most one versioned
    write and re-check its preconditions on the record it is given. `read` raising NotFound ends the loop (the
    record went away). Re-raises the last ConcurrentUpdate."""
    for attempt in range(1, attempts + 1):
        current = read()
        try:
            return change(current)
        except ConcurrentUpdate:
            if attempt == attempts:
                raise
            time.sleep(random.uniform(0.005, 0.02) * attempt)
    raise AssertionError("unreachable")
