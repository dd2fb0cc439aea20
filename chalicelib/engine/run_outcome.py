"""The run's state after a pass, read off the root DAG node; a failed run names its first failing task."""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.engine.attempts import OWN_FAILURE_KEY
from chalicelib.engine.model import RunInput, RunOutcome, TaskRecord
from chalicelib.task_contract import TaskState

TERMINATED_ERROR = "run was terminated"


def first_failure(records: Iterable[TaskRecord]) -> TaskRecord | None:
    """The earliest-finished record that failed on its own (not just because a child failed)."""
    failed = [
        record for record in records if record.state is TaskState.FAILED and record.data.get(OWN_FAILURE_KEY)
    ]
    return min(failed, key=lambda record: (record.finished_at, record.task_id), default=None)


def failure_message(record: TaskRecord) -> str:
    return f"task {record.display_name or record.name!r} ({record.task_id}) failed: {record.error}"


def run_outcome(run: RunInput, root: TaskRecord | None, records: Iterable[TaskRecord]) -> RunOutcome:
    """RUNNING until the root node is final; then CANCELED (terminate requested), FAILED or SUCCEEDED."""
    if root is None or not root.state.is_final:
        return RunOutcome("RUNNING")
    if run.cancel_requested or root.state is TaskState.CANCELED:
        return RunOutcome("CANCELED", TERMINATED_ERROR)
    if root.state is TaskState.FAILED:
        culprit = first_failure(records)
        return RunOutcome("FAILED", failure_message(culprit) if culprit else root.error or "failed")
    return RunOutcome("SUCCEEDED")
