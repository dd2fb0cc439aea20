"""Parameter values against their declared IR types (kfp-ir.md §1.8, §2.4).

Values are plain JSON values. Integers must stay JSON integers (the SDK executor does not cast), so integral
floats declared NUMBER_INTEGER become ints; STRING accepts anything and renders it as text.
"""

from __future__ import annotations

import json
import math
from typing import Any

from chalicelib.engine.errors import InputResolutionError


def placeholder_text(value: Any) -> str:
    """How a value reads inside a string: as-is for text, `true`/`false`, integral numbers without `.0`,
    lists and dicts as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "null"
    return json.dumps(value, separators=(",", ":"))


def _json_text(name: str, value: str, kind: type, type_name: str) -> Any:
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise InputResolutionError(
            f"input {name!r} is declared {type_name} but got text {value!r}"
        ) from error
    if not isinstance(parsed, kind):
        raise InputResolutionError(f"input {name!r} is declared {type_name} but got {value!r}")
    return parsed


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise InputResolutionError(f"input {name!r} is declared NUMBER_INTEGER but got boolean {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        # Raw ParallelFor items are JSON strings inside YAML; accept integral text rather than fail the run.
        try:
            return _integer(name, json.loads(value))
        except (ValueError, InputResolutionError):
            pass
    raise InputResolutionError(f"input {name!r} is declared NUMBER_INTEGER but got {value!r}")


def _double(name: str, value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, int | float) and not isinstance(parsed, bool):
            return float(parsed)
    raise InputResolutionError(f"input {name!r} is declared NUMBER_DOUBLE but got {value!r}")


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InputResolutionError(f"input {name!r} is declared BOOLEAN but got {value!r}")


def coerce_parameter(name: str, value: Any, parameter_type: str) -> Any:
    """`value` converted to `parameter_type`, or InputResolutionError naming the input when it cannot be."""
    if parameter_type == "STRING":
        return placeholder_text(value)
    if parameter_type == "NUMBER_INTEGER":
        return _integer(name, value)
    if parameter_type == "NUMBER_DOUBLE":
        return _double(name, value)
    if parameter_type == "BOOLEAN":
        return _boolean(name, value)
    if parameter_type == "LIST":
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            return _json_text(name, value, list, "LIST")
        raise InputResolutionError(f"input {name!r} is declared LIST but got {value!r}")
    if parameter_type == "STRUCT":
        if isinstance(value, dict):
            return value
        if isinstance(value, str):
            return _json_text(name, value, dict, "STRUCT")
        raise InputResolutionError(f"input {name!r} is declared STRUCT but got {value!r}")
    return value


def declared_parameters(input_definitions: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return (input_definitions or {}).get("parameters") or {}


def declared_artifacts(input_definitions: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return (input_definitions or {}).get("artifacts") or {}


def apply_declarations(
    input_definitions: dict[str, Any] | None,
    parameters: dict[str, Any],
    artifacts: dict[str, list[dict[str, Any]]],
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Coerce provided parameters to their declared types, fill in defaults for absent ones and check that every
    required input is present. Null values count as absent. Undeclared inputs (f-string plumbing) pass through.
    Returns the new (parameters, artifacts)."""
    result = {name: value for name, value in parameters.items() if value is not None}
    for name, declaration in declared_parameters(input_definitions).items():
        parameter_type = declaration.get("parameterType", "")
        if name in result:
            result[name] = coerce_parameter(name, result[name], parameter_type)
        elif declaration.get("defaultValue") is not None:
            result[name] = coerce_parameter(name, declaration["defaultValue"], parameter_type)
        elif not declaration.get("isOptional") and parameter_type not in ("TASK_FINAL_STATUS", "TASK_CONFIG"):
            raise InputResolutionError(f"required input parameter {name!r} has no value")
    result_artifacts = {name: value for name, value in artifacts.items() if value}
    for name, declaration in declared_artifacts(input_definitions).items():
        if name not in result_artifacts and not declaration.get("isOptional"):
            raise InputResolutionError(f"required input artifact {name!r} has no value")
    return result, result_artifacts
