"""`--profile`: where the control-plane gap goes, from hooks on the in-process stack.

Hooks (timestamps from `time.time()`, comparable with file mtimes):
- the local executor's `on_change` (its waiter thread saw a task process exit),
- `Reconciler.run_pass` (start, end),
- botocore's `BaseClient._make_api_call` (every DynamoDB/S3 round trip to moto, with its thread's name).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gaps import Gap, last_attempt_dir, workdir_markers
from report import median

RECONCILE_THREAD = "kfps-reconcile"


@dataclasses.dataclass(frozen=True)
class Call:
    thread: str
    operation: str
    start: float
    seconds: float


def _short(call: Call) -> str:
    return f"{call.operation}({call.seconds * 1000:.0f})"


class Profiler:
    """Records process-exit notices, reconcile passes and AWS calls while installed."""

    def __init__(self) -> None:
        self.exits: list[float] = []
        self.passes: list[tuple[float, float]] = []
        self.calls: list[Call] = []
        self.sequences: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def install(self, stack: Any) -> None:
        """Hook the stack's reconcile loop, its executor and botocore (for the life of the process)."""
        loop = next(part for part in stack._background if hasattr(part, "reconciler"))
        executor = loop.reconciler.executor
        notify = executor.on_change

        def on_change() -> None:
            self.exits.append(time.time())
            if notify is not None:
                notify()

        executor.on_change = on_change
        run_pass = loop.reconciler.run_pass

        @functools.wraps(run_pass)
        def timed_pass(*args: Any, **kwargs: Any) -> Any:
            start = time.time()
            try:
                return run_pass(*args, **kwargs)
            finally:
                self.passes.append((start, time.time()))

        loop.reconciler.run_pass = timed_pass
        self._hook_botocore()

    def _hook_botocore(self) -> None:
        from botocore.client import BaseClient

        original: Callable[..., Any] = BaseClient._make_api_call
        profiler = self

        def make_api_call(client: Any, operation: str, params: Any) -> Any:
            start = time.time()
            try:
                return original(client, operation, params)
            finally:
                call = Call(threading.current_thread().name, operation, start, time.time() - start)
                with profiler._lock:
                    profiler.calls.append(call)

        BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]

    # -- analysis -----------------------------------------------------------------------------------------
    def launching_pass(self, launched_at: float) -> tuple[float, float] | None:
        return next((p for p in self.passes if p[0] <= launched_at <= p[1]), None)

    def reconcile_calls(self, start: float, end: float) -> list[Call]:
        return [c for c in self.calls if c.thread == RECONCILE_THREAD and start <= c.start <= end]

    def edge_breakdown(self, run_dir: Path, gaps: Iterable[Gap]) -> dict[str, list[float]]:
        """Per edge: exit noticed, pass started, dependant launched, in seconds since the previous mark."""
        parts: dict[str, list[float]] = collections.defaultdict(list)
        for gap in gaps:
            up_dir, down_dir = (
                last_attempt_dir(run_dir, gap.upstream),
                last_attempt_dir(run_dir, gap.dependant),
            )
            if up_dir is None or down_dir is None:
                continue
            ended, launched = workdir_markers(up_dir)["result"], workdir_markers(down_dir)["task_json"]
            if ended is None or launched is None:
                continue
            noticed = next((t for t in self.exits if t >= ended), None)
            launching = self.launching_pass(launched)
            if noticed is None or launching is None:
                continue
            parts["result.json → process exit noticed"].append(noticed - ended)
            parts["exit noticed → reconcile pass starts"].append(launching[0] - noticed)
            parts["pass start → dependant launched"].append(launched - launching[0])
            parts["launching pass, total duration"].append(launching[1] - launching[0])
            calls = self.reconcile_calls(launching[0], launched)
            parts["AWS calls before the launch (count)"].append(float(len(calls)))
            parts["AWS call time before the launch"].append(sum(c.seconds for c in calls))
            self.sequences[" ".join(_short(c) for c in calls)] += 1
        return parts

    def call_summary(self) -> list[str]:
        """Per thread kind and operation: count and median duration of the AWS calls."""
        groups: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
        for call in self.calls:
            kind = "reconciler" if call.thread == RECONCILE_THREAD else "api/other"
            groups[(kind, call.operation)].append(call.seconds)
        lines = []
        for (kind, operation), seconds in sorted(groups.items(), key=lambda item: -sum(item[1])):
            lines.append(
                f"{kind:<10} {operation:<22} {len(seconds):5d} calls, median {median(seconds) * 1000:5.1f} ms,"
                f" total {sum(seconds):6.2f} s"
            )
        if self.sequences:
            sequence, count = self.sequences.most_common(1)[0]
            lines.append(f"calls from pass start to the launch (most common, {count}×): {sequence}")
        pass_seconds = [end - start for start, end in self.passes]
        if pass_seconds:
            lines.append(
                f"reconcile passes: {len(pass_seconds)}, median {median(pass_seconds) * 1000:.0f} ms,"
                f" total {sum(pass_seconds):.2f} s"
            )
        return lines
