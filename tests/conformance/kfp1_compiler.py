"""Compiling KFP v1 pipelines with the kfp 1.8.22 SDK, which lives in its own venv (`tests.support.kfp1`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.kfp1 import kfp1_python

PIPELINES = Path(__file__).resolve().parent / "v1_pipelines"

_SCRIPT = """
import importlib.util, sys
from kfp import compiler
spec = importlib.util.spec_from_file_location("v1_source", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
compiler.Compiler().compile(getattr(module, sys.argv[2]), sys.argv[3])
"""


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
