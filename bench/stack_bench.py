"""Our side: the local stack in this process, driven by the unmodified `kfp.Client`."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.05
FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})
RUN_TIMEOUT_SECONDS = 600.0


@dataclasses.dataclass(frozen=True)
class StackRun:
    """One finished run: its id, final state, wall time (submit → final state seen) and task details."""

    run_id: str
    state: str
    wall_seconds: float
    task_details: list[dict[str, Any]]


def quiet_request_log() -> None:
    """Silence the Chalice local server's one line per request on stderr (we poll every 50 ms)."""
    from chalice.local import ChaliceRequestHandler

    ChaliceRequestHandler.log_message = lambda self, *args: None  # type: ignore[method-assign]


class StackSession:
    """A LocalStack (its store — embedded, or moto-backed with `store="dynamodb"` —, API on a free port,
    reconcile loop) and a `kfp.Client` for it."""

    def __init__(
        self,
        data_dir: Path,
        max_parallel: int,
        poll_seconds: float = POLL_SECONDS,
        store: str = "embedded",
        prewarm: bool = True,
    ) -> None:
        self.data_dir = data_dir
        self.max_parallel = max_parallel
        self.store = store
        self.prewarm = prewarm
        self.poll_seconds = poll_seconds
        self.stack: Any = None
        self.client: Any = None

    def __enter__(self) -> StackSession:
        from chalicelib.local.stack import LocalStack, StackOptions

        home = self.data_dir / "home"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["HOME"] = str(home)  # kfp.Client writes ~/.config/kfp/context.json
        options = StackOptions(
            port=0,
            data_dir=self.data_dir / "stack",
            max_parallel=self.max_parallel,
            store=self.store,
            prewarm=self.prewarm,
        )
        quiet_request_log()
        self.stack = LocalStack(options)
        self.stack.start()
        import kfp

        self.client = kfp.Client(host=self.stack.url)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stack is not None:
            self.stack.stop()

    @property
    def executor_data_dir(self) -> Path:
        """Where the local executor keeps its `runs/<run_id>/<task_id>/<attempt>/` workdirs."""
        return Path(self.stack.settings.local_data_dir)

    def run(self, pipeline: Callable[..., object]) -> StackRun:
        """Submit `pipeline` (caching off, as in kfp.local) and poll `get_run` every `poll_seconds` until its
        state is final."""
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the client prints the run's dashboard links
            result = self.client.create_run_from_pipeline_func(pipeline, arguments={}, enable_caching=False)
        deadline = started + RUN_TIMEOUT_SECONDS
        while True:
            run = self.client.get_run(result.run_id)
            state = str(run.state or "")
            if state in FINAL_STATES:
                wall = time.perf_counter() - started
                break
            if time.perf_counter() > deadline:
                raise TimeoutError(f"run {result.run_id} still {state} after {RUN_TIMEOUT_SECONDS} s")
            time.sleep(self.poll_seconds)
        details = [task.to_dict() for task in (run.run_details.task_details or [])] if run.run_details else []
        return StackRun(result.run_id, state, wall, details)
