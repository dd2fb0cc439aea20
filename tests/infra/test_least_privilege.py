"""Least privilege, proven on the stage deployed into moto: each function's flows (tests/infra/function_flows.py)
run in a process of their own with the function's deployed environment and its deployed role's credentials,
while moto enforces IAM. Two independent checks:

- moto's IAM enforcement: the allowed flows complete, and calls outside the role's policy are refused. moto
  itself checks only S3 calls against the resource they address and every other service against `*` (which
  a scoped policy never matches); tests/infra/moto_deploy_server.py makes it check DynamoDB (item by item for
  transactions), Lambda, Scheduler and EKS against their resources too.
- every AWS call each flow made (recorded with a botocore event hook) is allowed by that function's policy
  as the template writes it (infra/functions.py, resolved for this stack), by a small policy evaluator
  (tests/infra/iam_policy.py) that also checks what moto cannot: `iam:PassRole` with its condition, the
  object a presigned URL is signed for, and list-prefix conditions. The calls of the simulated step pods are
  checked against the pods' role the same way.
"""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kfp import compiler, dsl

from infra import cluster
from infra.functions import (
    API,
    FIRE_RECURRING_RUN,
    RECONCILE,
    REGISTER_UPLOADED_PIPELINE,
    FunctionAccess,
    policy,
)
from tests.infra.aws_calls import AwsCall, iam_requests
from tests.infra.conftest import DEPLOYED_STAGE, REGION, REPO_ROOT, clean_environment, client
from tests.infra.function_flows import REFUSED
from tests.infra.iam_policy import is_allowed, resolve

ACCOUNT = "123456789012"
STACK = f"kfps-{DEPLOYED_STAGE}"
# In the order they run; "api-after" is the API again once the runs have run.
FLOW_FUNCTIONS: dict[str, FunctionAccess] = {
    "api": API,
    "fire": FIRE_RECURRING_RUN,
    "register": REGISTER_UPLOADED_PIPELINE,
    "reconcile": RECONCILE,
    "api-after": API,
}
POD_ROLE = "PodRole"


@dsl.component
def shout(text: str) -> str:
    return text.upper()


@dsl.component
def keep(text: str, kept: dsl.Output[dsl.Dataset]):
    with open(kept.path, "w") as file:
        file.write(text)


@dsl.pipeline(name="least-privilege")
def shouting(text: str = "hello"):
    keep(text=shout(text=shout(text=text).output).output)


def set_auth(endpoint: str, initial_no_auth_actions: str) -> None:
    """moto's IAM enforcement: "0" checks every request from now on, "inf" none."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=initial_no_auth_actions.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},  # (a form body would be read as form fields)
    )
    urllib.request.urlopen(request, timeout=10).close()


def assume(endpoint: str, role_arn: str) -> dict[str, str]:
    credentials = client(endpoint, "sts").assume_role(RoleArn=role_arn, RoleSessionName="least-privilege")
    credentials = credentials["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def run_flow(
    flow: str,
    endpoint: str,
    function_env: dict[str, str],
    credentials: dict[str, str],
    inputs: dict,
    tmp: Path,
) -> dict:
    (tmp / f"{flow}-in.json").write_text(json.dumps(inputs))
    env = clean_environment(
        **function_env,
        AWS_ENDPOINT_URL=endpoint,
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        AWS_ACCESS_KEY_ID=credentials["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=credentials["aws_secret_access_key"],
        AWS_SESSION_TOKEN=credentials["aws_session_token"],
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.infra.function_flows",
            flow,
            str(tmp / f"{flow}-in.json"),
            str(tmp / f"{flow}-out.json"),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{flow} flow failed:\n{result.stdout}\n{result.stderr[-6000:]}"
    return json.loads((tmp / f"{flow}-out.json").read_text())


@pytest.fixture(scope="module")
def flows(deployed, moto_endpoint, tmp_path_factory) -> dict[str, Any]:
    outputs = deployed["outputs"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in deployed["stack"]["Parameters"]}
    tmp = tmp_path_factory.mktemp("flows")
    lambdas = client(moto_endpoint, "lambda")
    environments = {
        flow: lambdas.get_function_configuration(FunctionName=outputs[f"{function.logical_id}FunctionName"])[
            "Environment"
        ]["Variables"]
        for flow, function in FLOW_FUNCTIONS.items()
    }
    credentials = {
        flow: assume(moto_endpoint, outputs[f"{f.role_id}Arn"]) for flow, f in FLOW_FUNCTIONS.items()
    }
    pod_credentials = assume(moto_endpoint, outputs["PodRoleArn"])
    # What exists outside the stack: the cluster, and a package a user put under pipelines/.
    client(moto_endpoint, "eks").create_cluster(
        name=parameters["ClusterName"], roleArn=outputs["PodRoleArn"], resourcesVpcConfig={}
    )
    package = tmp / "shout.yaml"
    compiler.Compiler().compile(shouting, str(package))
    bucket = outputs["DataBucketName"]
    put = client(moto_endpoint, "s3").put_object(
        Bucket=bucket, Key="pipelines/team/shout.yaml", Body=package.read_bytes()
    )
    fire_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{outputs['FireRecurringRunFunctionName']}"
    common = {"bucket": bucket, "any_function_arn": fire_arn, "any_role_arn": outputs["SchedulerRoleArn"]}
    token = admin_token(moto_endpoint)

    results: dict[str, Any] = {"environments": environments}
    set_auth(moto_endpoint, "0")
    try:
        results["api"] = api = run_flow(
            "api",
            moto_endpoint,
            environments["api"],
            credentials["api"],
            {
                **common,
                "token": token,
                "package": str(package),
                "name": "least-privilege",
                "package_url": f"s3://{bucket}/pipelines/team/shout.yaml",
                "cluster": parameters["ClusterName"],
                "foreign_table": "kfps-other-runs",
            },
            tmp,
        )
        results["fire"] = fire = run_flow(
            "fire",
            moto_endpoint,
            environments["fire"],
            credentials["fire"],
            {**common, "recurring_run_ids": api["recurring_run_ids"]},
            tmp,
        )
        fired = [outcome["run_id"] for outcome in fire["outcomes"]]
        results["register"] = run_flow(
            "register",
            moto_endpoint,
            environments["register"],
            credentials["register"],
            {
                **common,
                "key": "pipelines/team/shout.yaml",
                "etag": put["ETag"].strip('"'),
                "version_id": put.get("VersionId", ""),
                "runs_table": outputs["RunsTableName"],
            },
            tmp,
        )
        results["reconcile"] = run_flow(
            "reconcile",
            moto_endpoint,
            environments["reconcile"],
            credentials["reconcile"],
            {
                **common,
                "run_id": api["run_id"],
                "fired_run_ids": fired,
                "pod_credentials": pod_credentials,
                "names_table": outputs["NamesTableName"],
            },
            tmp,
        )
        results["api-after"] = run_flow(
            "api-after",
            moto_endpoint,
            environments["api"],
            credentials["api"],
            {**api, "fired_run_ids": fired, "token": token},
            tmp,
        )
    finally:
        set_auth(moto_endpoint, "inf")
    return results


def admin_token(endpoint: str) -> str:
    """An admin API token in the stage's tokens table, made as the operator would (`kfps token create
    --stage-tables`, with the account's own credentials): a cloud stage serves no request without one."""
    from chalicelib.auth.tokens import issue_token
    from chalicelib.settings import DYNAMODB_STORE, AwsAccess, Settings
    from chalicelib.store import open_store
    from chalicelib.timestamps import now_text

    access = AwsAccess(REGION, endpoint, "testing", "testing")
    store = open_store(Settings(store=DYNAMODB_STORE, table_prefix=STACK, aws=access))
    return issue_token(store.tokens, (), True, now_text()).text


def stack_names(deployed: dict[str, Any]) -> dict[str, str]:
    """What the template's `Ref`s and `Fn::GetAtt`s resolve to in the deployed stack."""
    outputs = deployed["outputs"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in deployed["stack"]["Parameters"]}

    def function_arn(logical_id: str) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{outputs[logical_id + 'FunctionName']}"

    return {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::StackName": STACK,
        "ClusterName": parameters["ClusterName"],
        "DataBucket": outputs["DataBucketName"],
        "DataBucket.Arn": f"arn:aws:s3:::{outputs['DataBucketName']}",
        "ScheduleGroup": STACK,  # its Name is the stack name
        "SchedulerRole.Arn": outputs["SchedulerRoleArn"],
        "Reconcile.Arn": function_arn("Reconcile"),
        "FireRecurringRun.Arn": function_arn("FireRecurringRun"),
        "DeadLetterQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{outputs['DeadLetterQueueUrl'].rsplit('/', 1)[-1]}",
    }


def statements_of(deployed: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    names = stack_names(deployed)
    by_principal = {
        flow: resolve(policy(function), names, {"InVpc": False})["Statement"]
        for flow, function in FLOW_FUNCTIONS.items()
    }
    pod_policy = cluster.pod_role({})["Properties"]["Policies"][0]["PolicyDocument"]
    by_principal[POD_ROLE] = resolve(pod_policy, names, {})["Statement"]
    return by_principal


def recorded(flows: dict[str, Any], flow: str) -> list[AwsCall]:
    return [AwsCall.from_json(call) for call in flows[flow]["calls"]]


def test_the_flows_complete_under_iam_enforcement(flows) -> None:
    assert [o["result"] for o in flows["fire"]["outcomes"]] == ["created", "created"]
    assert [o["result"] for o in flows["register"]["outcomes"]] == ["registered", "duplicate"]
    states = flows["reconcile"]["states"]
    # (the pipeline's root DAG node and its three tasks)
    assert states[flows["api"]["run_id"]] == {"run": "SUCCEEDED", "tasks": ["SUCCEEDED"] * 4}
    for outcome in flows["fire"]["outcomes"]:
        assert states[outcome["run_id"]] == {"run": "SUCCEEDED", "tasks": ["CACHED"] * 3 + ["SUCCEEDED"]}
    assert flows["reconcile"]["pods"] == 3, "the fired runs' tasks came from the cache, not from pods"
    assert flows["api-after"]["log"] == "HELLO\n" and flows["api-after"]["artifact"] == "HELLO"


def test_moto_refuses_calls_outside_each_policy(flows) -> None:
    for flow in ("api", "fire", "register", "reconcile"):
        refused = flows[flow]["refused"]
        assert refused and set(refused.values()) == {"AccessDenied"}, (flow, refused)


def test_every_recorded_call_is_allowed_by_its_functions_policy_and_refusals_are_not(flows, deployed) -> None:
    statements = statements_of(deployed)
    problems = []
    for flow in FLOW_FUNCTIONS:
        for call in recorded(flows, flow):
            principal = flow if call.principal == "default" else call.principal
            policy_of = statements[flow if principal == REFUSED else principal]
            for request in iam_requests(call, ACCOUNT, REGION):
                if is_allowed(policy_of, request) == (principal == REFUSED):
                    verdict = "allowed" if principal == REFUSED else "refused"
                    problems.append(
                        f"{flow}/{principal}: {call.service}:{call.operation} → {request} {verdict}"
                    )
    assert problems == []


def test_the_flows_exercise_what_each_function_is_for(flows) -> None:
    def operations(flow: str, principal: str = "default") -> set[str]:
        return {f"{c.service}:{c.operation}" for c in recorded(flows, flow) if c.principal == principal}

    assert {
        "dynamodb:TransactWriteItems",
        "s3:PutObject",
        "s3:GetObject",
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
        "lambda:Invoke",
    } <= operations("api")
    assert {"eks:DescribeCluster", "s3:PutObject", "s3:GetObject", "dynamodb:Query"} <= operations(
        "reconcile"
    )
    assert {"s3:GetObject", "s3:PutObject"} <= operations("reconcile", POD_ROLE)
    assert {"dynamodb:TransactWriteItems", "s3:GetObject"} <= operations("register")
    assert "dynamodb:TransactWriteItems" in operations("fire") or "dynamodb:PutItem" in operations("fire")


def test_each_function_is_granted_exactly_the_tables_it_uses(flows) -> None:
    """Table grants are whole tables: a granted table no flow touches is a grant too many."""
    used_by: dict[str, set[str]] = {}
    for flow, function in FLOW_FUNCTIONS.items():
        used = used_by.setdefault(function.logical_id, set())
        for call in recorded(flows, flow):
            if call.principal == "default" and call.service == "dynamodb":
                for request in iam_requests(call, ACCOUNT, REGION):
                    used.add(request.resource.split(":table/")[1].split("/")[0].removeprefix(f"{STACK}-"))
    for function in set(FLOW_FUNCTIONS.values()):
        assert used_by[function.logical_id] == set(function.table_kinds), function.logical_id
