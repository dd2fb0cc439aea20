"""Check run-time parameters against the pipeline's root input definitions (IR) or workflow parameters (v1)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from chalicelib.spec.errors import InvalidParameters
from chalicelib.spec.package import PackageFormat, PipelinePackage

SYSTEM_PARAMETER_TYPES = frozenset({"TASK_FINAL_STATUS", "TASK_CONFIG"})
_DEPRECATED_TYPES = {"INT": "NUMBER_INTEGER", "DOUBLE": "NUMBER_DOUBLE", "STRING": "STRING"}


class _WrongType(Exception):
    """The value cannot be coerced to the parameter's type."""


def validate_runtime_parameters(
    package: PipelinePackage, parameters: dict[str, Any] | None
) -> dict[str, Any]:
    """Check `parameters` (plain JSON values) against `root.inputDefinitions.parameters` of `package`.

    Returns the coerced parameters (integral floats for NUMBER_INTEGER become ints, NUMBER_DOUBLE values
    become floats); defaults are NOT applied. Raises InvalidParameters naming every unknown, missing or
    wrongly typed parameter with its expected type and the given value. For a KFP v1 package see
    `validate_workflow_parameters`.
    """
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise InvalidParameters(
            f"runtime_config.parameters must be a mapping of name to value, got {type(parameters).__name__}"
        )
    if package.format is PackageFormat.ARGO:
        return validate_workflow_parameters(package, parameters)
    definitions = package.root_parameters
    problems: list[str] = []
    coerced: dict[str, Any] = {}
    for name in sorted(set(parameters) - set(definitions)):
        known = ", ".join(sorted(definitions)) or "none"
        problems.append(f"unknown parameter '{name}' (pipeline parameters: {known})")
    for name, definition in definitions.items():
        expected = parameter_type(definition)
        if name not in parameters or parameters[name] is None:
            if _is_required(definition) and expected not in SYSTEM_PARAMETER_TYPES:
                problems.append(f"missing required parameter '{name}' ({expected})")
            elif name in parameters:
                coerced[name] = None
            continue
        value = parameters[name]
        if expected in SYSTEM_PARAMETER_TYPES:
            problems.append(f"parameter '{name}' is {expected}, which the system sets; it cannot be given")
            continue
        try:
            coerced[name] = _COERCERS.get(expected, _any_json)(value)
        except _WrongType:
            problems.append(f"parameter '{name}' expects {expected}, got {_describe(value)}")
            continue
        literals = definition.get("literals")
        if literals and coerced[name] not in literals:
            problems.append(f"parameter '{name}' must be one of {literals!r}, got {_describe(value)}")
    if problems:
        raise InvalidParameters("; ".join(problems))
    return coerced


def validate_workflow_parameters(package: PipelinePackage, parameters: dict[str, Any]) -> dict[str, str]:
    """Check the parameters of a run of a KFP v1 package and return them as Argo's strings.

    Values become strings as the kfp 1.8 client sends them (`str(value)`, JSON for lists and objects); a value
    that cannot be one of the KFP type named in the pipeline_spec annotation (Integer, Float, Bool, JsonArray,
    JsonObject) is refused, as are unknown parameters and missing ones that have no value in the workflow.
    """
    definitions = package.root_parameters
    problems: list[str] = []
    for name in sorted(set(parameters) - set(definitions)):
        known = ", ".join(sorted(definitions)) or "none"
        problems.append(f"unknown parameter '{name}' (pipeline parameters: {known})")
    values: dict[str, str] = {}
    for name, definition in definitions.items():
        value = parameters.get(name)
        if value is None:
            if "defaultValue" not in definition:
                problems.append(f"missing required parameter '{name}' (the workflow gives it no value)")
            continue
        expected = definition["parameterType"]
        if expected == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
            value = int(value)
        text = (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, list | dict)
            else str(value)
        )
        if not _V1_CHECKS.get(expected, lambda _: True)(value):
            problems.append(f"parameter '{name}' expects {expected}, got {_describe(value)}")
            continue
        values[name] = text
    if problems:
        raise InvalidParameters("; ".join(problems))
    return values


def _parses_as(parse: Callable[[str], Any], kinds: tuple[type, ...]) -> Callable[[Any], bool]:
    """A check that a value (or the string it is given as) is one of `kinds` (booleans never count)."""

    def check(value: Any) -> bool:
        if isinstance(value, str):
            try:
                value = parse(value)
            except ValueError:
                return False
        return isinstance(value, kinds) and not isinstance(value, bool)

    return check


def _is_integer(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return _parses_as(int, (int,))(value)


def _is_boolean(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "false")
    return isinstance(value, bool)


_V1_CHECKS: dict[str, Callable[[Any], bool]] = {
    "NUMBER_INTEGER": _is_integer,
    "NUMBER_DOUBLE": _parses_as(float, (int, float)),
    "BOOLEAN": _is_boolean,
    "LIST": _parses_as(json.loads, (list,)),
    "STRUCT": _parses_as(json.loads, (dict,)),
}


def parameter_type(definition: dict[str, Any]) -> str:
    """Return the parameter's type name: `parameterType`, else the deprecated `type` mapped to the new names,
    else "ANY" when neither is set."""
    declared = definition.get("parameterType")
    if declared and declared != "PARAMETER_TYPE_ENUM_UNSPECIFIED":
        return declared
    return _DEPRECATED_TYPES.get(definition.get("type", ""), "ANY")


def _is_required(definition: dict[str, Any]) -> bool:
    return not definition.get("isOptional") and "defaultValue" not in definition


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _WrongType
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise _WrongType
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise _WrongType


def _double(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _WrongType
    if not math.isfinite(value):
        raise _WrongType
    return float(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _WrongType
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _WrongType
    return value


def _struct(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _WrongType
    return value


def _any_json(value: Any) -> Any:
    return value


_COERCERS: dict[str, Callable[[Any], Any]] = {
    "STRING": _string,
    "NUMBER_INTEGER": _integer,
    "NUMBER_DOUBLE": _double,
    "BOOLEAN": _boolean,
    "LIST": _list,
    "STRUCT": _struct,
}


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"
