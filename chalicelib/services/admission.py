"""What a request must satisfy before anything is stored: the input limits (`settings.limits`) and the pod
policy (`settings.pod_policy`). Each refusal names the limit or rule and the value: InvalidRequest (→ 400), or
QuotaExceeded (→ 429) for the active-run quota."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from typing import Any

from chalicelib.limits import Limits
from chalicelib.pod_policy import PolicyViolation, check_pod_policy
from chalicelib.runtime import Runtime
from chalicelib.services.errors import InvalidRequest, QuotaExceeded
from chalicelib.spec import PipelinePackage
from chalicelib.spec.package import PackageFormat
from chalicelib.store.errors import NotFound

# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_name(limits: Limits, what: str, name: str, looked_up_by_path: bool = False) -> None:
    """A name: at most `max_name_length` characters, no control characters (nor line separators or
    bidirectional overrides, which disguise a name), no leading or trailing whitespace; with
    `looked_up_by_path` (a pipeline's or version's `name`, which routes take as a path segment) no `/` or `\\`.
    Display names of runs and experiments may hold `/` (kfp.Client and KFP's UI allow it)."""
    if len(name) > limits.max_name_length:
        raise InvalidRequest(
            f"{what} is {len(name)} characters long; the limit is {limits.max_name_length} (KFPS_MAX_NAME_LENGTH)"
        )
    for character in name:
        if unicodedata.category(character) in ("Cc", "Zl", "Zp") or character in BIDI_CONTROLS:
            raise InvalidRequest(f"{what} {name!r} contains the control character {character!r}")
    if looked_up_by_path and ("/" in name or "\\" in name):
        raise InvalidRequest(f"{what} {name!r} must not contain '/' or '\\'")
    if name != name.strip():
        raise InvalidRequest(f"{what} {name!r} must not start or end with whitespace")


def check_parameters(limits: Limits, parameters: Mapping[str, Any]) -> None:
    """Each run-time parameter value, as JSON text, at most `max_parameter_bytes`."""
    for name, value in parameters.items():
        size = len(json.dumps(value, separators=(",", ":")).encode())
        if size > limits.max_parameter_bytes:
            raise InvalidRequest(
                f"parameter {name!r} is {size} bytes; the limit is {limits.max_parameter_bytes} "
                "(KFPS_MAX_PARAMETER_BYTES)"
            )


def check_package(runtime: Runtime, package: PipelinePackage) -> None:
    """The spec's size and task count, and the pod policy."""
    limits = runtime.settings.limits
    size = len(package.to_json_bytes())
    if size > limits.max_spec_bytes:
        raise InvalidRequest(
            f"the pipeline spec is {size} bytes; the limit is {limits.max_spec_bytes} (KFPS_MAX_SPEC_BYTES)"
        )
    tasks = spec_task_count(package)
    if tasks > limits.max_spec_tasks:
        raise InvalidRequest(
            f"the pipeline spec has {tasks} tasks; the limit is {limits.max_spec_tasks} (KFPS_MAX_SPEC_TASKS)"
        )
    try:
        check_pod_policy(package, runtime.settings.pod_policy)
    except PolicyViolation as violation:
        raise InvalidRequest(f"pod policy: {violation}") from None


def spec_task_count(package: PipelinePackage) -> int:
    """DAG tasks (IR) or DAG tasks and steps (Argo) over the whole spec; a loop body counts once."""
    spec = package.pipeline_spec
    if package.format == PackageFormat.ARGO:
        count = 0
        for template in (spec.get("spec") or {}).get("templates") or []:
            count += len((template.get("dag") or {}).get("tasks") or [])
            count += sum(len(group) for group in template.get("steps") or [] if isinstance(group, list))
        return count
    owners = [spec.get("root") or {}, *(spec.get("components") or {}).values()]
    return sum(len(((owner or {}).get("dag") or {}).get("tasks") or {}) for owner in owners)


def check_active_runs(runtime: Runtime, namespace: str) -> None:
    """Refuse a new run when the namespace already has `max_active_runs_per_namespace` unfinished runs. The
    store's active-run index covers every namespace; runs are read only when that total reaches the quota."""
    quota = runtime.settings.limits.max_active_runs_per_namespace
    if not quota:
        return
    active = runtime.store.runs.active_run_ids()
    if len(active) < quota:
        return
    count = 0
    for run_id in active:
        try:
            count += runtime.store.runs.get_run(run_id).namespace == namespace
        except NotFound:
            continue
    if count >= quota:
        raise QuotaExceeded(
            f"namespace {namespace or '(default)'!r} has {count} active runs; the quota is {quota} "
            "(KFPS_MAX_ACTIVE_RUNS_PER_NAMESPACE)"
        )
