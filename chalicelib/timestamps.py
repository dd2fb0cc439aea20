"""RFC3339 timestamps as the API and the store write them: UTC, one fixed format that sorts as text."""

from __future__ import annotations

import datetime as dt

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def format_time(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime(_FORMAT)


def now_text() -> str:
    return format_time(utc_now())


def parse_time(text: str) -> dt.datetime:
    """Parse an RFC3339 timestamp ('Z' or an offset; fractional seconds optional). Raises ValueError."""
    value = dt.datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
