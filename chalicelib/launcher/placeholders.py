"""Resolve KFP placeholders in a container's `command` and `args` (kfp-ir.md §2.1–2.3).

Structural placeholders (whole argv elements holding `{"IfPresent": ...}` or `{"Concat": ...}` JSON) are
expanded first, since they change the argv length; then every `{{$...}}` string placeholder is replaced in
one regex pass, so inserted text (the `{{$}}` JSON, input values) is never scanned again.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from chalicelib.launcher.errors import LauncherError

PLACEHOLDER = re.compile(r"\{\{\$(\.[^{}]*?)?\}\}")
_KEY = r"\[['\"]([^'\"]*)['\"]\]"
INPUT_PARAMETER = re.compile(rf"^\.inputs\.parameters{_KEY}$")
OUTPUT_PARAMETER_FILE = re.compile(rf"^\.outputs\.parameters{_KEY}\.output_file$")
ARTIFACT = re.compile(rf"^\.(inputs|outputs)\.artifacts{_KEY}(?:\.(path|uri|metadata|value)(?:{_KEY})?)?$")
OUTPUT_FILE_EXPRESSIONS = frozenset({".outputs.output_file", ".outputMetadataUri"})
STRUCT_PREFIXES = ('{"IfPresent"', '{"Concat"')

IDENTITY_NAMES = frozenset(
    {
        "pipeline_job_name",
        "pipeline_job_resource_name",
        "pipeline_job_uuid",
        "pipeline_task_name",
        "pipeline_task_uuid",
        "pipeline_root",
        "pipeline_job_create_time_utc",
        "pipeline_job_schedule_time_utc",
        "workspace_path",
    }
)


@dataclasses.dataclass(frozen=True)
class PlaceholderValues:
    """What placeholders resolve against.

    executor_input: the ExecutorInput dict (`build_executor_input`).
    input_definitions: the component's `inputDefinitions`, to tell optional inputs from unknown ones.
    identity: values of the run/task identity placeholders by name (keys of `IDENTITY_NAMES`).
    local_path_of: RuntimeArtifact dict → its local path.
    """

    executor_input: dict[str, Any]
    input_definitions: dict[str, Any]
    identity: Mapping[str, str]
    local_path_of: Callable[[dict[str, Any]], str]

    @property
    def provided_inputs(self) -> frozenset[str]:
        """Input names with a value: non-null parameters and non-empty artifact lists."""
        inputs = self.executor_input.get("inputs", {})
        parameters = {k for k, v in inputs.get("parameterValues", {}).items() if v is not None}
        artifacts = {k for k, v in inputs.get("artifacts", {}).items() if v and v.get("artifacts")}
        return frozenset(parameters | artifacts)


def resolve_command(templates: Sequence[str], values: PlaceholderValues) -> list[str]:
    """The argv for `templates` (command + args): structures expanded, every placeholder replaced."""
    provided = values.provided_inputs
    expanded: list[str] = []
    for template in templates:
        expanded.extend(expand_structure(template, provided))
    return [resolve_string(element, values) for element in expanded]


def expand_structure(element: str, provided: frozenset[str]) -> list[str]:
    """Expand one argv element: IfPresent/Concat JSON → zero or more plain template strings."""
    if not element.lstrip().startswith(STRUCT_PREFIXES):
        return [element]
    try:
        structure = json.loads(element)
    except json.JSONDecodeError as error:
        raise LauncherError(f"malformed structural placeholder {element!r}: {error}") from error
    return _expand(structure, provided)


def _expand(node: Any, provided: frozenset[str]) -> list[str]:
    if node is None:
        return []
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [item for child in node for item in _expand(child, provided)]
    if isinstance(node, dict) and set(node) == {"Concat"} and isinstance(node["Concat"], list):
        return ["".join(item for child in node["Concat"] for item in _expand(child, provided))]
    if isinstance(node, dict) and set(node) == {"IfPresent"} and isinstance(node["IfPresent"], dict):
        branch = node["IfPresent"]
        if "InputName" not in branch:
            raise LauncherError(f"IfPresent without InputName: {json.dumps(node)}")
        chosen = branch.get("Then") if branch["InputName"] in provided else branch.get("Else")
        return _expand(chosen, provided)
    raise LauncherError(f"unknown structural placeholder {json.dumps(node)}")


def resolve_string(template: str, values: PlaceholderValues, strict: bool = True) -> str:
    """Replace every `{{$...}}` in `template`.

    strict: an unknown placeholder or a missing required input raises `LauncherError`; when False (used for
    input values that merely look like placeholders) such placeholders are left as they are.
    """

    def replace(match: re.Match[str]) -> str:
        try:
            return resolve_expression(match.group(1) or "", values)
        except LauncherError:
            if strict:
                raise
            return match.group(0)

    return PLACEHOLDER.sub(replace, template)


def resolve_expression(expression: str, values: PlaceholderValues) -> str:
    """The text for one placeholder, given what follows `{{$` (e.g. `.inputs.parameters['x']`)."""
    executor_input = values.executor_input
    if expression == "":
        return json.dumps(executor_input, separators=(",", ":"))
    if expression in OUTPUT_FILE_EXPRESSIONS:
        return executor_input["outputs"]["outputFile"]
    if expression[1:] in IDENTITY_NAMES:
        return values.identity.get(expression[1:], "")
    if match := INPUT_PARAMETER.match(expression):
        return _input_parameter(match.group(1), values)
    if match := OUTPUT_PARAMETER_FILE.match(expression):
        name = match.group(1)
        output = executor_input["outputs"]["parameters"].get(name)
        if output is None:
            raise LauncherError(
                f"placeholder {{{{${expression}}}}} names an unknown output parameter {name!r}"
            )
        return output["outputFile"]
    if match := ARTIFACT.match(expression):
        direction, name, attribute, key = match.groups()
        return _artifact(direction, name, attribute, key, values)
    raise LauncherError(f"unknown placeholder {{{{${expression}}}}}")


def format_parameter(value: Any) -> str:
    """A parameter value as argv text: strings as-is, integral numbers without `.0`, JSON otherwise."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def _input_parameter(name: str, values: PlaceholderValues) -> str:
    parameter_values = values.executor_input["inputs"].get("parameterValues", {})
    if parameter_values.get(name) is not None:
        return format_parameter(parameter_values[name])
    definition = values.input_definitions.get("parameters", {}).get(name)
    if definition is None:
        raise LauncherError(
            f"placeholder names input parameter {name!r}, which has no value and is not declared"
        )
    if definition.get("isOptional"):
        return ""
    raise LauncherError(f"required input parameter {name!r} has no value")


def _artifact(
    direction: str, name: str, attribute: str | None, key: str | None, values: PlaceholderValues
) -> str:
    artifacts = values.executor_input[direction].get("artifacts", {}).get(name, {}).get("artifacts", [])
    if not artifacts:
        if direction == "inputs":
            definition = values.input_definitions.get("artifacts", {}).get(name)
            if definition is not None and definition.get("isOptional"):
                return "[]" if attribute is None else ""
            if definition is not None:
                raise LauncherError(f"required input artifact {name!r} has no value")
        raise LauncherError(f"placeholder names {direction[:-1]} artifact {name!r}, which is not declared")
    if attribute is None:
        return json.dumps(artifacts)
    first = artifacts[0]
    if attribute == "uri":
        return first.get("uri", "")
    if attribute == "path":
        return values.local_path_of(first)
    if attribute == "metadata":
        metadata = first.get("metadata") or {}
        return json.dumps(metadata) if key is None else format_parameter(metadata.get(key))
    path = Path(values.local_path_of(first))
    try:
        return path.read_text()
    except OSError as error:
        raise LauncherError(f"cannot read the value of artifact {name!r} from {path}: {error}") from error
