"""`PipelinePackage`: a validated pipeline spec as plain JSON dicts, in one of two formats.

- `PackageFormat.IR`: a KFP v2 PipelineSpec (and optional PlatformSpec), as the kfp 2 compiler writes it;
- `PackageFormat.ARGO`: a KFP v1 pipeline, an Argo Workflow as the kfp 1.8 compiler writes it.

The format is not stored beside the spec: a stored Workflow document says what it is (`apiVersion`
`argoproj.io/v1alpha1`, `kind: Workflow`), which `package_format` reads back.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any

from chalicelib.spec.argo_workflow import Workflow, is_workflow, kfp_pipeline_spec


class PackageFormat(enum.StrEnum):
    IR = "ir"
    ARGO = "argo"


# KFP v1 component types → the IR parameter types they correspond to (anything else is a string).
_V1_PARAMETER_TYPES = {
    "Integer": "NUMBER_INTEGER",
    "Float": "NUMBER_DOUBLE",
    "Bool": "BOOLEAN",
    "Boolean": "BOOLEAN",
    "JsonArray": "LIST",
    "List": "LIST",
    "JsonObject": "STRUCT",
    "Dict": "STRUCT",
}


def package_format(struct: Any) -> PackageFormat:
    """The format of a stored spec struct (what `PipelinePackage.to_struct()` returned)."""
    return PackageFormat.ARGO if is_workflow(struct) else PackageFormat.IR


@dataclasses.dataclass(frozen=True)
class PipelinePackage:
    """A validated pipeline in its JSON form.

    IR: `pipeline_spec` is the PipelineSpec (camelCase keys, as in the compiled YAML) and `platform_spec` the
    second YAML document (`{"platforms": {"kubernetes": ...}}`) or None. ARGO: `pipeline_spec` is the Workflow
    and `platform_spec` is None.
    """

    pipeline_spec: dict[str, Any]
    platform_spec: dict[str, Any] | None
    name: str
    display_name: str
    description: str
    schema_version: str
    sdk_version: str
    format: PackageFormat = PackageFormat.IR

    def to_struct(self) -> dict[str, Any]:
        """Return the API's `pipeline_spec` value: the spec alone (the Workflow for v1 packages), or the wrapper
        `{"pipeline_spec": ..., "platform_spec": ...}` when a platform spec exists."""
        if self.platform_spec is None:
            return self.pipeline_spec
        return {"pipeline_spec": self.pipeline_spec, "platform_spec": self.platform_spec}

    def to_json_bytes(self) -> bytes:
        """Return canonical UTF-8 JSON (sorted keys, no spaces) of `to_struct()`, for storing in S3."""
        return canonical_json(self.to_struct())

    @property
    def root_parameters(self) -> dict[str, dict[str, Any]]:
        """The pipeline's parameters as IR input definitions: `root.inputDefinitions.parameters` (IR), or
        `spec.arguments.parameters` with the types and descriptions of the KFP pipeline_spec annotation
        (ARGO; a parameter with a value in the workflow has it as `defaultValue`)."""
        if self.format is PackageFormat.ARGO:
            return workflow_parameters(self.pipeline_spec)
        return self.pipeline_spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {}) or {}


def workflow_parameters(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`spec.arguments.parameters` of a Workflow as IR-shaped definitions (see `root_parameters`)."""
    workflow = Workflow(document)
    annotated = {
        str(entry.get("name")): entry
        for entry in kfp_pipeline_spec(workflow.metadata).get("inputs") or []
        if isinstance(entry, dict)
    }
    definitions: dict[str, dict[str, Any]] = {}
    entry = workflow.templates.get(workflow.entrypoint) or {}
    declared = {str(parameter.get("name")) for parameter in workflow.arguments()}
    # Entrypoint inputs the arguments do not declare are parameters too (`argo submit -p` adds them).
    undeclared = [
        {"name": parameter["name"], **({"value": parameter["default"]} if "default" in parameter else {})}
        for parameter in (entry.get("inputs") or {}).get("parameters") or []
        if isinstance(parameter, dict) and parameter.get("name") not in declared and "value" not in parameter
    ]
    for parameter in [*workflow.arguments(), *undeclared]:
        name = str(parameter.get("name"))
        described = annotated.get(name, {})
        definition: dict[str, Any] = {
            "parameterType": _V1_PARAMETER_TYPES.get(str(described.get("type", "")), "STRING")
        }
        if "value" in parameter:
            definition["defaultValue"] = parameter["value"]
        if described.get("description"):
            definition["description"] = str(described["description"])
        definitions[name] = definition
    return definitions


def canonical_json(value: Any) -> bytes:
    """Return `value` as compact, key-sorted UTF-8 JSON bytes (NaN/Infinity refused)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
