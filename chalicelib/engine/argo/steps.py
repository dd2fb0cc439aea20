"""Launch decisions for the leaves of a KFP v1 workflow: container templates (one pod or process per attempt)
and resource templates (done by the reconciler through the executor).

The TaskSpec's `argo_step` holds everything resolved except `{{pod.name}}`, which the executor fills:

    template          the template name
    workflow_name     `{{workflow.name}}`
    namespace         the run's Kubernetes namespace
    container         the resolved Argo container (image, command, args, env, volumeMounts, resources, ...)
    init_containers   / sidecars: resolved user containers of the pod
    input_artifacts   [{name, path, uri | raw, archive?, optional?, mode?}] to place before the command runs
    output_parameters [{name, path | value | jsonPath | jqFilter, default?}]
    output_artifacts  [{name, path, uri, archive ("tgz" | "none"), optional}]
    pod               pod-level settings: volumes, nodeSelector, tolerations, affinity, podSpecPatch (a string),
                      securityContext, imagePullSecrets, dnsConfig, dnsPolicy, hostAliases, priorityClassName,
                      schedulerName, serviceAccountName, automountServiceAccountToken, activeDeadlineSeconds,
                      labels, annotations
    resource          (resource templates only) {action, manifest, successCondition, failureCondition, flags,
                      mergeStrategy, setOwnerReference}

Output artifacts go to `<pipeline root>/<pipeline>/<run>/<task>/<name>.tgz` (Argo's default archive, a gzipped
tar of the path) or without `.tgz` when the template says `archive: {none: {}}`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from chalicelib.engine.argo.values import Scope
from chalicelib.engine.errors import InputResolutionError
from chalicelib.engine.launches import join_uri
from chalicelib.engine.model import Launch, RunInput, TaskRecord
from chalicelib.spec.argo_templating import substitute_deep, unresolved
from chalicelib.spec.argo_workflow import Workflow
from chalicelib.task_contract import TaskSpec

WORKFLOW_LABEL = "workflows.argoproj.io/workflow"
TGZ = "tgz"
RAW = "none"
_POD_FIELDS_FROM_TEMPLATE = (
    "nodeSelector",
    "tolerations",
    "affinity",
    "securityContext",
    "priorityClassName",
    "schedulerName",
    "serviceAccountName",
    "automountServiceAccountToken",
    "hostAliases",
    "activeDeadlineSeconds",
)
_POD_FIELDS_FROM_SPEC = {
    "nodeSelector": "nodeSelector",
    "tolerations": "tolerations",
    "affinity": "affinity",
    "securityContext": "securityContext",
    "priorityClassName": "podPriorityClassName",
    "schedulerName": "schedulerName",
    "serviceAccountName": "serviceAccountName",
    "automountServiceAccountToken": "automountServiceAccountToken",
    "hostAliases": "hostAliases",
}


def archive_of(artifact: Mapping[str, Any]) -> str:
    """ "none" when the artifact is stored as is (`archive: {none: {}}`), else "tgz"."""
    archive = artifact.get("archive") or {}
    return RAW if isinstance(archive, dict) and "none" in archive else TGZ


def output_uri(run: RunInput, task_id: str, name: str, archive: str) -> str:
    """Where an output artifact of `task_id` is stored."""
    return join_uri(
        run.pipeline_root, run.pipeline_name, run.run_id, task_id, name + (".tgz" if archive == TGZ else "")
    )


def path_values(template: Mapping[str, Any]) -> dict[str, str]:
    """`{{inputs.artifacts.X.path}}`, `{{outputs.parameters.X.path}}` and `{{outputs.artifacts.X.path}}`."""
    values = {}
    inputs = template.get("inputs") or {}
    outputs = template.get("outputs") or {}
    for artifact in inputs.get("artifacts") or []:
        if artifact.get("path"):
            values[f"inputs.artifacts.{artifact['name']}.path"] = str(artifact["path"])
    for parameter in outputs.get("parameters") or []:
        path = (parameter.get("valueFrom") or {}).get("path")
        if path:
            values[f"outputs.parameters.{parameter['name']}.path"] = str(path)
    for artifact in outputs.get("artifacts") or []:
        if artifact.get("path"):
            values[f"outputs.artifacts.{artifact['name']}.path"] = str(artifact["path"])
    return values


def _resolved(value: Any, values: Mapping[str, str], where: str) -> Any:
    resolved = substitute_deep(value, values)
    missing = unresolved(resolved)
    if missing:
        shown = ", ".join(f"{{{{{key}}}}}" for key in missing[:5])
        raise InputResolutionError(f"{where}: cannot resolve {shown}")
    return resolved


def repository_uri(run: RunInput, source: Mapping[str, Any]) -> str:
    """The URI of an `s3:` artifact location: its bucket (default: the pipeline root's bucket) and key; with a
    local pipeline root, the key below that directory."""
    key = str(source.get("key") or "").lstrip("/")
    bucket = source.get("bucket")
    if bucket:
        return f"s3://{bucket}/{key}"
    if run.pipeline_root.startswith("s3://"):
        root_bucket = run.pipeline_root.removeprefix("s3://").split("/", 1)[0]
        return f"s3://{root_bucket}/{key}"
    return posixpath.join(run.pipeline_root, key)


def input_artifacts(
    run: RunInput, template: Mapping[str, Any], given: Mapping[str, dict[str, Any]], where: str
) -> list[dict[str, Any]]:
    """The input artifacts of a leaf template with their sources: passed (`given`), else the template's own
    `raw` / `s3`; an optional artifact without a source is left out."""
    placed = []
    for artifact in (template.get("inputs") or {}).get("artifacts") or []:
        name = str(artifact["name"])
        entry: dict[str, Any] = {"name": name, "path": str(artifact.get("path") or "")}
        if artifact.get("mode") is not None:
            entry["mode"] = artifact["mode"]
        source = given.get(name)
        if source is None and "raw" in artifact:
            source = {"raw": str((artifact.get("raw") or {}).get("data", ""))}
        if source is None and "s3" in artifact:
            source = {"uri": repository_uri(run, artifact.get("s3") or {})}
        if source is None:
            if artifact.get("optional"):
                continue
            raise InputResolutionError(f"{where}: input artifact {name!r} was not supplied")
        if "raw" in source:
            entry["raw"] = source["raw"]
        else:
            entry["uri"] = source["uri"]
            entry["archive"] = (source.get("metadata") or {}).get("archive", "")
        placed.append(entry)
    return placed


def _outputs(run: RunInput, task_id: str, outputs: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    parameters = []
    for parameter in outputs.get("parameters") or []:
        entry: dict[str, Any] = {"name": str(parameter["name"])}
        value_from = parameter.get("valueFrom") or {}
        for field in ("path", "jsonPath", "jqFilter"):
            if field in value_from:
                entry[field] = str(value_from[field])
        if "default" in value_from:
            entry["default"] = str(value_from["default"])
        if "value" in parameter:
            entry["value"] = str(parameter["value"])
        parameters.append(entry)
    artifacts = []
    for artifact in outputs.get("artifacts") or []:
        archive = archive_of(artifact)
        artifacts.append(
            {
                "name": str(artifact["name"]),
                "path": str(artifact.get("path") or ""),
                "uri": output_uri(run, task_id, str(artifact["name"]), archive),
                "archive": archive,
                "optional": bool(artifact.get("optional")),
            }
        )
    return parameters, artifacts


def _pod_settings(
    workflow: Workflow, template: Mapping[str, Any], values: Mapping[str, str], where: str
) -> dict[str, Any]:
    spec = workflow.spec
    pod: dict[str, Any] = {}
    for field, spec_field in _POD_FIELDS_FROM_SPEC.items():
        if spec.get(spec_field) is not None:
            pod[field] = spec[spec_field]
    for field in _POD_FIELDS_FROM_TEMPLATE:
        if template.get(field) is not None:
            pod[field] = template[field]
    if isinstance(spec.get("nodeSelector"), dict) and isinstance(template.get("nodeSelector"), dict):
        pod["nodeSelector"] = {**spec["nodeSelector"], **template["nodeSelector"]}
    for field in ("imagePullSecrets", "dnsConfig", "dnsPolicy"):
        if spec.get(field) is not None:
            pod[field] = spec[field]
    pod["volumes"] = [*(spec.get("volumes") or []), *(template.get("volumes") or [])]
    patches = [patch for patch in (spec.get("podSpecPatch"), template.get("podSpecPatch")) if patch]
    if patches:
        pod["podSpecPatches"] = [str(patch) for patch in patches]
    pod_metadata = spec.get("podMetadata") or {}
    template_metadata = template.get("metadata") or {}
    pod["labels"] = {**(pod_metadata.get("labels") or {}), **(template_metadata.get("labels") or {})}
    pod["annotations"] = {
        **(pod_metadata.get("annotations") or {}),
        **(template_metadata.get("annotations") or {}),
    }
    pod["labels"][WORKFLOW_LABEL] = values.get("workflow.name", "")
    return _resolved(pod, values, where)


def step_launch(
    run: RunInput,
    workflow: Workflow,
    record: TaskRecord,
    template_name: str,
    parameters: Mapping[str, str],
    artifacts: Mapping[str, dict[str, Any]],
    scope: Scope,
) -> Launch:
    """The Launch of attempt `record.attempt` of a container or resource template called with `parameters`
    and `artifacts` (`scope` holds the workflow values). Raises InputResolutionError when a variable cannot be
    resolved or an input artifact is missing."""
    template = workflow.template(template_name)
    where = f"template {template_name!r}"
    values = {
        **scope.values,
        **{f"inputs.parameters.{name}": value for name, value in parameters.items()},
        **path_values(template),
        "retries": str(max(record.attempt - 1, 0)),
    }
    output_parameters, output_artifacts = _outputs(run, record.task_id, template.get("outputs") or {})
    step: dict[str, Any] = {
        "template": template_name,
        "workflow_name": values.get("workflow.name", ""),
        "namespace": run.namespace,
        "output_parameters": _resolved(output_parameters, values, where),
        "output_artifacts": _resolved(output_artifacts, values, where),
    }
    container: dict[str, Any] = {}
    if "resource" in template:
        resource = dict(template["resource"] or {})
        step["resource"] = _resolved(
            {key: resource[key] for key in resource if key in _RESOURCE_FIELDS}, values, where
        )
    else:
        container = _resolved(dict(template.get("container") or {}), values, where)
        step["container"] = container
        step["init_containers"] = _resolved(list(template.get("initContainers") or []), values, where)
        step["sidecars"] = _resolved(list(template.get("sidecars") or []), values, where)
        step["input_artifacts"] = _resolved(input_artifacts(run, template, artifacts, where), values, where)
        step["pod"] = _pod_settings(workflow, template, values, where)
    spec = TaskSpec(
        run_id=run.run_id,
        task_id=record.task_id,
        attempt=record.attempt,
        task_name=record.name,
        display_name=record.display_name,
        pipeline_name=run.pipeline_name,
        pipeline_root=run.pipeline_root,
        container=container,
        input_definitions={},
        output_definitions={},
        parameters=dict(parameters),
        artifacts={},
        output_artifact_uris={entry["name"]: entry["uri"] for entry in output_artifacts},
        run_create_time=run.created_at,
        run_schedule_time=run.scheduled_at or run.created_at,
        argo_step=step,
    )
    return Launch(spec=spec, cache_key="", cache_enabled=False)


_RESOURCE_FIELDS = (
    "action",
    "manifest",
    "successCondition",
    "failureCondition",
    "flags",
    "mergeStrategy",
    "setOwnerReference",
)


def display_name(template: Mapping[str, Any], default: str) -> str:
    """KFP's `pipelines.kubeflow.org/task_display_name` annotation of a template, else `default`."""
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get("pipelines.kubeflow.org/task_display_name") or default)
