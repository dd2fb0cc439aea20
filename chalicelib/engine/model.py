"""The engine's inputs and outputs: plain frozen values, no I/O.

The reconciler loads a `RunInput`, the run's spec snapshot and its `TaskRecord`s, calls `plan(...)`, and applies
the returned `Decisions` through the store (conditional writes) and an executor. The store persists exactly the
fields of `TaskRecord` (one item per task instance, loop iterations and DAG nodes included).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib.task_contract import TaskSpec, TaskState


@dataclasses.dataclass(frozen=True)
class RunInput:
    """What the engine needs to know about the run itself.

    parameters: validated runtime parameters (root input defaults not yet applied).
    created_at / scheduled_at: RFC3339 strings (for `{{$.pipeline_job_create_time_utc}}` etc.).
    cancel_requested: the user asked `:terminate`; the engine stops launching, cancels what runs,
    still runs exit handlers, and finishes the run CANCELED.
    namespace: the Kubernetes namespace the run's pods run in (`{{workflow.namespace}}` of KFP v1 runs).
    """

    run_id: str
    pipeline_name: str
    pipeline_root: str
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    created_at: str = ""
    scheduled_at: str = ""
    cancel_requested: bool = False
    display_name: str = ""
    namespace: str = ""


@dataclasses.dataclass(frozen=True)
class TaskRecord:
    """One task instance: a container or importer task, a DAG (sub-pipeline, condition group, exit-handler group),
    a ParallelFor loop or one loop iteration. `task_id` is deterministic (same spec + inputs → same ids), stable
    across passes, unique within the run, made of [a-z0-9._-] and at most 200 characters.

    attempt: 1-based number of the current attempt (0 for nodes that never run a process).
    parameters / artifacts: the task's outputs (artifacts as RuntimeArtifact dicts).
    next_attempt_at: RFC3339; a PENDING container task is not launched before it (retry backoff).
    data: engine-private bookkeeping (resolved loop items, condition outcome, ...); JSON-serialisable.
    version: the store's optimistic-lock version (0 = not stored yet); the engine copies it through unchanged.
    """

    task_id: str
    name: str
    kind: str  # "container" | "importer" | "dag" | "loop" | "iteration"
    state: TaskState
    parent_id: str = ""
    display_name: str = ""
    attempt: int = 0
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    artifacts: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    error: str = ""
    exit_code: int | None = None
    created_at: str = ""
    started_at: str = ""
    finished_at: str = ""
    next_attempt_at: str = ""
    cache_key: str = ""
    iteration_index: int | None = None
    pod_name: str = ""
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    version: int = 0


@dataclasses.dataclass(frozen=True)
class Launch:
    """Start attempt `spec.attempt` of container task `spec.task_id` (its record is in `Decisions.records`,
    state PENDING). When `cache_enabled` and the cache holds `cache_key`, the reconciler records the cached
    outputs (state CACHED) instead of launching. `platform` is the task's kubernetes platform config."""

    spec: TaskSpec
    cache_key: str
    cache_enabled: bool
    platform: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Cancel:
    task_id: str
    attempt: int


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """The run's state after this pass: RUNNING, or final SUCCEEDED / FAILED / CANCELED with an error."""

    state: str
    error: str = ""


@dataclasses.dataclass(frozen=True)
class Decisions:
    records: list[TaskRecord] = dataclasses.field(default_factory=list)  # to create or update
    launches: list[Launch] = dataclasses.field(default_factory=list)
    cancels: list[Cancel] = dataclasses.field(default_factory=list)
    outcome: RunOutcome = RunOutcome("RUNNING")
