"""What one deployment is: a stage name plus the operator's choices, validated once, and the names derived
from them. Nothing account-specific lives in the repository: the account and region come from the caller's
credentials at deploy time, the rest from these options (stack parameters)."""

from __future__ import annotations

import dataclasses
import re

PROJECT = "kfp-serverless"
_STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_NAMESPACE_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CLUSTER_PATTERN = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Stages whose data the stack protects harder: deletion protection on the tables.
PROD_LIKE_PREFIXES = ("prod", "production", "live")


class StageError(ValueError):
    """An option that cannot make a valid deployment; the message names it."""


@dataclasses.dataclass(frozen=True)
class StageOptions:
    """The operator's choices for one stage (see `kfps deploy --help`)."""

    stage: str
    cluster: str
    namespace: str
    region: str = ""
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    launcher_image: str = ""  # empty: <the stack's ECR repository>:latest
    log_level: str = "INFO"
    pod_service_account: str = "kfp-serverless-pods"
    api_throttle_rate: int = 50
    api_throttle_burst: int = 100
    stalled_run_seconds: int = 3600
    log_retention_days: int = 90
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks_url: str = ""
    oidc_namespaces_claim: str = "cognito:groups"
    oidc_admin_group: str = "kfp-admin"
    oidc_authorize_url: str = ""
    # Multi-user pods: each KFP namespace's pods in their own Kubernetes namespace (`pod_namespace_template`
    # applied to each of `team_namespaces`), as `profile_service_account`, which the stack binds to the pod role.
    team_namespaces: tuple[str, ...] = ()
    pod_namespace_template: str = ""
    profile_service_account: str = "default-editor"

    def __post_init__(self) -> None:
        if not _STAGE_PATTERN.match(self.stage):
            raise StageError(
                f"--stage {self.stage!r}: use 1-20 lowercase letters, digits or '-', starting with a letter"
            )
        if not _CLUSTER_PATTERN.match(self.cluster):
            raise StageError(f"--cluster {self.cluster!r} is not a valid EKS cluster name")
        if not _NAMESPACE_PATTERN.match(self.namespace):
            raise StageError(f"--namespace {self.namespace!r} is not a valid Kubernetes namespace name")
        if not _NAMESPACE_PATTERN.match(self.pod_service_account):
            raise StageError(f"--pod-service-account {self.pod_service_account!r} is not a valid name")
        if bool(self.subnet_ids) != bool(self.security_group_ids):
            raise StageError("--vpc-subnets and --security-groups go together: give both or neither")
        for subnet in self.subnet_ids:
            if not subnet.startswith("subnet-"):
                raise StageError(f"--vpc-subnets: {subnet!r} is not a subnet id (subnet-...)")
        for group in self.security_group_ids:
            if not group.startswith("sg-"):
                raise StageError(f"--security-groups: {group!r} is not a security group id (sg-...)")
        if self.log_level not in LOG_LEVELS:
            raise StageError(f"--log-level {self.log_level!r}: one of {', '.join(LOG_LEVELS)}")
        if self.oidc_issuer and not self.oidc_issuer.startswith("https://"):
            raise StageError(f"--oidc-issuer {self.oidc_issuer!r} must be an https:// URL")
        if bool(self.oidc_issuer) != bool(self.oidc_audience):
            raise StageError("--oidc-issuer and --oidc-audience go together: give both or neither")
        if bool(self.team_namespaces) != bool(self.pod_namespace_template):
            raise StageError(
                "--team-namespaces and --pod-namespace-template go together: give both or neither"
            )
        if self.pod_namespace_template and self.pod_namespace_template.count("{namespace}") != 1:
            raise StageError(
                f"--pod-namespace-template {self.pod_namespace_template!r} must contain {{namespace}} once"
            )
        for mapped in self.pod_namespaces:
            if not _NAMESPACE_PATTERN.match(mapped):
                raise StageError(f"--team-namespaces: {mapped!r} is not a valid Kubernetes namespace name")
        if not _NAMESPACE_PATTERN.match(self.profile_service_account):
            raise StageError(
                f"--profile-service-account {self.profile_service_account!r} is not a valid name"
            )
        for name in ("api_throttle_rate", "api_throttle_burst", "stalled_run_seconds", "log_retention_days"):
            if getattr(self, name) <= 0:
                raise StageError(f"--{name.replace('_', '-')} must be positive")

    @property
    def pod_namespaces(self) -> tuple[str, ...]:
        """The Kubernetes namespaces of the team namespaces' pods."""
        return tuple(
            self.pod_namespace_template.replace("{namespace}", team) for team in self.team_namespaces
        )

    @property
    def stack_name(self) -> str:
        return stack_name(self.stage)

    @property
    def prod_like(self) -> bool:
        return self.stage.startswith(PROD_LIKE_PREFIXES)

    def parameters(self) -> dict[str, str]:
        """The stack's parameter values (CloudFormation wants strings)."""
        return {
            "ClusterName": self.cluster,
            "Namespace": self.namespace,
            "SubnetIds": ",".join(self.subnet_ids),
            "SecurityGroupIds": ",".join(self.security_group_ids),
            "LauncherImage": self.launcher_image,
            "LogLevel": self.log_level,
            "PodServiceAccount": self.pod_service_account,
            "ApiThrottleRate": str(self.api_throttle_rate),
            "ApiThrottleBurst": str(self.api_throttle_burst),
            "StalledRunSeconds": str(self.stalled_run_seconds),
            "LogRetentionDays": str(self.log_retention_days),
            "DataProtection": "true" if self.prod_like else "false",
            "OidcIssuer": self.oidc_issuer,
            "OidcAudience": self.oidc_audience,
            "OidcJwksUrl": self.oidc_jwks_url,
            "OidcNamespacesClaim": self.oidc_namespaces_claim,
            "OidcAdminGroup": self.oidc_admin_group,
            "OidcAuthorizeUrl": self.oidc_authorize_url,
            "PodNamespaceTemplate": self.pod_namespace_template,
            "PodNamespaces": ",".join(self.pod_namespaces),
            "ProfileServiceAccount": self.profile_service_account,
        }

    def tags(self) -> dict[str, str]:
        return {"project": PROJECT, "stage": self.stage}


def stack_name(stage: str) -> str:
    """The CloudFormation stack of a stage; also the prefix of its table names."""
    return f"kfps-{stage}"


# The data bucket's name as the template builds it (infra/storage.py); `kfps destroy` finds kept data by it.
DATA_BUCKET_NAME = "${AWS::StackName}-${AWS::AccountId}-${AWS::Region}"


def data_bucket_name(stage: str, account: str, region: str) -> str:
    """The name the stack gives the stage's data bucket in `account` and `region`."""
    values = {"AWS::StackName": stack_name(stage), "AWS::AccountId": account, "AWS::Region": region}
    name = DATA_BUCKET_NAME
    for key, value in values.items():
        name = name.replace("${" + key + "}", value)
    return name
