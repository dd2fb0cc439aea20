"""The launcher image's Dockerfile passes hadolint. Building and pushing it (`make launcher-image IMAGE=...`)
needs Docker, which this machine and CI do not have, so that is not tested here."""

import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import REPO_ROOT


def test_launcher_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--failure-threshold", "info", str(REPO_ROOT / "infra" / "launcher.Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
