"""The embedded stack behind `make up` / `kfps up`: the same app on one machine.

- embedded AWS: a moto server on 127.0.0.1 (tables and bucket created on start),
- the Chalice app served over HTTP by Chalice's local server,
- the reconcile loop (the cloud's reconcile Lambda) in a background thread, woken by in-process kicks,
- the local executor (one process per task) or the Kubernetes executor, and the recurring-run firer
  (moto stores schedules but never fires them).

Environment variables are set before the app is imported, because the store reads its settings at import.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

LOCAL_REGION = "us-east-1"
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclasses.dataclass
class StackOptions:
    port: int = 8000
    aws_port: int = 0  # 0 = pick a free port
    host: str = "127.0.0.1"
    data_dir: Path = Path(".kfps")
    executor: str = "local"
    kubeconfig: str = ""
    namespace: str = "default"
    table_prefix: str = "kfps"
    bucket: str = "kfps-data"
    max_parallel: int = 0  # 0 = no count limit (admission by CPU/memory requests)
    aws_endpoint: str = ""  # reuse a running moto server instead of starting one
    aws_host: str = "127.0.0.1"  # where the embedded moto server listens (0.0.0.0 to serve a real cluster)
    pod_aws_endpoint: str = ""  # how pods reach the embedded AWS (default: the stack's own endpoint)
    reconcile: bool = True


def stack_environment(options: StackOptions, aws_endpoint: str) -> dict[str, str]:
    """The variables the app reads; with the Kubernetes executor also the launcher containers' S3 settings
    (`KFPS_K8S_LAUNCHER_ENV`: the embedded moto endpoint and its static credentials)."""
    data_dir = options.data_dir.resolve()
    environment = {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "KFPS_TABLE_PREFIX": options.table_prefix,
        "KFPS_BUCKET": options.bucket,
        "KFPS_EXECUTOR": options.executor,
        "KFPS_NAMESPACE": options.namespace,
        "KFPS_KUBECONFIG": options.kubeconfig,
        "KFPS_DATA_DIR": str(data_dir),
        "KFPS_PIPELINE_ROOT": str(data_dir / "pipeline_root") if options.executor == "local" else "",
        "KFPS_RECONCILE_KICK": "local",
        # Schedules are kept in moto like in the cloud (moto never fires them; the firer does). Made-up ARNs in
        # moto's default account: there is no fire Lambda locally.
        "KFPS_SCHEDULER_TARGET": f"arn:aws:lambda:{LOCAL_REGION}:123456789012:function:kfps-local-fire_recurring_run",
        "KFPS_SCHEDULER_ROLE": "arn:aws:iam::123456789012:role/kfps-local-scheduler",
        "KFPS_SCHEDULE_GROUP": "kfps-local",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_SERVICE_NAME": "kfp-serverless-local",
    }
    if options.executor == "kubernetes":
        pod_aws = {key: value for key, value in environment.items() if key.startswith("AWS_")}
        if options.pod_aws_endpoint:
            pod_aws["AWS_ENDPOINT_URL"] = options.pod_aws_endpoint
        environment["KFPS_K8S_LAUNCHER_ENV"] = json.dumps(pod_aws, sort_keys=True)
    return environment


class LocalStack:
    """Start with `start()`, stop with `stop()` (or use it as a context manager)."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self._moto: Any = None
        self._server: Any = None
        self._threads: list[threading.Thread] = []
        self._background: list[Any] = []
        self.aws_endpoint = options.aws_endpoint
        self.url = ""

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        options = self.options
        options.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.aws_endpoint:
            import logging

            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.WARNING)

            aws_port = options.aws_port or free_port()
            self._moto = ThreadedMotoServer(ip_address=options.aws_host, port=aws_port, verbose=False)
            self._moto.start()
            self.aws_endpoint = f"http://127.0.0.1:{aws_port}"
        os.environ.update(stack_environment(options, self.aws_endpoint))
        Path(os.environ["KFPS_PIPELINE_ROOT"] or options.data_dir).mkdir(parents=True, exist_ok=True)

        from chalicelib.settings import Settings
        from chalicelib.store.objects import ObjectStore
        from chalicelib.store.tables import create_tables

        settings = Settings.from_env()
        create_tables()
        ObjectStore(settings.bucket).create_bucket()
        self._start_api(settings)
        if options.reconcile:
            self._start_background(settings)

    def _start_api(self, settings: Any) -> None:
        import sys

        from chalice.config import Config
        from chalice.local import create_local_server

        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        from app import app

        config = Config(chalice_stage="local", user_provided_params={"chalice_app": app})
        port = self.options.port or free_port()
        self._server = create_local_server(app, config, self.options.host, port)
        thread = threading.Thread(target=self._server.server.serve_forever, name="kfps-api", daemon=True)
        thread.start()
        self._threads.append(thread)
        self.url = f"http://{self.options.host}:{port}"

    def _start_background(self, settings: Any) -> None:
        """The reconcile loop and the recurring-run firer, when those parts are installed."""
        try:
            from chalicelib.local.background import start_background
        except ImportError:
            return
        self._background = start_background(settings, self.options)

    @contextlib.contextmanager
    def background_paused(self) -> Iterator[None]:
        """Stop the reconcile loop and the firers for a while (tests that drive the reconciler themselves)."""
        for part in reversed(self._background):
            part.stop()
        try:
            yield
        finally:
            if self.options.reconcile:
                from chalicelib.settings import Settings

                self._start_background(Settings.from_env())

    def stop(self) -> None:
        for part in reversed(self._background):
            part.stop()
        if self._server is not None:
            self._server.server.shutdown()
            self._server.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._moto is not None:
            self._moto.stop()
