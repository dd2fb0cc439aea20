"""Compiling KFP v1 pipelines with the kfp 1.8.22 SDK, which lives in its own venv (`make .venv-kfp1/.installed`;
kfp 1.8 and kfp 2 cannot share one). `KFPS_KFP1_PYTHON` names its python (`make test` sets it)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PIPELINES = Path(__file__).resolve().parent / "v1_pipelines"
DEFAULT_PYTHON = REPO_ROOT / ".venv-kfp1" / "bin" / "python"

_SCRIPT = """
import importlib.util, sys
from kfp import compiler
spec = importlib.util.spec_from_file_location("v1_source", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
compiler.Compiler().compile(getattr(module, sys.argv[2]), sys.argv[3])
"""


def kfp1_python() -> Path:
    """The kfp 1.8 venv's python; the test is skipped without it unless `make test` asked for it."""
    python = Path(os.environ.get("KFPS_KFP1_PYTHON") or DEFAULT_PYTHON)
    if not python.exists():
        if os.environ.get("KFPS_KFP1_PYTHON"):
            raise AssertionError(
                f"KFPS_KFP1_PYTHON={python} does not exist: run `make .venv-kfp1/.installed`"
            )
        pytest.skip("the kfp 1.8 venv is missing: `make .venv-kfp1/.installed` builds it (make test does)")
    return python


def compile_v1(source: str, function: str, target: Path) -> Path:
    """Compile pipeline `function` of tests/conformance/v1_pipelines/`source` into `target` (Argo YAML)."""
    done = subprocess.run(
        [str(kfp1_python()), "-c", _SCRIPT, str(PIPELINES / source), function, str(target)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise AssertionError(f"kfp 1.8 could not compile {source}:{function}:\n{done.stderr[-3000:]}")
    return target
