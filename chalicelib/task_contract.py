"""The values that cross module boundaries for one task attempt.

Pure data, no I/O, imported by engine, launcher, executors, store and reconciler alike:

- `TaskState`: the state machine of a task instance (also used for DAG/loop/condition nodes).
- `TaskSpec`: everything the launcher needs to run one attempt of one container task. The reconciler builds it
  from an engine launch decision and hands it to an executor, which hands it (as JSON) to the launcher.
- `TaskResult`: what the launcher reports back when the user command has ended.

Artifacts are plain dicts shaped like KFP's RuntimeArtifact JSON:
`{"name": str, "uri": str, "type": {"schemaTitle": str, "schemaVersion": str}, "metadata": {...}}`.
Parameter values are plain JSON values (int, float, str, bool, list, dict, None).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, NewType

RunId = NewType("RunId", str)
TaskId = NewType("TaskId", str)


class TaskState(enum.StrEnum):
    """KFP RuntimeState values used for task details (strings on the wire)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"
    CACHED = "CACHED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_TASK_STATES


FINAL_TASK_STATES = frozenset(
    {TaskState.SUCCEEDED, TaskState.SKIPPED, TaskState.FAILED, TaskState.CANCELED, TaskState.CACHED}
)


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """One attempt of one container task, fully resolved except placeholders in command/args.

    container: the IR `deploymentSpec.executors[label].container` dict (image, command, args, env, resources).
    input_definitions / output_definitions: the component's `inputDefinitions` / `outputDefinitions` dicts.
    parameters: resolved input parameter values by input name (defaults already applied by the engine).
    artifacts: resolved input artifacts by input name, each a list of RuntimeArtifact dicts.
    output_artifact_uris: the pre-assigned URI of every output artifact, by output name.
    pipeline_root: `s3://bucket/prefix` (cloud) or an absolute local directory (local stack).
    """

    run_id: str
    task_id: str
    attempt: int
    task_name: str
    display_name: str
    pipeline_name: str
    pipeline_root: str
    container: dict[str, Any]
    input_definitions: dict[str, Any]
    output_definitions: dict[str, Any]
    parameters: dict[str, Any]
    artifacts: dict[str, list[dict[str, Any]]]
    output_artifact_uris: dict[str, str]
    run_create_time: str = ""
    run_schedule_time: str = ""
    env: dict[str, str] = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TaskSpec:
        return cls(**json.loads(text))


@dataclasses.dataclass(frozen=True)
class TaskResult:
    """What one attempt produced. `exit_code` 0 means the user command succeeded and outputs were read.

    parameters: output parameter values by output name.
    artifacts: output artifacts by output name (RuntimeArtifact dicts, metadata as written by the component).
    error: a one-line reason when the attempt failed (non-zero exit, unreadable outputs, launcher error).
    log_tail: the last lines of the combined stdout/stderr.
    """

    exit_code: int
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    artifacts: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    error: str = ""
    log_tail: str = ""
    started_at: str = ""
    finished_at: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TaskResult:
        return cls(**json.loads(text))
