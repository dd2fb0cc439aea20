"""A tiny fake reconciler for engine tests: plan, "execute" launches in-process, apply records, repeat."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

from chalicelib.engine import finish_attempt, plan, record_cached, transition
from chalicelib.engine.model import Decisions, Launch, RunInput, TaskRecord
from chalicelib.task_contract import TaskSpec, TaskState
from chalicelib.timestamps import format_time, parse_time

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@dataclasses.dataclass(frozen=True)
class Result:
    """What a fake task execution produced. `running=True` keeps the attempt running."""

    succeeded: bool = True
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    artifacts: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    error: str = ""
    exit_code: int | None = 0
    running: bool = False


Behaviour = Callable[[TaskSpec], Result]

_SAMPLE = {
    "STRING": "text",
    "NUMBER_INTEGER": 1,
    "NUMBER_DOUBLE": 1.5,
    "BOOLEAN": True,
    "LIST": [{"A_a": "1", "B_b": ["x", "y"], "a": 1}, {"A_a": "2", "B_b": ["z"], "a": 2}],
    "STRUCT": {"k": "v"},
}


def output_artifacts(task: TaskSpec) -> dict[str, list[dict[str, Any]]]:
    artifacts = {}
    for name, definition in (task.output_definitions.get("artifacts") or {}).items():
        artifacts[name] = [
            {
                "name": name,
                "uri": task.output_artifact_uris[name],
                "type": definition.get("artifactType") or {},
                "metadata": {"producer": task.task_id},
            }
        ]
    return artifacts


def sample_outputs(task: TaskSpec) -> Result:
    """Succeed with a sample value of each declared output parameter type and every output artifact."""
    parameters = {
        name: _SAMPLE.get(definition.get("parameterType", ""), "text")
        for name, definition in (task.output_definitions.get("parameters") or {}).items()
    }
    return Result(parameters=parameters, artifacts=output_artifacts(task))


class FakeRun:
    """Drives `plan` over a spec; `behaviour` decides what each launched attempt does."""

    def __init__(
        self,
        spec: dict[str, Any],
        parameters: dict[str, Any] | None = None,
        behaviour: Behaviour = sample_outputs,
        platform_spec: dict[str, Any] | None = None,
        pipeline_root: str = "s3://bucket/root",
        cache: dict[str, Result] | None = None,
    ) -> None:
        self.spec = spec
        self.platform_spec = platform_spec
        self.behaviour = behaviour
        self.run = RunInput(
            run_id="run-1",
            pipeline_name=spec.get("pipelineInfo", {}).get("name", "p"),
            pipeline_root=pipeline_root,
            parameters=dict(parameters or {}),
            created_at=format_time(START),
        )
        self.tasks: dict[str, TaskRecord] = {}
        self.now = START
        self.launches: list[Launch] = []
        self.cancels: list[Any] = []
        self.running: dict[str, Launch] = {}
        self.cache = cache
        self.decisions: list[Decisions] = []
        self.check_idempotent = True

    def apply(self, records: list[TaskRecord]) -> None:
        for record in records:
            self.tasks[record.task_id] = dataclasses.replace(record, version=record.version + 1)

    def terminate(self) -> None:
        self.run = dataclasses.replace(self.run, cancel_requested=True)

    def step(self) -> Decisions:
        decisions = plan(self.run, self.spec, self.platform_spec, dict(self.tasks), self.now)
        self.decisions.append(decisions)
        self.apply(decisions.records)
        if self.check_idempotent:
            again = plan(self.run, self.spec, self.platform_spec, dict(self.tasks), self.now)
            assert again.launches == [], (
                f"planning twice launched {[item.spec.task_id for item in again.launches]}"
            )
            assert again.records == [], (
                f"planning twice changed {[record.task_id for record in again.records]}"
            )
        self.launches.extend(decisions.launches)
        self.cancels.extend(decisions.cancels)
        for cancel in decisions.cancels:
            self.running.pop(cancel.task_id, None)
            record = self.tasks[cancel.task_id]
            self.apply([finish_attempt(record, self.spec, False, {}, {}, "killed", 137, self.now)])
        for launch in decisions.launches:
            self.execute(launch)
        for task_id, launch in list(self.running.items()):
            if task_id not in {item.spec.task_id for item in decisions.launches}:
                self.execute(launch)
        self.now += datetime.timedelta(seconds=1)
        return decisions

    def execute(self, launch: Launch) -> None:
        record = self.tasks[launch.spec.task_id]
        if launch.cache_enabled and self.cache is not None and launch.cache_key in self.cache:
            cached = self.cache[launch.cache_key]
            self.apply([record_cached(record, cached.parameters, cached.artifacts, self.now)])
            return
        result = self.behaviour(launch.spec)
        if result.running:
            if record.state is TaskState.PENDING:
                self.apply([transition(record, TaskState.RUNNING, now=format_time(self.now))])
            self.running[launch.spec.task_id] = launch
            return
        self.running.pop(launch.spec.task_id, None)
        finished = finish_attempt(
            record,
            self.spec,
            result.succeeded,
            result.parameters,
            result.artifacts,
            result.error,
            result.exit_code,
            self.now,
        )
        if self.cache is not None and finished.state is TaskState.SUCCEEDED and launch.cache_enabled:
            self.cache[launch.cache_key] = result
        self.apply([finished])
        if finished.state is TaskState.PENDING and finished.next_attempt_at:
            self.now = max(self.now, parse_time(finished.next_attempt_at))

    def run_to_end(self, max_steps: int = 100) -> Decisions:
        for _ in range(max_steps):
            decisions = self.step()
            if decisions.outcome.state != "RUNNING":
                return decisions
        raise AssertionError(f"run did not finish in {max_steps} steps: {self.states()}")

    def states(self) -> dict[str, str]:
        return {task_id: record.state.value for task_id, record in sorted(self.tasks.items())}

    def launched(self, name: str) -> list[Launch]:
        return [launch for launch in self.launches if launch.spec.task_name == name]

    def record(self, task_id: str) -> TaskRecord:
        return self.tasks[task_id]
