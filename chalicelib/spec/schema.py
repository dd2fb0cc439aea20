"""Check pipeline and platform spec dicts against the kfp-pipeline-spec protobuf schema.

Field names are normalised to their JSON (camelCase) spelling while walking the message descriptors, so every
unknown field is reported with its path. Then `json_format.ParseDict` checks the value types. Only
`kfp.pipeline_spec` (the kfp-pipeline-spec package) is imported, never the kfp SDK.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from kfp.pipeline_spec import pipeline_spec_pb2


@dataclasses.dataclass(frozen=True)
class SchemaCheck:
    """A spec with camelCase field names and unknown fields dropped, and what was wrong with it.

    `well_typed` is False when a value had the wrong type for its field, in which case later checks that
    walk the structure must not run.
    """

    value: dict[str, Any]
    problems: tuple[str, ...]
    well_typed: bool


def check_pipeline_spec(spec: dict[str, Any]) -> SchemaCheck:
    """Check the PipelineSpec dict `spec` against the schema and return it normalised with its problems.

    `deploymentSpec` (a Struct in the schema) is checked as a PipelineDeploymentConfig.
    """
    unknown: list[str] = []
    typing_problems: list[str] = []
    normalized = _normalize_message(spec, pipeline_spec_pb2.PipelineSpec.DESCRIPTOR, "", unknown)
    _parse_into(normalized, pipeline_spec_pb2.PipelineSpec(), typing_problems)
    deployment = normalized.get("deploymentSpec")
    if isinstance(deployment, dict):
        descriptor = pipeline_spec_pb2.PipelineDeploymentConfig.DESCRIPTOR
        deployment = _normalize_message(deployment, descriptor, "deploymentSpec", unknown)
        _parse_into(deployment, pipeline_spec_pb2.PipelineDeploymentConfig(), typing_problems)
        normalized["deploymentSpec"] = deployment
    return SchemaCheck(normalized, tuple(unknown + typing_problems), not typing_problems)


def check_platform_spec(spec: dict[str, Any]) -> SchemaCheck:
    """Check the PlatformSpec dict `spec` against the schema and return it normalised with its problems."""
    unknown: list[str] = []
    typing_problems: list[str] = []
    normalized = _normalize_message(spec, pipeline_spec_pb2.PlatformSpec.DESCRIPTOR, "", unknown)
    _parse_into(normalized, pipeline_spec_pb2.PlatformSpec(), typing_problems)
    return SchemaCheck(normalized, tuple(unknown + typing_problems), not typing_problems)


def _normalize_message(value: Any, descriptor: Descriptor, path: str, problems: list[str]) -> Any:
    if not isinstance(value, dict):
        return value  # ParseDict reports the type mismatch
    fields = {field.json_name: field for field in descriptor.fields}
    fields.update({field.name: field for field in descriptor.fields})
    normalized: dict[str, Any] = {}
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            problems.append(
                f"unknown field '{key}' at {path}" if path else f"unknown top-level field '{key}'"
            )
            continue
        if field.json_name in normalized:
            problems.append(
                f"field '{field.json_name}' given twice (also as '{key}') at {path or 'top level'}"
            )
            continue
        child = f"{path}.{field.json_name}" if path else field.json_name
        normalized[field.json_name] = _normalize_field(field, item, child, problems)
    return normalized


def _normalize_field(field: FieldDescriptor, value: Any, path: str, problems: list[str]) -> Any:
    message = field.message_type
    if message is None or _is_well_known(message):
        return value
    if message.GetOptions().map_entry:
        value_field = message.fields_by_name["value"]
        if (
            value_field.message_type is None
            or _is_well_known(value_field.message_type)
            or not isinstance(value, dict)
        ):
            return value
        return {
            key: _normalize_message(item, value_field.message_type, f"{path}['{key}']", problems)
            for key, item in value.items()
        }
    if _is_repeated(field):
        if not isinstance(value, list):
            return value
        return [_normalize_message(item, message, f"{path}[{i}]", problems) for i, item in enumerate(value)]
    return _normalize_message(value, message, path, problems)


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf >= 6 deprecates `label` in favour of the `is_repeated` attribute.
    repeated = getattr(field, "is_repeated", None)
    if repeated is None:
        return field.label == FieldDescriptor.LABEL_REPEATED
    return bool(repeated)


def _is_well_known(descriptor: Descriptor) -> bool:
    return descriptor.full_name.startswith("google.protobuf.")


def _parse_into(value: dict[str, Any], message: Message, problems: list[str]) -> None:
    """ParseDict `value` into `message`, appending a readable problem on failure."""
    try:
        json_format.ParseDict(value, message, ignore_unknown_fields=False)
    except (json_format.ParseError, TypeError, ValueError, AttributeError, KeyError) as error:
        problems.append(_clean_parse_error(str(error)))


_FAILED_PREFIX = re.compile(r"^(Failed to parse \w+ field: )+")


def _clean_parse_error(message: str) -> str:
    """Drop protobuf's nested 'Failed to parse X field:' prefixes and its list of available fields, and
    write paths as they appear in the spec (`root.dag...`, `deploymentSpec.executors...`)."""
    message = message.split("\n Available Fields", 1)[0]
    message = _FAILED_PREFIX.sub("", message).rstrip(".")
    return _PATH_ROOT.sub(lambda match: _PATH_ROOTS[match.group(1)], message)


_PATH_ROOTS = {"PipelineSpec": "", "PlatformSpec": "", "PipelineDeploymentConfig": "deploymentSpec."}
_PATH_ROOT = re.compile(r"\b(PipelineSpec|PlatformSpec|PipelineDeploymentConfig)\.")
