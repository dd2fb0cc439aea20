"""A fake reconciler for the KFP v1 engine: plan, "run" launched steps in-process, apply, repeat."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

import yaml

from chalicelib.engine.argo.attempts import finish_attempt
from chalicelib.engine.argo.planner import plan
from chalicelib.engine.argo.retries import retry_run
from chalicelib.engine.model import Decisions, Launch, RunInput, TaskRecord
from chalicelib.engine.transitions import transition
from chalicelib.task_contract import TaskSpec, TaskState
from chalicelib.timestamps import format_time, parse_time

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a fake step did: outputs on success, or an exit code (None: an error without one)."""

    succeeded: bool = True
    parameters: dict[str, str] = dataclasses.field(default_factory=dict)
    exit_code: int | None = 0
    error: str = ""
    running: bool = False
    lost: bool = False  # the pod or process vanished without a result


Behaviour = Callable[[TaskSpec], Outcome]


def artifacts_of(spec: TaskSpec) -> dict[str, list[dict[str, Any]]]:
    return {
        entry["name"]: [
            {"name": entry["name"], "uri": entry["uri"], "metadata": {"archive": entry["archive"]}}
        ]
        for entry in spec.argo_step.get("output_artifacts") or []
    }


def echo_outputs(spec: TaskSpec) -> Outcome:
    """Succeed; each output parameter's value is the template name."""
    names = [entry["name"] for entry in spec.argo_step.get("output_parameters") or []]
    return Outcome(parameters={name: spec.argo_step["template"] for name in names})


def workflow_of(text: str) -> dict[str, Any]:
    return yaml.safe_load(text)


class FakeArgoRun:
    def __init__(
        self,
        workflow: dict[str, Any],
        parameters: dict[str, str] | None = None,
        behaviour: Behaviour = echo_outputs,
        created_at: datetime.datetime = START,
    ) -> None:
        self.workflow = workflow
        self.behaviour = behaviour
        self.run = RunInput(
            run_id="run-1",
            pipeline_name="p",
            pipeline_root="s3://bucket/root",
            parameters=dict(parameters or {}),
            created_at=format_time(created_at),
            namespace="ns",
        )
        self.tasks: dict[str, TaskRecord] = {}
        self.now = created_at
        self.launches: list[Launch] = []
        self.running: dict[str, Launch] = {}
        self.cancelled: list[str] = []
        self.max_running = 0

    def apply(self, records: list[TaskRecord]) -> None:
        for record in records:
            self.tasks[record.task_id] = dataclasses.replace(record, version=record.version + 1)

    def plan(self) -> Decisions:
        return plan(self.run, self.workflow, None, dict(self.tasks), self.now)

    def step(self) -> Decisions:
        decisions = self.plan()
        self.apply(decisions.records)
        again = self.plan()
        assert again.launches == [], (
            f"planning twice launched {[item.spec.task_id for item in again.launches]}"
        )
        assert again.records == [], f"planning twice changed {[r.task_id for r in again.records]}"
        self.launches.extend(decisions.launches)
        for cancel in decisions.cancels:
            self.cancelled.append(cancel.task_id)
            self.running.pop(cancel.task_id, None)
            self.apply(
                [
                    finish_attempt(
                        self.tasks[cancel.task_id], self.workflow, False, {}, {}, "killed", 137, self.now
                    )
                ]
            )
        for launch in decisions.launches:
            self.running[launch.spec.task_id] = launch
        self.max_running = max(self.max_running, len(self.running))
        for launch in list(self.running.values()):
            self.execute(launch)
        self.now += datetime.timedelta(seconds=1)
        return decisions

    def execute(self, launch: Launch) -> None:
        record = self.tasks[launch.spec.task_id]
        outcome = self.behaviour(launch.spec)
        if outcome.running:
            if record.state is TaskState.PENDING:
                self.apply([transition(record, TaskState.RUNNING, now=format_time(self.now))])
            return
        self.running.pop(launch.spec.task_id, None)
        if record.state is TaskState.PENDING:
            record = transition(record, TaskState.RUNNING, now=format_time(self.now))
        artifacts = artifacts_of(launch.spec) if outcome.succeeded else {}
        finished = finish_attempt(
            record,
            self.workflow,
            outcome.succeeded,
            outcome.parameters,
            artifacts,
            outcome.error,
            outcome.exit_code,
            self.now,
            lost=outcome.lost,
        )
        self.apply([finished])
        if finished.state is TaskState.PENDING and finished.next_attempt_at:
            self.now = max(self.now, parse_time(finished.next_attempt_at))

    def retry(self) -> None:
        self.apply(retry_run(self.tasks, self.now))

    def run_to_end(self, max_steps: int = 200) -> Decisions:
        for _ in range(max_steps):
            decisions = self.step()
            if decisions.outcome.state != "RUNNING":
                return decisions
        raise AssertionError(f"run did not finish in {max_steps} steps: {self.states()}")

    def states(self) -> dict[str, str]:
        return {task_id: record.state.value for task_id, record in sorted(self.tasks.items())}

    def by_name(self, display_name: str) -> list[TaskRecord]:
        return [record for record in self.tasks.values() if record.display_name == display_name]
