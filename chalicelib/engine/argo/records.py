"""How the nodes of a KFP v1 run are kept as `TaskRecord`s: data keys, ids, and the results Argo's `depends`
logic reads off a record."""

from __future__ import annotations

from chalicelib.engine.argo.values import PHASE_KEY, argo_phase
from chalicelib.engine.attempts import LAUNCHED_ATTEMPT_KEY
from chalicelib.engine.model import TaskRecord
from chalicelib.task_contract import TaskState

TEMPLATE_KEY = "template"  # the template the node runs
BOUNDARY_KEY = "boundary"  # the id of the DAG instance whose task this node is ("" for root and exit handler)
PARAMETERS_KEY = "parameters"  # the node's resolved input parameters
ARTIFACTS_KEY = "artifacts"  # the node's resolved input artifacts
ITEMS_KEY = "items"  # a loop's resolved items
STOP_KEY = "stop"  # why a launched attempt is being cancelled: "cancel", "deadline" or "step-deadline"
LAUNCHED_AT_KEY = "launched_at"  # when the current attempt was launched (a step's activeDeadlineSeconds)
GENERATION_KEY = "generation"  # on the root: how many times the run was retried (names the exit handler)
OBJECT_KEY = "object"  # on a resource node: the Kubernetes object it created or waits on
EXIT_HANDLER_ID = "onexit"
LEAF_KINDS = frozenset({"container", "resource"})


def exit_handler_id(generation: int) -> str:
    """The exit handler's record id; a retried run runs its exit handler again under a new id."""
    return EXIT_HANDLER_ID if generation <= 0 else f"{EXIT_HANDLER_ID}-{generation}"


def under_exit_handler(task_id: str) -> bool:
    """True for the exit handler's node and everything inside it (they run even when the run stops)."""
    head = task_id.split(".", 1)[0]
    return head == EXIT_HANDLER_ID or head.startswith(f"{EXIT_HANDLER_ID}-")


def is_active_pod(record: TaskRecord) -> bool:
    """A container or resource attempt that was launched and has not ended."""
    if record.kind not in LEAF_KINDS:
        return False
    if record.state in (TaskState.RUNNING, TaskState.CANCELING):
        return True
    return record.state is TaskState.PENDING and record.data.get(LAUNCHED_ATTEMPT_KEY) == record.attempt


def results_of(record: TaskRecord, iterations: list[TaskRecord] | None = None) -> frozenset[str]:
    """The task results `depends` can test for a fulfilled record (a loop: also AnySucceeded / AllFailed)."""
    phase = argo_phase(record)
    results = {
        "Succeeded": {"Succeeded"},
        "Skipped": {"Skipped"},
        "Failed": {"Failed"},
        "Error": {"Errored"},
    }.get(phase, set())
    if iterations is not None:
        if any(argo_phase(item) == "Succeeded" for item in iterations):
            results.add("AnySucceeded")
        if iterations and all(argo_phase(item) == "Failed" for item in iterations):
            results.add("AllFailed")
    return frozenset(results)


__all__ = [
    "ARTIFACTS_KEY",
    "BOUNDARY_KEY",
    "EXIT_HANDLER_ID",
    "GENERATION_KEY",
    "ITEMS_KEY",
    "LAUNCHED_AT_KEY",
    "LEAF_KINDS",
    "OBJECT_KEY",
    "PARAMETERS_KEY",
    "PHASE_KEY",
    "STOP_KEY",
    "TEMPLATE_KEY",
    "exit_handler_id",
    "is_active_pod",
    "results_of",
    "under_exit_handler",
]
