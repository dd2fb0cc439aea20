"""A background worker of the local stack that does one round of work every few seconds in a daemon thread.

Subclasses implement `work()`; an error in a round is logged and the next round tries again, so the worker
survives anything one round throws. `start()` returns the worker; `stop()` ends the thread.
"""

from __future__ import annotations

import threading

from chalicelib.observability.logs import logger


class PeriodicWorker:
    thread_name = "kfps-periodic"

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)

    def start(self):  # noqa: ANN201 - returns the subclass instance
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def work(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self.work()
            except Exception:  # noqa: BLE001 - the worker must survive; the next round retries
                logger().exception("%s round failed", self.thread_name)
