"""The stack behind `make up` / `kfps up`: the same app on one machine.

- the store: the embedded one by default (SQLite + files under `<data dir>/store`, kept across restarts and
  crashes), or with `store="dynamodb"` (`kfps up --aws`) DynamoDB + S3 on an embedded moto server (the cloud
  code path end to end; its data lives in memory and is gone when the stack stops);
- the Chalice app served over HTTP by Chalice's local server;
- the reconcile loop (the cloud's reconcile Lambda) in a background thread, woken by in-process kicks;
- the local executor (one process per task) or the Kubernetes executor, the recurring-run firer
  (EventBridge Scheduler's part) and the `pipelines/` upload watcher (S3 → EventBridge's part).

The stack builds its Settings and store and installs them as the app's runtime; it edits no environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from chalicelib import runtime
from chalicelib.limits import Limits
from chalicelib.local.background import ReconcileLoop, start_background
from chalicelib.local.ports import bound_or_refused, free_port
from chalicelib.pod_policy import PodPolicy
from chalicelib.reconcile_kick import LocalKicks
from chalicelib.runtime import Runtime
from chalicelib.settings import DYNAMODB_STORE, EMBEDDED_STORE, AwsAccess, Settings
from chalicelib.store import open_store

LOCAL_REGION = "us-east-1"
REPO_ROOT = Path(__file__).resolve().parents[2]
# The embedded AWS accepts any credentials; these are what the stack and its pods use.
LOCAL_AWS_KEY = "testing"
# Schedules are kept in moto like in the cloud (moto never fires them; the firer does). Made-up ARNs in moto's
# default account: there is no fire Lambda locally.
LOCAL_SCHEDULER_TARGET = f"arn:aws:lambda:{LOCAL_REGION}:123456789012:function:kfps-local-fire_recurring_run"
LOCAL_SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/kfps-local-scheduler"
# A stack killed mid-pass leaves its runs' leases held; a restarted stack (a new owner) takes them over after
# this long. Local passes are short and renewed each loop, so it can be much shorter than the cloud's.
LOCAL_LEASE_SECONDS = 15.0


@dataclasses.dataclass
class StackOptions:
    port: int = 8000
    host: str = "127.0.0.1"
    data_dir: Path = Path(".kfps")
    store: str = EMBEDDED_STORE  # or DYNAMODB_STORE: moto-backed (`kfps up --aws`)
    aws_port: int = 0  # 0 = pick a free port
    aws_host: str = "127.0.0.1"  # where the embedded AWS listens (0.0.0.0 to serve a real cluster)
    aws_endpoint: str = ""  # reuse a running embedded AWS instead of starting one
    pod_aws_endpoint: str = ""  # how pods reach the embedded AWS (default: the stack's own endpoint)
    executor: str = "local"
    kubeconfig: str = ""
    namespace: str = "default"
    table_prefix: str = "kfps"
    bucket: str = "kfps-data"
    max_parallel: int = 0  # 0 = no count limit (admission by CPU/memory requests)
    prewarm: bool = True  # the local executor's fork server
    reconcile: bool = True
    multi_user: bool = False  # authentication and namespaces on (`kfps up --multi-user`)
    # A test hook for the durability tests: the reconciler stops for good at the first checkpoint with this
    # label (after writing `<data dir>/paused-at-<label>`), so a kill lands exactly there.
    pause_at: str = ""
    limits: Limits = dataclasses.field(default_factory=Limits)
    pod_policy: PodPolicy = dataclasses.field(default_factory=PodPolicy)


def stack_settings(
    options: StackOptions, aws_endpoint: str = "", environ: Mapping[str, str] | None = None
) -> Settings:
    """The app's settings for these options (`aws_endpoint`: the embedded AWS, with the moto-backed store);
    `environ` supplies the Kubernetes executor's own variables (`KFPS_LAUNCHER_*`, `KUBECONFIG`, ...)."""
    data_dir = options.data_dir.resolve()
    moto_backed = options.store == DYNAMODB_STORE
    aws = AwsAccess(region=LOCAL_REGION)
    if moto_backed:
        aws = AwsAccess(LOCAL_REGION, aws_endpoint, LOCAL_AWS_KEY, LOCAL_AWS_KEY, LOCAL_AWS_KEY)
    settings = Settings(
        store=options.store,
        table_prefix=options.table_prefix,
        bucket=options.bucket,
        aws=aws,
        default_pipeline_root=str(data_dir / "pipeline_root") if options.executor == "local" else "",
        executor=options.executor,
        namespace=options.namespace,
        kubeconfig=options.kubeconfig,
        local_data_dir=str(data_dir),
        local_prewarm=options.prewarm,
        reconcile_kick="local",
        reconcile_lease_seconds=LOCAL_LEASE_SECONDS,
        scheduler_target=LOCAL_SCHEDULER_TARGET if moto_backed else "",
        scheduler_role=LOCAL_SCHEDULER_ROLE if moto_backed else "",
        schedule_group="kfps-local",
        multi_user=options.multi_user,
        limits=options.limits,
        pod_policy=options.pod_policy,
    )
    if options.executor != "kubernetes":
        return settings
    from chalicelib.executors.k8s.settings import KubernetesSettings

    pod_aws = dataclasses.replace(aws, endpoint_url=options.pod_aws_endpoint or aws.endpoint_url)
    kubernetes = KubernetesSettings.from_app_settings(settings, environ or {})
    kubernetes = dataclasses.replace(kubernetes, launcher_env=tuple(sorted(pod_aws.environment().items())))
    return dataclasses.replace(settings, kubernetes=kubernetes)


class LocalStack:
    """Start with `start()`, stop with `stop()` (or use it as a context manager). `runtime` is what the app
    serves with; `settings` its settings."""

    def __init__(self, options: StackOptions, environ: Mapping[str, str] | None = None) -> None:
        if options.executor == "kubernetes" and options.store != DYNAMODB_STORE:
            raise ValueError(
                "the Kubernetes executor needs the moto-backed store (pods reach the bucket over S3)"
            )
        self.options = options
        self._environ = environ or {}
        self._aws: Any = None
        self._server: Any = None
        self._background: list[Any] = []
        self.aws_endpoint = options.aws_endpoint
        self.url = ""
        self.runtime: Runtime | None = None

    @property
    def settings(self) -> Settings:
        assert self.runtime is not None, "start the stack first"
        return self.runtime.settings

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start everything; on any failure (e.g. PortInUse) stop what was started and raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        options = self.options
        options.data_dir.mkdir(parents=True, exist_ok=True)
        if options.store == DYNAMODB_STORE and not self.aws_endpoint:
            from chalicelib.local.embedded_aws import EmbeddedAws

            self._aws = EmbeddedAws(options.aws_host, options.aws_port or free_port()).start()
            self.aws_endpoint = self._aws.endpoint
        settings = stack_settings(options, self.aws_endpoint, self._environ)
        if settings.store == DYNAMODB_STORE:
            from chalicelib.store.dynamo import provision_dynamo_store

            provision_dynamo_store(settings)
        Path(settings.default_pipeline_root or options.data_dir).mkdir(parents=True, exist_ok=True)
        self.runtime = Runtime(settings, open_store(settings), LocalKicks())
        runtime.install(self.runtime)
        self._start_api()
        if options.reconcile:
            self._start_background()

    def _start_api(self) -> None:
        import sys
        import threading

        from chalice.config import Config
        from chalice.local import create_local_server

        from chalicelib.local.request_handler import request_handler

        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        from app import app

        config = Config(chalice_stage="local", user_provided_params={"chalice_app": app})
        port = self.options.port or free_port()
        self._server = bound_or_refused(
            lambda: create_local_server(app, config, self.options.host, port), port, "--port"
        )

        self._server.server.RequestHandlerClass = request_handler(
            app, config, self.runtime.settings.limits.max_request_bytes if self.runtime else 0
        )
        threading.Thread(target=self._server.server.serve_forever, name="kfps-api", daemon=True).start()
        self.url = f"http://{self.options.host}:{port}"

    def _start_background(self) -> None:
        assert self.runtime is not None
        self._background = start_background(self.runtime, self.options)

    @contextlib.contextmanager
    def background_paused(self) -> Iterator[None]:
        """Stop the reconcile loop and the firers for a while (tests that drive the reconciler themselves)."""
        self._stop_background()
        try:
            yield
        finally:
            if self.options.reconcile:
                self._start_background()

    def _stop_background(self, stop_tasks: bool = False) -> None:
        for part in reversed(self._background):
            part.stop()
            if stop_tasks and isinstance(part, ReconcileLoop):
                part.stop_tasks()
        self._background = []

    def stop(self) -> None:
        """Stop everything the stack started, local task processes included."""
        self._stop_background(stop_tasks=True)
        if self._server is not None:
            self._server.server.shutdown()
            self._server.server.server_close()
            self._server = None
        if self.runtime is not None and runtime.installed() is self.runtime:
            runtime.install(None)
        if self._aws is not None:
            self._aws.stop()
            self._aws = None
