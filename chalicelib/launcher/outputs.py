"""Read a finished command's outputs back (kfp-ir.md §2.6).

Output parameters come from the ExecutorOutput file's `parameterValues` when present there, else from each
parameter's own `outputFile`, typed by its declaration. A parameter found in neither is absent (Optional
Python outputs may legitimately be omitted). Output artifacts start from the provisioned ones; the file may
replace a `uri`, merge `metadata` and name a `custom_path` holding the data.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalicelib.launcher.errors import LauncherError

logger = logging.getLogger(__name__)

TRUE_WORDS = frozenset({"1", "t", "true"})
FALSE_WORDS = frozenset({"0", "f", "false"})


@dataclasses.dataclass(frozen=True)
class ArtifactTransfer:
    """Where an output artifact's data was written (`source_path`) and where it must end up (`uri`)."""

    source_path: str
    uri: str
    local_path: str


@dataclasses.dataclass(frozen=True)
class CollectedOutputs:
    parameters: dict[str, Any]
    artifacts: dict[str, list[dict[str, Any]]]
    transfers: tuple[ArtifactTransfer, ...]


def read_executor_output(path: str) -> dict[str, Any]:
    """The ExecutorOutput JSON at `path`, or `{}` when the command did not write it."""
    file = Path(path)
    if not file.is_file():
        return {}
    try:
        content = json.loads(file.read_text() or "{}")
    except json.JSONDecodeError as error:
        raise LauncherError(f"executor output {path} is not valid JSON: {error}") from error
    if not isinstance(content, dict):
        raise LauncherError(f"executor output {path} is not a JSON object")
    return content


def collect_outputs(
    executor_input: dict[str, Any],
    output_definitions: dict[str, Any],
    local_path_of: Callable[[dict[str, Any]], str],
) -> CollectedOutputs:
    """Output parameters, output artifacts and the artifact data to store, after the command ended."""
    outputs = executor_input["outputs"]
    executor_output = read_executor_output(outputs["outputFile"])
    parameters = collect_parameters(
        output_definitions.get("parameters", {}),
        executor_output.get("parameterValues", {}),
        {name: spec["outputFile"] for name, spec in outputs.get("parameters", {}).items()},
    )
    artifacts: dict[str, list[dict[str, Any]]] = {}
    transfers: list[ArtifactTransfer] = []
    written = executor_output.get("artifacts", {})
    for name, provisioned in outputs.get("artifacts", {}).items():
        template = provisioned["artifacts"][0]
        reported = (written.get(name) or {}).get("artifacts") or [{}]
        artifacts[name] = []
        for entry in reported:
            artifact, custom_path = overlay_artifact(template, entry)
            local_path = local_path_of(artifact)
            artifacts[name].append(artifact)
            transfers.append(ArtifactTransfer(custom_path or local_path, artifact["uri"], local_path))
    return CollectedOutputs(parameters, artifacts, tuple(transfers))


def collect_parameters(
    definitions: dict[str, Any], reported: dict[str, Any], output_files: dict[str, str]
) -> dict[str, Any]:
    """Declared output parameters from the ExecutorOutput values, else from their output files."""
    parameters: dict[str, Any] = {}
    for name, definition in definitions.items():
        kind = definition.get("parameterType", "STRING")
        if name in reported:
            parameters[name] = typed_value(name, reported[name], kind)
            continue
        file = Path(output_files.get(name, ""))
        if output_files.get(name) and file.is_file():
            parameters[name] = parse_parameter_text(name, file.read_text(), kind)
        else:
            logger.warning("output parameter %r was not written; it is absent", name)
    return parameters


def typed_value(name: str, value: Any, kind: str) -> Any:
    """A value from `parameterValues`, with protobuf's float-for-everything undone for integers."""
    if kind == "NUMBER_INTEGER" and isinstance(value, float):
        if not value.is_integer():
            raise LauncherError(f"output parameter {name!r} is declared int but is {value!r}")
        return int(value)
    return value


def parse_parameter_text(name: str, text: str, kind: str) -> Any:
    """The value of an output parameter file's text, typed by its declared parameterType."""
    stripped = text.strip()
    try:
        if kind == "STRING":
            return text
        if kind == "NUMBER_INTEGER":
            return int(stripped)
        if kind == "NUMBER_DOUBLE":
            return float(stripped)
        if kind == "BOOLEAN":
            return parse_bool(stripped)
        value = json.loads(stripped)
    except ValueError as error:
        raise LauncherError(
            f"output parameter {name!r} ({kind}) cannot be read from {text[:80]!r}"
        ) from error
    expected = {"LIST": list, "STRUCT": dict}.get(kind)
    if expected is not None and not isinstance(value, expected):
        raise LauncherError(f"output parameter {name!r} is declared {kind} but holds {type(value).__name__}")
    return value


def parse_bool(text: str) -> bool:
    """Go's ParseBool words, case-insensitively (`true`, `True`, `1`, `f`, ...)."""
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def overlay_artifact(provisioned: dict[str, Any], reported: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The provisioned artifact with a reported non-empty `uri` and merged `metadata`; plus `custom_path`."""
    artifact = {
        "name": provisioned["name"],
        "type": provisioned["type"],
        "uri": reported.get("uri") or provisioned["uri"],
        "metadata": {**(provisioned.get("metadata") or {}), **(reported.get("metadata") or {})},
    }
    return artifact, reported.get("custom_path") or reported.get("customPath") or ""
