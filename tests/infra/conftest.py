"""What the deployment tests share, built once per session: the dry runs of two stages (the only `chalice
package` runs; `kfps deploy` of the same stage reuses what a dry run packaged), and one moto server, in its
own process, with the "dev" stage deployed into it by `kfps deploy`."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local.stack import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
KFPS = str(Path(sys.executable).parent / "kfps")
REGION = "us-east-1"
# Two stages as an operator would deploy them; "dev" goes into moto, "prod" tests a second stage side by side.
STAGES = {
    "dev": ["--cluster", "kfp-dev", "--namespace", "kubeflow"],
    "prod": [
        "--cluster",
        "kfp-prod",
        "--namespace",
        "pipelines",
        "--vpc-subnets",
        "subnet-0a",
        "subnet-0b",
        "--security-groups",
        "sg-0c",
        "--log-level",
        "WARNING",
    ],
}
DEPLOYED_STAGE = "dev"
# Nothing listens here: a dry run that made any AWS call would fail.
NO_AWS = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_ACCESS_KEY_ID": "none",
    "AWS_SECRET_ACCESS_KEY": "none",
}


def clean_environment(**extra: str) -> dict[str, str]:
    """The caller's environment without the test session's AWS endpoint and app settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KFPS_"))}
    env.update(extra)
    return env


def kfps(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed `kfps` command, in a process of its own with exactly `env`."""
    return subprocess.run([KFPS, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True)


def kfps_here(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`kfps deploy|destroy` run in this process (`infra.cli.main`, what the command calls) with the AWS
    variables of `env` — for the quick calls, sparing a process start each."""
    from infra.cli import main

    saved = {key: value for key, value in os.environ.items() if key.startswith("AWS_")}
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        for key in saved:
            del os.environ[key]
        os.environ.update({key: value for key, value in env.items() if key.startswith("AWS_")})
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(list(args))
    finally:
        for key in [key for key in os.environ if key.startswith("AWS_")]:
            del os.environ[key]
        os.environ.update(saved)
    return subprocess.CompletedProcess(["kfps", *args], code, stdout.getvalue(), stderr.getvalue())


def aws_env(endpoint: str, **extra: str) -> dict[str, str]:
    """A clean environment whose AWS is the moto server at `endpoint`."""
    return clean_environment(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        **extra,
    )


def client(endpoint: str, service: str, **credentials: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=credentials.get("aws_access_key_id", "testing"),
        aws_secret_access_key=credentials.get("aws_secret_access_key", "testing"),
        aws_session_token=credentials.get("aws_session_token"),
    )


def deploy_stage(stage: str, build_root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return kfps("deploy", "--stage", stage, *STAGES[stage], "--build-dir", str(build_root), env=env)


@pytest.fixture(scope="session")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build directory for the session (the dependency layer is cached across sessions anyway)."""
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def dry_runs(build_root: Path) -> dict[str, tuple[str, Path]]:
    """`kfps deploy --dry-run` of both stages, with an AWS endpoint nothing listens on: any AWS call fails."""
    no_aws = clean_environment(**NO_AWS)
    results = {}
    for stage in STAGES:
        result = kfps(
            "deploy", "--stage", stage, *STAGES[stage], "--region", REGION, "--dry-run",
            "--build-dir", str(build_root), env=no_aws,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        results[stage] = (result.stdout, build_root / stage)
    return results


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The deployment tests' own moto server (tests/infra/moto_deploy_server.py); its log is moto.log in the
    session's temporary directory."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "moto_deploy_server.py"), str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=clean_environment(),
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.3)
    yield endpoint
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    log.close()


@pytest.fixture(scope="session")
def deployed(moto_endpoint: str, build_root: Path, dry_runs: dict[str, tuple[str, Path]]) -> dict[str, Any]:
    """The "dev" stage deployed into moto by `kfps deploy` (reusing its dry run's package)."""
    result = deploy_stage(DEPLOYED_STAGE, build_root, aws_env(moto_endpoint))
    assert result.returncode == 0, result.stdout + result.stderr
    stack = client(moto_endpoint, "cloudformation").describe_stacks(StackName=f"kfps-{DEPLOYED_STAGE}")
    stack = stack["Stacks"][0]
    return {
        "stdout": result.stdout,
        "stack": stack,
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]},
        "template": json.loads((build_root / DEPLOYED_STAGE / "sam.json").read_text()),
    }
