"""The trigger handlers as `chalice package --stage X` sees them: the S3 rule watches that stage's bucket."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[2]


def test_upload_rule_watches_the_stage_bucket_under_pipelines() -> None:
    probe = (
        "import json, os\n"
        "from chalice.cli.factory import CLIFactory\n"
        "app = CLIFactory(project_dir='.', environ=os.environ).create_config_obj(chalice_stage_name='prod').chalice_app\n"
        "print(json.dumps({'patterns': [getattr(e, 'event_pattern', None) for e in app.event_sources],\n"
        "                  'functions': sorted(f.name for f in app.pure_lambda_functions)}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KFPS_BUCKET"}

    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO, env=env
    )

    wiring = json.loads(result.stdout.strip().splitlines()[-1])
    expected_detail = {"bucket": {"name": ["kfps-prod-data"]}, "object": {"key": [{"prefix": "pipelines/"}]}}
    assert {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": expected_detail} in wiring[
        "patterns"
    ]
    assert "fire_recurring_run" in wiring["functions"]
