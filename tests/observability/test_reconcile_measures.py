"""What the reconciler measures, from records and a fixed clock: the upstream end → dependant launch gap and
the time an active run has gone without progress; and the run endings the run metrics count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.engine.model import TaskRecord
from chalicelib.observability import metric_names as m
from chalicelib.observability import metrics, reconcile_measures, state_changes
from chalicelib.store.records import Run, StateChange
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import format_time

NOW = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
SPEC = {
    "root": {
        "dag": {
            "tasks": {
                "a": {"taskInfo": {"name": "a"}},
                "b": {"taskInfo": {"name": "b"}},
                "c": {"taskInfo": {"name": "c"}, "dependentTasks": ["a", "b"]},
                "d": {
                    "taskInfo": {"name": "d"},
                    "inputs": {"parameters": {"x": {"taskOutputParameter": {"producerTask": "c"}}}},
                },
            }
        }
    }
}


def at(seconds: float) -> str:
    return format_time(NOW - timedelta(seconds=seconds))


def record(name: str, state: TaskState, attempt: int = 1, finished: str = "") -> TaskRecord:
    return TaskRecord(
        task_id=f"root.{name}",
        name=name,
        kind="container",
        state=state,
        parent_id="root",
        attempt=attempt,
        created_at=at(60),
        finished_at=finished,
        data={"dag": "root"},  # the DAG component the task is in
    )


def test_gap_runs_from_the_last_upstream_end_to_the_launch() -> None:
    tasks = {
        r.task_id: r
        for r in (
            record("a", TaskState.SUCCEEDED, finished=at(5)),
            record("b", TaskState.SUCCEEDED, finished=at(2)),
            record("c", TaskState.PENDING),
            record("d", TaskState.PENDING),
        )
    }
    gaps = reconcile_measures.launch_gaps_ms(SPEC, tasks, [tasks["root.c"], tasks["root.d"]], NOW)
    assert gaps == [2000.0]  # c waited on b (the later end); d's upstream c has not ended


def test_no_gap_for_a_retry_or_a_task_without_upstreams() -> None:
    tasks = {
        r.task_id: r
        for r in (
            record("a", TaskState.PENDING),
            record("b", TaskState.SUCCEEDED, finished=at(1)),
            record("c", TaskState.PENDING, attempt=2),
        )
    }
    assert reconcile_measures.launch_gaps_ms(SPEC, tasks, [tasks["root.a"], tasks["root.c"]], NOW) == []


def test_progress_is_the_latest_run_or_task_state_change() -> None:
    run = Run(
        run_id="r",
        display_name="r",
        experiment_id="e",
        namespace="",
        spec_key="k",
        created_at=at(600),
        state="RUNNING",
        state_history=(StateChange(at(590), "RUNNING"),),
    )
    tasks = {"root.a": record("a", TaskState.SUCCEEDED, finished=at(90))}
    assert reconcile_measures.seconds_without_progress(run, tasks, NOW) == 60.0  # the task's creation
    assert reconcile_measures.seconds_without_progress(run, {}, NOW) == 590.0


@pytest.mark.parametrize(
    ("state", "metric"),
    [("SUCCEEDED", m.RUNS_SUCCEEDED), ("FAILED", m.RUNS_FAILED), ("CANCELED", m.RUNS_CANCELED)],
)
def test_each_run_ending_is_counted_by_its_metric(capsys, state: str, metric: m.MetricName) -> None:
    run = Run(run_id="r", display_name="r", experiment_id="e", namespace="", spec_key="k", created_at=at(9))
    metrics.configure(m.NAMESPACE, "dev")
    try:
        state_changes.run_moved("RUNNING", run.__class__(**{**run.__dict__, "state": state}))
        state_changes.run_moved(state, run.__class__(**{**run.__dict__, "state": state}))  # no change
        metrics.flush()
    finally:
        metrics.configure("", "")
    out = capsys.readouterr().out
    assert out.count('"message":"run ended"') == 1
    assert f'"{metric.name}":[1.0]' in out
