"""`kfps deploy` itself, pointed at a moto server: the translated template becomes a stack, every resource
moto's CloudFormation supports is created, and the app — configured from what the stack gave its API
function — uploads a pipeline and completes a run against exactly the stack's tables and bucket. Then
`kfps destroy --delete-data` removes it all."""

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp import compiler, dsl

from chalicelib.local.stack import free_port
from tests.infra.conftest import REPO_ROOT, clean_environment, kfps

STAGE = "ci"
STACK = f"kfps-{STAGE}"
# Resource types moto's CloudFormation (5.2.5) cannot create; the stack creates everything else.
MOTO_UNSUPPORTED = {
    "AWS::ApiGateway::Stage",
    "AWS::CloudWatch::Alarm",
    "AWS::EKS::AccessEntry",
    "AWS::EKS::PodIdentityAssociation",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::S3::BucketPolicy",
    "AWS::Scheduler::ScheduleGroup",
}
# Created, but moto reports no physical id for them.
NO_PHYSICAL_ID = {"AWS::Lambda::Permission", "AWS::ApiGateway::Deployment"}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "moto_deploy_server.py"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=clean_environment(),
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise
            time.sleep(0.3)
    yield endpoint
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)


def aws_env(endpoint: str) -> dict[str, str]:
    return clean_environment(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    )


def client(endpoint: str, service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def deploy_stage(build_root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return kfps(
        "deploy",
        "--stage",
        STAGE,
        "--cluster",
        "kfp-ci",
        "--namespace",
        "kubeflow",
        "--build-dir",
        str(build_root),
        env=env,
    )


@pytest.fixture(scope="module")
def deployed(moto_endpoint: str, build_root: Path) -> dict[str, Any]:
    result = deploy_stage(build_root, aws_env(moto_endpoint))
    assert result.returncode == 0, result.stdout + result.stderr
    stack = client(moto_endpoint, "cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {
        "stdout": result.stdout,
        "stack": stack,
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]},
        "template": json.loads((build_root / STAGE / "sam.json").read_text()),
    }


def test_deploy_prints_the_api_url_and_the_client_line(deployed) -> None:
    url = deployed["outputs"]["ApiUrl"]
    assert url.startswith("https://") and url.endswith("/api")
    assert f"kfp.Client(host={url!r})" in deployed["stdout"]
    assert deployed["stack"]["StackStatus"] == "CREATE_COMPLETE"
    assert {t["Key"]: t["Value"] for t in deployed["stack"]["Tags"]} == {
        "project": "kfp-serverless",
        "stage": STAGE,
    }


def test_every_resource_moto_supports_is_created(deployed, moto_endpoint) -> None:
    resources = client(moto_endpoint, "cloudformation").list_stack_resources(StackName=STACK)[
        "StackResourceSummaries"
    ]
    created = {r["LogicalResourceId"]: r for r in resources if r["ResourceStatus"] == "CREATE_COMPLETE"}
    sam_template = deployed["template"]
    from infra import sam

    template = sam.translate(sam.with_code_location(sam_template, "b", "k"), "us-east-1")
    missing = []
    for name, resource in template["Resources"].items():
        if resource["Type"] in MOTO_UNSUPPORTED:
            continue
        summary = created.get(name)
        if summary is None or (
            not summary.get("PhysicalResourceId") and resource["Type"] not in NO_PHYSICAL_ID
        ):
            missing.append(f"{name} ({resource['Type']})")
    assert missing == []
    assert MOTO_UNSUPPORTED <= {r["Type"] for r in template["Resources"].values()}


def test_stack_resources_are_what_the_functions_are_told(deployed, moto_endpoint) -> None:
    outputs = deployed["outputs"]
    tables = sorted(client(moto_endpoint, "dynamodb").list_tables()["TableNames"])
    assert tables == sorted(v for k, v in outputs.items() if k.endswith("TableName"))
    assert all(t.startswith(f"{STACK}-") for t in tables)
    s3 = client(moto_endpoint, "s3")
    s3.head_bucket(Bucket=outputs["DataBucketName"])  # (moto's CloudFormation ignores its versioning setting)
    lambdas = client(moto_endpoint, "lambda")
    for function, role in (("APIHandler", "ApiHandlerRole"), ("Reconcile", "ReconcileRole")):
        config = lambdas.get_function_configuration(FunctionName=outputs[f"{function}FunctionName"])
        assert config["Role"] == outputs[f"{role}Arn"]
        env = config["Environment"]["Variables"]
        assert env["KFPS_TABLE_PREFIX"] == outputs["TablePrefix"]
        assert env["KFPS_BUCKET"] == outputs["DataBucketName"]
    api_env = lambdas.get_function_configuration(FunctionName=outputs["APIHandlerFunctionName"])[
        "Environment"
    ]["Variables"]
    assert api_env["KFPS_RECONCILE_KICK"] == f"lambda:{outputs['ReconcileFunctionName']}"
    assert api_env["KFPS_SCHEDULER_ROLE"] == outputs["SchedulerRoleArn"]
    assert "KFPS_EKS_CLUSTER" not in api_env


@dsl.component
def shout(text: str) -> str:
    return text.upper()


@dsl.pipeline(name="deployed-hello")
def deployed_pipeline(text: str = "hello"):
    shout(text=shout(text=text).output)


def test_app_configured_from_the_stack_completes_a_run(deployed, moto_endpoint, tmp_path) -> None:
    """The API and reconciler run locally (Lambda cannot run here) with the API function's deployed
    environment: tables and bucket exactly as the stack made them; only the executor is local processes."""
    import kfp

    outputs = deployed["outputs"]
    api_env = client(moto_endpoint, "lambda").get_function_configuration(
        FunctionName=outputs["APIHandlerFunctionName"]
    )["Environment"]["Variables"]
    tables_before = client(moto_endpoint, "dynamodb").list_tables()["TableNames"]
    port = free_port()
    launcher = (
        "import sys, threading\n"
        "from pathlib import Path\n"
        "from chalicelib.local.stack import LocalStack, StackOptions\n"
        f"options = StackOptions(port={port}, data_dir=Path({str(tmp_path)!r}), aws_endpoint={moto_endpoint!r},\n"
        f"    table_prefix={api_env['KFPS_TABLE_PREFIX']!r}, bucket={api_env['KFPS_BUCKET']!r})\n"
        "with LocalStack(options):\n"
        "    print('ready', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    stack = subprocess.Popen(
        [sys.executable, "-c", launcher],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=aws_env(moto_endpoint),
        text=True,
    )
    try:
        assert stack.stdout.readline().strip() == "ready"
        package = tmp_path / "deployed.yaml"
        compiler.Compiler().compile(deployed_pipeline, str(package))
        kfp_client = kfp.Client(host=f"http://127.0.0.1:{port}")
        pipeline = kfp_client.upload_pipeline(str(package), pipeline_name="deployed-hello")
        version = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]
        experiment = kfp_client.create_experiment("deployed")
        run = kfp_client.run_pipeline(
            experiment.experiment_id,
            "deployed-run",
            pipeline_id=pipeline.pipeline_id,
            version_id=version.pipeline_version_id,
            enable_caching=False,
        )
        finished = kfp_client.wait_for_run_completion(run.run_id, timeout=240)
        assert finished.state == "SUCCEEDED"
    finally:
        stack.stdin.close()
        stack.wait(timeout=60)
    dynamodb = client(moto_endpoint, "dynamodb")
    run_item = dynamodb.get_item(TableName=outputs["RunsTableName"], Key={"run_id": {"S": run.run_id}})
    assert run_item["Item"]["state"]["S"] == "SUCCEEDED"
    keys = [
        o["Key"]
        for o in client(moto_endpoint, "s3").list_objects_v2(Bucket=outputs["DataBucketName"])["Contents"]
    ]
    assert f"runs/{run.run_id}/spec.json" in keys
    assert any(k.startswith(f"packages/{pipeline.pipeline_id}/") for k in keys)
    assert sorted(dynamodb.list_tables()["TableNames"]) == sorted(tables_before), "the app created no table"


def test_destroy_keeps_data_unless_asked_then_deletes_it(deployed, moto_endpoint, build_root) -> None:
    outputs = deployed["outputs"]
    env = aws_env(moto_endpoint)
    kept = kfps("destroy", "--stage", STAGE, env=env)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "kept the data" in kept.stdout
    cfn = client(moto_endpoint, "cloudformation")
    assert all(
        s["StackStatus"] == "DELETE_COMPLETE"
        for s in cfn.list_stacks()["StackSummaries"]
        if s["StackName"] == STACK
    )
    assert outputs["RunsTableName"] in client(moto_endpoint, "dynamodb").list_tables()["TableNames"]
    gone = kfps("destroy", "--stage", STAGE, env=env)
    assert gone.returncode == 2 and f"there is no stack {STACK}" in gone.stderr

    # A second stage deploys side by side; --delete-data removes its tables and bucket too.
    other = kfps(
        "deploy",
        "--stage",
        "ci2",
        "--cluster",
        "kfp-ci",
        "--namespace",
        "kubeflow",
        "--build-dir",
        str(build_root),
        env=env,
    )
    assert other.returncode == 0, other.stdout + other.stderr
    other_bucket = next(
        o["OutputValue"]
        for o in cfn.describe_stacks(StackName="kfps-ci2")["Stacks"][0]["Outputs"]
        if o["OutputKey"] == "DataBucketName"
    )
    deleted = kfps("destroy", "--stage", "ci2", "--delete-data", env=env)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert not [
        t for t in client(moto_endpoint, "dynamodb").list_tables()["TableNames"] if t.startswith("kfps-ci2-")
    ]
    assert other_bucket not in [b["Name"] for b in client(moto_endpoint, "s3").list_buckets()["Buckets"]]
    assert outputs["RunsTableName"] in client(moto_endpoint, "dynamodb").list_tables()["TableNames"]
