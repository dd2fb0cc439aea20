"""The one narrow, non-blocking protocol every executor implements (local processes, Kubernetes pods).

Every call is idempotent: an attempt is named deterministically from (run_id, task_id, attempt), so a second
`launch` of the same attempt is a no-op, and `cancel`/`cleanup` of an attempt that is gone do nothing.
None of these calls blocks on a task: `poll` reports what is known now.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from typing import Any, Protocol

from chalicelib.task_contract import TaskResult, TaskSpec


class AttemptPhase(enum.StrEnum):
    PENDING = "PENDING"  # accepted, not started (pod scheduling / image pull, process queued)
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"  # user command exited 0 and outputs were read
    FAILED = "FAILED"  # non-zero exit, OOMKilled, image pull failure beyond the grace time, ...
    LOST = "LOST"  # evicted / deleted / vanished: the attempt should be retried as a new attempt

    @property
    def is_final(self) -> bool:
        return self in (AttemptPhase.SUCCEEDED, AttemptPhase.FAILED, AttemptPhase.LOST)


@dataclasses.dataclass(frozen=True)
class AttemptLaunch:
    """One attempt to start. `platform` is the task's kubernetes platform config (kfp-kubernetes), if any."""

    spec: TaskSpec
    namespace: str = "default"
    platform: dict[str, Any] = dataclasses.field(default_factory=dict)
    service_account: str = ""


@dataclasses.dataclass(frozen=True)
class AttemptStatus:
    run_id: str
    task_id: str
    attempt: int
    phase: AttemptPhase
    name: str = ""  # process or pod name (shown as pod_name in task details)
    reason: str = ""  # e.g. "OOMKilled", "ImagePullBackOff", "Error"
    message: str = ""
    exit_code: int | None = None
    result: TaskResult | None = None  # set when phase is SUCCEEDED or FAILED and the launcher reported
    started_at: str = ""
    finished_at: str = ""


class LaunchRefused(ValueError):
    """The executor cannot start this attempt as specified (nothing was started, and launching it again
    would be refused again): the attempt fails with this message."""


class Executor(Protocol):
    # True when `cleanup` itself keeps the attempt's final log under `object_keys.log_key` (the Kubernetes
    # executor copies the pod's log before deleting the pod); else the reconciler stores `logs()` there.
    keeps_final_logs: bool

    def launch(self, attempt: AttemptLaunch) -> str:
        """Start the attempt unless it already exists; return its process/pod name. Raises LaunchRefused
        when the attempt cannot be started as specified."""

    def poll(self, run_ids: Iterable[str]) -> list[AttemptStatus]:
        """Statuses of every known attempt of these runs (one list call per namespace for pods)."""

    def cancel(self, run_id: str, task_id: str, attempt: int) -> None:
        """Stop the attempt (kill the process group / delete the pod). Idempotent."""

    def logs(self, run_id: str, task_id: str, attempt: int) -> str:
        """The attempt's combined log text so far ('' when unknown)."""

    def cleanup(self, run_id: str, task_id: str, attempt: int) -> None:
        """Forget a finished attempt (delete the pod / the process bookkeeping). Idempotent."""

    def close(self) -> None:
        """Release what the executor itself holds (the local fork server); running attempts go on. Idempotent."""
