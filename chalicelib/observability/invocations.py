"""One Lambda invocation (or one API request) as the logs and metrics see it: `invocation(settings, context)`
around the handler gives every log line the invocation's keys (function name, request id, cold start, stage)
and flushes the metrics the invocation collected once, at its end, also when the handler raises. The logger
is built at the first invocation (not at import: the API's cold import stays light)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from chalicelib.observability import logs, metrics
from chalicelib.settings import Settings

_cold = True


@contextlib.contextmanager
def invocation(settings: Settings, context: Any) -> Iterator[None]:
    global _cold
    metrics.configure(settings.metrics_namespace, settings.stage)
    keys: dict[str, Any] = {"stage": settings.stage, "cold_start": _cold}
    _cold = False
    if context is not None:
        keys["function_name"] = getattr(context, "function_name", "")
        keys["function_request_id"] = getattr(context, "aws_request_id", "")
    logs.set_invocation_keys(**keys)
    try:
        yield
    finally:
        logs.clear_invocation_keys()
        metrics.flush()
