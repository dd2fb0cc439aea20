"""A pod (as the API returns it, a plain dict) → the attempt's phase, reason and exit code (pure).

The TaskResult is not read here: `PodVerdict.needs_result` tells the executor to fetch result.json from S3.
Rules:
- deleted (deletionTimestamp on an unfinished pod), evicted, node lost or preempted → LOST (retry as a new attempt);
- the main container OOMKilled → FAILED `OOMKilled` at once (the collect container may still be waiting);
- image pull errors, container config errors or Unschedulable → PENDING until `pending_grace_seconds` after
  creation, then FAILED with that reason;
- main container ended but the collect container still running after `collect_grace_seconds` → FAILED
  `CollectTimeout` (e.g. the whole main container was killed before it could write its exit code); before
  that, RUNNING with `needs_result`: a result.json already written decides (the executor reads it);
- pod Succeeded → SUCCEEDED; pod Failed → FAILED with the most telling reason
  (`PrepareFailed`, the main container's reason, `CollectFailed`, `DeadlineExceeded`);
- main and collect ended while sidecars (KFP v1 steps) still run or failed: decided by main and collect alone;
- a KFP v1 step pod without launcher containers (`kfp-serverless.io/collect: none`): main's exit code decides.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from chalicelib import timestamps
from chalicelib.executors.k8s import names
from chalicelib.executors.k8s.manifest import COLLECT_CONTAINER, MAIN_CONTAINER, PREPARE_CONTAINER
from chalicelib.executors.protocol import AttemptPhase

PULL_OR_CONFIG_ERRORS = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
    }
)
LOST_POD_REASONS = frozenset(
    {
        "Evicted",
        "NodeLost",
        "Preempting",
        "Shutdown",
        "NodeShutdown",
        "Terminated",
        "UnexpectedAdmissionError",
    }
)


@dataclasses.dataclass(frozen=True)
class PodIdentity:
    """Which attempt a pod belongs to, read back from its annotations and labels."""

    run_id: str
    task_id: str
    attempt: int
    name: str
    namespace: str
    collected: bool = True  # False: a KFP v1 step pod without launcher containers; main's exit code is all


@dataclasses.dataclass(frozen=True)
class PodVerdict:
    phase: AttemptPhase
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    started_at: str = ""
    finished_at: str = ""
    needs_result: bool = False


def parse_time(text: str | None) -> dt.datetime | None:
    return timestamps.parse_time(text) if text else None


def _normalised(text: str | None) -> str:
    """A Kubernetes time (whole seconds) in the store's one format."""
    moment = parse_time(text)
    return timestamps.format_time(moment) if moment else ""


def pod_identity(pod: dict[str, Any]) -> PodIdentity | None:
    """The attempt a managed pod runs; None for pods without our annotations."""
    meta = pod.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    labels = meta.get("labels") or {}
    run_id = annotations.get(names.ANNOTATION_RUN_ID)
    task_id = annotations.get(names.ANNOTATION_TASK_ID)
    attempt = labels.get(names.LABEL_ATTEMPT, "")
    if not run_id or not task_id or not attempt.isdigit():
        return None
    collected = annotations.get(names.ANNOTATION_COLLECT) != "none"
    return PodIdentity(
        run_id, task_id, int(attempt), meta.get("name", ""), meta.get("namespace", ""), collected
    )


def _statuses(status: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {c.get("name", ""): c for c in status.get(key) or []}


def _terminated(container_status: dict[str, Any] | None) -> dict[str, Any] | None:
    if not container_status:
        return None
    return (container_status.get("state") or {}).get("terminated")


def _waiting_problem(status: dict[str, Any]) -> tuple[str, str] | None:
    for key in ("initContainerStatuses", "containerStatuses"):
        for container in status.get(key) or []:
            waiting = (container.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in PULL_OR_CONFIG_ERRORS:
                return waiting["reason"], waiting.get("message", "")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return condition.get("reason") or "Unschedulable", condition.get("message", "")
    return None


def pod_verdict(
    pod: dict[str, Any], now: dt.datetime, *, pending_grace_seconds: float, collect_grace_seconds: float
) -> PodVerdict:
    """Classify one pod at time `now` (timezone-aware)."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    pod_phase = status.get("phase") or "Pending"
    containers = _statuses(status, "containerStatuses")
    main = _terminated(containers.get(MAIN_CONTAINER))
    collect = _terminated(containers.get(COLLECT_CONTAINER))
    prepare = _terminated(_statuses(status, "initContainerStatuses").get(PREPARE_CONTAINER))
    started = _normalised(status.get("startTime"))
    finished = _normalised((main or {}).get("finishedAt") or (collect or {}).get("finishedAt"))
    exit_code = main.get("exitCode") if main else None
    common = {"started_at": started, "finished_at": finished, "exit_code": exit_code}
    finished_pod = pod_phase in ("Succeeded", "Failed")

    if status.get("reason") in LOST_POD_REASONS:
        return PodVerdict(AttemptPhase.LOST, status["reason"], status.get("message", ""), **common)
    disrupted = any(
        c.get("type") == "DisruptionTarget" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    if not finished_pod and (meta.get("deletionTimestamp") or disrupted):
        return PodVerdict(AttemptPhase.LOST, "Deleted", "the pod was deleted before it finished", **common)
    if main and (meta.get("annotations") or {}).get(names.ANNOTATION_COLLECT) == "none":
        if main.get("exitCode") == 0:
            return PodVerdict(AttemptPhase.SUCCEEDED, **common)
        return PodVerdict(
            AttemptPhase.FAILED, main.get("reason") or "Error", main.get("message", ""), **common
        )
    if main and main.get("reason") == "OOMKilled":
        message = main.get("message") or "the main container ran out of memory"
        return PodVerdict(AttemptPhase.FAILED, "OOMKilled", message, needs_result=finished_pod, **common)
    if pod_phase == "Succeeded":
        return PodVerdict(AttemptPhase.SUCCEEDED, needs_result=True, **common)
    if main and collect and status.get("reason") != "DeadlineExceeded":
        # Both ended; only sidecars (KFP v1 steps) may still run or have been stopped: they do not count.
        if main.get("exitCode") == 0 and collect.get("exitCode") == 0:
            return PodVerdict(AttemptPhase.SUCCEEDED, needs_result=True, **common)
        if pod_phase == "Running":
            reason = (main.get("reason") or "Error") if main.get("exitCode") else "CollectFailed"
            return PodVerdict(AttemptPhase.FAILED, reason, "", needs_result=True, **common)
    if pod_phase == "Failed":
        if status.get("reason") == "DeadlineExceeded":
            reason = "DeadlineExceeded"
        elif prepare and prepare.get("exitCode"):
            reason = "PrepareFailed"
        elif main and main.get("exitCode"):
            reason = main.get("reason") or "Error"
        elif collect and collect.get("exitCode"):
            reason = "CollectFailed"
        else:
            reason = status.get("reason") or "Failed"
        return PodVerdict(AttemptPhase.FAILED, reason, status.get("message", ""), needs_result=True, **common)
    if main and not collect:
        ended = parse_time(main.get("finishedAt"))
        if ended and (now - ended).total_seconds() > collect_grace_seconds:
            message = f"collect did not finish within {collect_grace_seconds:g}s of the main container"
            return PodVerdict(AttemptPhase.FAILED, "CollectTimeout", message, needs_result=True, **common)
        if pod_phase == "Running":
            # Collect is storing the outputs; its result.json (its last write) decides once it exists, even
            # before the pod's status catches up (the S3 result event wakes the pass in that window).
            return PodVerdict(AttemptPhase.RUNNING, needs_result=True, **common)
    if pod_phase == "Running":
        return PodVerdict(AttemptPhase.RUNNING, **common)
    problem = _waiting_problem(status)
    created = parse_time(meta.get("creationTimestamp"))
    if problem:
        reason, message = problem
        if created and (now - created).total_seconds() > pending_grace_seconds:
            return PodVerdict(AttemptPhase.FAILED, reason, message, **common)
        return PodVerdict(AttemptPhase.PENDING, reason, message, **common)
    init_running = any("running" in (c.get("state") or {}) for c in status.get("initContainerStatuses") or [])
    return PodVerdict(AttemptPhase.RUNNING if init_running else AttemptPhase.PENDING, **common)
