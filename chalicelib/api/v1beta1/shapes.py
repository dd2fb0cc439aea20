"""Our records as KFP's v1beta1 API shows them, and v1 run parameters as the spec wants them.

States follow KFP's own v2 → v1 conversion (backend `model.RuntimeState.ToV1`): PENDING and PAUSED → Pending,
RUNNING → Running, SUCCEEDED → Succeeded, SKIPPED → Skipped, FAILED and CANCELED → Failed, CANCELING →
Terminating, anything else → Unknown; storage states AVAILABLE/ARCHIVED → STORAGESTATE_AVAILABLE/ARCHIVED.
Members at their default value are left out, as KFP's marshaller does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chalicelib.api.errors import InvalidArgument
from chalicelib.api.request_helpers import omit_empty
from chalicelib.api.v1beta1.references import (
    CREATOR,
    EXPERIMENT,
    JOB,
    OWNER,
    PIPELINE,
    PIPELINE_VERSION,
    namespace_references,
    reference,
)
from chalicelib.spec import PipelinePackage
from chalicelib.spec.package import PackageFormat, package_format
from chalicelib.store.records import Experiment, Pipeline, PipelineVersion, RecurringRun, Run

_RUN_STATUS_V1 = {
    "PENDING": "Pending",
    "PAUSED": "Pending",
    "RUNNING": "Running",
    "SUCCEEDED": "Succeeded",
    "SKIPPED": "Skipped",
    "FAILED": "Failed",
    "CANCELED": "Failed",
    "CANCELING": "Terminating",
}
_STORAGE_STATE_V1 = {"AVAILABLE": "STORAGESTATE_AVAILABLE", "ARCHIVED": "STORAGESTATE_ARCHIVED"}


def run_status_v1(state: str) -> str:
    return _RUN_STATUS_V1.get(state.upper(), "Unknown")


def storage_state_v1(state: str) -> str:
    return _STORAGE_STATE_V1.get(state.upper(), "STORAGESTATE_UNSPECIFIED")


def parameter_text(value: Any) -> str:
    """A parameter value as v1's string `value` (lists and objects as JSON, as the 1.8 client sends them)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def parameters_v1(values: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"name": name, "value": parameter_text(value)} for name, value in values.items()]


def package_parameters_v1(package: PipelinePackage) -> list[dict[str, str]]:
    """The pipeline's parameters as v1 `parameters` (name, default value as text when it has one)."""
    return [
        omit_empty({"name": name, "value": parameter_text(definition["defaultValue"])})
        if "defaultValue" in definition
        else {"name": name}
        for name, definition in package.root_parameters.items()
    ]


def experiment_v1(item: Experiment) -> dict[str, Any]:
    return omit_empty(
        {
            "id": item.experiment_id,
            "name": item.display_name,
            "description": item.description,
            "created_at": item.created_at,
            "storage_state": storage_state_v1(item.storage_state),
            "resource_references": namespace_references(item.namespace),
        }
    )


def version_v1(item: PipelineVersion, parameters: list[dict[str, str]]) -> dict[str, Any]:
    return omit_empty(
        {
            "id": item.version_id,
            "name": item.name,
            "created_at": item.created_at,
            "parameters": parameters,
            "code_source_url": item.code_source_url,
            "package_url": {"pipeline_url": item.package_url} if item.package_url else None,
            "resource_references": [reference(PIPELINE, item.pipeline_id, OWNER)],
            "description": item.description,
        }
    )


def pipeline_v1(item: Pipeline, default_version: dict[str, Any] | None) -> dict[str, Any]:
    """The pipeline; its `parameters` and `default_version` are those of its default (latest) version."""
    return omit_empty(
        {
            "id": item.pipeline_id,
            "created_at": item.created_at,
            "name": item.name,
            "description": item.description,
            "parameters": (default_version or {}).get("parameters"),
            "default_version": default_version,
            "resource_references": namespace_references(item.namespace),
        }
    )


def run_v1(item: Run, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run; with its spec snapshot `spec`, `pipeline_spec` carries the manifest (the Argo Workflow as
    `workflow_manifest`, a v2 PipelineSpec as `pipeline_manifest` with `runtime_config`)."""
    pipeline_spec: dict[str, Any] = {
        "pipeline_id": item.pipeline_id,
        "pipeline_name": item.pipeline_name,
        "parameters": parameters_v1(item.parameters),
    }
    if spec is not None:
        if package_format(spec) is PackageFormat.ARGO:
            pipeline_spec["workflow_manifest"] = json.dumps(spec)
        else:
            pipeline_spec["pipeline_manifest"] = json.dumps(spec)
            pipeline_spec["runtime_config"] = omit_empty(
                {"parameters": dict(item.parameters), "pipeline_root": item.pipeline_root}
            )
    return omit_empty(
        {
            "id": item.run_id,
            "name": item.display_name,
            "storage_state": storage_state_v1(item.storage_state),
            "description": item.description,
            "pipeline_spec": omit_empty(pipeline_spec),
            "resource_references": _owned_references(
                item.experiment_id, item.namespace, item.pipeline_id, item.pipeline_version_id
            )
            + ([reference(JOB, item.recurring_run_id, CREATOR)] if item.recurring_run_id else []),
            "service_account": item.service_account,
            "created_at": item.created_at,
            "scheduled_at": item.scheduled_at,
            "finished_at": item.finished_at,
            "status": run_status_v1(item.state),
            "error": (item.error or {}).get("message", ""),
        }
    )


def job_v1(item: RecurringRun) -> dict[str, Any]:
    """The job; `enabled` is always given (kfp 1.8 reads a missing one as None, not False)."""
    body = omit_empty(
        {
            "id": item.recurring_run_id,
            "name": item.display_name,
            "description": item.description,
            "pipeline_spec": omit_empty(
                {
                    "pipeline_id": item.pipeline_id,
                    "parameters": parameters_v1(item.parameters),
                    "runtime_config": omit_empty({"pipeline_root": item.pipeline_root}),
                }
            ),
            "resource_references": _owned_references(
                item.experiment_id, item.namespace, item.pipeline_id, item.pipeline_version_id
            ),
            "service_account": item.service_account,
            "max_concurrency": str(item.max_concurrency),
            "trigger": dict(item.trigger),
            "mode": "ENABLED" if item.enabled else "DISABLED",
            "created_at": item.created_at,
            "updated_at": item.updated_at,
            "status": "Enabled" if item.enabled else "Disabled",
            "error": (item.error or {}).get("message", ""),
            "no_catchup": item.no_catchup,
        }
    )
    return {**body, "enabled": item.enabled}


def _owned_references(
    experiment_id: str, namespace: str, pipeline_id: str, version_id: str
) -> list[dict[str, Any]]:
    found = [reference(EXPERIMENT, experiment_id, OWNER)] if experiment_id else []
    found += namespace_references(namespace)
    if version_id:
        found.append(reference(PIPELINE_VERSION, version_id, CREATOR))
    elif pipeline_id:
        found.append(reference(PIPELINE, pipeline_id, CREATOR))
    return found


# IR parameter types ← v1 text values (the 1.8 client sends every parameter as a string).
def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(text)
    return lowered == "true"


def _json_of(kind: type) -> Any:
    def parse(text: str) -> Any:
        value = json.loads(text)
        if not isinstance(value, kind):
            raise ValueError(text)
        return value

    return parse


_FROM_TEXT = {
    "NUMBER_INTEGER": int,
    "INT": int,
    "NUMBER_DOUBLE": float,
    "DOUBLE": float,
    "BOOLEAN": _boolean,
    "LIST": _json_of(list),
    "STRUCT": _json_of(dict),
}


def typed_parameters(package: PipelinePackage, texts: Mapping[str, str], what: str) -> dict[str, Any]:
    """v1 text parameters as the values a v2 PipelineSpec's parameter types want (an Argo Workflow takes the
    texts as they are). A text that does not parse as its type → InvalidArgument naming the parameter;
    unknown names are left for `validate_runtime_parameters` to refuse."""
    if package.format is PackageFormat.ARGO:
        return dict(texts)
    definitions = package.root_parameters
    typed: dict[str, Any] = {}
    for name, text in texts.items():
        kind = str(
            (definitions.get(name) or {}).get("parameterType") or (definitions.get(name) or {}).get("type")
        )
        parse = _FROM_TEXT.get(kind)
        try:
            typed[name] = parse(text) if parse else text
        except ValueError:
            raise InvalidArgument(f"{what}.parameters: {name} expects {kind}, got {text!r}") from None
    return typed


def v1_parameter_texts(value: Any, what: str) -> dict[str, str]:
    """A body's v1 `parameters` list (`[{name, value}]`) as a dict; InvalidArgument names the bad element."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise InvalidArgument(f"{what}.parameters must be a list of {{name, value}}")
    texts: dict[str, str] = {}
    for index, item in enumerate(value):
        where = f"{what}.parameters[{index}]"
        if not isinstance(item, dict) or set(item) - {"name", "value"}:
            raise InvalidArgument(f"{where} must be an object with name and value")
        name, text = item.get("name"), item.get("value", "")
        if not isinstance(name, str) or not name:
            raise InvalidArgument(f"{where}.name must be a non-empty string")
        if not isinstance(text, str):
            raise InvalidArgument(f"{where}.value must be a string")
        if name in texts:
            raise InvalidArgument(f"{what}.parameters names {name} twice")
        texts[name] = text
    return texts
