"""CEL evaluation with cel-python (kfp-ir.md §3): trigger conditions and `parameterExpressionSelector`s.

Conditions see `inputs.parameter_values` as protobuf Values: every number is a double, so `int(...)` in the
SDK-generated expression works as in cel-go. `parseJson(string)` is the one custom function KFP adds.
Any compile or evaluation error, and a condition that is not a bool, raises ConditionError — never False.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Mapping
from typing import Any

from chalicelib.engine.errors import ConditionError


class _LazyModule:
    """Imports the module on first attribute access: cel-python (and re2) load only when a condition is
    evaluated, not when the API Lambda imports the engine's data types."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


celpy: Any = _LazyModule("celpy")
celtypes: Any = _LazyModule("celpy.celtypes")


def _as_protobuf_value(value: Any) -> Any:
    """Numbers become doubles, as in `google.protobuf.Value`."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [_as_protobuf_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _as_protobuf_value(item) for key, item in value.items()}
    return value


def cel_to_json(value: Any) -> Any:
    """A CEL result as a plain JSON value."""
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.IntType | celtypes.UintType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.ListType):
        return [cel_to_json(item) for item in value]
    if isinstance(value, celtypes.MapType):
        return {str(cel_to_json(key)): cel_to_json(item) for key, item in value.items()}
    return value


def _parse_json(text: Any) -> Any:
    try:
        return celpy.json_to_cel(json.loads(str(text)))
    except ValueError as error:
        return celpy.CELEvalError(f"parseJson: not JSON: {error}", ValueError, None)


@functools.lru_cache(maxsize=256)
def _program(expression: str) -> celpy.Runner:
    environment = celpy.Environment()
    try:
        ast = environment.compile(expression)
    except celpy.CELParseError as error:
        message = " ".join(str(error).split())
        raise ConditionError(f"CEL expression {expression!r} does not compile: {message}") from error
    return environment.program(ast, functions={"parseJson": _parse_json})


def _evaluate(expression: str, activation: Mapping[str, Any]) -> Any:
    program = _program(expression)
    try:
        result = program.evaluate(dict(activation))
    except celpy.CELEvalError as error:
        raise ConditionError(
            f"CEL expression {expression!r} failed: {error.args[0] if error.args else error}"
        ) from error
    except Exception as error:  # cel-python raises plain Python errors for some bad operands
        raise ConditionError(f"CEL expression {expression!r} failed: {error}") from error
    if isinstance(result, celpy.CELEvalError):
        raise ConditionError(
            f"CEL expression {expression!r} failed: {result.args[0] if result.args else result}"
        )
    return result


def evaluate_condition(expression: str, parameters: Mapping[str, Any]) -> bool:
    """Evaluate a `triggerPolicy.condition` against the task's resolved input parameters."""
    inputs = celpy.json_to_cel({"parameter_values": _as_protobuf_value(dict(parameters))})
    result = _evaluate(expression, {"inputs": inputs})
    if not isinstance(result, celtypes.BoolType):
        raise ConditionError(f"condition {expression!r} gave {cel_to_json(result)!r}, not a boolean")
    return bool(result)


def apply_selector(expression: str, value: Any) -> Any:
    """Evaluate a `parameterExpressionSelector` on a resolved parameter value and return the selected value.

    The expression sees the fields of a protobuf Value; `string_value` is the value's JSON text for non-strings.
    """
    native = _as_protobuf_value(value)
    activation: dict[str, Any] = {
        "string_value": celtypes.StringType(value if isinstance(value, str) else json.dumps(value)),
    }
    if isinstance(native, bool):
        activation["bool_value"] = celtypes.BoolType(native)
    elif isinstance(native, float):
        activation["number_value"] = celtypes.DoubleType(native)
    elif isinstance(native, list):
        activation["list_value"] = celpy.json_to_cel(native)
    elif isinstance(native, dict):
        activation["struct_value"] = celpy.json_to_cel(native)
    return cel_to_json(_evaluate(expression, activation))
