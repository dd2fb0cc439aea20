"""Test-wide setup.

The session runs against one store implementation, chosen with `--store embedded|dynamodb` (default: the
embedded store, or $KFPS_TEST_STORE): the session's local stack (API over HTTP + reconciler + firer + upload
watcher) and the in-process app the API and trigger tests call both use it. `make test` runs the store-bound
tests (API, kfp.Client, conformance, triggers, reconciler) a second time with `--store dynamodb`. The store
contract tests (tests/store) run on both implementations in any session.

The embedded AWS (moto) starts only when a test needs it. The AWS_* variables set below are for the tests' own
boto3 clients (putting objects into the bucket, reading schedules); the app never reads them: it gets its
Settings from the stack.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.local.ports import free_port
from chalicelib.local.stack import LOCAL_AWS_KEY, LOCAL_REGION, LocalStack, StackOptions
from chalicelib.settings import DYNAMODB_STORE, EMBEDDED_STORE, STORES, AwsAccess, Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("KFPS_CORPUS", REPO_ROOT.parent / "shared" / "corpus" / "kfp-compiled"))

_KEEP_DATA = "KFPS_TEST_DATA_DIR" in os.environ
_DATA_DIR = Path(os.environ.get("KFPS_TEST_DATA_DIR", f"/tmp/kfps-test-{os.getpid()}"))
_AWS_PORT = free_port()
_AWS_ENDPOINT = f"http://127.0.0.1:{_AWS_PORT}"
TABLE_PREFIX = "kfps-test"
BUCKET = "kfps-test-data"

os.environ.update(
    {
        "AWS_ENDPOINT_URL": _AWS_ENDPOINT,
        "AWS_ACCESS_KEY_ID": LOCAL_AWS_KEY,
        "AWS_SECRET_ACCESS_KEY": LOCAL_AWS_KEY,
        "AWS_SESSION_TOKEN": LOCAL_AWS_KEY,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "HOME": str(_DATA_DIR / "home"),  # kfp.Client writes ~/.config/kfp/context.json
    }
)
(_DATA_DIR / "home").mkdir(parents=True, exist_ok=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store",
        choices=STORES,
        default=os.environ.get("KFPS_TEST_STORE", EMBEDDED_STORE),
        help="the store the session's stack and app use (default: embedded, or $KFPS_TEST_STORE)",
    )


@pytest.fixture(scope="session", autouse=True)
def _session_data_dir() -> Iterator[Path]:
    yield _DATA_DIR
    if not _KEEP_DATA:
        shutil.rmtree(_DATA_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--store")


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """An embedded AWS (moto) server on loopback for the session."""
    from chalicelib.local.embedded_aws import EmbeddedAws

    server = EmbeddedAws("127.0.0.1", _AWS_PORT).start()
    yield _AWS_ENDPOINT
    server.stop()


@pytest.fixture(scope="session")
def aws_access(aws_endpoint: str) -> AwsAccess:
    return AwsAccess(LOCAL_REGION, aws_endpoint, LOCAL_AWS_KEY, LOCAL_AWS_KEY, LOCAL_AWS_KEY)


@pytest.fixture(scope="session")
def aws_settings(aws_access: AwsAccess) -> Settings:
    """The moto-backed store's settings (tables and bucket created)."""
    from chalicelib.store.dynamo import provision_dynamo_store

    settings = Settings(store=DYNAMODB_STORE, table_prefix=TABLE_PREFIX, bucket=BUCKET, aws=aws_access)
    provision_dynamo_store(settings)
    return settings


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"KFP corpus not found at {CORPUS} (set KFPS_CORPUS)")
    return CORPUS


@pytest.fixture
def unique() -> str:
    """A short unique suffix: tests share one store, so names must not collide."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def local_stack(request: pytest.FixtureRequest, store_kind: str) -> Iterator[LocalStack]:
    """The local stack (API over HTTP on a free port + reconciler + firer + watcher) on the session's store;
    its runtime is the one the in-process app (`chalice.test.Client`) serves with too."""
    endpoint = request.getfixturevalue("aws_endpoint") if store_kind == DYNAMODB_STORE else ""
    options = StackOptions(
        port=0,
        data_dir=_DATA_DIR / "stack",
        store=store_kind,
        aws_endpoint=endpoint,
        table_prefix=TABLE_PREFIX,
        bucket=BUCKET,
    )
    with LocalStack(options) as stack:
        yield stack


@pytest.fixture(scope="session")
def app_runtime(local_stack: LocalStack):
    """The runtime the app serves with (the session stack's: settings, store, kicks to its reconcile loop)."""
    assert local_stack.runtime is not None
    return local_stack.runtime


@pytest.fixture(scope="session")
def kfp_client(local_stack: LocalStack):
    import kfp

    return kfp.Client(host=local_stack.url)


def require_moto_backed_stack(local_stack: LocalStack, needed_by: str = "the Kubernetes executor") -> None:
    """Skip unless the session's stack is moto-backed (the Kubernetes executor's pods use S3; EventBridge
    schedules live in moto)."""
    if local_stack.settings.store != DYNAMODB_STORE:
        pytest.skip(f"{needed_by} needs the moto-backed store: run with --store dynamodb")


@pytest.fixture(scope="module")
def kubernetes_stack(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory):
    """A reconcile loop with the Kubernetes executor against the fake API server and the process kubelet
    (tests/executors/k8s_fake). Module scope: the session stack's reconcile loop is paused meanwhile, so only
    this loop reconciles runs; create them through the session stack's API (they share the store)."""
    from tests.executors.k8s_fake.kubelet import mount_namespaces_available
    from tests.executors.k8s_fake.stack import kubernetes_stack as start_kubernetes_stack

    require_moto_backed_stack(local_stack)
    if not mount_namespaces_available():
        pytest.skip("the process kubelet needs root and `unshare --mount` to mount pod volumes")
    with local_stack.background_paused():
        with start_kubernetes_stack(local_stack, tmp_path_factory.mktemp("k8s-stack")) as stack:
            yield stack


@pytest.fixture
def quiet_stack(local_stack: LocalStack) -> Iterator[None]:
    """Pause the session stack's reconcile loop, recurring-run firer and upload watcher while a test drives
    the reconciler or delivers trigger events by hand (they share the store)."""
    with local_stack.background_paused():
        yield
