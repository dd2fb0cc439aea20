"""Control-plane gaps: from an upstream task's end to its dependant's process start.

Two sources:
- the API (`GET /runs/{id}` task_details): upstream `end_time` (stamped by the reconciler when it saw the
  attempt finish) → dependant `start_time` (stamped from the executor's status), millisecond precision;
- the local executor's workdirs `<data_dir>/runs/<run>/<task>/<attempt>/`, with nanosecond file times:
  upstream `result.json` written (the launcher's last act) → dependant `task.json` written (the reconciler
  launched it) → `pid` written (the process was spawned) → the launcher's own `started_at` (Python up,
  imports done) → `command.sh` written (inputs resolved; the user's command starts next).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

# Workdir stages of a dependant, in order; each is the time of one marker, in seconds since the epoch.
STAGES = ("upstream_result", "task_json", "pid", "launcher_started", "command_ready", "result")
STAGE_LABELS = {
    "task_json": "upstream result.json → dependant launched (task.json)",
    "pid": "launched → process spawned (pid)",
    "launcher_started": "spawned → launcher ready (started_at)",
    "command_ready": "launcher ready → command starts (command.sh)",
    "result": "command starts → result.json written (command + collect)",
}


@dataclasses.dataclass(frozen=True)
class Gap:
    """One upstream → dependant edge of one run, all values in seconds."""

    upstream: str
    dependant: str
    api: float | None  # dependant start_time − upstream end_time
    workdir: float | None  # dependant pid written − upstream result.json written
    stages: dict[str, float]  # stage name → seconds since the previous stage


def dependencies(pipeline: Callable[..., object]) -> dict[str, list[str]]:
    """Task id → ids of the tasks it depends on, for the root DAG of `pipeline` (task ids are `root.<name>`)."""
    from kfp import compiler

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pipeline.yaml"
        compiler.Compiler().compile(pipeline, str(path))
        spec = next(yaml.safe_load_all(path.read_text()))
    tasks = spec["root"]["dag"]["tasks"]
    return {
        f"root.{name}": [f"root.{dep}" for dep in task.get("dependentTasks", [])]
        for name, task in tasks.items()
    }


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime_ns / 1e9
    except OSError:
        return None


def _iso_seconds(value: Any) -> float | None:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, str) and value:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return None


def last_attempt_dir(run_dir: Path, task_id: str) -> Path | None:
    """The workdir of the task's highest attempt, if any."""
    attempts = [p for p in (run_dir / task_id).glob("*") if p.is_dir() and p.name.isdigit()]
    return max(attempts, key=lambda p: int(p.name)) if attempts else None


def workdir_markers(attempt_dir: Path) -> dict[str, float | None]:
    """The stage times of one attempt found in its workdir (None when a marker is missing)."""
    try:
        result = json.loads((attempt_dir / "result.json").read_text())
    except (OSError, ValueError):
        result = {}
    return {
        "task_json": _mtime(attempt_dir / "task.json"),
        "pid": _mtime(attempt_dir / "pid"),
        "launcher_started": _iso_seconds(result.get("started_at")),
        "command_ready": _mtime(attempt_dir / "command.sh"),
        "result": _mtime(attempt_dir / "result.json"),
    }


def run_gaps(
    run_dir: Path, task_details: Iterable[Mapping[str, Any]], deps: Mapping[str, list[str]]
) -> list[Gap]:
    """Every dependency edge of one finished run, measured from the API and from the workdirs."""
    details = {str(t.get("task_id")): t for t in task_details}
    gaps: list[Gap] = []
    for task_id, upstreams in deps.items():
        for upstream in upstreams:
            up_detail, down_detail = details.get(upstream, {}), details.get(task_id, {})
            up_end, down_start = (
                _iso_seconds(up_detail.get("end_time")),
                _iso_seconds(down_detail.get("start_time")),
            )
            api = down_start - up_end if up_end is not None and down_start is not None else None
            up_dir, down_dir = last_attempt_dir(run_dir, upstream), last_attempt_dir(run_dir, task_id)
            if up_dir is None or down_dir is None:
                gaps.append(Gap(upstream, task_id, api, None, {}))
                continue
            marks = workdir_markers(down_dir)
            times = {**marks, "upstream_result": workdir_markers(up_dir)["result"]}
            stages = {
                stage: times[stage] - times[previous]
                for previous, stage in zip(STAGES, STAGES[1:], strict=False)
                if times[stage] is not None and times[previous] is not None
            }
            end, spawn = times["upstream_result"], times["pid"]
            gaps.append(Gap(upstream, task_id, api, spawn - end if end and spawn else None, stages))
    return gaps
