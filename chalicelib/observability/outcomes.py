"""The line (and metric) of an event handler's outcome: each handler maps its results to an `OutcomeLine`, so
what one delivery logs and counts is a table, not code."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chalicelib.observability import metrics
from chalicelib.observability.logs import logger, present
from chalicelib.observability.metric_names import MetricName


@dataclasses.dataclass(frozen=True)
class OutcomeLine:
    level: str  # "debug" | "info" | "warning" | "error"
    message: str
    metric: MetricName | None = None  # counted once per outcome


def log_outcome(line: OutcomeLine, keys: Mapping[str, Any]) -> None:
    """Write `line` with the non-empty `keys`, and count its metric."""
    getattr(logger(), line.level)(line.message, extra=present(**keys))
    if line.metric is not None:
        metrics.add(line.metric)
