"""Waking the reconciler right after a run changes, so no step waits for the next scheduled pass.

Cloud: an asynchronous invoke of the reconcile Lambda (`KFPS_RECONCILE_KICK=lambda:<function name>`).
Local stack: in-process listeners, registered by the stack's reconcile loops. A lost kick costs latency only:
the scheduled pass is the backstop.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Protocol

from chalicelib.settings import Settings

logger = logging.getLogger(__name__)


class Kicker(Protocol):
    def kick(self, run_id: str) -> None:
        """Ask for a reconcile pass of `run_id` soon. Never raises."""


class LambdaKicker:
    """Invokes the reconcile Lambda asynchronously with `{"run_id": ...}`."""

    def __init__(self, settings: Settings) -> None:
        self._function = settings.reconcile_kick.partition(":")[2]
        self._settings = settings

    def kick(self, run_id: str) -> None:
        from chalicelib.aws_clients import aws_client

        try:
            aws_client("lambda", self._settings.aws).invoke(
                FunctionName=self._function,
                InvocationType="Event",
                Payload=json.dumps({"run_id": run_id}).encode(),
            )
        except Exception:  # noqa: BLE001 - the scheduled pass picks the run up anyway
            logger.warning("reconcile kick for run %s failed", run_id, exc_info=True)


class LocalKicks:
    """In-process kicks: every registered listener (a local reconcile loop) is told."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()

    def add_listener(self, listener: Callable[[str], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[str], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def kick(self, run_id: str) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(run_id)
            except Exception:  # noqa: BLE001 - a failing listener must not fail the API call
                logger.warning("reconcile kick for run %s failed", run_id, exc_info=True)


def kicker_for(settings: Settings) -> Kicker:
    if settings.reconcile_kick.startswith("lambda:"):
        return LambdaKicker(settings)
    return LocalKicks()
