"""The local stack's reconcile loop with the Kubernetes executor against the fake API server, the process
kubelet running the pods: what `kfps up --executor kubernetes --kubeconfig PATH --namespace NS` runs.

The API is the session stack's (Chalice's local server can be created once per process, and both would serve
the same app over the same tables and bucket); the loop listens to the session stack's kicks. The loop's
settings come from `stack_settings` for the kubernetes options (executor, kubeconfig, namespace, the launcher
containers' S3 access), exactly as `LocalStack` builds them. The pods' base environment carries no AWS variables
at all: the launcher containers reach moto only through the manifest's launcher env.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from chalicelib.executors.k8s import names
from chalicelib.local.background import ReconcileLoop
from chalicelib.local.stack import LocalStack, StackOptions, stack_settings
from chalicelib.runtime import Runtime
from chalicelib.settings import Settings
from chalicelib.store import open_store
from tests.executors.k8s_fake.kubelet import ProcessKubelet
from tests.executors.k8s_fake.server import FakeKube

REPO = Path(__file__).resolve().parents[3]
NAMESPACE = "kfps-pods"


@dataclasses.dataclass
class KubernetesStack:
    """The reconcile loop, the fake API behind it, and every pod manifest the API accepted (in order)."""

    loop: ReconcileLoop
    settings: Settings
    fake: FakeKube
    kubelet: ProcessKubelet
    kubeconfig: Path
    created_pods: list[dict[str, Any]]

    def pods_created_for(self, run_id: str) -> list[dict[str, Any]]:
        """Every pod ever created for the run (deleted ones included)."""
        return [
            p for p in self.created_pods if p["metadata"]["annotations"][names.ANNOTATION_RUN_ID] == run_id
        ]

    def live_pods_of(self, run_id: str) -> list[dict[str, Any]]:
        return [
            p
            for p in self.fake.pods(NAMESPACE)
            if p["metadata"]["annotations"][names.ANNOTATION_RUN_ID] == run_id
        ]

    def claim_requests(self, method: str) -> list[str]:
        """Paths of the PVC requests made with `method` (POST creates, DELETE deletes)."""
        return [
            r.path for r in self.fake.requests if r.method == method and "/persistentvolumeclaims" in r.path
        ]


def write_kubeconfig(path: Path, server: str, namespace: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": "fake", "user": {"token": "fake-token"}}],
        "contexts": [
            {"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": namespace}}
        ],
        "current-context": "fake",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def pod_environment(home: Path) -> dict[str, str]:
    """What every container starts with: the stack's Python first on PATH (its python3 has kfp, as an image
    that ships kfp would), chalicelib importable (the launcher image), and nothing of AWS."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }


@contextlib.contextmanager
def kubernetes_stack(
    session: LocalStack, root: Path, settings_changes: Mapping[str, Any] | None = None
) -> Iterator[KubernetesStack]:
    """Start the fake cluster and a reconcile loop with the Kubernetes executor against it, on the session
    stack's (moto-backed) store (`settings_changes`: app settings to replace); stop both after, then fail if any
    pod was POSTed more than once."""
    fake = FakeKube()
    url = fake.start()
    created: list[dict[str, Any]] = []
    fake.on_create.append(created.append)
    workdir = root / "containers"
    workdir.mkdir(parents=True, exist_ok=True)
    kubelet = ProcessKubelet(
        fake,
        pod_environment(root / "home"),
        cwd=str(workdir),
        root=root / "kubelet",
        shared_dirs=(root.parent,),
    )
    kubeconfig = write_kubeconfig(root / "kubeconfig", url, NAMESPACE)
    options = StackOptions(
        port=0,
        data_dir=root / "data",
        store="dynamodb",
        executor="kubernetes",
        kubeconfig=str(kubeconfig),
        namespace=NAMESPACE,
        table_prefix=session.options.table_prefix,
        bucket=session.options.bucket,
        aws_endpoint=session.aws_endpoint,
    )
    settings = dataclasses.replace(stack_settings(options, session.aws_endpoint), **(settings_changes or {}))
    if settings.kubernetes is not None and settings.pod_namespace_template:
        kubernetes = dataclasses.replace(settings.kubernetes, per_namespace_pods=True)
        settings = dataclasses.replace(settings, kubernetes=kubernetes)
    assert session.runtime is not None
    runtime = Runtime(settings, open_store(settings), session.runtime.kicker)
    loop = ReconcileLoop(runtime).start()
    try:
        yield KubernetesStack(loop, settings, fake, kubelet, kubeconfig, created)
    finally:
        loop.stop()
        for pod in fake.pods():
            fake.delete("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
        kubelet.wait_idle(timeout=30)
        fake.stop()
    # Names are deterministic, so a second create is refused harmlessly; but a reconciler must never make one.
    repeated = fake.repeated_creates()
    assert not repeated, f"pods created more than once: {repeated}"
