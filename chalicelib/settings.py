"""Settings: one frozen dataclass built once per entry point and passed down.

Cloud stages set environment variables in `.chalice/config.json`, and each Lambda builds its Settings from them
on first use (`Settings.from_env`, called by `chalicelib.runtime`). The local stack (`kfps up`) and the tests
build theirs directly. Nothing reads the environment at import time.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.limits import Limits
from chalicelib.pod_policy import PodPolicy

if TYPE_CHECKING:
    from chalicelib.executors.k8s.settings import KubernetesSettings

DYNAMODB_STORE = "dynamodb"
EMBEDDED_STORE = "embedded"
STORES = (DYNAMODB_STORE, EMBEDDED_STORE)
NAMESPACE_PLACEHOLDER = "{namespace}"
LOCAL_STAGE = "local"


@dataclasses.dataclass(frozen=True)
class AwsAccess:
    """How this process reaches AWS: the region, and for an S3/DynamoDB-compatible endpoint (the local stack's
    moto server) its URL and static credentials. Empty fields mean boto3's defaults (the Lambda's role)."""

    region: str = "us-east-1"
    endpoint_url: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""
    session_token: str = ""

    def environment(self) -> dict[str, str]:
        """The same access as AWS_* variables, for processes that build their own clients (task pods)."""
        variables = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }
        return {name: value for name, value in variables.items() if value}


@dataclasses.dataclass(frozen=True)
class OidcSettings:
    """OIDC/Cognito user-pool JWTs as bearer tokens (beside the API tokens): empty `issuer` = off. The JWT's
    `namespaces_claim` (a list or a space/comma separated string, e.g. Cognito's `cognito:groups`) names its
    namespaces; the value `admin_group` in it grants admin."""

    issuer: str = ""
    audience: str = ""
    jwks_url: str = ""  # default: <issuer>/.well-known/jwks.json (Cognito's)
    namespaces_claim: str = "cognito:groups"
    admin_group: str = "kfp-admin"
    # The dashboard's "Sign in with ..." button: the issuer's authorization endpoint (Cognito's hosted UI:
    # https://<domain>/oauth2/authorize), asked for an ID token by the implicit flow with `audience` as the
    # client id; empty = the dashboard offers only pasting a token.
    authorize_url: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)

    @property
    def keys_url(self) -> str:
        return self.jwks_url or f"{self.issuer.rstrip('/')}/.well-known/jwks.json"


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(f"{name} must be true or false, got {env.get(name)!r}")


@dataclasses.dataclass(frozen=True)
class Settings:
    # Where records and objects live: "dynamodb" (DynamoDB tables + the S3 bucket) or "embedded" (SQLite and
    # files under `local_data_dir`, the default of `kfps up`).
    store: str = DYNAMODB_STORE
    table_prefix: str = "kfps"
    bucket: str = "kfps-data"
    aws: AwsAccess = AwsAccess()
    # Where artifacts go when a run names no pipeline_root: s3://<bucket>/artifacts in the cloud, a local
    # directory in the local stack.
    default_pipeline_root: str = ""
    executor: str = "local"  # "local" | "kubernetes"
    namespace: str = "default"  # Kubernetes namespace for pods
    # Multi-user: the Kubernetes namespace of a KFP namespace's pods (`KFPS_K8S_NAMESPACE_TEMPLATE`, e.g.
    # "{namespace}" as Kubeflow profiles do, or "kfp-{namespace}"), and the service account they run as when the
    # run names none (`KFPS_K8S_PROFILE_SERVICE_ACCOUNT`, Kubeflow's "default-editor"). Empty template: every
    # pod runs in `namespace`.
    pod_namespace_template: str = ""
    profile_service_account: str = "default-editor"
    eks_cluster: str = ""
    kubeconfig: str = ""
    # The local stack's data directory: task workdirs, and the embedded store.
    local_data_dir: str = ""
    local_prewarm: bool = True  # the local executor's fork server (`kfps up --no-prewarm` turns it off)
    # How the API wakes the reconciler: "lambda:<function name>" (async invoke) or "local" (in-process event).
    reconcile_kick: str = "local"
    # Input limits (body, spec, parameter and name sizes, schedule frequency, the active-run quota).
    limits: Limits = Limits()
    # The admin pod policy checked at run creation (privileged/host access, CPU/memory maxima, image prefixes).
    pod_policy: PodPolicy = PodPolicy()
    # A reconcile pass holds its run's lease this long (renewed by each further pass); a holder that crashed
    # is taken over after it.
    reconcile_lease_seconds: float = 300.0
    # The one-minute tick kicks an active run whose last pass ended longer ago than this (the safety net for a
    # lost event), besides runs whose pods ended without a result.
    reconcile_stale_seconds: float = 600.0
    # EventBridge Scheduler, one schedule per recurring run: the fire Lambda (ARN or function name), the role
    # the Scheduler assumes to invoke it (ARN or role name), and the schedule group. An empty target turns
    # schedule management off (the local stack's firer fires recurring runs itself).
    scheduler_target: str = ""
    scheduler_role: str = ""
    schedule_group: str = "default"
    # The deployment stage (`KFPS_STAGE`): the `stage` dimension of every metric.
    stage: str = LOCAL_STAGE
    # CloudWatch namespace of the EMF metrics (`POWERTOOLS_METRICS_NAMESPACE`); empty = metrics off (the local
    # stack, tests that do not look at them).
    metrics_namespace: str = ""
    # The Kubernetes executor's settings (None: derived from these settings and its defaults when built).
    kubernetes: KubernetesSettings | None = None
    # Authentication and KFP namespaces (`KFPS_MULTI_USER`): every request needs a bearer token, and sees only
    # its namespaces. Off = open single-user mode (the local stack's default); a cloud stage never runs open.
    multi_user: bool = False
    oidc: OidcSettings = OidcSettings()

    def pod_namespace(self, kfp_namespace: str) -> str:
        """The Kubernetes namespace the pods of a run in `kfp_namespace` go to."""
        if self.pod_namespace_template and kfp_namespace:
            return self.pod_namespace_template.replace(NAMESPACE_PLACEHOLDER, kfp_namespace)
        return self.namespace

    def pod_service_account(self, kfp_namespace: str, requested: str) -> str:
        """The service account of a run's pods: the one the run names, else its namespace's (per-namespace
        pods), else "" (the executor's default)."""
        if requested:
            return requested
        return self.profile_service_account if self.pod_namespace_template and kfp_namespace else ""

    @property
    def is_local_stage(self) -> bool:
        """The local stack (`kfps up`, tests), not a deployed stage."""
        return self.stage == LOCAL_STAGE

    @property
    def region(self) -> str:
        return self.aws.region

    @property
    def pipeline_root(self) -> str:
        return self.default_pipeline_root or f"s3://{self.bucket}/artifacts"

    def table_name(self, kind: str) -> str:
        return f"{self.table_prefix}-{kind}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings a Lambda's environment describes (the executor's `KFPS_K8S_*`/`KFPS_LAUNCHER_*` too)."""
        from chalicelib.executors.k8s.settings import KubernetesSettings

        env = os.environ if env is None else env
        defaults = cls()
        store = env.get("KFPS_STORE", defaults.store)
        if store not in STORES:
            raise ValueError(f"KFPS_STORE must be one of {', '.join(STORES)}, got {store!r}")
        settings = cls(
            store=store,
            table_prefix=env.get("KFPS_TABLE_PREFIX", defaults.table_prefix),
            bucket=env.get("KFPS_BUCKET", defaults.bucket),
            aws=AwsAccess(
                region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or defaults.region,
                endpoint_url=env.get("AWS_ENDPOINT_URL", ""),
            ),
            default_pipeline_root=env.get("KFPS_PIPELINE_ROOT", ""),
            executor=env.get("KFPS_EXECUTOR", defaults.executor),
            namespace=env.get("KFPS_NAMESPACE", defaults.namespace),
            pod_namespace_template=env.get("KFPS_K8S_NAMESPACE_TEMPLATE", ""),
            profile_service_account=env.get(
                "KFPS_K8S_PROFILE_SERVICE_ACCOUNT", defaults.profile_service_account
            ),
            eks_cluster=env.get("KFPS_EKS_CLUSTER", ""),
            kubeconfig=env.get("KFPS_KUBECONFIG", ""),
            local_data_dir=env.get("KFPS_DATA_DIR", ""),
            reconcile_kick=env.get("KFPS_RECONCILE_KICK", defaults.reconcile_kick),
            limits=Limits.from_env(env),
            pod_policy=PodPolicy.from_env(env),
            reconcile_lease_seconds=float(
                env.get("KFPS_RECONCILE_LEASE_SECONDS", defaults.reconcile_lease_seconds)
            ),
            reconcile_stale_seconds=float(
                env.get("KFPS_RECONCILE_STALE_SECONDS", defaults.reconcile_stale_seconds)
            ),
            scheduler_target=env.get("KFPS_SCHEDULER_TARGET", ""),
            scheduler_role=env.get("KFPS_SCHEDULER_ROLE", ""),
            schedule_group=env.get("KFPS_SCHEDULE_GROUP", defaults.schedule_group),
            stage=env.get("KFPS_STAGE", defaults.stage),
            metrics_namespace=env.get("POWERTOOLS_METRICS_NAMESPACE", defaults.metrics_namespace),
            multi_user=_flag(env, "KFPS_MULTI_USER"),
            oidc=OidcSettings(
                issuer=env.get("KFPS_OIDC_ISSUER", ""),
                audience=env.get("KFPS_OIDC_AUDIENCE", ""),
                jwks_url=env.get("KFPS_OIDC_JWKS_URL", ""),
                namespaces_claim=env.get("KFPS_OIDC_NAMESPACES_CLAIM", OidcSettings.namespaces_claim),
                admin_group=env.get("KFPS_OIDC_ADMIN_GROUP", OidcSettings.admin_group),
                authorize_url=env.get("KFPS_OIDC_AUTHORIZE_URL", ""),
            ),
        )
        if settings.stage != defaults.stage and not settings.multi_user:
            raise ValueError(
                f"stage {settings.stage!r} would run open: a cloud stage needs KFPS_MULTI_USER=true (tokens and "
                "namespaces); only the local stack runs open"
            )
        template = settings.pod_namespace_template
        if template and (
            NAMESPACE_PLACEHOLDER not in template or "{" in template.replace(NAMESPACE_PLACEHOLDER, "")
        ):
            raise ValueError(
                f"KFPS_K8S_NAMESPACE_TEMPLATE {template!r} must contain {NAMESPACE_PLACEHOLDER} and no other placeholder"
            )
        if settings.oidc.enabled and not settings.oidc.audience:
            raise ValueError("KFPS_OIDC_ISSUER needs KFPS_OIDC_AUDIENCE (the app client id)")
        if settings.executor != "kubernetes":
            return settings
        return dataclasses.replace(settings, kubernetes=KubernetesSettings.from_app_settings(settings, env))
