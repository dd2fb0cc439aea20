"""Build the ExecutorInput JSON that `kfp.dsl.executor_main --executor_input` expects (kfp-ir.md §2.4).

Keys are protojson lowerCamelCase. Integer inputs are JSON integers, declared defaults fill inputs that are
not provided, null values count as absent, and `outputs` is always present.
"""

from __future__ import annotations

import os
from typing import Any

from chalicelib.task_contract import TaskSpec

NUMBER_INTEGER = "NUMBER_INTEGER"


def build_executor_input(spec: TaskSpec, output_file: str) -> dict[str, Any]:
    """The ExecutorInput dict for `spec`.

    output_file: local path of the ExecutorOutput file (`outputs.outputFile`); its directory is the task
    root that `dsl.get_uri()` maps back to a URI, and each output parameter's file is `<that dir>/<name>`.
    """
    output_dir = os.path.dirname(output_file)
    return {
        "inputs": {
            "parameterValues": input_parameter_values(spec),
            "artifacts": {
                name: {
                    "artifacts": [
                        runtime_artifact(a, name, spec.input_definitions.get("artifacts", {}).get(name, {}))
                        for a in artifacts
                    ]
                }
                for name, artifacts in spec.artifacts.items()
                if artifacts
            },
        },
        "outputs": {
            "parameters": {
                name: {"outputFile": os.path.join(output_dir, name)}
                for name in spec.output_definitions.get("parameters", {})
            },
            "artifacts": {
                name: {
                    "artifacts": [
                        {
                            "name": name,
                            "type": artifact_type(definition),
                            "uri": spec.output_artifact_uris[name],
                            "metadata": {},
                        }
                    ]
                }
                for name, definition in spec.output_definitions.get("artifacts", {}).items()
                if name in spec.output_artifact_uris
            },
            "outputFile": output_file,
        },
    }


def input_parameter_values(spec: TaskSpec) -> dict[str, Any]:
    """Provided parameter values plus declared defaults, nulls dropped, NUMBER_INTEGER values as ints."""
    definitions: dict[str, Any] = spec.input_definitions.get("parameters", {})
    values: dict[str, Any] = {}
    for name, definition in definitions.items():
        if "defaultValue" in definition and definition["defaultValue"] is not None:
            values[name] = definition["defaultValue"]
    values.update({name: value for name, value in spec.parameters.items() if value is not None})
    for name, value in values.items():
        if definitions.get(name, {}).get("parameterType") == NUMBER_INTEGER:
            values[name] = as_integer(value)
    return values


def as_integer(value: Any) -> Any:
    """An integral float (or numeric string) as an int; anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return value
    return value


def artifact_type(definition: dict[str, Any]) -> dict[str, str]:
    """The `type` of a RuntimeArtifact from an artifact's input/output definition."""
    declared = definition.get("artifactType", {})
    return {
        "schemaTitle": declared.get("schemaTitle", "system.Artifact"),
        "schemaVersion": declared.get("schemaVersion", "0.0.1"),
    }


def runtime_artifact(
    artifact: dict[str, Any], default_name: str, definition: dict[str, Any]
) -> dict[str, Any]:
    """A RuntimeArtifact dict with every field `executor.py` reads (name, type, uri, metadata)."""
    return {
        **artifact,
        "name": artifact.get("name") or default_name,
        "type": artifact.get("type") or artifact_type(definition),
        "uri": artifact.get("uri", ""),
        "metadata": artifact.get("metadata") or {},
    }
