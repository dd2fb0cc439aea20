"""The two little languages of Argo DAG tasks: `when` conditions and `depends` logic.

`when` is evaluated after its `{{...}}` variables were substituted, with govaluate's rules as Argo 3.1 uses them:
numbers (float), quoted strings ('...' or "..."), `true`/`false`, and bare words, which Argo turns into strings
(`heads == heads` is true); comparisons `== != < <= > >=` (numbers with numbers, strings with strings; `==`
between a number and a string is false), regular-expression matches `=~ !~`, `&& || !`, arithmetic
`+ - * / %`, parentheses. Anything else is a `ExpressionError` naming the expression.

`depends` is a boolean expression over sibling task results: `A`, `A.Succeeded`, `A.Failed`, `A.Errored`,
`A.Skipped`, `A.Omitted`, `A.Daemoned`, `A.AnySucceeded`, `A.AllFailed`, with `&& || !` (or `and or not`) and
parentheses. A bare `A` means `(A.Succeeded || A.Skipped || A.Daemoned)`, as in Argo.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.spec.argo_templating import TAG

TASK_RESULTS = frozenset(
    {"Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"}
)
BARE_TASK_RESULTS = ("Succeeded", "Skipped", "Daemoned")


class ExpressionError(ValueError):
    """An expression that does not parse, or whose values cannot be combined as written."""


# ---- tokens --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # "number" | "string" | "bool" | "word" | "op" | "end"
    value: Any
    position: int


_WHEN_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | "(?P<dq>(?:[^"\\]|\\.)*)"
      | '(?P<sq>(?:[^'\\]|\\.)*)'
      | (?P<op>==|!=|<=|>=|=~|!~|&&|\|\||[<>!()+\-*/%])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _when_tokens(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        if expression[position:].strip() == "":
            break
        match = _WHEN_TOKEN.match(expression, position)
        if match is None or match.end() == position:
            raise ExpressionError(
                f"unexpected character {expression[position:].lstrip()[:1]!r} at position {position} "
                f"in {expression!r}"
            )
        start = match.start(match.lastgroup or 0)
        if match.group("number") is not None:
            tokens.append(_Token("number", float(match.group("number")), start))
        elif match.group("dq") is not None:
            tokens.append(_Token("string", _unescape(match.group("dq")), start))
        elif match.group("sq") is not None:
            tokens.append(_Token("string", _unescape(match.group("sq")), start))
        elif match.group("op") is not None:
            tokens.append(_Token("op", match.group("op"), start))
        else:
            word = match.group("word")
            if word in ("true", "false"):
                tokens.append(_Token("bool", word == "true", start))
            else:
                tokens.append(_Token("word", word, start))  # Argo treats variables as strings
        position = match.end()
    tokens.append(_Token("end", None, len(expression)))
    return tokens


# ---- when: parsing -------------------------------------------------------------------------------------------

# Binding powers, loosest first (govaluate's precedence: || < && < comparisons < + - < * / %).
_BINARY = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 3,
    "<=": 3,
    ">": 3,
    ">=": 3,
    "=~": 3,
    "!~": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
}
_PREFIX_POWER = 6

Node = tuple[Any, ...]


class _WhenParser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _when_tokens(expression)
        self.index = 0

    def fail(self, token: _Token, problem: str) -> ExpressionError:
        return ExpressionError(f"{problem} at position {token.position} in {self.expression!r}")

    def next(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExpressionError(f"empty expression {self.expression!r}")
        node = self.expression_at(0)
        token = self.peek()
        if token.kind != "end":
            raise self.fail(token, f"unexpected {token.value!r}")
        return node

    def expression_at(self, power: int) -> Node:
        left = self.prefix()
        while True:
            token = self.peek()
            binding = _BINARY.get(token.value) if token.kind == "op" else None
            if binding is None or binding <= power:
                return left
            self.next()
            left = ("binary", token.value, left, self.expression_at(binding))

    def prefix(self) -> Node:
        token = self.next()
        if token.kind in ("number", "string", "bool"):
            return ("value", token.value)
        if token.kind == "word":
            return ("value", token.value)
        if token.kind == "op" and token.value in ("!", "-"):
            return ("unary", token.value, self.expression_at(_PREFIX_POWER))
        if token.kind == "op" and token.value == "(":
            inner = self.expression_at(0)
            closing = self.next()
            if closing.kind != "op" or closing.value != ")":
                raise self.fail(closing, "expected ')'")
            return inner
        if token.kind == "end":
            raise self.fail(token, "expression ends too early")
        raise self.fail(token, f"unexpected {token.value!r}")


def parse_when(expression: str) -> Node:
    """Parse a `when` expression (variables already substituted); raises ExpressionError."""
    return _WhenParser(expression).parse()


def check_when_syntax(expression: str) -> None:
    """Raise ExpressionError unless `expression` parses once its `{{...}}` variables hold values.

    Each variable is replaced by a bare word, which is what a value without spaces becomes: a string for
    comparisons inside quotes (`"{{x}}" == "a"`) and a plain operand outside them (`{{x}} > 5`).
    """
    parse_when(TAG.sub("value", expression))


# ---- when: evaluation ----------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float):
        return "number"
    return "string"


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _require(value: Any, kind: str, operator: str, expression: str) -> None:
    if _kind(value) != kind:
        raise ExpressionError(
            f"value {_format(value)!r} cannot be used with {operator!r}: it is not a {kind} (in {expression!r})"
        )


def _compare(operator: str, left: Any, right: Any, expression: str) -> bool:
    if _kind(left) != _kind(right) or _kind(left) == "boolean":
        raise ExpressionError(
            f"cannot compare {_format(left)!r} with {_format(right)!r} using {operator!r} in {expression!r}: "
            "both sides must be numbers or both strings"
        )
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return comparisons[operator](left, right)


def _arithmetic(operator: str, left: Any, right: Any, expression: str) -> Any:
    if operator == "+" and (_kind(left) == "string" or _kind(right) == "string"):
        return _format(left) + _format(right)
    _require(left, "number", operator, expression)
    _require(right, "number", operator, expression)
    if operator in ("/", "%") and right == 0:
        raise ExpressionError(f"division by zero in {expression!r}")
    results: dict[str, Callable[[float, float], float]] = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
        "%": math.fmod,
    }
    return float(results[operator](left, right))


def _evaluate(node: Node, expression: str) -> Any:
    kind = node[0]
    if kind == "value":
        return node[1]
    if kind == "unary":
        operand = _evaluate(node[2], expression)
        if node[1] == "!":
            _require(operand, "boolean", "!", expression)
            return not operand
        _require(operand, "number", "-", expression)
        return -operand
    operator, left_node, right_node = node[1], node[2], node[3]
    left = _evaluate(left_node, expression)
    if operator in ("&&", "||"):
        _require(left, "boolean", operator, expression)
        if (operator == "&&" and not left) or (operator == "||" and left):
            return left
        right = _evaluate(right_node, expression)
        _require(right, "boolean", operator, expression)
        return right
    right = _evaluate(right_node, expression)
    if operator == "==":
        return _kind(left) == _kind(right) and left == right
    if operator == "!=":
        return not (_kind(left) == _kind(right) and left == right)
    if operator in ("=~", "!~"):
        _require(left, "string", operator, expression)
        _require(right, "string", operator, expression)
        try:
            matched = re.search(right, left) is not None
        except re.error as error:
            raise ExpressionError(
                f"invalid regular expression {right!r} in {expression!r}: {error}"
            ) from error
        return matched if operator == "=~" else not matched
    if operator in ("<", "<=", ">", ">="):
        return _compare(operator, left, right, expression)
    return _arithmetic(operator, left, right, expression)


def evaluate_when(expression: str) -> bool:
    """Evaluate a substituted `when` expression; True when empty. Raises ExpressionError when it does not
    parse or does not evaluate to a boolean."""
    if not expression.strip():
        return True
    result = _evaluate(parse_when(expression), expression)
    if not isinstance(result, bool):
        raise ExpressionError(f"expected a boolean from {expression!r}, got {_format(result)!r}")
    return result


# ---- depends ---------------------------------------------------------------------------------------------------

_DEPENDS_TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||!|\(|\))|(?P<name>[A-Za-z0-9][-A-Za-z0-9_]*)(?:\.(?P<result>[A-Za-z]+))?)"
)
_WORD_OPERATORS = {"and": "&&", "or": "||", "not": "!"}


@dataclasses.dataclass(frozen=True)
class Depends:
    """A parsed `depends` expression: its syntax tree and the sibling tasks it names."""

    text: str
    tree: Node
    tasks: frozenset[str]

    def evaluate(self, results: Callable[[str], frozenset[str]]) -> bool:
        """True when the expression holds, given each named task's current results (e.g. {"Succeeded"})."""
        return _evaluate_depends(self.tree, results)


def _depends_tokens(text: str) -> list[tuple[str, Any, int]]:
    tokens: list[tuple[str, Any, int]] = []
    position = 0
    while text[position:].strip():
        match = _DEPENDS_TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"unexpected character at position {position} in depends {text!r}")
        if match.group("op"):
            tokens.append(("op", match.group("op"), match.start("op")))
        elif match.group("name") in _WORD_OPERATORS and not match.group("result"):
            tokens.append(("op", _WORD_OPERATORS[match.group("name")], match.start("name")))
        else:
            result = match.group("result")
            if result is not None and result not in TASK_RESULTS:
                raise ExpressionError(
                    f"unknown task result {result!r} for task {match.group('name')!r} in depends {text!r} "
                    f"(one of {', '.join(sorted(TASK_RESULTS))})"
                )
            tokens.append(("task", (match.group("name"), result), match.start("name")))
        position = match.end()
    tokens.append(("end", None, len(text)))
    return tokens


def parse_depends(text: str) -> Depends:
    """Parse a `depends` expression; raises ExpressionError naming the problem."""
    tokens = _depends_tokens(text)
    index = 0

    def peek() -> tuple[str, Any, int]:
        return tokens[index]

    def take() -> tuple[str, Any, int]:
        nonlocal index
        index += 1
        return tokens[index - 1]

    def fail(token: tuple[str, Any, int], problem: str) -> ExpressionError:
        return ExpressionError(f"{problem} at position {token[2]} in depends {text!r}")

    def operand() -> Node:
        token = take()
        if token[0] == "task":
            return ("task", *token[1])
        if token[0] == "op" and token[1] == "!":
            return ("not", operand())
        if token[0] == "op" and token[1] == "(":
            inner = disjunction()
            if take()[:2] != ("op", ")"):
                raise fail(token, "unclosed '('")
            return inner
        raise fail(token, "expected a task name")

    def conjunction() -> Node:
        node = operand()
        while peek()[:2] == ("op", "&&"):
            take()
            node = ("and", node, operand())
        return node

    def disjunction() -> Node:
        node = conjunction()
        while peek()[:2] == ("op", "||"):
            take()
            node = ("or", node, conjunction())
        return node

    if tokens[0][0] == "end":
        raise ExpressionError("empty depends expression")
    tree = disjunction()
    if peek()[0] != "end":
        raise fail(peek(), f"unexpected {peek()[1]!r}")
    return Depends(text, tree, frozenset(_depends_task_names(tree)))


def _depends_task_names(tree: Node) -> set[str]:
    if tree[0] == "task":
        return {tree[1]}
    return set().union(*(_depends_task_names(child) for child in tree[1:]))


def _evaluate_depends(tree: Node, results: Callable[[str], frozenset[str]]) -> bool:
    kind = tree[0]
    if kind == "task":
        found = results(tree[1])
        wanted = (tree[2],) if tree[2] else BARE_TASK_RESULTS
        return any(result in found for result in wanted)
    if kind == "not":
        return not _evaluate_depends(tree[1], results)
    if kind == "and":
        return _evaluate_depends(tree[1], results) and _evaluate_depends(tree[2], results)
    return _evaluate_depends(tree[1], results) or _evaluate_depends(tree[2], results)


def dependencies_as_depends(dependencies: list[str], continues_on: Mapping[str, frozenset[str]]) -> str:
    """Argo's translation of `dependencies: [A, B]`: `(A.Succeeded || A.Skipped || A.Daemoned) && (...)`,
    with `A.Failed` / `A.Errored` added when task A has `continueOn` for them."""
    parts = []
    for name in dependencies:
        results = [*BARE_TASK_RESULTS, *sorted(continues_on.get(name, frozenset()))]
        parts.append("(" + " || ".join(f"{name}.{result}" for result in results) + ")")
    return " && ".join(parts)
