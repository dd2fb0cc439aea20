"""The kfp 1.8.22 SDK's python: it lives in its own venv (`make .venv-kfp1/.installed`; kfp 1.8 and kfp 2 cannot
share one). `KFPS_KFP1_PYTHON` names it (`make test` sets it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PYTHON = REPO_ROOT / ".venv-kfp1" / "bin" / "python"


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
