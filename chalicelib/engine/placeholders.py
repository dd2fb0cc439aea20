"""Placeholders inside input *values* (kfp-ir.md §2.3): f-strings over sibling inputs and the run/task identity
placeholders used as constants. Command/args placeholders are the launcher's business, not the engine's.

Substitution is a single regex pass, so inserted text is never scanned again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from chalicelib.engine.model import RunInput
from chalicelib.engine.parameter_types import placeholder_text

WORKSPACE_PATH = "/kfp-workspace"
_PLACEHOLDER = re.compile(
    r"\{\{\$\.inputs\.parameters\['(?P<input>[^']+)'\]\}\}|\{\{\$\.(?P<identity>pipeline_[a-z_]+|workspace_path)\}\}"
)


def job_resource_name(run: RunInput) -> str:
    """The run's resource name as KFP shows it: `<pipelineInfo.name>-<5 characters>` (stable per run)."""
    return f"{run.pipeline_name}-{hashlib.sha256(run.run_id.encode()).hexdigest()[:5]}"


@dataclasses.dataclass(frozen=True)
class TaskIdentity:
    """What the `{{$.pipeline_*}}` placeholders of one task stand for."""

    job_name: str
    job_resource_name: str
    job_uuid: str
    task_name: str
    task_uuid: str
    pipeline_root: str
    create_time: str
    schedule_time: str

    @classmethod
    def of(cls, run: RunInput, task_key: str, task_id: str) -> TaskIdentity:
        return cls(
            job_name=run.display_name or run.pipeline_name,
            job_resource_name=job_resource_name(run),
            job_uuid=run.run_id,
            task_name=task_key,
            task_uuid=task_id,
            pipeline_root=run.pipeline_root,
            create_time=run.created_at,
            schedule_time=run.scheduled_at or run.created_at,
        )

    def value(self, placeholder: str) -> str | None:
        return {
            "pipeline_job_name": self.job_name,
            "pipeline_job_resource_name": self.job_resource_name,
            "pipeline_job_uuid": self.job_uuid,
            "pipeline_task_name": self.task_name,
            "pipeline_task_uuid": self.task_uuid,
            "pipeline_root": self.pipeline_root,
            "pipeline_job_create_time_utc": self.create_time,
            "pipeline_job_schedule_time_utc": self.schedule_time,
            "workspace_path": WORKSPACE_PATH,
        }.get(placeholder)


def _lookup(match: re.Match[str], parameters: Mapping[str, Any], identity: TaskIdentity) -> tuple[bool, Any]:
    if match.group("input") is not None:
        name = match.group("input")
        return name in parameters, parameters.get(name)
    found = identity.value(match.group("identity"))
    return found is not None, found


def substitute_text(text: str, parameters: Mapping[str, Any], identity: TaskIdentity) -> Any:
    """Replace value placeholders in `text`. A string that is exactly one placeholder becomes the referenced
    value itself (keeps numbers and structs native); missing inputs read as empty text; unknown `{{$.pipeline_*}}`
    placeholders are left as they are."""
    whole = _PLACEHOLDER.fullmatch(text)
    if whole is not None:
        known, value = _lookup(whole, parameters, identity)
        if known:
            return value if value is not None else ""

    def replace(match: re.Match[str]) -> str:
        known, value = _lookup(match, parameters, identity)
        if match.group("identity") is not None and not known:
            return match.group(0)
        return "" if value is None else placeholder_text(value)

    return _PLACEHOLDER.sub(replace, text)


def substitute_value(value: Any, parameters: Mapping[str, Any], identity: TaskIdentity) -> Any:
    """`substitute_text` applied to every string in a JSON value, dict keys included (importer metadata)."""
    if isinstance(value, str):
        return substitute_text(value, parameters, identity)
    if isinstance(value, list):
        return [substitute_value(item, parameters, identity) for item in value]
    if isinstance(value, dict):
        return {
            placeholder_text(substitute_text(key, parameters, identity)): substitute_value(
                item, parameters, identity
            )
            for key, item in value.items()
        }
    return value
