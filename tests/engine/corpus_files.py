"""KFP's compiled corpus (../shared/corpus/kfp-compiled; KFPS_CORPUS overrides), loaded as plain dicts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("KFPS_CORPUS", REPO_ROOT.parent / "shared" / "corpus" / "kfp-compiled"))
VALID = CORPUS / "valid"

_SAMPLE_RUN_PARAMETERS = {
    "STRING": "sample",
    "NUMBER_INTEGER": 3,
    "NUMBER_DOUBLE": 2.5,
    "BOOLEAN": True,
    "LIST": ["a", "b"],
    "STRUCT": {"k": "v"},
}


def corpus_yaml_files() -> list[Path]:
    return sorted(VALID.rglob("*.yaml")) if VALID.is_dir() else []


def load(relative: str | Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(pipeline spec, platform spec or None) of a corpus file."""
    path = VALID / relative
    documents = [document for document in yaml.safe_load_all(path.read_text()) if document]
    spec = documents[0]
    platform = documents[1] if len(documents) > 1 else None
    return spec, platform


def required_parameters(spec: dict[str, Any]) -> dict[str, Any]:
    """Generated values for required root parameters, as KFP's e2e harness does."""
    definitions = ((spec.get("root") or {}).get("inputDefinitions") or {}).get("parameters") or {}
    return {
        name: _SAMPLE_RUN_PARAMETERS.get(definition.get("parameterType"), "sample")
        for name, definition in definitions.items()
        if not definition.get("isOptional") and "defaultValue" not in definition
    }
