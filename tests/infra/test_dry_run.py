"""`kfps deploy --dry-run` for two stages: the packaged SAM template and deployment package are written, the
plan is printed, no AWS is touched; cfn-lint accepts both templates; and the template
keeps its promises (tags, least privilege, cluster scope, the upload rule on the stack's bucket)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chalicelib.observability import metric_names
from infra import sam
from infra.functions import FUNCTIONS
from infra.functions import policy as role_policy
from tests.infra.conftest import NO_AWS, STAGES, clean_environment, kfps_here


@pytest.fixture(scope="module")
def translated(dry_runs: dict[str, tuple[str, Path]]) -> dict[str, dict[str, Any]]:
    return {
        stage: sam.translate(
            sam.with_code_location(
                json.loads((out / "sam.json").read_text()), **sam.CODE_LOCATION_PLACEHOLDER_ARGS
            ),
            "us-east-1",
        )
        for stage, (_, out) in dry_runs.items()
    }


def test_dry_run_writes_the_template_and_package_and_prints_the_plan(dry_runs) -> None:
    for stage, (stdout, out) in dry_runs.items():
        assert (out / "sam.json").is_file() and (out / "deployment.zip").is_file()
        assert f"stack kfps-{stage} would have" in stdout
        assert "10 × AWS::DynamoDB::Table" in stdout
        assert "6 × AWS::Lambda::Function" in stdout
    assert "DataProtection = 'true'" in dry_runs["prod"][0]
    assert "DataProtection = 'false'" in dry_runs["dev"][0]
    assert "SubnetIds = 'subnet-0a,subnet-0b'" in dry_runs["prod"][0]


def test_cfn_lint_accepts_both_stages(dry_runs) -> None:
    """The packaged SAM templates (cfn-lint translates them with aws-sam-translator, as `kfps deploy` does)."""
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            *(str(out / "sam.json") for _, out in dry_runs.values()),
        ],
        capture_output=True,
        text=True,
        env=clean_environment(AWS_DEFAULT_REGION="us-east-1"),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_taggable_resource_carries_project_and_stage(translated) -> None:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    untagged = []
    for name, resource in translated["dev"]["Resources"].items():
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource["Type"])
        if "Tags" not in schema.schema.get("properties", {}):
            continue
        if resource["Type"] == "AWS::Events::Rule":
            continue  # SAM cannot tag the rules it generates; they get the stack's tags (see test_stack_in_moto)
        tags = resource["Properties"].get("Tags")
        pairs = tags if isinstance(tags, dict) else {t["Key"]: t["Value"] for t in tags or []}
        if pairs.get("project") != "kfp-serverless" or pairs.get("stage") != "dev":
            untagged.append(f"{name} ({resource['Type']})")
    assert untagged == []


def _role_statements(template: dict[str, Any], role_id: str, in_vpc: bool = False) -> list[dict[str, Any]]:
    statements = []
    for policy in template["Resources"][role_id]["Properties"]["Policies"]:
        document = policy["PolicyDocument"]
        if "Fn::If" in document:
            document = document["Fn::If"][1 if in_vpc else 2]
        statements.extend(document["Statement"])
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def test_no_wildcard_actions_and_no_wildcard_resources_outside_logs(translated) -> None:
    template = translated["prod"]
    roles = [n for n, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == 8
    for role in roles:
        for in_vpc in (False, True):
            for statement in _role_statements(template, role, in_vpc):
                actions = (
                    [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
                )
                assert all("*" not in action for action in actions), (role, statement)
                resources = statement.get("Resource", [])
                resources = resources if isinstance(resources, list) else [resources]
                if "*" in resources:
                    # EC2 network-interface reads support no resource scoping (VPC only).
                    assert in_vpc and actions == ["ec2:DescribeNetworkInterfaces"], (role, statement)


def test_api_role_never_touches_the_cluster_and_reconciler_never_schedules(translated) -> None:
    template = translated["dev"]
    api = _actions(_role_statements(template, "ApiHandlerRole"))
    assert not any(a.startswith("eks:") for a in api)
    assert {"scheduler:CreateSchedule", "iam:PassRole", "lambda:InvokeFunction"} <= api
    pass_role = next(
        s for s in _role_statements(template, "ApiHandlerRole") if s["Action"] == ["iam:PassRole"]
    )
    assert pass_role["Resource"] == [{"Fn::GetAtt": ["SchedulerRole", "Arn"]}]
    for role in ("ReconcileRole", "ReconcileTickRole", "ReconcileResultRole"):
        statements = _role_statements(template, role)
        assert not any(a.startswith(("scheduler:", "iam:")) for a in _actions(statements))
        cluster = next(s for s in statements if s["Action"] == ["eks:DescribeCluster"])
        assert cluster["Resource"] == [
            {"Fn::Sub": "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/${ClusterName}"}
        ]
    for role in ("FireRecurringRunRole", "RegisterUploadedPipelineRole"):
        assert not any(
            a.startswith(("eks:", "scheduler:", "iam:")) for a in _actions(_role_statements(template, role))
        )


def test_reconciler_roles_get_namespace_scoped_cluster_access(translated) -> None:
    entries = {
        r["Properties"]["PrincipalArn"]["Fn::GetAtt"][0]: r["Properties"]
        for r in translated["dev"]["Resources"].values()
        if r["Type"] == "AWS::EKS::AccessEntry"
    }
    assert set(entries) == {"ReconcileRole", "ReconcileTickRole", "ReconcileResultRole"}
    for entry in entries.values():
        (policy,) = entry["AccessPolicies"]
        assert policy["AccessScope"] == {"Type": "namespace", "Namespaces": [{"Ref": "Namespace"}]}


def test_pod_role_reaches_only_task_and_artifact_prefixes(translated) -> None:
    statements = _role_statements(translated["dev"], "PodRole")
    objects = [r["Fn::Sub"] for s in statements if s["Action"] != ["s3:ListBucket"] for r in s["Resource"]]
    assert objects and all(o.startswith("${DataBucket.Arn}/") for o in objects)
    assert {o.removeprefix("${DataBucket.Arn}/") for o in objects} == {"runs/*", "artifacts/*"}


def test_upload_rule_watches_the_stacks_bucket_under_pipelines(translated) -> None:
    rule = translated["dev"]["Resources"]["RegisterUploadedPipelineRegisterUploadedPipelineEvent"]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail"] == {
        "bucket": {"name": [{"Ref": "DataBucket"}]},
        "object": {"key": [{"prefix": "pipelines/"}]},
    }


def test_result_rule_watches_the_stacks_bucket_for_attempt_results(translated) -> None:
    """A task attempt's result.json → the ReconcileResult function, which may kick the reconcile function
    and uses the pass leases; the tick fans out kicks to the reconcile function too."""
    resources = translated["dev"]["Resources"]
    pattern = resources["ReconcileResultReconcileResultEvent"]["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"] == {
        "bucket": {"name": [{"Ref": "DataBucket"}]},
        "object": {"key": [{"suffix": "/result.json"}]},
    }
    for role in ("ReconcileResultRole", "ReconcileTickRole"):
        statements = _role_statements(translated["dev"], role)
        kick = next(s for s in statements if s["Action"] == ["lambda:InvokeFunction"])
        assert kick["Resource"] == [{"Fn::GetAtt": ["Reconcile", "Arn"]}]
        tables = next(s for s in statements if "dynamodb:UpdateItem" in s["Action"])
        assert any("-leases" in str(arn) for arn in tables["Resource"])
    api_tables = next(
        s
        for s in _role_statements(translated["dev"], "ApiHandlerRole")
        if "dynamodb:UpdateItem" in s["Action"]
    )
    assert not any("-leases" in str(arn) for arn in api_tables["Resource"])
    assert resources["LeasesTable"]["Properties"]["TimeToLiveSpecification"]["Enabled"] is True


def test_async_functions_send_failures_to_the_dead_letter_queue(translated) -> None:
    configs = {
        r["Properties"]["FunctionName"]["Ref"]: r["Properties"]
        for r in translated["dev"]["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    assert set(configs) == {
        "Reconcile",
        "ReconcileTick",
        "ReconcileResult",
        "FireRecurringRun",
        "RegisterUploadedPipeline",
    }
    for config in configs.values():
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
        }


def test_bad_options_are_refused_naming_the_option() -> None:
    bad_stage = kfps_here(
        "deploy",
        "--stage",
        "Prod!",
        "--cluster",
        "c",
        "--namespace",
        "ns",
        "--dry-run",
        env=clean_environment(**NO_AWS),
    )
    assert bad_stage.returncode == 2 and "--stage 'Prod!'" in bad_stage.stderr
    half_vpc = kfps_here(
        "deploy",
        "--stage",
        "dev",
        "--cluster",
        "c",
        "--namespace",
        "ns",
        "--vpc-subnets",
        "subnet-1",
        "--dry-run",
        env=clean_environment(**NO_AWS),
    )
    assert half_vpc.returncode == 2 and "--vpc-subnets and --security-groups" in half_vpc.stderr


def test_deployment_package_is_within_budget(dry_runs) -> None:
    """Code and dependency layer together (Lambda counts both against its limits)."""
    out = dry_runs["dev"][1]
    zipped = sum((out / name).stat().st_size for name in ("deployment.zip", "layer-deployment.zip"))
    assert zipped <= 30 * 2**20
    assert (out / "deployment.zip").stat().st_size <= 2**20, "dependencies belong in the layer"


def test_a_stage_whose_inputs_did_not_change_is_not_packaged_again(dry_runs, build_root) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in dry_runs["dev"][1].iterdir()}
    again = kfps_here(
        "deploy", "--stage", "dev", *STAGES["dev"], "--region", "us-east-1", "--dry-run",
        "--build-dir", str(build_root), env=clean_environment(**NO_AWS),
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "unchanged since the last packaging" in again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in dry_runs["dev"][1].iterdir()} == before


def test_packaged_roles_carry_exactly_the_least_privilege_policies(dry_runs) -> None:
    """The merge template's policies replace Chalice's placeholder policy (no deep-merge leftovers)."""
    template = json.loads((dry_runs["dev"][1] / "sam.json").read_text())
    for function in FUNCTIONS:
        role = template["Resources"][function.role_id]["Properties"]
        assert role["Policies"] == [
            {"PolicyName": "least-privilege", "PolicyDocument": role_policy(function)}
        ]


def test_api_lambda_imports_neither_kubernetes_nor_cel(dry_runs, tmp_path) -> None:
    """What the API Lambda loads, from the deployment package and its layer alone (no site-packages): the
    kubernetes client and cel-python belong to the reconciler only."""
    out = dry_runs["dev"][1]
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        archive.extractall(tmp_path / "task")
    with zipfile.ZipFile(out / "layer-deployment.zip") as archive:
        archive.extractall(tmp_path / "opt")
    site = tmp_path / "opt" / "python" / "lib" / "python3.11" / "site-packages"
    code = (
        f"import sys; sys.path[:0] = [{str(tmp_path / 'task')!r}, {str(site)!r}]; import app; "
        "print(sorted(m for m in ('kubernetes', 'celpy', 'kfp.dsl', 'infra') if m in sys.modules))"
    )
    env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": os.environ.get("PATH", "")}
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert not (tmp_path / "task" / "infra").exists(), "deployment tooling must stay out of the package"
    assert not (tmp_path / "task" / "boto3").exists(), "dependencies belong in the layer"


def test_api_gateway_answers_an_oversize_body_with_413_naming_the_upload_route(translated) -> None:
    """SAM puts the gateway response into the imported OpenAPI document of the REST API."""
    api = translated["dev"]["Resources"]["RestAPI"]["Properties"]["Body"]
    response = api["x-amazon-apigateway-gateway-responses"]["REQUEST_TOO_LARGE"]
    assert response["statusCode"] == "413"
    body = json.loads(response["responseTemplates"]["application/json"])
    assert "POST /apis/v2beta1/pipelines/uploads" in body["error_message"]


def test_api_gateway_answers_an_unknown_method_or_path_with_a_json_404(translated) -> None:
    api = translated["dev"]["Resources"]["RestAPI"]["Properties"]["Body"]
    response = api["x-amazon-apigateway-gateway-responses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert response["statusCode"] == "404"
    assert "no route" in json.loads(response["responseTemplates"]["application/json"])["error_message"]


def test_every_function_gets_its_log_level_metrics_namespace_and_stage(dry_runs) -> None:
    """Logs and metrics are configured per stage through each function's environment."""
    template = json.loads((dry_runs["dev"][1] / "sam.json").read_text())
    functions = {function.logical_id for function in FUNCTIONS}
    for logical_id in functions:
        variables = template["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}, logical_id
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == metric_names.NAMESPACE, logical_id
        assert variables["KFPS_STAGE"] == "dev", logical_id
