"""Settings: one frozen dataclass built from the environment in one place and passed down.

Cloud stages set these variables in `.chalice/config.json`; the local stack (`kfps up`) sets them for itself.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping


@dataclasses.dataclass(frozen=True)
class Settings:
    table_prefix: str = "kfps"
    bucket: str = "kfps-data"
    region: str = "us-east-1"
    # Where artifacts go when a run names no pipeline_root: s3://<bucket>/artifacts in the cloud, a local
    # directory in the local stack.
    default_pipeline_root: str = ""
    executor: str = "local"  # "local" | "kubernetes"
    namespace: str = "default"  # Kubernetes namespace for pods
    eks_cluster: str = ""
    kubeconfig: str = ""
    local_data_dir: str = ""
    local_prewarm: bool = True  # the local executor's fork server (KFPS_LOCAL_PREWARM=0 turns it off)
    # How the API wakes the reconciler: "lambda:<function name>" (async invoke) or "local" (in-process event).
    reconcile_kick: str = "local"
    max_upload_bytes: int = 32 * 2**20
    max_body_bytes: int = 32 * 2**20
    # EventBridge Scheduler, one schedule per recurring run: the fire Lambda (ARN or function name), the role
    # the Scheduler assumes to invoke it (ARN or role name), and the schedule group. An empty target turns
    # schedule management off (the local stack's firer fires recurring runs itself).
    scheduler_target: str = ""
    scheduler_role: str = ""
    schedule_group: str = "default"

    @property
    def pipeline_root(self) -> str:
        return self.default_pipeline_root or f"s3://{self.bucket}/artifacts"

    def table_name(self, kind: str) -> str:
        return f"{self.table_prefix}-{kind}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        return cls(
            table_prefix=env.get("KFPS_TABLE_PREFIX", defaults.table_prefix),
            bucket=env.get("KFPS_BUCKET", defaults.bucket),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or defaults.region,
            default_pipeline_root=env.get("KFPS_PIPELINE_ROOT", ""),
            executor=env.get("KFPS_EXECUTOR", defaults.executor),
            namespace=env.get("KFPS_NAMESPACE", defaults.namespace),
            eks_cluster=env.get("KFPS_EKS_CLUSTER", ""),
            kubeconfig=env.get("KFPS_KUBECONFIG", ""),
            local_data_dir=env.get("KFPS_DATA_DIR", ""),
            local_prewarm=env.get("KFPS_LOCAL_PREWARM", "1").strip().lower()
            not in ("0", "false", "no", "off"),
            reconcile_kick=env.get("KFPS_RECONCILE_KICK", defaults.reconcile_kick),
            max_upload_bytes=int(env.get("KFPS_MAX_UPLOAD_BYTES", defaults.max_upload_bytes)),
            max_body_bytes=int(env.get("KFPS_MAX_BODY_BYTES", defaults.max_body_bytes)),
            scheduler_target=env.get("KFPS_SCHEDULER_TARGET", ""),
            scheduler_role=env.get("KFPS_SCHEDULER_ROLE", ""),
            schedule_group=env.get("KFPS_SCHEDULE_GROUP", defaults.schedule_group),
        )
