"""RFC3339 timestamps as stored on task records (UTC, `Z` suffix)."""

from __future__ import annotations

import datetime


def format_time(moment: datetime.datetime) -> str:
    """`moment` as an RFC3339 string in UTC; naive datetimes are taken to be UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime.datetime:
    """Parse an RFC3339 string written by `format_time` (or any ISO 8601 string) into an aware datetime."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def is_due(due_at: str, now: datetime.datetime) -> bool:
    """True when `due_at` is empty or not later than `now`."""
    return not due_at or parse_time(due_at) <= parse_time(format_time(now))
