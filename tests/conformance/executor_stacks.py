"""What a conformance module runs against: the session's API with either the session's local reconcile loop or
a Kubernetes one (fake API server + process kubelet, tests/executors/k8s_fake), and the check that follows
every finished run on Kubernetes: exactly one valid pod per task attempt."""

from __future__ import annotations

import collections
import dataclasses
import time
from collections.abc import Iterable
from typing import Any

import run_waiting

EXECUTORS = ("local", "kubernetes")
SETTLE_TIMEOUT = 120.0


@dataclasses.dataclass(frozen=True)
class ExecutorStack:
    """The API `url`, a `kfp.Client` on it, and the Kubernetes stack when `executor` is "kubernetes"."""

    executor: str
    url: str
    client: Any
    kubernetes: Any = None

    def wait_for_runs(
        self,
        run_ids: Iterable[str],
        timeout: float = run_waiting.DEFAULT_TIMEOUT,
        until: frozenset[str] = run_waiting.FINAL_STATES,
    ) -> dict[str, dict[str, Any]]:
        """`run_waiting.wait_for_runs`, then, on Kubernetes, one pod per attempt of every run that is final."""
        finished = run_waiting.wait_for_runs(self.url, run_ids, timeout, until)
        if self.kubernetes is not None:
            for run_id, run in finished.items():
                if run.get("state") in run_waiting.FINAL_STATES:
                    assert_one_pod_per_attempt(self.kubernetes, run_id)
        return finished

    def wait_for_run(
        self,
        run_id: str,
        timeout: float = run_waiting.DEFAULT_TIMEOUT,
        until: frozenset[str] = run_waiting.FINAL_STATES,
    ) -> dict[str, Any]:
        return self.wait_for_runs([run_id], timeout, until)[run_id]

    def settle(self) -> None:
        """Terminate the runs still active and wait until they are final, so no run this stack's reconcile
        loop started is left for another loop (with another executor) to take over."""
        from kfp_server_api.exceptions import ApiException

        run_store = self.kubernetes.loop.reconciler.store.runs
        for run_id in run_store.active_run_ids():
            try:
                self.client.terminate_run(run_id)
            except ApiException:  # deleted meanwhile
                continue
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while run_store.active_run_ids() and time.monotonic() < deadline:
            time.sleep(0.25)


def pods_per_attempt(kubernetes: Any, run_id: str) -> collections.Counter[tuple[str, int]]:
    """(task id, attempt) → how many pods the fake API server accepted for it; every manifest validated."""
    from chalicelib.executors.k8s import names
    from tests.executors.k8s_fake.support import validate_manifest

    counts: collections.Counter[tuple[str, int]] = collections.Counter()
    for pod in kubernetes.pods_created_for(run_id):
        validate_manifest({key: value for key, value in pod.items() if key != "status"})
        task_id = pod["metadata"]["annotations"][names.ANNOTATION_TASK_ID]
        counts[(task_id, int(pod["metadata"]["labels"][names.LABEL_ATTEMPT]))] += 1
    return counts


def launched_attempts(kubernetes: Any, run_id: str) -> set[tuple[str, int]]:
    """(task id, attempt) of every container attempt the run launched: attempts 1..n of each container task
    whose attempt n was launched, except cache hits (launched, but answered from the cache without a pod)."""
    from chalicelib.engine.attempts import LAUNCHED_ATTEMPT_KEY
    from chalicelib.task_contract import TaskState

    attempts: set[tuple[str, int]] = set()
    for record in kubernetes.loop.reconciler.store.runs.load_tasks(run_id).values():
        if record.kind != "container" or record.state is TaskState.CACHED:
            continue
        last = int(record.data.get(LAUNCHED_ATTEMPT_KEY) or 0)
        attempts.update((record.task_id, attempt) for attempt in range(1, last + 1))
    return attempts


def assert_one_pod_per_attempt(kubernetes: Any, run_id: str) -> None:
    expected = {key: 1 for key in launched_attempts(kubernetes, run_id)}
    actual = dict(pods_per_attempt(kubernetes, run_id))
    assert actual == expected, f"run {run_id}: pods per (task, attempt) {actual}, expected {expected}"
