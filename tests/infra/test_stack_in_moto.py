"""`kfps deploy` itself, pointed at a moto server: the translated template becomes a stack, every resource
moto's CloudFormation supports is created, and the app — configured from what the stack gave its API
function — uploads a pipeline and completes a run against exactly the stack's tables and bucket. A second
stage deploys side by side and is destroyed, keeping and then deleting its data."""

import subprocess
import sys

from kfp import compiler, dsl

from chalicelib.local.stack import free_port
from infra.stage import data_bucket_name
from infra.tables import table_names
from tests.infra.conftest import (
    DEPLOYED_STAGE,
    REGION,
    REPO_ROOT,
    STAGES,
    aws_env,
    client,
    deploy_stage,
    kfps_here,
)

STACK = f"kfps-{DEPLOYED_STAGE}"
# Resource types moto's CloudFormation (5.2.5) cannot create; the stack creates everything else.
MOTO_UNSUPPORTED = {
    "AWS::ApiGateway::Stage",
    "AWS::CloudWatch::Alarm",
    "AWS::EKS::AccessEntry",
    "AWS::EKS::PodIdentityAssociation",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::S3::BucketPolicy",
}
# Created, but moto reports no physical id for them.
NO_PHYSICAL_ID = {"AWS::Lambda::Permission", "AWS::ApiGateway::Deployment"}


def test_deploy_prints_the_api_url_and_the_client_line(deployed) -> None:
    url = deployed["outputs"]["ApiUrl"]
    assert url.startswith("https://") and url.endswith("/api")
    assert f"kfp.Client(host={url!r}, existing_token=TOKEN)" in deployed["stdout"]
    assert f"kfps token create --stage-tables kfps-{DEPLOYED_STAGE} --namespace NS" in deployed["stdout"]
    assert "uploaded layer-deployment.zip" in deployed["stdout"]
    assert deployed["stack"]["StackStatus"] == "CREATE_COMPLETE"
    assert {t["Key"]: t["Value"] for t in deployed["stack"]["Tags"]} == {
        "project": "kfp-serverless",
        "stage": DEPLOYED_STAGE,
    }


def test_every_resource_moto_supports_is_created(deployed, moto_endpoint) -> None:
    cfn = client(moto_endpoint, "cloudformation")
    resources = cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    created = {r["LogicalResourceId"]: r for r in resources if r["ResourceStatus"] == "CREATE_COMPLETE"}
    # The plain CloudFormation `kfps deploy` made of the packaged SAM template (no transform left in it).
    template = cfn.get_template(StackName=STACK)["TemplateBody"]
    assert "Transform" not in template
    assert {r["Type"] for r in template["Resources"].values()} >= {
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::DynamoDB::Table",
    }
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
    assert tables == sorted(table_names(STACK))
    assert outputs["DataBucketName"] == data_bucket_name(DEPLOYED_STAGE, "123456789012", REGION)
    s3 = client(moto_endpoint, "s3")
    s3.head_bucket(Bucket=outputs["DataBucketName"])  # (moto's CloudFormation ignores its versioning setting)
    lambdas = client(moto_endpoint, "lambda")
    for function, role in (("APIHandler", "ApiHandlerRole"), ("Reconcile", "ReconcileRole")):
        config = lambdas.get_function_configuration(FunctionName=outputs[f"{function}FunctionName"])
        assert config["Role"] == outputs[f"{role}Arn"]
        assert [layer["Arn"].split(":")[5] for layer in config["Layers"]] == ["layer"], "the dependency layer"
        env = config["Environment"]["Variables"]
        assert env["KFPS_TABLE_PREFIX"] == outputs["TablePrefix"]
        assert env["KFPS_BUCKET"] == outputs["DataBucketName"]
    api_env = lambdas.get_function_configuration(FunctionName=outputs["APIHandlerFunctionName"])[
        "Environment"
    ]["Variables"]
    assert api_env["KFPS_RECONCILE_KICK"] == f"lambda:{outputs['ReconcileFunctionName']}"
    assert api_env["KFPS_SCHEDULER_ROLE"] == outputs["SchedulerRoleArn"]
    assert "KFPS_EKS_CLUSTER" not in api_env
    assert api_env["KFPS_MULTI_USER"] == "true", "a cloud stage never runs open"


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
        f"options = StackOptions(port={port}, data_dir=Path({str(tmp_path)!r}), store='dynamodb',\n"
        f"    aws_endpoint={moto_endpoint!r},\n"
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


def test_second_stage_side_by_side_then_destroyed_keeping_then_deleting_its_data(
    deployed, moto_endpoint, build_root
) -> None:
    """ "prod" deploys beside "dev"; `kfps destroy` keeps its data, a redeploy then says why it cannot
    proceed, and `kfps destroy --delete-data` removes the kept tables and bucket; "dev" is untouched."""
    env = aws_env(moto_endpoint)
    created = deploy_stage("prod", build_root, env)
    assert created.returncode == 0, created.stdout + created.stderr
    assert "unchanged layer-deployment.zip" in created.stdout, "stages share the uploaded dependency layer"
    cfn = client(moto_endpoint, "cloudformation")
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName="kfps-prod")["Stacks"][0]["Outputs"]
    }
    dynamodb, s3 = client(moto_endpoint, "dynamodb"), client(moto_endpoint, "s3")
    s3.put_object(Bucket=outputs["DataBucketName"], Key="runs/r/spec.json", Body=b"{}")

    kept = kfps_here("destroy", "--stage", "prod", env=env)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "kept the data" in kept.stdout and outputs["DataBucketName"] in kept.stdout
    assert [
        s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "kfps-prod"
    ] == ["DELETE_COMPLETE"]
    assert outputs["RunsTableName"] in dynamodb.list_tables()["TableNames"]

    again = kfps_here("deploy", "--stage", "prod", *STAGES["prod"], "--build-dir", str(build_root), env=env)
    assert again.returncode == 2
    assert "has data left from an earlier deployment" in again.stderr
    assert "kfps destroy --stage prod --delete-data" in again.stderr

    no_stack = kfps_here("destroy", "--stage", "prod", env=env)
    assert no_stack.returncode == 2 and "there is no stack kfps-prod" in no_stack.stderr
    assert "--delete-data removes it" in no_stack.stderr

    deleted = kfps_here("destroy", "--stage", "prod", "--delete-data", env=env)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert not [t for t in dynamodb.list_tables()["TableNames"] if t.startswith("kfps-prod-")]
    assert outputs["DataBucketName"] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    nothing = kfps_here("destroy", "--stage", "prod", "--delete-data", env=env)
    assert nothing.returncode == 2 and "there is no stack kfps-prod" in nothing.stderr

    assert deployed["outputs"]["RunsTableName"] in dynamodb.list_tables()["TableNames"]
    assert cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
