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
import re
from typing import Any, NewType

POD_NAME_TAG = re.compile(r"\{\{\s*pod\.name\s*\}\}")
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
    argo_step: for a step of a KFP v1 run, the resolved Argo template as the launcher and executors need it
        (empty for KFP v2 tasks); its shape is documented in `chalicelib.engine.argo.steps`. `container` is
        then the resolved Argo container, and the definition fields are empty.
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
    argo_step: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def is_argo_step(self) -> bool:
        """True for a step of a KFP v1 (Argo Workflow) run; see `argo_step`."""
        return bool(self.argo_step)

    def with_pod_name(self, name: str) -> TaskSpec:
        """The spec with `{{pod.name}}` filled in: the executor names the attempt's pod (or process)."""
        text = json.dumps(dataclasses.asdict(self))
        if not self.argo_step or not POD_NAME_TAG.search(text):
            return self
        return TaskSpec(**json.loads(POD_NAME_TAG.sub(name, text)))

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
