"""Test-wide setup: one real moto server on loopback for the whole session, and the environment the app
reads at import (so this must run before anything imports chalicelib.store)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.local.stack import LocalStack, StackOptions, free_port, stack_environment

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("KFPS_CORPUS", REPO_ROOT.parent / "shared" / "corpus" / "kfp-compiled"))

_DATA_DIR = Path(os.environ.get("KFPS_TEST_DATA_DIR", f"/tmp/kfps-test-{os.getpid()}"))
_AWS_PORT = free_port()
_AWS_ENDPOINT = f"http://127.0.0.1:{_AWS_PORT}"
os.environ.update(
    stack_environment(
        StackOptions(data_dir=_DATA_DIR, table_prefix="kfps-test", bucket="kfps-test-data"), _AWS_ENDPOINT
    )
)
os.environ["HOME"] = str(_DATA_DIR / "home")  # kfp.Client writes ~/.config/kfp/context.json
(_DATA_DIR / "home").mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """A moto server with the app's tables and bucket."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_AWS_PORT, verbose=False)
    server.start()
    from chalicelib.settings import Settings
    from chalicelib.store.objects import ObjectStore
    from chalicelib.store.tables import create_tables

    create_tables()
    ObjectStore(Settings.from_env().bucket).create_bucket()
    yield _AWS_ENDPOINT
    server.stop()


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"KFP corpus not found at {CORPUS} (set KFPS_CORPUS)")
    return CORPUS


@pytest.fixture
def unique() -> str:
    """A short unique suffix: tests share one moto server, so names must not collide."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def local_stack(aws_endpoint: str) -> Iterator[LocalStack]:
    """The local stack (API over HTTP on a free port + reconciler) sharing the session's moto server."""
    options = StackOptions(
        port=0,
        data_dir=Path(os.environ["KFPS_DATA_DIR"]),
        table_prefix=os.environ["KFPS_TABLE_PREFIX"],
        bucket=os.environ["KFPS_BUCKET"],
        aws_endpoint=aws_endpoint,
    )
    with LocalStack(options) as stack:
        yield stack


@pytest.fixture(scope="session")
def kfp_client(local_stack: LocalStack):
    import kfp

    return kfp.Client(host=local_stack.url)


@pytest.fixture(scope="module")
def kubernetes_stack(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory):
    """A second stack with `--executor kubernetes` against the fake API server and the process kubelet
    (tests/executors/k8s_fake). Module scope: the session stack's reconcile loop is paused meanwhile, so only
    this stack's reconciler runs runs; create them through either stack's API (they share tables)."""
    from tests.executors.k8s_fake.kubelet import mount_namespaces_available
    from tests.executors.k8s_fake.stack import kubernetes_stack as start_kubernetes_stack

    if not mount_namespaces_available():
        pytest.skip("the process kubelet needs root and `unshare --mount` to mount pod volumes")
    with local_stack.background_paused():
        with start_kubernetes_stack(local_stack.aws_endpoint, tmp_path_factory.mktemp("k8s-stack")) as stack:
            yield stack


@pytest.fixture
def quiet_stack(local_stack: LocalStack) -> Iterator[None]:
    """Pause the session stack's reconcile loop, recurring-run firer and upload watcher while a test drives
    the reconciler or delivers trigger events by hand (they share the moto server and the tables)."""
    with local_stack.background_paused():
        yield
