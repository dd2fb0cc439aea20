"""Driving one run with reconcile passes that die between writes (crash-safety tests)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from chalicelib.reconciler import Reconciler
from chalicelib.run_states import FINAL_RUN_STATES
from chalicelib.runtime import Runtime


class Crash(Exception):
    pass


def drive_with_crashes(
    runtime: Runtime, run_id: str, executor_factory: Callable[[], Any], span: int, seconds: float = 120
) -> int:
    """Reconcile `run_id` on `runtime`'s store until it is final; return how many passes died.

    Each reconciler dies at its 1st, then the next at its 2nd, ... `span`-th write, then again from the 1st:
    every position between two writes of a pass is hit, and every crash is followed by a fresh reconciler and
    executor object (`executor_factory()`), as after a Lambda or stack restart."""
    runs = runtime.store.runs
    positions = itertools.cycle(range(1, span + 1))
    crashes = 0
    deadline = time.monotonic() + seconds
    while runs.get_run(run_id).state not in FINAL_RUN_STATES:
        assert time.monotonic() < deadline, "run did not finish"
        crash_at, writes = next(positions), itertools.count(1)

        def checkpoint(label: str, crash_at: int = crash_at, writes=writes) -> None:
            if next(writes) == crash_at:
                raise Crash(label)

        reconciler = Reconciler(runtime.settings, runtime.store, executor_factory(), checkpoint=checkpoint)
        try:
            while runs.get_run(run_id).state not in FINAL_RUN_STATES and time.monotonic() < deadline:
                reconciler.run_pass([run_id])
                time.sleep(0.05)
        except Crash:
            crashes += 1
    return crashes
