"""The cloud entry points of the reconciler: the async-invoked `reconcile` Lambda (kicked on run create,
terminate and retry) and the one-minute schedule (the backstop). Both loop over passes while runs are active,
bounded by the Lambda's remaining time, so no step waits for the next minute."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.executors.registry import build_executor
from chalicelib.reconciler import Reconciler
from chalicelib.runtime import Runtime

# Stop starting passes when less than this is left of the Lambda's time.
SAFETY_MARGIN_MS = 30_000
ACTIVE_POLL_SECONDS = 1.0

_reconcilers: dict[Runtime, Reconciler] = {}


def _reconciler(runtime: Runtime) -> Reconciler:
    """One reconciler per runtime (a warm Lambda keeps its executor and spec cache)."""
    if runtime not in _reconcilers:
        executor = build_executor(runtime.settings, runtime.store)
        _reconcilers[runtime] = Reconciler(runtime.settings, runtime.store, executor)
    return _reconcilers[runtime]


def remaining_ms(context: Any) -> int:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    return int(getter()) if getter else 0


def reconcile_until_idle(runtime: Runtime, context: Any, run_ids: list[str] | None = None) -> dict[str, int]:
    """Run passes until no run is active or time runs short. Returns counts for the log."""
    reconciler = _reconciler(runtime)
    passes = launched = finished = 0
    while True:
        report = reconciler.run_pass(run_ids if passes == 0 and run_ids else None)
        passes += 1
        launched += report.launched
        finished += report.finished
        if not report.active or remaining_ms(context) < SAFETY_MARGIN_MS:
            break
        if not report.changed:
            time.sleep(ACTIVE_POLL_SECONDS)
    return {"passes": passes, "launched": launched, "finished": finished}
