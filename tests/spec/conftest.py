"""Fixtures for the spec tests: the KFP compiled corpus and a small hand-built pipeline spec."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest


def corpus_root() -> Path:
    """Return the shared corpus directory (KFPS_CORPUS overrides `<repo>/../shared/corpus`)."""
    override = os.environ.get("KFPS_CORPUS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


KFP_COMPILED = corpus_root() / "kfp-compiled"

_SMALL_SPEC: dict[str, Any] = {
    "pipelineInfo": {"name": "small-pipeline", "displayName": "Small pipeline", "description": "two steps"},
    "schemaVersion": "2.1.0",
    "sdkVersion": "kfp-2.17.3",
    "root": {
        "inputDefinitions": {
            "parameters": {
                "text": {"parameterType": "STRING"},
                "count": {"parameterType": "NUMBER_INTEGER", "defaultValue": 1.0},
            }
        },
        "dag": {
            "tasks": {
                "produce": {
                    "taskInfo": {"name": "produce"},
                    "componentRef": {"name": "comp-produce"},
                    "inputs": {"parameters": {"text": {"componentInputParameter": "text"}}},
                },
                "consume": {
                    "taskInfo": {"name": "consume"},
                    "componentRef": {"name": "comp-consume"},
                    "dependentTasks": ["produce"],
                    "inputs": {
                        "parameters": {
                            "value": {
                                "taskOutputParameter": {
                                    "producerTask": "produce",
                                    "outputParameterKey": "Output",
                                }
                            }
                        }
                    },
                },
            }
        },
    },
    "components": {
        "comp-produce": {
            "executorLabel": "exec-produce",
            "inputDefinitions": {"parameters": {"text": {"parameterType": "STRING"}}},
            "outputDefinitions": {"parameters": {"Output": {"parameterType": "STRING"}}},
        },
        "comp-consume": {
            "executorLabel": "exec-consume",
            "inputDefinitions": {"parameters": {"value": {"parameterType": "STRING"}}},
        },
    },
    "deploymentSpec": {
        "executors": {
            "exec-produce": {"container": {"image": "python:3.11", "command": ["echo"], "args": ["hi"]}},
            "exec-consume": {"container": {"image": "python:3.11", "command": ["cat"]}},
        }
    },
}


@pytest.fixture
def small_spec() -> dict[str, Any]:
    """A fresh copy of a valid two-task PipelineSpec (produce → consume) that tests may mutate."""
    return copy.deepcopy(_SMALL_SPEC)


def _corpus_files(pattern: str) -> list[Path]:
    if not KFP_COMPILED.is_dir():
        return []
    return sorted(path for path in KFP_COMPILED.glob(pattern) if path.is_file())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `valid_package` over every file in corpus valid/**, `valid_yaml` over its YAML files."""
    valid = _corpus_files("valid/**/*")
    by_fixture = {"valid_package": valid, "valid_yaml": [path for path in valid if path.suffix == ".yaml"]}
    for fixture, paths in by_fixture.items():
        if fixture in metafunc.fixturenames:
            metafunc.parametrize(fixture, paths, ids=[str(path.relative_to(KFP_COMPILED)) for path in paths])


@pytest.fixture
def kfp_compiled() -> Path:
    """The kfp-compiled corpus directory; skips the test when the shared corpus is not present."""
    if not KFP_COMPILED.is_dir():
        pytest.skip(f"corpus not found at {KFP_COMPILED} (set KFPS_CORPUS)")
    return KFP_COMPILED
