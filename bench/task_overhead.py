"""Per-task overhead of the local executor: `launch` called → the user's Python function starts, with the
fork server (a fork of the prewarmed launcher, kfp preloaded) and with plain processes (a fresh `python -m
chalicelib.launcher` that starts a fresh `python3 -m kfp.dsl.executor_main`), alternated attempt by attempt.

The step returns `time.time()` taken on its first line; the overhead is that minus the time `launch` was
called. Also reported: launch → the attempt's `result.json` written (the whole attempt).
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from kfp import compiler
from pipelines import note_start

MODES = ("fork", "plain")
FINISH_TIMEOUT_SECONDS = 120.0


@dataclasses.dataclass(frozen=True)
class Overhead:
    """One attempt: seconds from `launch` to the user code's start, and to its result."""

    mode: str
    to_user_code: float
    to_result: float


def _container_of(component: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "component.yaml"
        compiler.Compiler().compile(component, str(path))
        spec = yaml.safe_load(path.read_text())
    (component_spec,) = spec["components"].values()
    container = spec["deploymentSpec"]["executors"][component_spec["executorLabel"]]["container"]
    return container, component_spec


def _task(container: dict[str, Any], component_spec: dict[str, Any], root: Path, index: int) -> Any:
    from chalicelib.task_contract import TaskSpec

    return TaskSpec(
        run_id="overhead",
        task_id=f"note-start-{index}",
        attempt=1,
        task_name="note-start",
        display_name="note-start",
        pipeline_name="overhead",
        pipeline_root=str(root),
        container=container,
        input_definitions={},
        output_definitions=component_spec.get("outputDefinitions", {}),
        parameters={},
        artifacts={},
        output_artifact_uris={},
    )


def measure_overhead(data_dir: Path, attempts: int) -> list[Overhead]:
    """`attempts` attempts per mode, one after another, alternating modes."""
    from chalicelib.executors.local import LocalExecutor
    from chalicelib.executors.protocol import AttemptLaunch

    container, component_spec = _container_of(note_start)
    ended = threading.Event()  # the executors' on_change: an attempt's process ended
    executors = {
        "fork": LocalExecutor(data_dir / "fork", prewarm=True, on_change=ended.set),
        "plain": LocalExecutor(data_dir / "plain", prewarm=False, on_change=ended.set),
    }
    server = executors["fork"].fork_server
    assert server is not None and server.wait_ready(FINISH_TIMEOUT_SECONDS), "the fork server did not start"
    measured: list[Overhead] = []
    try:
        for index in range(attempts):
            for mode in MODES:
                executor = executors[mode]
                spec = _task(container, component_spec, data_dir / "root", index)
                ended.clear()
                launched = time.time()
                executor.launch(AttemptLaunch(spec))
                status = _wait_final(executor, spec.run_id, spec.task_id, ended)
                if status.result is None or status.result.exit_code != 0:
                    raise RuntimeError(
                        f"{mode} attempt failed: {executor.logs(spec.run_id, spec.task_id, 1)}"
                    )
                result_written = (
                    (executor.workdir(spec.run_id, spec.task_id, 1) / "result.json").stat().st_mtime
                )
                started = float(status.result.parameters["Output"])
                measured.append(Overhead(mode, started - launched, result_written - launched))
    finally:
        for executor in executors.values():
            executor.close()
    return measured


def _wait_final(executor: Any, run_id: str, task_id: str, ended: threading.Event) -> Any:
    deadline = time.monotonic() + FINISH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        ended.wait(0.5)
        ended.clear()
        for status in executor.poll([run_id]):
            if status.task_id == task_id and status.phase.is_final:
                return status
    raise TimeoutError(f"{task_id} did not finish")
