"""A small IAM policy evaluator for the least-privilege proof: identity policies with Allow and Deny
statements, `Action`/`Resource` lists with `*` and `?` wildcards (actions case-insensitive), and the
`StringEquals`/`StringLike` conditions the stack's policies use. An explicit Deny wins; otherwise a request is
allowed when some Allow statement matches it. A statement using anything else (NotAction, NotResource, other
condition operators) raises, so the evaluator never guesses.

Also: the template's policy documents resolved for one deployed stack (`Fn::Sub`, `Fn::GetAtt`, `Ref`,
`Fn::If`), with the names the stack really has.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from typing import Any

from tests.infra.aws_calls import IamRequest

_CONDITION_OPERATORS = {"StringEquals", "StringLike"}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, case_sensitive: bool) -> bool:
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _conditions_hold(statement: Mapping[str, Any], request: IamRequest) -> bool:
    context = dict(request.context)
    for operator, tests in statement.get("Condition", {}).items():
        if operator not in _CONDITION_OPERATORS:
            raise ValueError(f"condition operator {operator} is not supported: {statement}")
        for key, expected in tests.items():
            if key not in context:
                return False
            actual = context[key]
            if operator == "StringEquals" and actual not in _listed(expected):
                return False
            if operator == "StringLike" and not any(_glob(p, actual, True) for p in _listed(expected)):
                return False
    return True


def statement_matches(statement: Mapping[str, Any], request: IamRequest) -> bool:
    unsupported = {"NotAction", "NotResource", "NotPrincipal", "Principal"} & set(statement)
    if unsupported:
        raise ValueError(f"{', '.join(sorted(unsupported))} is not supported: {statement}")
    return (
        any(_glob(action, request.action, False) for action in _listed(statement["Action"]))
        and any(_glob(resource, request.resource, True) for resource in _listed(statement["Resource"]))
        and _conditions_hold(statement, request)
    )


def is_allowed(statements: Iterable[Mapping[str, Any]], request: IamRequest) -> bool:
    statements = list(statements)
    if any(s["Effect"] == "Deny" and statement_matches(s, request) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and statement_matches(s, request) for s in statements)


def resolve(value: Any, names: Mapping[str, str], conditions: Mapping[str, bool]) -> Any:
    """`value` (template JSON) with its intrinsic functions evaluated. `names` maps `Ref` targets and
    `Logical.Attribute` to their values in one stack (pseudo parameters included); `conditions` the stack's
    condition values."""
    if isinstance(value, list):
        return [resolve(item, names, conditions) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return names[argument]
        if function == "Fn::GetAtt":
            return names[".".join(argument)]
        if function == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], argument)
        if function == "Fn::If":
            condition, when_true, when_false = argument
            return resolve(when_true if conditions[condition] else when_false, names, conditions)
    return {key: resolve(item, names, conditions) for key, item in value.items()}
