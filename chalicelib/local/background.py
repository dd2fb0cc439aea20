"""The local stack's background parts: the reconcile loop (the cloud's reconcile Lambda), the recurring-run
firer (EventBridge Scheduler's part) and the `pipelines/` upload watcher (S3 → EventBridge's part). Each has
`stop()`."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from chalicelib.executors.local import LocalExecutor
from chalicelib.executors.registry import build_executor
from chalicelib.leased_passes import LeasedPasses, new_owner
from chalicelib.local.recurring_firer import RecurringRunFirer
from chalicelib.local.upload_watcher import PipelineUploadWatcher
from chalicelib.reconcile_kick import LocalKicks
from chalicelib.reconciler import Reconciler
from chalicelib.runtime import Runtime

logger = logging.getLogger(__name__)

IDLE_WAIT_SECONDS = 2.0  # the backstop when nothing kicks (the cloud's one-minute schedule)
ACTIVE_WAIT_SECONDS = 0.5  # while runs are active: catches executor changes a wake-up missed


class ReconcileLoop:
    """Runs leased reconcile passes of the active runs in a thread, immediately when kicked (run created/terminated/retried, a task
    process ended), otherwise every few seconds. Listens to `kicks` (default: the runtime's own kicker).

    pause_at: a test hook, `label` or `label:n` — at the n-th (default first) reconciler checkpoint with this
    label the loop writes `<data dir>/paused-at-<label>` and stops there for good (a durability test then
    kills the stack exactly there)."""

    def __init__(
        self, runtime: Runtime, max_parallel: int = 0, kicks: LocalKicks | None = None, pause_at: str = ""
    ) -> None:
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._kicks = kicks if kicks is not None else runtime.kicker
        label, _, count = pause_at.partition(":")
        self._pause_label, self._pause_countdown = label, int(count or 1)
        self._data_dir = Path(runtime.settings.local_data_dir or ".")
        self.executor = build_executor(
            runtime.settings, runtime.store, on_change=self._wake.set, max_parallel=max_parallel
        )
        self.reconciler = Reconciler(
            runtime.settings, runtime.store, self.executor, checkpoint=self._checkpoint
        )
        # The same pass leases as the cloud: two loops on one store (two `kfps up` on one data directory, a
        # test's loop beside the stack's) never pass one run at once, and a kick during a pass is not lost.
        self._runs = runtime.store.runs
        self.passes = LeasedPasses(
            self.reconciler,
            runtime.store.leases,
            new_owner("local"),
            runtime.settings.reconcile_lease_seconds,
        )
        self._thread = threading.Thread(target=self._loop, name="kfps-reconcile", daemon=True)

    def start(self) -> ReconcileLoop:
        if isinstance(self._kicks, LocalKicks):
            self._kicks.add_listener(self.kick)
        self._thread.start()
        return self

    def kick(self, run_id: str = "") -> None:
        self._wake.set()

    def stop(self) -> None:
        if isinstance(self._kicks, LocalKicks):
            self._kicks.remove_listener(self.kick)
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self.executor.close()

    def stop_tasks(self) -> None:
        """Stop the local task processes this loop's executor started (at the stack's clean stop: their
        attempts are found lost and retried when the stack starts again). Pods are left to the cluster."""
        if isinstance(self.executor, LocalExecutor):
            self.executor.stop_all()

    def _checkpoint(self, label: str) -> None:
        if not self._pause_label or label != self._pause_label:
            return
        self._pause_countdown -= 1
        if self._pause_countdown > 0:
            return
        (self._data_dir / f"paused-at-{label}").write_text(label)
        logger.warning("reconciler paused at %s (test hook)", label)
        threading.Event().wait()

    def _loop(self) -> None:
        active = True
        while not self._stopped.is_set():
            self._wake.wait(ACTIVE_WAIT_SECONDS if active else IDLE_WAIT_SECONDS)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                report = self.passes.run(self._runs.active_run_ids())
            except Exception:  # noqa: BLE001 - the loop must survive; the next pass retries
                logger.exception("reconcile pass failed")
                active = True
                continue
            active = report.active
            if report.changed:
                self._wake.set()


def start_background(runtime: Runtime, options: Any) -> list[Any]:
    """The reconcile loop, the firer and the upload watcher of the stack, started."""
    loop = ReconcileLoop(runtime, max_parallel=options.max_parallel, pause_at=options.pause_at)
    return [loop.start(), RecurringRunFirer(runtime).start(), PipelineUploadWatcher(runtime).start()]
