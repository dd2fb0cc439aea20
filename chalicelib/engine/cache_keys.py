"""Cache keys from KFP's ingredients (kfp-ir.md §6), as a pure sha256 over sorted JSON.

Ingredients: input artifact identities (their URIs), resolved input parameter values, the output artifact
specs (name, type, static metadata; no URI), the output parameter types, and the container's image, raw
command + args templates and PVC names. Environment variables are added as kfp.local does. A custom
`cachingOptions.cacheKey` replaces all of it with `sha256(component name + NUL + key)`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any


def _sha256_json(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def custom_cache_key(component_name: str, cache_key: str) -> str:
    return hashlib.sha256(f"{component_name}\0{cache_key}".encode()).hexdigest()


def container_cache_key(
    container: Mapping[str, Any],
    output_definitions: Mapping[str, Any],
    parameters: Mapping[str, Any],
    artifacts: Mapping[str, list[dict[str, Any]]],
    pvc_names: Iterable[str] = (),
) -> str:
    """The cache key of a container task with these resolved inputs."""
    output_artifacts = output_definitions.get("artifacts") or {}
    output_parameters = output_definitions.get("parameters") or {}
    ingredients = {
        "inputArtifactNames": {
            name: [artifact.get("uri", "") for artifact in values] for name, values in artifacts.items()
        },
        "inputParameterValues": dict(parameters),
        "outputArtifactsSpec": {
            name: {"type": spec.get("artifactType") or {}, "metadata": spec.get("metadata") or {}}
            for name, spec in output_artifacts.items()
        },
        "outputParametersSpec": {
            name: spec.get("parameterType", "") for name, spec in output_parameters.items()
        },
        "containerSpec": {
            "image": container.get("image", ""),
            "cmdArgs": list(container.get("command") or []) + list(container.get("args") or []),
            "pvcNames": sorted(set(pvc_names)),
        },
        "env": {item.get("name", ""): item.get("value", "") for item in container.get("env") or []},
    }
    return _sha256_json(ingredients)
