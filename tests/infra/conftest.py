from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
KFPS = str(Path(sys.executable).parent / "kfps")


def clean_environment(**extra: str) -> dict[str, str]:
    """The caller's environment without the test session's AWS endpoint and app settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KFPS_"))}
    env.update(extra)
    return env


def kfps(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KFPS, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True)


@pytest.fixture(scope="session")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build directory for every packaging in the session (Chalice caches dependencies there)."""
    return tmp_path_factory.mktemp("build")
