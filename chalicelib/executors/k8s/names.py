"""Deterministic Kubernetes names, labels and S3 keys for one task attempt (pure).

Every name here is a function of (run_id, task_id, attempt) only, so a second `launch` of the same attempt
computes the same pod name and the API server answers 409: creation is idempotent without any bookkeeping.
"""

from __future__ import annotations

import hashlib
import re

from chalicelib.store import object_keys

MANAGED_BY = "kfp-serverless"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_RUN_ID = "kfp-serverless.io/run-id"
LABEL_TASK = "kfp-serverless.io/task"
LABEL_PIPELINE = "kfp-serverless.io/pipeline"
LABEL_ATTEMPT = "kfp-serverless.io/attempt"
ANNOTATION_RUN_ID = "kfp-serverless.io/run-id"
ANNOTATION_TASK_ID = "kfp-serverless.io/task-id"
ANNOTATION_TASK_NAME = "kfp-serverless.io/task-name"
ANNOTATION_DISPLAY_NAME = "kfp-serverless.io/display-name"
ANNOTATION_PIPELINE_NAME = "kfp-serverless.io/pipeline-name"
ANNOTATION_RESULT_URI = "kfp-serverless.io/result-uri"
ANNOTATION_COLLECT = (
    "kfp-serverless.io/collect"  # "none": a KFP v1 step with nothing to collect (no launcher)
)

MAX_NAME = 63
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def short_hash(*parts: object, length: int = 10) -> str:
    """A stable lowercase hex digest of the parts (joined with NUL so ('a', 'bc') != ('ab', 'c'))."""
    text = "\0".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def dns_label(text: str, max_length: int) -> str:
    """`text` lowercased to DNS-1123 label characters, runs of others collapsed to '-', trimmed to fit."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:max_length].rstrip("-")


def pod_name(run_id: str, task_id: str, attempt: int) -> str:
    """`<task-id, sanitised>-<hash>-<attempt>`: DNS-1123, at most 63 characters, unique per (run, task, attempt).

    Only the ids go in, so `cancel`/`logs`/`cleanup`, which get nothing else, compute the same name.
    """
    suffix = f"{short_hash(run_id, task_id, attempt)}-{attempt}"
    base = dns_label(task_id, MAX_NAME - len(suffix) - 1) or "task"
    return f"{base}-{suffix}"


def label_value(text: str) -> str:
    """`text` if it is a valid label value, else a sanitised prefix plus a hash (still unique per text)."""
    if len(text) <= MAX_NAME and _LABEL_VALUE.match(text):
        return text
    digest = short_hash(text)
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[: MAX_NAME - len(digest) - 1].strip("-_.")
    return f"{prefix}-{digest}" if prefix else digest


def pod_labels(run_id: str, task_id: str, attempt: int, pipeline_name: str) -> dict[str, str]:
    """The labels every attempt pod carries; `poll` selects on managed-by and run id."""
    return {
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_RUN_ID: label_value(run_id),
        LABEL_TASK: label_value(task_id),
        LABEL_PIPELINE: label_value(pipeline_name),
        LABEL_ATTEMPT: str(attempt),
    }


def attempt_prefix(run_id: str, task_id: str, attempt: int) -> str:
    """S3 key prefix of one attempt: `runs/<run_id>/tasks/<task_id>/<attempt>`."""
    return f"runs/{run_id}/tasks/{task_id}/{attempt}"


def task_key(run_id: str, task_id: str, attempt: int) -> str:
    """S3 key of the TaskSpec JSON the launcher reads."""
    return f"{attempt_prefix(run_id, task_id, attempt)}/task.json"


def result_key(run_id: str, task_id: str, attempt: int) -> str:
    """S3 key of the TaskResult JSON the launcher writes."""
    return f"{attempt_prefix(run_id, task_id, attempt)}/{RESULT_FILE}"


RESULT_FILE = "result.json"


def attempt_of_result_key(key: str) -> tuple[str, str, int] | None:
    """(run id, task id, attempt) of a `result_key`, or None for any other key (the S3 result event's test)."""
    parts = key.split("/")
    if len(parts) != 6 or parts[0] != "runs" or parts[2] != "tasks" or parts[5] != RESULT_FILE:
        return None
    run_id, task_id, attempt = parts[1], parts[3], parts[4]
    if not run_id or not task_id or not attempt.isdigit():
        return None
    return run_id, task_id, int(attempt)


def log_key(run_id: str, task_id: str, attempt: int) -> str:
    """S3 key the pod log is copied to before the pod is deleted: the store's final-log key, which the API
    reads (`Executor.keeps_final_logs`)."""
    return object_keys.log_key(run_id, task_id, attempt)


def run_pvc_prefix(run_id: str) -> str:
    """A per-run name prefix for claims the run creates (KFP uses the workflow name)."""
    return f"kfp-{short_hash(run_id)}"


def workspace_pvc_name(run_id: str) -> str:
    """The run's workspace claim (`pipelineConfig.workspace`), mounted at /kfp-workspace."""
    return f"{run_pvc_prefix(run_id)}-kfp-workspace"
