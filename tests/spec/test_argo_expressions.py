"""Argo's `when` (govaluate as Argo 3.1 uses it), `depends` and `{{...}}` substitution."""

from __future__ import annotations

import pytest

from chalicelib.spec.argo_expressions import (
    ExpressionError,
    check_when_syntax,
    dependencies_as_depends,
    evaluate_when,
    parse_depends,
)
from chalicelib.spec.argo_templating import substitute, substitute_deep, unresolved


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('"heads" == "heads"', True),
        ('"heads" == "tails"', False),
        ('"heads" != "tails"', True),
        ("heads == heads", True),  # bare words are strings
        ("7 > 5", True),
        ("5 > 15", False),
        ("16 <= 15", False),
        ("0.005 > 0.01", False),
        ("5 == 5.0", True),
        ('5 == "5"', False),  # a number never equals a string
        ("true && !false", True),
        ("(1 > 2) || (2 > 1)", True),
        ("!(1 < 2)", False),
        ("2 + 3 == 5", True),
        ("10 % 3 == 1", True),
        ("'abc' =~ '^a'", True),
        ("'abc' !~ 'z'", True),
        ("'a' + 'b' == 'ab'", True),
        ("", True),
    ],
)
def test_when_evaluates_like_argo(expression: str, expected: bool):
    assert evaluate_when(expression) is expected


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("heads > 5", "both sides must be numbers or both strings"),
        ("1 +", "expression ends too early"),
        ("(1 > 2", "expected ')'"),
        ("1 > 2)", "unexpected ')'"),
        ("1 ? 2", "unexpected character '?'"),
        ("5", "expected a boolean"),
        ("1 && 2", "is not a boolean"),
    ],
)
def test_bad_when_expressions_raise_naming_the_problem(expression: str, problem: str):
    with pytest.raises(
        ExpressionError, match=problem.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")
    ):
        evaluate_when(expression)


def test_when_syntax_is_checked_with_variables_standing_for_values():
    check_when_syntax('"{{tasks.flip.outputs.parameters.out}}" == "heads"')
    check_when_syntax("{{tasks.n.outputs.parameters.n}} > 5 && {{inputs.parameters.x}} <= 15")
    with pytest.raises(ExpressionError):
        check_when_syntax("{{tasks.n.outputs.parameters.n}} >")


def test_depends_logic_and_argos_translation_of_dependencies():
    results = {"a": frozenset({"Succeeded"}), "b": frozenset({"Failed"}), "c": frozenset({"Skipped"})}
    assert parse_depends("a && c").evaluate(results.__getitem__)
    assert not parse_depends("a && b").evaluate(results.__getitem__)
    assert parse_depends("a && (b.Failed || b.Errored)").evaluate(results.__getitem__)
    assert parse_depends("not b and a").evaluate(results.__getitem__)
    assert parse_depends("task-with-dashes.Succeeded || a").tasks == {"task-with-dashes", "a"}
    translated = dependencies_as_depends(["a", "b"], {"b": frozenset({"Failed"})})
    assert (
        translated
        == "(a.Succeeded || a.Skipped || a.Daemoned) && (b.Succeeded || b.Skipped || b.Daemoned || b.Failed)"
    )
    assert parse_depends(translated).evaluate(results.__getitem__)
    with pytest.raises(ExpressionError, match="unknown task result 'Done'"):
        parse_depends("a.Done")
    with pytest.raises(ExpressionError):
        parse_depends("a &&")


def test_substitution_keeps_unknown_tags_and_names_unresolved_argo_ones():
    values = {"inputs.parameters.x": "1", "workflow.name": "wf-abc12"}
    assert substitute("{{inputs.parameters.x}}-{{ workflow.name }}", values) == "1-wf-abc12"
    assert substitute("{{$.inputs.artifacts['a'].uri}}", values) == "{{$.inputs.artifacts['a'].uri}}"
    value = substitute_deep({"args": ["{{inputs.parameters.y}}", "{{pod.name}}", "{{$.x}}"]}, values)
    assert unresolved(value) == ["inputs.parameters.y"]
