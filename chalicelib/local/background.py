"""The local stack's background parts: the reconcile loop (the cloud's reconcile Lambda) and, when the
triggers are wired, the recurring-run firer (EventBridge Scheduler's part) and the `pipelines/` upload watcher
(S3 → EventBridge's part). Each has `stop()`."""

from __future__ import annotations

import logging
import threading
from typing import Any

from chalicelib import reconcile_kick
from chalicelib.executors.registry import build_executor
from chalicelib.reconciler import Reconciler
from chalicelib.settings import Settings
from chalicelib.store.objects import ObjectStore

logger = logging.getLogger(__name__)

IDLE_WAIT_SECONDS = 2.0  # the backstop when nothing kicks (the cloud's one-minute schedule)
ACTIVE_WAIT_SECONDS = 0.5  # while runs are active: catches executor changes a wake-up missed


class ReconcileLoop:
    """Runs reconcile passes in a thread, immediately when kicked (run created/terminated/retried, a task
    process ended), otherwise every few seconds."""

    def __init__(self, settings: Settings, max_parallel: int = 0) -> None:
        self._wake = threading.Event()
        self._stopped = threading.Event()
        executor = build_executor(settings, on_change=self._wake.set, max_parallel=max_parallel)
        self.reconciler = Reconciler(settings, ObjectStore(settings.bucket), executor)
        self._thread = threading.Thread(target=self._loop, name="kfps-reconcile", daemon=True)

    def start(self) -> ReconcileLoop:
        reconcile_kick.add_local_listener(self.kick)
        self._thread.start()
        return self

    def kick(self, run_id: str = "") -> None:
        self._wake.set()

    def stop(self) -> None:
        reconcile_kick.remove_local_listener(self.kick)
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self.reconciler.executor.close()

    def _loop(self) -> None:
        active = True
        while not self._stopped.is_set():
            self._wake.wait(ACTIVE_WAIT_SECONDS if active else IDLE_WAIT_SECONDS)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                report = self.reconciler.run_pass()
            except Exception:  # noqa: BLE001 - the loop must survive; the next pass retries
                logger.exception("reconcile pass failed")
                active = True
                continue
            active = report.active
            if report.changed:
                self._wake.set()


def start_background(settings: Settings, options: Any) -> list[Any]:
    parts: list[Any] = [ReconcileLoop(settings, max_parallel=getattr(options, "max_parallel", 0)).start()]
    try:
        from chalicelib.local.recurring_firer import RecurringRunFirer
    except ImportError:
        return parts
    parts.append(RecurringRunFirer(settings).start())
    from chalicelib.local.s3_watch import PipelineUploadWatcher

    parts.append(PipelineUploadWatcher(settings).start())
    return parts
