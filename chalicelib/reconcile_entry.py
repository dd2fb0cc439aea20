"""The cloud entry points of the reconciler, event-driven: each invocation passes the runs it was told about,
once, under their pass leases (`leased_passes`), and returns. Nothing sleeps waiting for pods.

- `reconcile_runs`: the async-invoked `reconcile` Lambda, kicked with `{"run_id"}` on run create, terminate and
  retry, by the tick below, and by a result pass that ran out of time with events still arriving. A run handed
  over where no kick is possible (the reconcile function cannot invoke itself) has no last pass any more, so
  the next tick kicks it.
- `reconcile_result_event`: a task attempt's result.json landed in S3 (S3 → EventBridge "Object Created"): the
  run named in its key is passed.
- `reconcile_backstop`: the one-minute tick. One active-runs query (and nothing else when none is active), one
  pod list per namespace, one read of the runs' last passes; it kicks, without passing anything itself, the
  runs whose pods ended without a result event being handled (OOMKilled, evicted, image pull failures, node
  loss: their pods are ended or gone), the runs with no pod at all (a retry's backoff, a resource step), and
  runs not passed for `reconcile_stale_seconds` (the safety net for a lost event). Per-run kicks run in
  parallel, bounded by the reconcile function's reserved concurrency (throttled async invokes are retried by
  Lambda).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.executors.k8s.names import attempt_of_result_key
from chalicelib.executors.protocol import AttemptStatus, Executor
from chalicelib.executors.registry import build_executor
from chalicelib.leased_passes import LeasedPasses, new_owner
from chalicelib.observability.logs import logger
from chalicelib.reconciler import Reconciler
from chalicelib.runtime import Runtime
from chalicelib.triggers.errors import InvalidUploadEvent
from chalicelib.triggers.s3_events import parse_upload_event

# No further pass starts when less than this is left of the Lambda's time.
SAFETY_MARGIN_MS = 30_000

_reconcilers: dict[Runtime, Reconciler] = {}
_backstop_executors: dict[Runtime, Executor] = {}


def _reconciler(runtime: Runtime) -> Reconciler:
    """One reconciler per runtime (a warm Lambda keeps its executor and spec cache)."""
    if runtime not in _reconcilers:
        executor = build_executor(runtime.settings, runtime.store)
        _reconcilers[runtime] = Reconciler(runtime.settings, runtime.store, executor)
    return _reconcilers[runtime]


def _backstop_executor(runtime: Runtime) -> Executor:
    """The tick's own executor: its pod lists must not consume what a pass's executor tracks."""
    if runtime not in _backstop_executors:
        _backstop_executors[runtime] = build_executor(runtime.settings, runtime.store)
    return _backstop_executors[runtime]


def time_left(context: Any) -> bool:
    """Whether another pass may start in this invocation (always, outside Lambda)."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    return getter is None or int(getter()) >= SAFETY_MARGIN_MS


def _owner(context: Any) -> str:
    return new_owner(str(getattr(context, "aws_request_id", "") or "pass"))


def reconcile_runs(runtime: Runtime, context: Any, run_ids: Sequence[str]) -> dict[str, Any]:
    """Pass `run_ids` under their leases; kick the runs handed over when time ran out. Returns counts."""
    passes = LeasedPasses(
        _reconciler(runtime), runtime.store.leases, _owner(context), runtime.settings.reconcile_lease_seconds
    )
    report = passes.run(run_ids, lambda: time_left(context))
    for run_id in report.handed_over:
        runtime.kicker.kick(run_id)
    return report.to_log()


def reconcile_result_event(runtime: Runtime, context: Any, event: Mapping[str, Any]) -> dict[str, Any]:
    """An S3 "Object Created" event of an attempt's result.json → a pass of its run. Events of another bucket
    or key are logged and dropped; a second delivery of one event is one more (harmless) pass."""
    try:
        created = parse_upload_event(event)
    except InvalidUploadEvent as exc:
        logger().error("invalid S3 result event", extra={"error": str(exc)})
        return {"result": "invalid", "reason": str(exc)}
    attempt = attempt_of_result_key(created.key)
    if created.bucket != runtime.settings.bucket or attempt is None:
        reason = f"s3://{created.bucket}/{created.key} is no attempt result of this deployment"
        logger().warning("ignored S3 event", extra={"reason": reason})
        return {"result": "ignored", "reason": reason}
    return {"result": "passed", "run_id": attempt[0], **reconcile_runs(runtime, context, [attempt[0]])}


def runs_to_kick(
    active: Sequence[str],
    statuses: Sequence[AttemptStatus],
    last_passes: Mapping[str, float],
    now: float,
    stale_seconds: float,
) -> list[str]:
    """The active runs the tick kicks: an attempt ended (its pass has not taken it in: a pass cleans ended
    pods up), no attempt running at all, or no pass for `stale_seconds`."""
    running: set[str] = set()
    ended: set[str] = set()
    for status in statuses:
        (ended if status.phase.is_final else running).add(status.run_id)
    return [
        run_id
        for run_id in active
        if run_id in ended
        or run_id not in running
        or now - last_passes.get(run_id, float("-inf")) > stale_seconds
    ]


def reconcile_backstop(runtime: Runtime, context: Any) -> dict[str, Any]:
    """The one-minute tick: kick the runs that need a pass (see the module doc); pass nothing itself."""
    active = runtime.store.runs.active_run_ids()
    if not active:
        return {"active": 0, "kicked": 0}
    statuses = _backstop_executor(runtime).poll(active)
    last_passes = runtime.store.leases.last_passes(active)
    kicked = runs_to_kick(
        active, statuses, last_passes, time.time(), runtime.settings.reconcile_stale_seconds
    )
    for run_id in kicked:
        runtime.kicker.kick(run_id)
    return {"active": len(active), "kicked": len(kicked)}
