"""The stack's Lambda functions as `chalice package` names them, what each one may touch (its own role, least
privilege), and what each one is told (environment). One table, so the policy test, the template and the
README agree.

Rules: no statement with a `*` action, and no `*` resource outside CloudWatch Logs (and EC2 network
interface reads, which support no resource scoping, only when the reconciler runs in a VPC).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib.observability import metric_names
from infra import template_parts as parts

TABLE_READ = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable")
TABLE_WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)
OBJECT_READ = ("s3:GetObject", "s3:GetObjectVersion")
OBJECT_WRITE = ("s3:PutObject",)
OBJECT_DELETE = ("s3:DeleteObject",)
ALL_TABLES = (
    "names",
    "experiments",
    "pipelines",
    "versions",
    "runs",
    "tasks",
    "recurring-runs",
    "cache",
    "leases",
)
# API tokens: read (GetItem) by the API only; written by `kfps token` with the operator's credentials.
TOKENS_TABLE = "tokens"


@dataclasses.dataclass(frozen=True)
class FunctionAccess:
    """One function: its logical id in the packaged template, its role's logical id, and its grants.

    objects: S3 key prefix in the data bucket → allowed object actions.
    invokes_reconcile: may async-invoke the reconcile function (the kick after run changes).
    manages_schedules: may create/update/delete schedules in the stack's group and pass the scheduler role.
    reaches_cluster: `eks:DescribeCluster` on the stack's cluster, an EKS access entry, optional VPC.
    authenticates: reads API tokens (GetItem on the tokens table only) and is told the OIDC settings.
    async_invoked: invoked asynchronously (kick, schedule, EventBridge): failures go to the dead-letter queue.
    """

    logical_id: str
    role_id: str
    tables: tuple[str, ...]
    objects: tuple[tuple[str, tuple[str, ...]], ...]
    invokes_reconcile: bool = False
    manages_schedules: bool = False
    reaches_cluster: bool = False
    async_invoked: bool = False
    authenticates: bool = False

    @property
    def table_kinds(self) -> tuple[str, ...]:
        """Every table the function touches (the tokens table read-only)."""
        return self.tables + ((TOKENS_TABLE,) if self.authenticates else ())


API = FunctionAccess(
    logical_id="APIHandler",
    role_id="ApiHandlerRole",
    # The cache and the pass leases are the reconciler's.
    tables=tuple(kind for kind in ALL_TABLES if kind not in ("cache", "leases")),
    objects=(
        ("packages/", OBJECT_READ + OBJECT_WRITE + OBJECT_DELETE),
        ("specs/", OBJECT_READ + OBJECT_WRITE + OBJECT_DELETE),
        ("recurring-runs/", OBJECT_READ + OBJECT_WRITE),  # spec snapshots (read again by :enable's catch-up)
        ("runs/", OBJECT_READ + OBJECT_WRITE + OBJECT_DELETE),
        ("logs/", OBJECT_READ),
        ("artifacts/", OBJECT_READ),
        # Large packages: the presigned PUT is signed with this role; the register call reads the object.
        ("uploads/", OBJECT_READ + OBJECT_WRITE),
        # A version's `package_url` may name s3://<the stack's bucket>/pipelines/...
        ("pipelines/", OBJECT_READ),
    ),
    invokes_reconcile=True,
    manages_schedules=True,
    authenticates=True,
)
RECONCILE = FunctionAccess(
    logical_id="Reconcile",
    role_id="ReconcileRole",
    # recurring-runs: a run's end gives its recurring run's max_concurrency slot back (a counter updated in the
    # same transaction as the run). leases: one pass per run at a time.
    tables=("runs", "tasks", "recurring-runs", "cache", "leases"),
    # The run's spec snapshot, launch documents, task records, the pods' task and result files; task logs
    # (copied from the pods, read back once a pod is gone). Nothing is deleted here.
    objects=(("runs/", OBJECT_READ + OBJECT_WRITE), ("logs/", OBJECT_READ + OBJECT_WRITE)),
    reaches_cluster=True,
    async_invoked=True,
)
# The one-minute backstop (lists pods, fans out per-run kicks) and the S3 result events' passes (a pass out of
# time with events still arriving kicks a fresh one): the same access, and they may invoke `reconcile`. (The
# reconcile function cannot name itself in its own template; a run it hands over is kicked by the next tick.)
RECONCILE_TICK = dataclasses.replace(
    RECONCILE, logical_id="ReconcileTick", role_id="ReconcileTickRole", invokes_reconcile=True
)
RECONCILE_RESULT = dataclasses.replace(
    RECONCILE, logical_id="ReconcileResult", role_id="ReconcileResultRole", invokes_reconcile=True
)
FIRE_RECURRING_RUN = FunctionAccess(
    logical_id="FireRecurringRun",
    role_id="FireRecurringRunRole",
    # The recurring run, its pipeline version (or spec snapshot), the new run and its spec snapshot; the
    # experiment's last-run time.
    tables=("experiments", "versions", "runs", "recurring-runs"),
    objects=(("specs/", OBJECT_READ), ("recurring-runs/", OBJECT_READ), ("runs/", OBJECT_WRITE)),
    invokes_reconcile=True,
    async_invoked=True,
)
REGISTER_UPLOADED_PIPELINE = FunctionAccess(
    logical_id="RegisterUploadedPipeline",
    role_id="RegisterUploadedPipelineRole",
    tables=("names", "pipelines", "versions"),
    objects=(
        ("pipelines/", OBJECT_READ),
        ("packages/", OBJECT_WRITE),
        ("specs/", OBJECT_WRITE),
    ),
    async_invoked=True,
)
FUNCTIONS: tuple[FunctionAccess, ...] = (
    API,
    RECONCILE,
    RECONCILE_TICK,
    RECONCILE_RESULT,
    FIRE_RECURRING_RUN,
    REGISTER_UPLOADED_PIPELINE,
)


def table_arns(kinds: tuple[str, ...]) -> list[dict[str, str]]:
    arns = []
    for kind in kinds:
        arns.append(parts.arn("dynamodb", f"table/${{AWS::StackName}}-{kind}"))
        arns.append(parts.arn("dynamodb", f"table/${{AWS::StackName}}-{kind}/index/*"))
    return arns


def log_statements() -> list[dict[str, Any]]:
    """Writing the function's own log streams (log groups are created by the stack)."""
    group = "log-group:/aws/lambda/${AWS::StackName}-*"
    return [
        parts.statement("LogGroup", ["logs:CreateLogGroup"], [parts.arn("logs", group)]),
        parts.statement(
            "LogStreams",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [parts.arn("logs", f"{group}:log-stream:*")],
        ),
    ]


def policy(function: FunctionAccess) -> dict[str, Any]:
    """The role policy of `function`, as CloudFormation JSON (ARNs built with Fn::Sub / Fn::GetAtt)."""
    statements = log_statements()
    statements.append(
        parts.statement("Tables", [*TABLE_READ, *TABLE_WRITE], table_arns(function.tables)),
    )
    if function.authenticates:
        tokens = parts.arn("dynamodb", f"table/${{AWS::StackName}}-{TOKENS_TABLE}")
        statements.append(parts.statement("TokenReads", ["dynamodb:GetItem"], [tokens]))
    by_actions: dict[tuple[str, ...], list[str]] = {}
    for prefix, actions in function.objects:
        by_actions.setdefault(tuple(sorted(actions)), []).append(prefix)
    for index, (actions, prefixes) in enumerate(sorted(by_actions.items())):
        statements.append(
            parts.statement(
                f"Objects{index}",
                list(actions),
                [{"Fn::Sub": f"${{DataBucket.Arn}}/{prefix}*"} for prefix in prefixes],
            )
        )
    # Without ListBucket, S3 answers a missing key with 403 instead of 404.
    statements.append(parts.statement("Bucket", ["s3:ListBucket"], [parts.get_att("DataBucket")]))
    if function.invokes_reconcile:
        statements.append(
            parts.statement("KickReconciler", ["lambda:InvokeFunction"], [parts.get_att("Reconcile")])
        )
    if function.manages_schedules:
        statements.append(
            parts.statement(
                "Schedules",
                [
                    "scheduler:CreateSchedule",
                    "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule",
                    "scheduler:GetSchedule",
                ],
                [parts.arn("scheduler", "schedule/${ScheduleGroup}/*")],
            )
        )
        statements.append(
            parts.statement(
                "PassSchedulerRole",
                ["iam:PassRole"],
                [parts.get_att("SchedulerRole")],
                Condition={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            )
        )
    if function.reaches_cluster:
        statements.append(
            parts.statement("Cluster", ["eks:DescribeCluster"], [parts.arn("eks", "cluster/${ClusterName}")])
        )
    if function.async_invoked:
        statements.append(
            parts.statement("DeadLetters", ["sqs:SendMessage"], [parts.get_att("DeadLetterQueue")])
        )
    document = parts.policy_document(statements)
    if function.reaches_cluster:
        document = {
            "Fn::If": [
                "InVpc",
                parts.policy_document(statements + vpc_statements()),
                document,
            ]
        }
    return document


def vpc_statements() -> list[dict[str, Any]]:
    """What Lambda needs to attach the function to the VPC's subnets. `ec2:DescribeNetworkInterfaces` has no
    resource-level permissions, so it is the one non-logs `*` resource (and only with a VPC)."""
    return [
        parts.statement("VpcNetworkInterfaceReads", ["ec2:DescribeNetworkInterfaces"], ["*"]),
        parts.statement(
            "VpcNetworkInterfaces",
            [
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            [
                parts.arn("ec2", "network-interface/*"),
                parts.arn("ec2", "subnet/*"),
                parts.arn("ec2", "security-group/*"),
            ],
        ),
    ]


def environment(function: FunctionAccess) -> dict[str, Any]:
    """The variables `chalicelib.settings.Settings` reads, from the stack's own resources and parameters."""
    variables: dict[str, Any] = {
        "KFPS_TABLE_PREFIX": parts.ref("AWS::StackName"),
        "KFPS_BUCKET": parts.ref("DataBucket"),
        "KFPS_EXECUTOR": "kubernetes",
        "KFPS_NAMESPACE": parts.ref("Namespace"),
        "KFPS_K8S_NAMESPACE_TEMPLATE": parts.ref("PodNamespaceTemplate"),
        "KFPS_K8S_NAMESPACES": parts.ref("PodNamespaces"),
        "KFPS_K8S_PROFILE_SERVICE_ACCOUNT": parts.ref("ProfileServiceAccount"),
        "POWERTOOLS_LOG_LEVEL": parts.ref("LogLevel"),
        # The EMF metrics' namespace (their one dimension, `stage`, is KFPS_STAGE).
        "POWERTOOLS_METRICS_NAMESPACE": metric_names.NAMESPACE,
        # A cloud stage never runs open (`Settings.from_env` refuses to).
        "KFPS_MULTI_USER": "true",
    }
    if function.authenticates:
        variables["KFPS_OIDC_ISSUER"] = parts.ref("OidcIssuer")
        variables["KFPS_OIDC_AUDIENCE"] = parts.ref("OidcAudience")
        variables["KFPS_OIDC_JWKS_URL"] = parts.ref("OidcJwksUrl")
        variables["KFPS_OIDC_NAMESPACES_CLAIM"] = parts.ref("OidcNamespacesClaim")
        variables["KFPS_OIDC_ADMIN_GROUP"] = parts.ref("OidcAdminGroup")
        variables["KFPS_OIDC_AUTHORIZE_URL"] = parts.ref("OidcAuthorizeUrl")
    if function.invokes_reconcile:
        variables["KFPS_RECONCILE_KICK"] = parts.sub("lambda:${Reconcile}")
    if function.manages_schedules:
        variables["KFPS_SCHEDULER_TARGET"] = parts.get_att("FireRecurringRun")
        variables["KFPS_SCHEDULER_ROLE"] = parts.get_att("SchedulerRole")
        variables["KFPS_SCHEDULE_GROUP"] = parts.ref("ScheduleGroup")
    if function.reaches_cluster:
        variables["KFPS_EKS_CLUSTER"] = parts.ref("ClusterName")
        variables["KFPS_K8S_SERVICE_ACCOUNT"] = parts.ref("PodServiceAccount")
        variables["KFPS_LAUNCHER_IMAGE"] = {
            "Fn::If": [
                "DefaultLauncherImage",
                parts.sub("${LauncherRepository.RepositoryUri}:latest"),
                parts.ref("LauncherImage"),
            ]
        }
    return variables
