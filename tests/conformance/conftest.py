"""Conformance tests: real pipelines through kfp.Client against the local stack, on the local executor and on
the Kubernetes executor (`executor_stack`). Makes the shared helpers in this folder importable (pytest runs
with `--import-mode=importlib`, which does not put test folders on sys.path)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.launch_counting import counted_local_launches, repeated

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from executor_stacks import EXECUTORS, ExecutorStack  # noqa: E402 - importable only after the line above


@pytest.fixture(scope="module", params=EXECUTORS)
def executor_stack(request, local_stack, kfp_client, tmp_path_factory) -> Iterator[ExecutorStack]:
    """The module's runs on each executor in turn. Module scope, so pytest runs a module's tests on "local"
    first, then on "kubernetes": meanwhile the session's local reconcile loop is paused and the Kubernetes
    loop reconciles alone; at the end its active runs are terminated and awaited, the loop stopped, and the
    local loop resumed, so the two loops never reconcile the same runs and later modules are unaffected.
    On either executor, the module fails if any attempt was launched twice (pod creates are counted by the
    fake API server, local launches by `counted_local_launches`)."""
    if request.param == "local":
        with counted_local_launches() as launches:
            yield ExecutorStack("local", local_stack.url, kfp_client)
        assert not repeated(launches), f"attempts launched more than once: {repeated(launches)}"
        return
    from tests.conftest import require_moto_backed_stack
    from tests.executors.k8s_fake.kubelet import mount_namespaces_available
    from tests.executors.k8s_fake.stack import kubernetes_stack

    require_moto_backed_stack(local_stack)
    if not mount_namespaces_available():
        pytest.skip("the process kubelet needs root and `unshare --mount` to mount pod volumes")
    root = tmp_path_factory.mktemp("conformance-k8s")
    with local_stack.background_paused(), kubernetes_stack(local_stack, root) as kubernetes:
        stack = ExecutorStack("kubernetes", local_stack.url, kfp_client, kubernetes)
        try:
            yield stack
        finally:
            stack.settle()
