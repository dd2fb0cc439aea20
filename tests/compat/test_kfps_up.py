"""`kfps up` (what `make up` runs) starts everything from nothing and stops it on SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from chalicelib.local.stack import free_port


def test_kfps_up_serves_the_api_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KFPS_"))}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chalicelib.local.cli",
            "up",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        banner = ""
        deadline = time.monotonic() + 60
        while "kfp.Client(host=" not in banner and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            banner += line
        assert f"kfp.Client(host='http://127.0.0.1:{port}')" in banner, banner
        assert f"dashboard: http://127.0.0.1:{port}/" in banner, banner
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/apis/v2beta1/healthz", timeout=10) as response:
            assert json.loads(response.read()) == {"multi_user": False, "pipeline_store": "dynamodb"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert b'<script type="module" src="dashboard/app.js">' in response.read()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
