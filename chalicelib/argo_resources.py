"""Resource templates of KFP v1 runs (`dsl.ResourceOp`, `VolumeOp`, `VolumeSnapshotOp`): done by the
reconciler through the executor, without a pod, like the CreatePVC platform operations.

The engine plans a resource step like a container step (a PENDING record written ahead with its launch
document). The reconciler then calls `start_resource_step`: the manifest's object is created, applied,
replaced, patched, deleted or read (`action`), and the step ends at once unless it has a `successCondition` /
`failureCondition`; then the record is RUNNING and every pass calls `check_resource_step` until a condition
holds (no sleeping). Output parameters come from the object by `jsonPath` (kubectl's JSONPath) or a simple
`jqFilter` path.

The object lives in the run's namespace (a manifest naming another namespace fails the step); a
`generateName` becomes a name derived from (run, task, attempt), so doing the step again after a crash finds
the same object. Objects the run created carry the run's label and are deleted when the run is deleted,
unless their manifest carries the label `kfp-serverless.io/keep: "true"`.
Executors without objects (the local one) fail resource steps with a clear message.

Conditions are Kubernetes label-selector requirements over JSON paths of the object, as Argo evaluates them:
`status.phase == Succeeded`, `status.readyToUse == true`, `status.succeeded > 0`, `a in (x,y)`, `a`, `!a`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import yaml

from chalicelib.task_contract import TaskSpec

logger = logging.getLogger(__name__)

RUN_LABEL = "kfp-serverless.io/run-id"
KEEP_LABEL = "kfp-serverless.io/keep"
SERVER_ERROR = 500


@runtime_checkable
class ObjectOperations(Protocol):
    """What an executor offers for arbitrary Kubernetes objects (the Kubernetes executor)."""

    def apply_object(
        self, namespace: str, action: str, manifest: dict[str, Any], merge_strategy: str
    ) -> dict[str, Any] | None: ...

    def read_object(
        self, namespace: str, api_version: str, kind: str, name: str
    ) -> dict[str, Any] | None: ...

    def delete_object(self, namespace: str, api_version: str, kind: str, name: str) -> None: ...


class ResourceStepError(ValueError):
    """The step cannot be done as written (bad manifest, condition, namespace or output path)."""


@dataclasses.dataclass(frozen=True)
class ResourceProgress:
    """Where a resource step stands: `waiting` for a condition, or done (`succeeded` or not)."""

    waiting: bool
    succeeded: bool = False
    parameters: dict[str, str] = dataclasses.field(default_factory=dict)
    error: str = ""
    object_ref: dict[str, Any] = dataclasses.field(default_factory=dict)


def is_resource_step(spec: TaskSpec) -> bool:
    return "resource" in spec.argo_step


def object_name(generate_name: str, spec: TaskSpec) -> str:
    """A deterministic name for a `generateName` manifest (the API server would append random characters)."""
    suffix = hashlib.sha256(f"{spec.run_id}/{spec.task_id}/{spec.attempt}".encode()).hexdigest()[:5]
    return f"{generate_name[: 253 - len(suffix)]}{suffix}"


def prepared_manifest(spec: TaskSpec, namespace: str) -> dict[str, Any]:
    """The step's manifest as the object to send: parsed, in `namespace`, named, labelled as the run's."""
    resource = spec.argo_step["resource"]
    try:
        manifest = yaml.safe_load(str(resource.get("manifest") or ""))
    except yaml.YAMLError as error:
        raise ResourceStepError(f"the manifest is not valid YAML: {error}") from error
    if not isinstance(manifest, dict) or not manifest.get("kind") or not manifest.get("apiVersion"):
        raise ResourceStepError("the manifest must be one object with apiVersion and kind")
    metadata = manifest.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise ResourceStepError("the manifest's metadata must be a mapping")
    wanted = metadata.get("namespace")
    if wanted and wanted != namespace:
        raise ResourceStepError(
            f"the manifest names namespace {wanted!r}; resource steps may only touch objects in the run's "
            f"namespace {namespace!r}"
        )
    metadata["namespace"] = namespace
    if not metadata.get("name"):
        generate = metadata.pop("generateName", "")
        if not generate:
            raise ResourceStepError("the manifest has neither metadata.name nor metadata.generateName")
        metadata["name"] = object_name(str(generate), spec)
    if resource.get("action") in ("create", "apply", "replace"):
        labels = metadata.setdefault("labels", {})
        if str(labels.get(KEEP_LABEL, "")).lower() != "true":
            labels[RUN_LABEL] = _label_value(spec.run_id)
    return manifest


def _label_value(text: str) -> str:
    if len(text) <= 63 and re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?", text):
        return text
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def reference_of(manifest: Mapping[str, Any], owned: bool) -> dict[str, Any]:
    metadata = manifest.get("metadata") or {}
    return {
        "apiVersion": str(manifest.get("apiVersion", "")),
        "kind": str(manifest.get("kind", "")),
        "name": str(metadata.get("name", "")),
        "namespace": str(metadata.get("namespace", "")),
        "owned": owned,
    }


def _is_transient(error: Exception) -> bool:
    status = getattr(error, "status", None)
    return status is not None and (status == 0 or status >= SERVER_ERROR)


def start_resource_step(executor: object, spec: TaskSpec, namespace: str) -> ResourceProgress:
    """Do the step's action; done at once without conditions, else waiting on the object.

    A server error propagates (the pass fails and the next one redoes the idempotent action); anything else
    the cluster refuses fails the step with the API's message.
    """
    from chalicelib.executors.k8s.errors import KubernetesExecutorError

    if not isinstance(executor, ObjectOperations):
        return ResourceProgress(
            False,
            error="resource templates (ResourceOp, VolumeOp, VolumeSnapshotOp) need the kubernetes executor",
        )
    resource = spec.argo_step["resource"]
    action = str(resource.get("action", ""))
    try:
        manifest = prepared_manifest(spec, namespace)
        found = executor.apply_object(
            namespace, action, manifest, str(resource.get("mergeStrategy") or "strategic")
        )
    except ResourceStepError as error:
        return ResourceProgress(False, error=str(error))
    except KubernetesExecutorError as error:
        if _is_transient(error):
            raise
        return ResourceProgress(False, error=f"{action} {manifest['kind']}: {error}")
    owned = action in ("create", "apply", "replace") and RUN_LABEL in (
        (manifest["metadata"]).get("labels") or {}
    )
    reference = reference_of(manifest, owned)
    logger.info("%s %s/%s", action, reference["kind"], reference["name"], extra={"run_id": spec.run_id})
    if action == "delete":
        return ResourceProgress(False, succeeded=True, parameters=_defaults(spec), object_ref=reference)
    return _progress(spec, found or {}, reference)


def check_resource_step(executor: object, spec: TaskSpec, reference: Mapping[str, Any]) -> ResourceProgress:
    """Read the object again and evaluate the step's conditions."""
    from chalicelib.executors.k8s.errors import KubernetesExecutorError

    if not isinstance(executor, ObjectOperations):
        return ResourceProgress(False, error="resource templates need the kubernetes executor")
    try:
        found = executor.read_object(
            str(reference["namespace"]),
            str(reference["apiVersion"]),
            str(reference["kind"]),
            str(reference["name"]),
        )
    except KubernetesExecutorError as error:
        if _is_transient(error):
            raise
        return ResourceProgress(False, error=str(error), object_ref=dict(reference))
    if found is None:
        message = (
            f"{reference['kind']} {reference['name']} was deleted while its conditions were being checked"
        )
        return ResourceProgress(False, error=message, object_ref=dict(reference))
    return _progress(spec, found, dict(reference))


def _progress(spec: TaskSpec, found: dict[str, Any], reference: dict[str, Any]) -> ResourceProgress:
    resource = spec.argo_step["resource"]
    try:
        failure = parse_condition(str(resource.get("failureCondition") or ""))
        success = parse_condition(str(resource.get("successCondition") or ""))
        for requirement in failure:
            if requirement.matches(found):
                return ResourceProgress(
                    False, error=f"failure condition '{requirement.text}' matched", object_ref=reference
                )
        if not all(requirement.matches(found) for requirement in success):
            return ResourceProgress(True, object_ref=reference)
        parameters = output_parameters(spec, found)
    except ResourceStepError as error:
        return ResourceProgress(False, error=str(error), object_ref=reference)
    return ResourceProgress(False, succeeded=True, parameters=parameters, object_ref=reference)


def _defaults(spec: TaskSpec) -> dict[str, str]:
    return {
        entry["name"]: str(entry.get("default", ""))
        for entry in spec.argo_step.get("output_parameters") or []
        if "jsonPath" in entry or "jqFilter" in entry
    }


def output_parameters(spec: TaskSpec, found: Mapping[str, Any]) -> dict[str, str]:
    """The step's output parameters read from the object (`default` when a path finds nothing)."""
    values = {}
    for entry in spec.argo_step.get("output_parameters") or []:
        try:
            if "jsonPath" in entry:
                values[entry["name"]] = render_jsonpath(str(entry["jsonPath"]), found)
            elif "jqFilter" in entry:
                values[entry["name"]] = render_jq_path(str(entry["jqFilter"]), found)
        except ResourceStepError:
            if "default" not in entry:
                raise
            values[entry["name"]] = str(entry["default"])
    return values


def delete_owned_objects(executor: object, references: Iterable[Mapping[str, Any]]) -> None:
    """Delete the objects a run created (a run being deleted); objects already gone are fine."""
    if not isinstance(executor, ObjectOperations):
        return
    for reference in references:
        if reference.get("owned"):
            executor.delete_object(
                str(reference["namespace"]),
                str(reference["apiVersion"]),
                str(reference["kind"]),
                str(reference["name"]),
            )


# ---- paths into objects ----------------------------------------------------------------------------------------

_MISSING = object()


def _path_parts(path: str) -> list[str]:
    parts = []
    for part in re.split(r"(?<!\\)\.", path.strip().lstrip(".")):
        if not part:
            continue
        parts.extend(piece for piece in re.split(r"\[(\d+|\*)\]", part.replace("\\.", ".")) if piece != "")
    return parts


def _lookup(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, list) and part == "#":
            value = len(value)
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def render_jsonpath(template: str, found: Mapping[str, Any]) -> str:
    """kubectl's `-o jsonpath=` for plain paths: `{.metadata.name}`, `{.items[0].x}`, `{}` (the object); a
    missing field renders as nothing, as kubectl's default `--allow-missing-template-keys` does."""

    def field(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if expression in ("", "."):
            return _text(found)
        if expression.startswith("$"):
            expression = expression[1:]
        value = _lookup(found, _path_parts(expression))
        return "" if value is _MISSING else _text(value)  # kubectl prints nothing for a missing field

    return re.sub(r"\{([^{}]*)\}", field, template)


def render_jq_path(expression: str, found: Mapping[str, Any]) -> str:
    """A jqFilter that is a plain path (`.metadata.name`, `.status.conditions[0].type`, `.`)."""
    text = expression.strip()
    if not re.fullmatch(r"\.|(\.[A-Za-z0-9_-]+|\[\d+\])+", text):
        raise ResourceStepError(f"jqFilter {expression!r} is not supported here; only paths like .a.b[0] are")
    value = _lookup(found, _path_parts(text))
    return "null" if value is _MISSING else _text(value)  # `jq -r` prints null for a missing field


# ---- conditions ------------------------------------------------------------------------------------------------

_REQUIREMENT = re.compile(
    r"^\s*(?P<not>!)?\s*(?P<key>[^\s!=<>,()]+)\s*"
    r"(?:(?P<op>==|=|!=|>|<|\s+in\s+|\s+notin\s+)\s*(?P<value>\([^)]*\)|[^\s,]*))?\s*$"
)


@dataclasses.dataclass(frozen=True)
class Requirement:
    text: str
    key: str
    operator: str  # "exists", "!exists", "=", "!=", "in", "notin", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, found: Mapping[str, Any]) -> bool:
        value = _lookup(found, _path_parts(self.key))
        exists = value is not _MISSING
        text = _text(value) if exists else ""
        if self.operator == "exists":
            return exists
        if self.operator == "!exists":
            return not exists
        if self.operator == "=":
            return exists and text == self.values[0]
        if self.operator == "!=":
            return not exists or text != self.values[0]
        if self.operator == "in":
            return exists and text in self.values
        if self.operator == "notin":
            return not exists or text not in self.values
        try:
            number, bound = float(text), float(self.values[0])
        except ValueError:
            return False
        return number > bound if self.operator == ">" else number < bound


def _split_requirements(condition: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in condition:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return parts


def parse_condition(condition: str) -> list[Requirement]:
    """Parse a success/failure condition (comma-separated requirements); raises ResourceStepError."""
    requirements = []
    for text in _split_requirements(condition):
        match = _REQUIREMENT.match(text)
        if match is None:
            raise ResourceStepError(f"condition {condition!r} does not parse at {text.strip()!r}")
        key, operator, value = match.group("key"), (match.group("op") or "").strip(), match.group("value")
        if match.group("not"):
            if operator:
                raise ResourceStepError(f"condition {condition!r}: '!' only tests that a field is absent")
            requirements.append(Requirement(text.strip(), key, "!exists"))
        elif not operator:
            requirements.append(Requirement(text.strip(), key, "exists"))
        elif operator in ("in", "notin"):
            if not value or not value.startswith("("):
                raise ResourceStepError(f"condition {condition!r}: {operator} needs a list like (a,b)")
            values = tuple(item.strip() for item in value.strip("()").split(",") if item.strip())
            requirements.append(Requirement(text.strip(), key, operator, values))
        else:
            normalized = "=" if operator == "==" else operator
            requirements.append(Requirement(text.strip(), key, normalized, (value or "",)))
    return requirements
