"""RFC3339 timestamps, one format for every writer (API, store, engine, launcher, executors): UTC, always
six fractional digits, `Z` — e.g. `2026-01-02T03:04:05.000000Z`. Fixed width, so text order is time order.

Pure (standard library only): the engine imports it.
"""

from __future__ import annotations

import datetime as dt

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def format_time(moment: dt.datetime) -> str:
    """`moment` in the one format; a naive datetime is taken to be UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime(_FORMAT)


def now_text() -> str:
    return format_time(utc_now())


def format_epoch(seconds: float) -> str:
    """A Unix time (e.g. a file's mtime) in the one format."""
    return format_time(dt.datetime.fromtimestamp(seconds, dt.UTC))


def parse_time(text: str) -> dt.datetime:
    """Parse an RFC3339 timestamp ('Z' or an offset; any fractional digits) into an aware UTC datetime.
    Raises ValueError."""
    value = dt.datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def is_due(due_at: str, now: dt.datetime) -> bool:
    """True when `due_at` is empty or not later than `now`."""
    return not due_at or parse_time(due_at) <= parse_time(format_time(now))
