"""A KFP v1 step as one local process: prepare, run step.sh in the attempt's private view, collect.

`valueFrom` environment variables are resolved the way the pod would resolve them where that is possible
here: `fieldRef` to the pod's name, uid, namespace, labels and annotations (the process name stands for the
pod name); `secretKeyRef` / `configMapKeyRef` need the Kubernetes executor and fail the attempt.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chalicelib.launcher import argo_step, private_view
from chalicelib.launcher.errors import LauncherError
from chalicelib.task_contract import TaskResult, TaskSpec

logger = logging.getLogger(__name__)

POD_NAME_ENV = "KFP_POD_NAME"
VOLUME_ROOT_ENV = "KFPS_VOLUME_ROOT"
_FIELD = re.compile(r"metadata\.(labels|annotations)\['(.+)'\]")


def field_env(step: Mapping[str, Any], pod_name: str) -> dict[str, str]:
    """The container's `valueFrom.fieldRef` variables as this process's stand-in for the pod."""
    pod = step.get("pod") or {}
    fields = {
        "metadata.name": pod_name,
        "metadata.uid": str(uuid.uuid5(uuid.NAMESPACE_URL, pod_name)),
        "metadata.namespace": str(step.get("namespace") or "default"),
        "spec.serviceAccountName": str(pod.get("serviceAccountName") or ""),
    }
    values = {}
    for item in step["container"].get("env") or []:
        source = item.get("valueFrom")
        if source is None:
            continue
        if "fieldRef" in source:
            path = str(source["fieldRef"].get("fieldPath", ""))
            match = _FIELD.fullmatch(path)
            if match:
                values[item["name"]] = str((pod.get(match.group(1)) or {}).get(match.group(2), ""))
            elif path in fields:
                values[item["name"]] = fields[path]
            else:
                raise LauncherError(f"env {item['name']!r}: fieldRef {path!r} has no local value")
        else:
            kind = next(iter(source), "valueFrom")
            raise LauncherError(
                f"env {item['name']!r} comes from a {kind}, which needs the kubernetes executor"
            )
    return values


def run_step(spec: TaskSpec, workdir: Path) -> TaskResult:
    """Prepare, run and collect one attempt of a KFP v1 step in this process; failures become results."""
    from chalicelib.launcher.runner import launcher_failure, now_utc, run_command

    started_at = now_utc()
    logger.info("image %r is ignored: the command runs on this host", spec.container.get("image", ""))
    try:
        argv, env = argo_step.prepare_step(spec, workdir)
        env.update(field_env(spec.argo_step, os.environ.get(POD_NAME_ENV, spec.task_id)))
        stage = argo_step.stage_dir(workdir)
        volume_root = Path(os.environ.get(VOLUME_ROOT_ENV) or private_view.default_volume_root())
        sandbox = private_view.write_sandbox(spec.argo_step, stage, volume_root)
    except LauncherError as error:
        return launcher_failure(error, started_at)
    if sandbox is None:
        print(private_view.NO_NAMESPACE_WARNING, flush=True)
        command = argv
        env["KFP_STEP_CWD"] = str(stage / "cwd")
        (stage / "cwd").mkdir(exist_ok=True)
    else:
        command = [*sandbox, *argv[2:]]
    exit_code, log_tail = run_command(command, {**os.environ, **env}, workdir)
    return argo_step.collect_step(spec, workdir, exit_code, log_tail, started_at, now_utc())
