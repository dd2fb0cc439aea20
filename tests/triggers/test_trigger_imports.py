"""The triggers package stays cheap to import for the API Lambda's cold start."""

import subprocess
import sys
from pathlib import Path

MODULES = [
    "chalicelib.triggers.schedule_expressions",
    "chalicelib.triggers.firing",
    "chalicelib.triggers.fire_events",
    "chalicelib.triggers.s3_events",
    "chalicelib.triggers.scheduler_client",
]


def test_importing_triggers_loads_neither_boto3_nor_croniter() -> None:
    probe = (
        f"import sys\nfor name in {MODULES!r}: __import__(name)\n"
        "loaded = sorted(m for m in ('boto3', 'botocore', 'croniter') if m in sys.modules)\n"
        "sys.exit(', '.join(loaded) or None)"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[2],
    )

    assert result.returncode == 0, result.stderr
