"""Task ids, parameter typing, value placeholders, CEL helpers, retry timing and URI joins."""

from __future__ import annotations

import datetime

import pytest

from chalicelib.engine.conditions import apply_selector, evaluate_condition
from chalicelib.engine.errors import ConditionError, InputResolutionError
from chalicelib.engine.launches import join_uri
from chalicelib.engine.model import RunInput
from chalicelib.engine.parameter_types import apply_declarations, coerce_parameter, placeholder_text
from chalicelib.engine.placeholders import TaskIdentity, substitute_value
from chalicelib.engine.retry_policy import RetryPolicy, parse_duration
from chalicelib.engine.task_ids import MAX_TASK_ID_LENGTH, child_task_id, iteration_task_id


def test_task_ids_are_dotted_sanitised_paths():
    assert child_task_id("root", "Print_Op 2.x") == "root.print_op-2-x"
    assert iteration_task_id("root.for-loop-2", 3) == "root.for-loop-2.3"


def test_long_task_ids_are_bounded_and_stay_distinct():
    parent = "root." + ".".join(["very-long-component-name"] * 10)
    first, second = child_task_id(parent, "a"), child_task_id(parent, "b")
    assert len(first) <= MAX_TASK_ID_LENGTH and len(second) <= MAX_TASK_ID_LENGTH
    assert first != second and first == child_task_id(parent, "a")


@pytest.mark.parametrize(
    ("value", "parameter_type", "expected"),
    [
        (3.0, "NUMBER_INTEGER", 3),
        ("7", "NUMBER_INTEGER", 7),
        (2, "NUMBER_DOUBLE", 2.0),
        ("true", "BOOLEAN", True),
        ([1, "a"], "STRING", '[1,"a"]'),
        (3.0, "STRING", "3"),
        (False, "STRING", "false"),
        ('{"a": 1}', "STRUCT", {"a": 1}),
        ("[1]", "LIST", [1]),
    ],
)
def test_parameters_are_coerced_to_declared_types(value, parameter_type, expected):
    result = coerce_parameter("p", value, parameter_type)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "parameter_type"),
    [(3.5, "NUMBER_INTEGER"), (True, "NUMBER_INTEGER"), ("x", "LIST"), ([1], "STRUCT"), ("maybe", "BOOLEAN")],
)
def test_mismatched_parameter_types_are_errors_naming_the_input(value, parameter_type):
    with pytest.raises(InputResolutionError, match="'p'"):
        coerce_parameter("p", value, parameter_type)


def test_declarations_apply_defaults_and_drop_nulls():
    definitions = {
        "parameters": {
            "n": {"parameterType": "NUMBER_INTEGER", "defaultValue": 1.0, "isOptional": True},
            "opt": {"parameterType": "STRING", "isOptional": True},
        }
    }
    assert apply_declarations(definitions, {"opt": None}, {}) == ({"n": 1}, {})


def test_placeholder_text_renders_like_kfp():
    assert [placeholder_text(value) for value in ("s", 3.0, 2.5, True, {"a": [1]})] == [
        "s",
        "3",
        "2.5",
        "true",
        '{"a":[1]}',
    ]


def test_value_placeholders_substitute_in_keys_values_and_lists():
    identity = TaskIdentity.of(RunInput(run_id="r", pipeline_name="p", pipeline_root="/x"), "t", "root.t")
    metadata = {
        "{{$.inputs.parameters['k']}}": "prefix-{{$.inputs.parameters['v']}}",
        "list": ["{{$.inputs.parameters['n']}}", "{{$.pipeline_job_uuid}}"],
        "keep": "{{$.pipeline_unknown}}",
    }
    assert substitute_value(metadata, {"k": "key", "v": "val", "n": 3}, identity) == {
        "key": "prefix-val",
        "list": [3, "r"],
        "keep": "{{$.pipeline_unknown}}",
    }


def test_conditions_compare_strings_and_ints_and_negations():
    parameters = {"coin": "heads", "n": 7}
    assert evaluate_condition("inputs.parameter_values['coin'] == 'heads'", parameters)
    assert evaluate_condition(
        "!(inputs.parameter_values['coin'] == 'tails') && int(inputs.parameter_values['n']) >= 7", parameters
    )
    assert not evaluate_condition("int(inputs.parameter_values['n']) < 7", parameters)


def test_condition_syntax_error_is_a_condition_error():
    with pytest.raises(ConditionError, match="does not compile"):
        evaluate_condition("inputs.parameter_values['x'] ==", {"x": 1})


def test_selector_picks_fields_of_dicts_and_json_text():
    assert apply_selector('parseJson(string_value)["A_a"]', {"A_a": "1", "B_b": [1, 2]}) == "1"
    assert apply_selector('parseJson(string_value)["B_b"]', '{"B_b": [1, 2]}') == [1, 2]


def test_retry_delay_grows_by_factor_and_is_capped():
    policy = RetryPolicy(max_retry_count=5, backoff_seconds=10, backoff_factor=2, backoff_max_seconds=35)
    assert [policy.delay_after(attempt).total_seconds() for attempt in (1, 2, 3)] == [10, 20, 35]
    assert parse_duration("1.5s") == 1.5 and parse_duration(None, 7.0) == 7.0
    assert not policy.allows_retry(6, datetime.timedelta(0))


def test_uri_join_handles_s3_roots_and_local_dirs():
    assert join_uri("s3://bucket/", "p", "r") == "s3://bucket/p/r"
    assert join_uri("/data/root", "p", "r") == "/data/root/p/r"
