"""Importer tasks run inside the engine (no process): their one output is the artifact `artifact`.

The URI is `artifactUri.constant` or the task input named by `artifactUri.runtimeParameter`; metadata keys and
values may hold `{{$.inputs.parameters[...]}}` placeholders, resolved from the task's inputs (kfp-ir.md §2.3 —
the backend stores them verbatim; we resolve them as kfp.local does). `reimport` only matters for MLMD
identity, which we do not keep, so every import yields a fresh artifact record with the same URI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.engine.errors import InputResolutionError
from chalicelib.engine.placeholders import TaskIdentity, substitute_value

IMPORTER_OUTPUT = "artifact"


def imported_artifact(
    importer: Mapping[str, Any], parameters: Mapping[str, Any], identity: TaskIdentity
) -> dict[str, Any]:
    """The RuntimeArtifact dict an importer produces, given its resolved input parameters."""
    artifact_uri = importer.get("artifactUri") or {}
    if "runtimeParameter" in artifact_uri:
        name = artifact_uri["runtimeParameter"]
        uri = parameters.get(name)
        if not uri:
            raise InputResolutionError(f"importer URI input {name!r} has no value")
    else:
        uri = artifact_uri.get("constant")
        if isinstance(uri, dict):  # pre-2.0 IR: {"stringValue": "..."}
            uri = uri.get("stringValue")
    if not isinstance(uri, str) or not uri:
        raise InputResolutionError(f"importer artifact URI must be a non-empty string, got {uri!r}")
    type_schema = importer.get("typeSchema") or {}
    return {
        "name": IMPORTER_OUTPUT,
        "uri": uri,
        "type": {
            "schemaTitle": type_schema.get("schemaTitle", "system.Artifact"),
            "schemaVersion": type_schema.get("schemaVersion", "0.0.1"),
        },
        "metadata": substitute_value(importer.get("metadata") or {}, parameters, identity),
    }
