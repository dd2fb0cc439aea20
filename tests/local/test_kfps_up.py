"""`kfps up` (what `make up` runs) starts everything from nothing, says where its data lives, stops cleanly on
SIGINT or SIGTERM sent to the process alone, and refuses a taken port at once with one line."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chalicelib.local.ports import free_port
from tests.local.kfps_process import KfpsUp, clean_environment


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_kfps_up_serves_the_api_on_the_embedded_store_and_stops_on_a_signal(tmp_path: Path, signum: int):
    stack = KfpsUp(tmp_path / "data").start()
    try:
        assert f"kfp.Client(host='{stack.url}')" in stack.banner
        assert "WARNING: open mode" in stack.banner and "anyone who can reach this port" in stack.banner
        assert f"data: {(tmp_path / 'data').resolve()}" in stack.banner
        assert "kfps reset" in stack.banner and "make clean-data" in stack.banner
        assert stack.get("/healthz") == {"multi_user": False, "pipeline_store": "embedded"}
        assert (tmp_path / "data" / "store" / "records.sqlite3").is_file()
    finally:
        stack.signal_process(signum)  # to the process alone, not its group
        assert stack.wait(timeout=30) == 0
    assert stack.group_is_gone()


def test_kfps_up_multi_user_needs_a_token_from_kfps_token_create(tmp_path: Path):
    import json
    import urllib.error
    import urllib.request

    data = tmp_path / "data"
    stack = KfpsUp(data, "--multi-user").start()
    try:
        assert "WARNING: open mode" not in stack.banner
        assert f"kfps token create --data-dir {data} --namespace NS" in stack.banner
        assert stack.get("/healthz")["multi_user"] is True
        created = subprocess.run(
            [
                sys.executable,
                "-m",
                "chalicelib.local.cli",
                "token",
                "create",
                "--data-dir",
                str(data),
                "--namespace",
                "team-a",
            ],
            capture_output=True,
            text=True,
            env=clean_environment(),
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        url = f"{stack.url}/apis/v2beta1/experiments"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=30)
        assert refused.value.code == 401
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.loads(response.read()).get("experiments", []) == []
        listed = subprocess.run(
            [sys.executable, "-m", "chalicelib.local.cli", "token", "list", "--data-dir", str(data)],
            capture_output=True,
            text=True,
            env=clean_environment(),
            timeout=60,
        )
        assert "namespaces team-a" in listed.stdout and token.split("_", 2)[2] not in listed.stdout
    finally:
        stack.signal_process(signal.SIGTERM)
        assert stack.wait(timeout=30) == 0


def test_kfps_up_aws_runs_the_moto_backed_stack(tmp_path: Path):
    stack = KfpsUp(tmp_path / "data", "--aws").start()
    try:
        assert "DynamoDB + S3 on embedded AWS (moto)" in stack.banner
        assert stack.get("/healthz")["pipeline_store"] == "dynamodb"
    finally:
        stack.signal_process(signal.SIGTERM)
        assert stack.wait(timeout=30) == 0
    assert stack.group_is_gone()


def _taken_port() -> tuple[socket.socket, int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder, holder.getsockname()[1]


def _run_to_exit(arguments: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "chalicelib.local.cli",
        "up",
        "--data-dir",
        str(tmp_path / "d"),
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, env=clean_environment(), timeout=60)


def _free(port: int) -> bool:
    """Nothing listens on the port (connections of a stopped server may linger in TIME_WAIT: allowed)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_taken_api_port_fails_at_once_with_one_line(tmp_path: Path):
    holder, port = _taken_port()
    aws_port = free_port()
    with holder:
        started = time.monotonic()
        for arguments in (["--port", str(port)], ["--port", str(port), "--aws", "--aws-port", str(aws_port)]):
            result = _run_to_exit(arguments, tmp_path)
            assert result.returncode != 0
            assert result.stderr.strip().splitlines() == [
                f"kfps: port {port} is already in use; choose another with --port N"
            ]
            assert "Traceback" not in result.stdout + result.stderr
            assert _free(aws_port), "the embedded AWS started before the API kept running"
        assert time.monotonic() - started < 60


def test_a_taken_aws_port_fails_at_once_with_one_line(tmp_path: Path):
    holder, aws_port = _taken_port()
    api_port = free_port()
    with holder:
        result = _run_to_exit(["--port", str(api_port), "--aws", "--aws-port", str(aws_port)], tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"kfps: port {aws_port} is already in use; choose another with --aws-port N"
    ]
    assert _free(api_port)


def test_kfps_reset_deletes_the_data_directory(tmp_path: Path):
    data = tmp_path / "data"
    stack = KfpsUp(data).start()
    stack.signal_process(signal.SIGTERM)
    assert stack.wait(timeout=30) == 0
    command = [sys.executable, "-m", "chalicelib.local.cli", "reset", "--data-dir", str(data), "--yes"]
    result = subprocess.run(command, capture_output=True, text=True, env=clean_environment(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert not data.exists()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "thesis.tex").write_text("x")
    command[-2] = str(tmp_path / "elsewhere")
    refused = subprocess.run(command, capture_output=True, text=True, env=clean_environment(), timeout=60)
    assert refused.returncode != 0 and (tmp_path / "elsewhere" / "thesis.tex").exists()
