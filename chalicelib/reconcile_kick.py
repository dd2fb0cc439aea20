"""Waking the reconciler right after a run changes, so no step waits for the next scheduled pass.

Cloud: an asynchronous invoke of the reconcile Lambda (`KFPS_RECONCILE_KICK=lambda:<function name>`).
Local stack: in-process listeners registered by the stack's reconcile loop. A lost kick costs latency only:
the scheduled pass is the backstop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from chalicelib.settings import Settings

logger = logging.getLogger(__name__)

_local_listeners: list[Callable[[str], None]] = []


def add_local_listener(listener: Callable[[str], None]) -> None:
    _local_listeners.append(listener)


def remove_local_listener(listener: Callable[[str], None]) -> None:
    if listener in _local_listeners:
        _local_listeners.remove(listener)


def kick(settings: Settings, run_id: str) -> None:
    """Ask for a reconcile pass of `run_id` soon. Never raises."""
    try:
        if settings.reconcile_kick.startswith("lambda:"):
            import boto3

            boto3.client("lambda", region_name=settings.region).invoke(
                FunctionName=settings.reconcile_kick.partition(":")[2],
                InvocationType="Event",
                Payload=json.dumps({"run_id": run_id}).encode(),
            )
        for listener in list(_local_listeners):
            listener(run_id)
    except Exception:  # noqa: BLE001 - the scheduled pass picks the run up anyway
        logger.warning("reconcile kick for run %s failed", run_id, exc_info=True)
