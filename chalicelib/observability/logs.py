"""The functions' one logger: a powertools Logger with the service name `kfp-serverless` in every function.

In Lambda it writes one JSON object per line to stdout, which CloudWatch Logs stores and Logs Insights
discovers the keys of (`run_id`, `task_id`, `pipeline_id`, `recurring_run_id`, `state`, ... — see
`state_changes.py`). Its level is `POWERTOOLS_LOG_LEVEL` (the stack's `LogLevel` parameter). The local stack
(`kfps up`) switches it to plain lines (`use_plain_lines`), the same records rendered `time LEVEL message
key=value ...`, readable in a terminal.

Built on first use, not at import: the API function's cold import does not pay for powertools.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

SERVICE = "kfp-serverless"
# Keys every line has; plain lines leave them out (the level and message are written first).
_PLAIN_OMITTED = ("level", "message", "timestamp", "service", "sampling_rate", "location")

_lock = threading.Lock()
_logger: Logger | None = None
_plain = False


class _CurrentStdout:
    """Writes to whatever `sys.stdout` is when a line is written (a test's capture, Lambda's stdout)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def plain_line(log: dict[str, Any]) -> str:
    """One record as `timestamp LEVEL message key=value ...` (the local stack's format)."""
    extras = " ".join(f"{key}={value}" for key, value in log.items() if key not in _PLAIN_OMITTED)
    line = f"{log.get('timestamp', '')} {log.get('level', '')} {log.get('message', '')}"
    return f"{line} {extras}" if extras else line


def logger() -> Logger:
    """The process's logger (built on first use)."""
    global _logger
    if _logger is None:
        with _lock:
            if _logger is None:
                from aws_lambda_powertools import Logger

                built = Logger(
                    service=SERVICE,
                    stream=_CurrentStdout(),  # type: ignore[arg-type]
                    json_serializer=plain_line if _plain else None,
                )
                _logger = built
    return _logger


def use_plain_lines() -> None:
    """Render records as plain lines from now on (the local stack; Lambda keeps JSON)."""
    global _plain
    with _lock:
        _plain = True
        if _logger is not None:
            _logger.registered_formatter.json_serializer = plain_line  # type: ignore[attr-defined]


def present(**keys: Any) -> dict[str, Any]:
    """The keys with a value (a line leaves out the ids that do not apply, rather than writing them empty)."""
    return {key: value for key, value in keys.items() if value not in ("", None)}


def set_invocation_keys(**keys: Any) -> None:
    """Add `keys` to every line this thread writes until `clear_invocation_keys` (the local stack serves
    requests and reconciles in threads of one process: one's keys must not appear on another's lines)."""
    logger().thread_safe_append_keys(**keys)


def clear_invocation_keys() -> None:
    logger().thread_safe_clear_keys()
