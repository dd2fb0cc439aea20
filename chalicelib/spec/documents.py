"""Bytes → JSON-compatible documents: YAML (one or more documents) or JSON, with hostile-input guards.

YAML anchors and aliases are refused before anything is constructed (compiled KFP YAML never uses them, and
they are how "billion laughs" documents blow up), nesting is capped, and every value must be plain JSON:
mappings with string keys, lists, strings, finite numbers, booleans and null.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from chalicelib.spec.errors import InvalidPackage

MAX_DEPTH = 64
"""Deepest nesting of mappings/lists accepted (the KFP corpus peaks at 14)."""

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _JsonCompatibleLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader that leaves date-like scalars as strings (JSON has no timestamps)."""


_JsonCompatibleLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def decode_text(data: bytes, source: str) -> str:
    """Return `data` decoded as UTF-8 (a leading BOM is dropped); raise InvalidPackage naming `source`."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        raise InvalidPackage(
            f"{source}: not UTF-8 text (invalid byte 0x{bad} at offset {error.start}); "
            "expected a pipeline YAML/JSON file, .zip or .tar.gz"
        ) from error


def parse_yaml_documents(text: str, source: str) -> list[Any]:
    """Return the non-empty YAML documents in `text`, each a JSON-compatible value.

    Raises InvalidPackage on syntax errors, anchors/aliases, nesting deeper than MAX_DEPTH or non-JSON values.
    """
    _refuse_unsafe_events(text, source)
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=_JsonCompatibleLoader) if doc is not None]
    except yaml.YAMLError as error:
        raise InvalidPackage(f"{source}: invalid YAML: {_describe_yaml_error(error)}") from error
    for index, document in enumerate(documents):
        check_json_value(document, f"{source} (document {index + 1})")
    return documents


def parse_json_document(text: str, source: str) -> Any:
    """Return the single JSON value in `text`; raise InvalidPackage on syntax errors or excessive nesting."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise InvalidPackage(
            f"{source}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from error
    except RecursionError as error:
        raise InvalidPackage(f"{source}: document nested deeper than {MAX_DEPTH} levels") from error
    except ValueError as error:
        raise InvalidPackage(f"{source}: invalid JSON: {error}") from error
    check_json_value(value, source)
    return value


def check_json_value(value: Any, source: str) -> None:
    """Raise InvalidPackage unless `value` is plain JSON (string keys, finite numbers) at most MAX_DEPTH deep."""
    _check_value(value, source, "", 0)


def _check_value(value: Any, source: str, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidPackage(f"{source}: document nested deeper than {MAX_DEPTH} levels at {path or '(top)'}")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidPackage(
                    f"{source}: mapping key {key!r} at {path or '(top)'} is a {type(key).__name__}, "
                    "expected a string"
                )
            _check_value(item, source, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, source, f"{path}[{index}]", depth + 1)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidPackage(f"{source}: value {value!r} at {path or '(top)'} is not a finite number")
    elif value is not None and not isinstance(value, str | int | bool):
        raise InvalidPackage(
            f"{source}: value at {path or '(top)'} is a {type(value).__name__}, which JSON cannot represent"
        )


def _refuse_unsafe_events(text: str, source: str) -> None:
    """Walk the YAML event stream (nothing is constructed) refusing anchors, aliases and deep nesting."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_JsonCompatibleLoader):
            if isinstance(event, yaml.AliasEvent):
                raise InvalidPackage(
                    f"{source}: YAML aliases are not allowed (alias *{event.anchor} at "
                    f"{_describe_mark(event.start_mark)}); compiled pipelines never use anchors or aliases"
                )
            if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
                raise InvalidPackage(
                    f"{source}: YAML anchors are not allowed (anchor &{event.anchor} at "
                    f"{_describe_mark(event.start_mark)}); compiled pipelines never use anchors or aliases"
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InvalidPackage(
                        f"{source}: document nested deeper than {MAX_DEPTH} levels at "
                        f"{_describe_mark(event.start_mark)}"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as error:
        raise InvalidPackage(f"{source}: invalid YAML: {_describe_yaml_error(error)}") from error


def _describe_mark(mark: Any) -> str:
    if mark is None:
        return "unknown position"
    return f"line {mark.line + 1} column {mark.column + 1}"


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None)
    mark = getattr(error, "problem_mark", None)
    if problem:
        return f"{problem} at {_describe_mark(mark)}"
    return str(error).replace("\n", " ")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")
