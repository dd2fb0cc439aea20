"""What the reconciler measures besides state changes: each pass (duration, launches, the active run that has
gone longest without progress) and the gap between an upstream task's end and its dependant's launch. Computed
from the records and the reconciler's clock, so tests with a fixed clock get exact values."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.engine.attempts import task_of_record
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.pipeline_spec import upstream_keys
from chalicelib.observability import metric_names as m
from chalicelib.observability import metrics
from chalicelib.observability.logs import logger
from chalicelib.store.records import Run
from chalicelib.timestamps import parse_time


def launch_gaps_ms(
    spec: Mapping[str, Any],
    tasks: Mapping[str, TaskRecord],
    launched: Iterable[TaskRecord],
    now: datetime.datetime,
) -> list[float]:
    """For each first attempt in `launched` whose upstream siblings (same DAG instance) all ended: the time
    from the last of them ending to `now`. Retries (backoff) and tasks without upstreams are not counted, nor
    are the steps of KFP v1 (Argo Workflow) runs, whose dependencies live elsewhere in the spec."""
    if "root" not in spec:
        return []
    siblings = {(record.parent_id, record.name): record for record in tasks.values()}
    gaps = []
    for record in launched:
        if record.attempt > 1:
            continue
        upstreams = [
            siblings.get((record.parent_id, key)) for key in upstream_keys(task_of_record(spec, record))
        ]
        ends = [upstream.finished_at for upstream in upstreams if upstream is not None]
        if not ends or len(ends) != len(upstreams) or not all(ends):
            continue
        gaps.append(max(0.0, (now - max(parse_time(end) for end in ends)).total_seconds() * 1000))
    return gaps


def record_launch_gaps(gaps: Iterable[float]) -> None:
    for gap in gaps:
        metrics.add(m.TASK_END_TO_LAUNCH_GAP, gap)


def seconds_without_progress(run: Run, tasks: Mapping[str, TaskRecord], now: datetime.datetime) -> float:
    """How long ago the run or any of its tasks last changed state (created, started, ended)."""
    # The one timestamp format sorts as text: compare strings, parse only the latest.
    stamps = [run.created_at, *(change.update_time for change in run.state_history)]
    for record in tasks.values():
        stamps.append(max(record.created_at, record.started_at, record.finished_at))
    latest = parse_time(max(stamp for stamp in stamps if stamp))
    return max(0.0, (now - latest).total_seconds())


def record_pass(runs: int, launched: int, duration_ms: float, stalled_seconds: float | None) -> None:
    """One pass over `runs` runs. `stalled_seconds`: the longest time an active run went without progress
    (None: no run is active)."""
    if not runs:
        return
    metrics.add(m.RECONCILE_PASS_DURATION, duration_ms)
    metrics.add(m.LAUNCHES_PER_PASS, launched)
    if stalled_seconds is not None:
        metrics.add(m.OLDEST_RUN_WITHOUT_PROGRESS, stalled_seconds)
    logger().debug(
        "reconcile pass", extra={"runs": runs, "launched": launched, "duration_ms": round(duration_ms, 1)}
    )
