"""Task `retryPolicy` (kfp-ir.md §6) as data: whether another attempt is allowed and when it may start.

The delay before the retry that follows failed attempt k (1-based) is `backoffDuration * backoffFactor^(k-1)`
(Argo's backoff), capped at `backoffMaxDuration`. Like Argo, `backoffMaxDuration` is also the whole retry
window: no retry once that long has passed since the task record was created.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any

DEFAULT_BACKOFF_FACTOR = 2.0
DEFAULT_BACKOFF_MAX_SECONDS = 3600.0
_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*s?\s*$")


def parse_duration(value: Any, default: float = 0.0) -> float:
    """Seconds from a protobuf Duration JSON string (`"30s"`, `"1.5s"`) or a plain number."""
    if value is None or value == "":
        return default
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    return float(match.group(1)) if match else default


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    max_retry_count: int = 0
    backoff_seconds: float = 0.0
    backoff_factor: float = DEFAULT_BACKOFF_FACTOR
    backoff_max_seconds: float = DEFAULT_BACKOFF_MAX_SECONDS

    @classmethod
    def of_task(cls, task: Mapping[str, Any]) -> RetryPolicy:
        """The policy of a DAG task dict (no `retryPolicy` means no retries)."""
        policy = task.get("retryPolicy") or {}
        factor = policy.get("backoffFactor")
        return cls(
            max_retry_count=int(policy.get("maxRetryCount") or 0),
            backoff_seconds=parse_duration(policy.get("backoffDuration")),
            backoff_factor=float(factor) if factor else DEFAULT_BACKOFF_FACTOR,
            backoff_max_seconds=parse_duration(policy.get("backoffMaxDuration"), DEFAULT_BACKOFF_MAX_SECONDS),
        )

    def delay_after(self, failed_attempt: int) -> datetime.timedelta:
        """How long to wait before the attempt that follows failed attempt `failed_attempt`."""
        seconds = self.backoff_seconds * self.backoff_factor ** max(failed_attempt - 1, 0)
        return datetime.timedelta(seconds=min(seconds, self.backoff_max_seconds))

    def allows_retry(self, failed_attempt: int, elapsed: datetime.timedelta) -> bool:
        """True when attempt `failed_attempt` may be followed by another one, `elapsed` after the first began."""
        if failed_attempt > self.max_retry_count:
            return False
        return elapsed + self.delay_after(failed_attempt) <= datetime.timedelta(
            seconds=self.backoff_max_seconds
        )
