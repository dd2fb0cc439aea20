"""`make package`: the Chalice app packages as a SAM template merged with the data plane, and cfn-lint
accepts it; the deployment package stays within the budget."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("package")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "KFPS_"))}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    subprocess.run(
        [sys.executable, "infra/cloudformation.py", "--stage", "dev", str(out / "resources.json")],
        cwd=REPO_ROOT,
        env=env,
        check=True,
    )
    subprocess.run(["make", "-s", "vendor-re2"], cwd=REPO_ROOT, env=env, check=True)
    subprocess.run(
        [
            str(VENV_BIN / "chalice"),
            "package",
            "--stage",
            "dev",
            "--merge-template",
            str(out / "resources.json"),
            str(out / "dev"),
        ],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return out / "dev"


def test_template_has_data_plane_functions_and_schedules(packaged):
    template = json.loads((packaged / "sam.json").read_text())
    resources = template["Resources"]
    tables = {r["Properties"]["TableName"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"}
    assert {"kfps-dev-runs", "kfps-dev-tasks", "kfps-dev-experiments", "kfps-dev-names"} <= tables
    runs = next(r for r in resources.values() if r.get("Properties", {}).get("TableName") == "kfps-dev-runs")
    assert {i["IndexName"] for i in runs["Properties"]["GlobalSecondaryIndexes"]} >= {
        "active",
        "by_namespace",
    }
    functions = {name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert {"APIHandler", "Reconcile", "ReconcileTick"} <= functions
    bucket = resources["DataBucket"]["Properties"]
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True


def test_cfn_lint_accepts_the_template(packaged):
    result = subprocess.run(
        [str(VENV_BIN / "cfn-lint"), str(packaged / "sam.json")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_deployment_package_is_within_budget(packaged):
    assert (packaged / "deployment.zip").stat().st_size <= 30 * 2**20


def test_api_lambda_imports_neither_kubernetes_nor_cel(packaged, tmp_path):
    """What the API Lambda loads, from the deployment package alone (no site-packages): the kubernetes
    client and cel-python belong to the reconciler only."""
    import zipfile

    with zipfile.ZipFile(packaged / "deployment.zip") as archive:
        archive.extractall(tmp_path / "lambda")
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path / 'lambda')!r}); import app; "
        "print(sorted(m for m in ('kubernetes', 'celpy', 'kfp.dsl') if m in sys.modules))"
    )
    env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": os.environ.get("PATH", "")}
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
