"""validate_runtime_parameters: the type table, unknown and missing parameters, and what it returns."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.spec import InvalidParameters, PipelinePackage, spec_from_struct, validate_runtime_parameters


def _package(small_spec: dict[str, Any], definitions: dict[str, Any]) -> PipelinePackage:
    small_spec["root"]["inputDefinitions"]["parameters"] = definitions
    small_spec["root"]["dag"]["tasks"]["produce"]["inputs"]["parameters"]["text"] = {
        "runtimeValue": {"constant": "x"}
    }
    return spec_from_struct(small_spec)


ACCEPTED = [
    ("STRING", "hello", "hello"),
    ("STRING", "", ""),
    ("NUMBER_INTEGER", 3, 3),
    ("NUMBER_INTEGER", 3.0, 3),
    ("NUMBER_INTEGER", -7, -7),
    ("NUMBER_DOUBLE", 2.5, 2.5),
    ("NUMBER_DOUBLE", 2, 2.0),
    ("BOOLEAN", True, True),
    ("BOOLEAN", False, False),
    ("LIST", [1, "a", {"b": None}], [1, "a", {"b": None}]),
    ("LIST", [], []),
    ("STRUCT", {"a": [1, 2]}, {"a": [1, 2]}),
    ("STRUCT", {}, {}),
]


@pytest.mark.parametrize(("kind", "given", "expected"), ACCEPTED)
def test_value_of_the_declared_type_is_accepted(
    small_spec: dict[str, Any], kind: str, given: Any, expected: Any
) -> None:
    package = _package(small_spec, {"p": {"parameterType": kind}})
    result = validate_runtime_parameters(package, {"p": given})
    assert result == {"p": expected}
    assert type(result["p"]) is type(expected)


REJECTED = [
    ("STRING", 5),
    ("STRING", True),
    ("STRING", ["a"]),
    ("NUMBER_INTEGER", True),
    ("NUMBER_INTEGER", 3.5),
    ("NUMBER_INTEGER", "3"),
    ("NUMBER_INTEGER", float("inf")),
    ("NUMBER_DOUBLE", False),
    ("NUMBER_DOUBLE", "2.5"),
    ("NUMBER_DOUBLE", float("nan")),
    ("BOOLEAN", 1),
    ("BOOLEAN", "true"),
    ("LIST", {"a": 1}),
    ("LIST", "[1]"),
    ("STRUCT", [1]),
    ("STRUCT", '{"a": 1}'),
]


@pytest.mark.parametrize(("kind", "given"), REJECTED)
def test_value_of_another_type_is_rejected_naming_parameter_type_and_value(
    small_spec: dict[str, Any], kind: str, given: Any
) -> None:
    package = _package(small_spec, {"p": {"parameterType": kind}})
    with pytest.raises(InvalidParameters) as raised:
        validate_runtime_parameters(package, {"p": given})
    message = str(raised.value)
    assert f"parameter 'p' expects {kind}, got {given!r}" in message


@pytest.mark.parametrize(
    ("kind", "given", "expected"), [("INT", 4.0, 4), ("DOUBLE", 1, 1.0), ("STRING", "s", "s")]
)
def test_deprecated_type_field_is_honoured(
    small_spec: dict[str, Any], kind: str, given: Any, expected: Any
) -> None:
    package = _package(small_spec, {"p": {"type": kind}})
    assert validate_runtime_parameters(package, {"p": given}) == {"p": expected}


def test_deprecated_int_type_rejects_a_string(small_spec: dict[str, Any]) -> None:
    package = _package(small_spec, {"p": {"type": "INT"}})
    with pytest.raises(InvalidParameters, match="parameter 'p' expects NUMBER_INTEGER, got 'x'"):
        validate_runtime_parameters(package, {"p": "x"})


def test_unknown_parameter_is_rejected_listing_the_known_ones(small_spec: dict[str, Any]) -> None:
    package = spec_from_struct(small_spec)
    with pytest.raises(
        InvalidParameters, match=r"unknown parameter 'colour' \(pipeline parameters: count, text\)"
    ):
        validate_runtime_parameters(package, {"text": "a", "colour": "red"})


def test_missing_required_parameter_is_rejected(small_spec: dict[str, Any]) -> None:
    package = spec_from_struct(small_spec)
    with pytest.raises(InvalidParameters, match=r"missing required parameter 'text' \(STRING\)"):
        validate_runtime_parameters(package, {"count": 2})


def test_null_for_a_required_parameter_counts_as_missing(small_spec: dict[str, Any]) -> None:
    package = spec_from_struct(small_spec)
    with pytest.raises(InvalidParameters, match="missing required parameter 'text'"):
        validate_runtime_parameters(package, {"text": None})


def test_defaults_are_not_applied(small_spec: dict[str, Any]) -> None:
    package = spec_from_struct(small_spec)
    assert validate_runtime_parameters(package, {"text": "a"}) == {"text": "a"}


def test_optional_parameter_may_be_omitted_or_null(small_spec: dict[str, Any]) -> None:
    package = _package(small_spec, {"p": {"parameterType": "STRING", "isOptional": True}})
    assert validate_runtime_parameters(package, {}) == {}
    assert validate_runtime_parameters(package, {"p": None}) == {"p": None}


def test_no_parameters_given_is_an_empty_mapping(small_spec: dict[str, Any]) -> None:
    package = _package(small_spec, {"p": {"parameterType": "STRING", "defaultValue": "d"}})
    assert validate_runtime_parameters(package, None) == {}


def test_parameters_that_are_not_a_mapping_are_rejected(small_spec: dict[str, Any]) -> None:
    package = spec_from_struct(small_spec)
    with pytest.raises(InvalidParameters, match="must be a mapping of name to value, got list"):
        validate_runtime_parameters(package, ["text"])  # type: ignore[arg-type]


def test_pipeline_without_inputs_rejects_any_parameter(small_spec: dict[str, Any]) -> None:
    del small_spec["root"]["inputDefinitions"]
    small_spec["root"]["dag"]["tasks"]["produce"]["inputs"]["parameters"]["text"] = {
        "runtimeValue": {"constant": "x"}
    }
    package = spec_from_struct(small_spec)
    assert validate_runtime_parameters(package, {}) == {}
    with pytest.raises(InvalidParameters, match=r"unknown parameter 'a' \(pipeline parameters: none\)"):
        validate_runtime_parameters(package, {"a": 1})


def test_system_typed_root_input_cannot_be_given(small_spec: dict[str, Any]) -> None:
    package = _package(small_spec, {"status": {"parameterType": "TASK_FINAL_STATUS"}})
    assert validate_runtime_parameters(package, {}) == {}
    with pytest.raises(
        InvalidParameters, match="parameter 'status' is TASK_FINAL_STATUS, which the system sets"
    ):
        validate_runtime_parameters(package, {"status": {"state": "SUCCEEDED"}})


def test_value_outside_literals_is_rejected(small_spec: dict[str, Any]) -> None:
    package = _package(small_spec, {"p": {"parameterType": "STRING", "literals": ["a", "b"]}})
    assert validate_runtime_parameters(package, {"p": "b"}) == {"p": "b"}
    with pytest.raises(InvalidParameters, match=r"parameter 'p' must be one of \['a', 'b'\], got 'c'"):
        validate_runtime_parameters(package, {"p": "c"})


def test_every_problem_is_reported(small_spec: dict[str, Any]) -> None:
    package = spec_from_struct(small_spec)
    with pytest.raises(InvalidParameters) as raised:
        validate_runtime_parameters(package, {"count": "many", "extra": 1})
    message = str(raised.value)
    assert "unknown parameter 'extra'" in message
    assert "missing required parameter 'text'" in message
    assert "parameter 'count' expects NUMBER_INTEGER, got 'many' (str)" in message


def test_long_values_are_shortened_in_messages(small_spec: dict[str, Any]) -> None:
    package = spec_from_struct(small_spec)
    with pytest.raises(InvalidParameters) as raised:
        validate_runtime_parameters(package, {"text": ["x" * 500]})
    assert "..." in str(raised.value) and len(str(raised.value)) < 200
