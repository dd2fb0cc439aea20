"""`kfps deploy` and `kfps destroy`: one stage of KFP Serverless in an AWS account, as one CloudFormation
stack.

    kfps deploy --stage NAME --cluster EKS_NAME --namespace NS [--region R]
                [--vpc-subnets subnet-… … --security-groups sg-… …] [--launcher-image URI]
                [--log-level INFO] [--dry-run]
    kfps destroy --stage NAME [--region R] [--delete-data]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from infra.stage import LOG_LEVELS, StageError, StageOptions


def _ids(values: list[str] | None) -> tuple[str, ...]:
    """Accept `a b`, `a,b` and repeated flags alike."""
    return tuple(item for value in values or () for item in value.split(",") if item)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="kfps", description="Deploy KFP Serverless to AWS")
    commands = root.add_subparsers(dest="command", required=True)
    deploy = commands.add_parser("deploy", help="package and create or update the stage's stack")
    deploy.add_argument("--stage", required=True, help="stage name: the stack is kfps-<stage>")
    deploy.add_argument("--cluster", required=True, help="EKS cluster the step pods run on")
    deploy.add_argument("--namespace", required=True, help="Kubernetes namespace of the step pods")
    deploy.add_argument("--region", default="", help="AWS region (default: your AWS configuration)")
    deploy.add_argument("--vpc-subnets", nargs="+", help="subnets for the reconciler (private EKS endpoint)")
    deploy.add_argument("--security-groups", nargs="+", help="security groups for the reconciler")
    deploy.add_argument("--launcher-image", default="", help="launcher image URI (default: the stack's ECR)")
    deploy.add_argument("--log-level", default="INFO", choices=LOG_LEVELS)
    deploy.add_argument("--pod-service-account", default="kfp-serverless-pods")
    deploy.add_argument(
        "--oidc-issuer", default="", help="accept JWTs of this issuer (a Cognito user pool URL)"
    )
    deploy.add_argument("--oidc-audience", default="", help="with --oidc-issuer: the app client id")
    deploy.add_argument("--oidc-jwks-url", default="", help="default: <issuer>/.well-known/jwks.json")
    deploy.add_argument(
        "--oidc-namespaces-claim", default="cognito:groups", help="the claim naming namespaces"
    )
    deploy.add_argument("--oidc-admin-group", default="kfp-admin", help="the claim value that grants admin")
    deploy.add_argument(
        "--oidc-authorize-url",
        default="",
        help="the dashboard's sign-in page (Cognito: https://<domain>/oauth2/authorize)",
    )
    deploy.add_argument(
        "--team-namespaces", nargs="+", help="KFP namespaces whose pods get their own Kubernetes namespace"
    )
    deploy.add_argument(
        "--pod-namespace-template", default="", help="with --team-namespaces, e.g. kfp-{namespace}"
    )
    deploy.add_argument(
        "--profile-service-account", default="default-editor", help="the team pods' service account"
    )
    deploy.add_argument("--build-dir", type=Path, default=None, help="where to write build/<stage>/")
    deploy.add_argument(
        "--dry-run", action="store_true", help="write build/<stage>/ and print the plan; touch no AWS"
    )
    destroy = commands.add_parser("destroy", help="delete the stage's stack (data kept unless asked)")
    destroy.add_argument("--stage", required=True)
    destroy.add_argument("--region", default="")
    destroy.add_argument(
        "--delete-data", action="store_true", help="also delete the tables and the bucket with all objects"
    )
    return root


def _session(region: str):  # noqa: ANN202 - boto3 Session
    import boto3

    return boto3.session.Session(region_name=region or None)


def _print_plan(options: StageOptions, template: dict, region: str) -> None:
    from infra import sam

    translated = sam.translate(sam.with_code_location(template, **sam.CODE_LOCATION_PLACEHOLDER_ARGS), region)
    counts = Counter(resource["Type"] for resource in translated["Resources"].values())
    print(f"stack {options.stack_name} would have {sum(counts.values())} resources:")
    for kind, count in sorted(counts.items()):
        print(f"  {count:>3} × {kind}")
    print("parameters:")
    for key, value in options.parameters().items():
        print(f"  {key} = {value!r}")


def run_deploy(args: argparse.Namespace) -> int:
    from infra.packaging import OUTPUT_FILES, package

    options = StageOptions(
        stage=args.stage,
        cluster=args.cluster,
        namespace=args.namespace,
        region=args.region,
        subnet_ids=_ids(args.vpc_subnets),
        security_group_ids=_ids(args.security_groups),
        launcher_image=args.launcher_image,
        log_level=args.log_level,
        pod_service_account=args.pod_service_account,
        oidc_issuer=args.oidc_issuer,
        oidc_audience=args.oidc_audience,
        oidc_jwks_url=args.oidc_jwks_url,
        oidc_namespaces_claim=args.oidc_namespaces_claim,
        oidc_admin_group=args.oidc_admin_group,
        oidc_authorize_url=args.oidc_authorize_url,
        team_namespaces=_ids(args.team_namespaces),
        pod_namespace_template=args.pod_namespace_template,
        profile_service_account=args.profile_service_account,
    )
    session = None if args.dry_run else _session(options.region)
    region = options.region or (session.region_name if session else "") or "us-east-1"
    packaged = package(options.stage, args.build_dir, region, pod_namespaces=options.pod_namespaces)
    state = "unchanged since the last packaging" if packaged.reused else "packaged"
    print(f"{state}: {packaged.directory}/ ({', '.join(OUTPUT_FILES)})")
    if args.dry_run:
        _print_plan(options, packaged.template(), region)
        return 0
    from infra.stack_deployment import deploy

    result = deploy(options, packaged, session)
    print(f"\nKFP Serverless ({options.stage}) is at {result.api_url}\n")
    print(f"  kfps token create --stage-tables {options.stack_name} --namespace NS   (prints TOKEN once)")
    print(f"  import kfp; client = kfp.Client(host={result.api_url!r}, existing_token=TOKEN)\n")
    return 0


def run_destroy(args: argparse.Namespace) -> int:
    from infra.stack_deployment import destroy

    destroy(args.stage, _session(args.region), args.delete_data)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    from infra.packaging import PackagingError
    from infra.sam import TranslationError
    from infra.stack_deployment import DeployError

    try:
        return run_deploy(args) if args.command == "deploy" else run_destroy(args)
    except (StageError, PackagingError, TranslationError, DeployError, ClientError, BotoCoreError) as exc:
        print(f"kfps {args.command}: {exc}", file=sys.stderr)
        return 2
