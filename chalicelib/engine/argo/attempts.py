"""The outcome of one attempt of a KFP v1 step, with Argo's `retryStrategy` (v3.1 semantics):

* an attempt that ran the command and exited non-zero is Failed; one that ended otherwise (lost pod, launcher
  error, no exit code) is an Error;
* `retryPolicy`: OnFailure (the default) retries Failed attempts, OnError and OnTransientError retry Errors,
  Always both;
* `limit` retries at most (no limit: as many as it takes);
* `backoff`: the delay before the retry that follows attempt n is `duration * factor^(n-1)`; no retry once
  `maxDuration` has passed since the first attempt started, nor when the delay would end after it.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any

from chalicelib.engine.argo.records import STOP_KEY, TEMPLATE_KEY
from chalicelib.engine.argo.values import PHASE_KEY
from chalicelib.engine.attempts import OWN_FAILURE_KEY, lost_attempt_rerun, succeeded_attempt
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.transitions import transition
from chalicelib.spec.argo_workflow import Workflow
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import format_time, parse_time

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float:
    """Seconds from Argo's duration strings: a plain number of seconds or Go's `1h2m3.5s`."""
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"invalid duration {value!r}")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


@dataclasses.dataclass(frozen=True)
class RetryStrategy:
    limit: int | None
    policy: str = "OnFailure"
    backoff_seconds: float = 0.0
    factor: float = 1.0
    max_duration_seconds: float | None = None

    @classmethod
    def of_template(cls, template: Mapping[str, Any]) -> RetryStrategy | None:
        strategy = template.get("retryStrategy")
        if not isinstance(strategy, dict):
            return None
        limit = strategy.get("limit")
        backoff = strategy.get("backoff") or {}
        return cls(
            limit=int(str(limit)) if limit is not None else None,
            policy=str(strategy.get("retryPolicy") or "OnFailure"),
            backoff_seconds=parse_duration(backoff["duration"]) if backoff.get("duration") else 0.0,
            factor=float(backoff.get("factor") or 1.0),
            max_duration_seconds=parse_duration(backoff["maxDuration"])
            if backoff.get("maxDuration")
            else None,
        )

    def retries(self, phase: str) -> bool:
        if self.policy == "Always":
            return True
        if self.policy in ("OnError", "OnTransientError"):
            return phase == "Error"
        return phase == "Failed"

    def next_attempt_at(self, record: TaskRecord, now: datetime.datetime) -> datetime.datetime | None:
        """When the attempt after `record.attempt` may start, or None when there is no more retry."""
        if self.limit is not None and record.attempt > self.limit:
            return None
        delay = self.backoff_seconds * self.factor ** max(record.attempt - 1, 0)
        due = now + datetime.timedelta(seconds=delay)
        if self.max_duration_seconds is not None and record.started_at:
            window_end = parse_time(record.started_at) + datetime.timedelta(seconds=self.max_duration_seconds)
            if now > window_end or due > window_end:
                return None
        return due


def finish_attempt(
    record: TaskRecord,
    spec: Mapping[str, Any],
    succeeded: bool,
    parameters: dict[str, Any],
    artifacts: dict[str, list[dict[str, Any]]],
    error: str,
    exit_code: int | None,
    now: datetime.datetime,
    lost: bool = False,
) -> TaskRecord:
    """The record after attempt `record.attempt` ended (same contract as the IR engine's `finish_attempt`,
    a `lost` attempt included; `spec` is the workflow)."""
    stamp = format_time(now)
    if succeeded:
        return succeeded_attempt(record, parameters, artifacts, exit_code, now)
    if record.data.get(STOP_KEY) == "step-deadline" and record.state is not TaskState.CANCELING:
        # Argo: a pod past its activeDeadlineSeconds failed; the retry strategy decides what follows.
        record = dataclasses.replace(record, data={k: v for k, v in record.data.items() if k != STOP_KEY})
        error, exit_code = "the step exceeded its activeDeadlineSeconds", exit_code or 1
    if record.state is TaskState.CANCELING:
        if record.data.get(STOP_KEY) == "deadline":
            data = {**record.data, PHASE_KEY: "Failed", OWN_FAILURE_KEY: True}
            message = "the workflow exceeded its activeDeadlineSeconds"
            return transition(
                record, TaskState.FAILED, now=stamp, error=message, exit_code=exit_code, data=data
            )
        return transition(
            record, TaskState.CANCELED, now=stamp, error=error or "canceled", exit_code=exit_code
        )
    rerun = lost_attempt_rerun(record, error, exit_code, now) if lost else None
    if rerun is not None:
        return rerun
    phase = "Failed" if exit_code else "Error"
    template = Workflow(spec).templates.get(str(record.data.get(TEMPLATE_KEY, ""))) or {}
    strategy = RetryStrategy.of_template(template)
    if strategy is not None and strategy.retries(phase):
        due = strategy.next_attempt_at(record, now)
        if due is not None:
            data = {key: value for key, value in record.data.items() if key != PHASE_KEY}
            return transition(
                record,
                TaskState.PENDING,
                now=stamp,
                attempt=record.attempt + 1,
                next_attempt_at=format_time(due),
                error=error,
                exit_code=exit_code,
                data=data,
            )
    data = {**record.data, PHASE_KEY: phase, OWN_FAILURE_KEY: True}
    return transition(
        record, TaskState.FAILED, now=stamp, error=error or "failed", exit_code=exit_code, data=data
    )
