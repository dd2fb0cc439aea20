"""The event-driven cloud reconcile (`chalicelib.reconcile_entry`) in the cloud configuration: the app's handlers
on moto (DynamoDB, S3 → EventBridge → the app's own result rule), the Kubernetes executor on the fake API server
with simulated step pods (`tests.support.cloud_config`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib import reconcile_entry
from chalicelib.executors.protocol import AttemptPhase, AttemptStatus
from chalicelib.reconcile_entry import runs_to_kick
from chalicelib.settings import AwsAccess
from chalicelib.task_contract import TaskState
from tests.support.chain_pipeline import chain_pipeline
from tests.support.cloud_config import CloudHarness, cloud_harness, create_run


@pytest.fixture(scope="module")
def chain_of_two() -> dict[str, Any]:
    return chain_pipeline(2)


@pytest.fixture
def cloud(aws_access: AwsAccess, tmp_path: Path) -> Iterator[CloudHarness]:
    with cloud_harness(aws_access, tmp_path) as harness:
        yield harness


def task_states(cloud: CloudHarness, run_id: str) -> dict[str, TaskState]:
    return {task_id: record.state for task_id, record in cloud.runtime.store.runs.load_tasks(run_id).items()}


def started(cloud: CloudHarness, chain: dict[str, Any], seconds: int = 30) -> str:
    """A run created through the API, its first pass done (first step's pod created) and the pod running."""
    run_id = create_run(cloud, chain, seconds)
    cloud.deliver()
    cloud.pods.advance(0.0)
    return run_id


def test_each_result_landing_in_s3_passes_its_run_until_it_succeeds(cloud, chain_of_two) -> None:
    run_id = started(cloud, chain_of_two)
    assert task_states(cloud, run_id)["root.step"] is TaskState.PENDING

    cloud.pods.advance(30.0)  # step 1's result.json lands: S3 → EventBridge rule → the queue
    (event,) = cloud.result_event_messages()
    assert event["detail"]["object"]["key"].endswith("/root.step/1/result.json")
    outcome = cloud.invoke("reconcile_result", event)
    assert outcome["result"] == "passed" and outcome["run_id"] == run_id
    assert task_states(cloud, run_id)["root.step"] is TaskState.SUCCEEDED
    assert task_states(cloud, run_id)["root.step-2"] is TaskState.PENDING  # launched by that pass

    assert cloud.drive(run_id) == "SUCCEEDED"
    functions = [invocation.function for invocation in cloud.invocations]
    assert functions.count("reconcile_result") == 2 and "reconcile_tick" not in functions


def test_the_same_result_event_twice_changes_nothing_more(cloud, chain_of_two) -> None:
    run_id = started(cloud, chain_of_two)
    cloud.pods.advance(30.0)
    (event,) = cloud.result_event_messages()
    cloud.invoke("reconcile_result", event)
    after_one = cloud.runtime.store.runs.load_tasks(run_id)
    cloud.invoke("reconcile_result", event)
    assert cloud.runtime.store.runs.load_tasks(run_id) == after_one
    assert not cloud.fake.repeated_creates()
    assert cloud.kicks.take() == []


def s3_event(cloud: CloudHarness, detail: dict[str, Any]) -> dict[str, Any]:
    return cloud._client.events.generate_cw_event(
        source="aws.s3", detail_type="Object Created", detail=detail, resources=[]
    )


def test_events_of_other_buckets_or_keys_are_dropped(cloud) -> None:
    elsewhere = (
        (cloud.settings.bucket, "runs/r/spec.json"),
        (cloud.settings.bucket, "runs/r/tasks/t/x/result.json"),
        ("elsewhere", "runs/r/tasks/t/1/result.json"),
    )
    for bucket, key in elsewhere:
        event = s3_event(cloud, {"bucket": {"name": bucket}, "object": {"key": key}})
        assert cloud.invoke("reconcile_result", event)["result"] == "ignored"
    assert cloud.invoke("reconcile_result", s3_event(cloud, {}))["result"] == "invalid"
    assert cloud.kicks.take() == [] and cloud.fake.requests == []


class PassGate:
    """Holds the first pass of the entries' reconciler after it ran, until released."""

    def __init__(self, cloud: CloudHarness) -> None:
        self.reconciler = reconcile_entry._reconciler(cloud.runtime)
        self.inside = threading.Event()
        self.go = threading.Event()
        self.calls = 0
        self._real = self.reconciler.run_pass

    def __enter__(self) -> PassGate:
        def gated(run_ids: Any = None) -> Any:
            report = self._real(run_ids)
            self.calls += 1
            if self.calls == 1:
                self.inside.set()
                assert self.go.wait(30)
            return report

        self.reconciler.run_pass = gated  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self.go.set()
        del self.reconciler.run_pass


def test_a_second_pass_of_a_held_run_returns_at_once_and_an_event_during_the_pass_is_not_lost(
    cloud, chain_of_two
) -> None:
    run_id = started(cloud, chain_of_two)
    outcomes: list[Any] = []
    with PassGate(cloud) as gate:
        holder = threading.Thread(
            target=lambda: outcomes.append(cloud.invoke("reconcile", {"run_id": run_id}))
        )
        holder.start()
        assert gate.inside.wait(30)
        # While the holder's pass is done but its lease held: step 1 ends, and its result event arrives.
        cloud.pods.advance(30.0)
        (event,) = cloud.result_event_messages()
        second = cloud.invoke("reconcile_result", event)
        assert second["passes"] == 0 and second["held_elsewhere"] == 1
        gate.go.set()
        holder.join(30)
    (first,) = outcomes
    assert first["passes"] == 2  # the mark failed its release: it passed again and took the result in
    states = task_states(cloud, run_id)
    assert states["root.step"] is TaskState.SUCCEEDED and states["root.step-2"] is TaskState.PENDING
    assert not cloud.fake.repeated_creates()


def test_a_pass_out_of_time_with_an_event_pending_hands_the_run_over_with_a_kick(cloud, chain_of_two) -> None:
    run_id = started(cloud, chain_of_two)
    outcomes: list[Any] = []
    with PassGate(cloud) as gate:
        short = {"run_id": run_id}
        holder = threading.Thread(target=lambda: outcomes.append(cloud.invoke("reconcile", short, 20_000)))
        holder.start()
        assert gate.inside.wait(30)
        cloud.pods.advance(30.0)
        (event,) = cloud.result_event_messages()
        assert cloud.invoke("reconcile_result", event)["held_elsewhere"] == 1
        gate.go.set()
        holder.join(30)
    assert outcomes[0]["passes"] == 1 and outcomes[0]["handed_over"] == 1
    assert cloud.kicks.take() == [run_id]  # the lease is free again: the kicked pass takes the event in
    # Where no kick is possible (the reconcile function cannot invoke itself), the next tick kicks the run:
    # its last pass was forgotten with the lease.
    assert cloud.tick() == {"active": 1, "kicked": 1} and cloud.kicks.take() == [run_id]
    assert cloud.invoke("reconcile", {"run_id": run_id})["passes"] == 1
    assert task_states(cloud, run_id)["root.step"] is TaskState.SUCCEEDED


def test_a_pass_that_fails_frees_the_lease_for_the_retried_event(cloud, chain_of_two) -> None:
    run_id = started(cloud, chain_of_two)
    cloud.pods.advance(30.0)
    (event,) = cloud.result_event_messages()
    reconciler = reconcile_entry._reconciler(cloud.runtime)

    def failing(run_ids: Any = None) -> Any:
        raise ConnectionError("DynamoDB unreachable")

    reconciler.run_pass = failing  # type: ignore[method-assign]
    try:
        with pytest.raises(ConnectionError):
            cloud.invoke("reconcile_result", event)
    finally:
        del reconciler.run_pass
    # Lambda retries the failed async event: the lease is free, so the retry does the work at once.
    assert cloud.invoke("reconcile_result", event)["passes"] == 1
    assert task_states(cloud, run_id)["root.step"] is TaskState.SUCCEEDED


def test_a_lease_left_by_a_crashed_pass_is_taken_over_after_it_expires(cloud, chain_of_two) -> None:
    run_id = started(cloud, chain_of_two)
    leases = cloud.runtime.store.leases
    assert leases.acquire([run_id], "crashed", now=time.time() - 1000, seconds=10)
    cloud.pods.advance(30.0)
    (event,) = cloud.result_event_messages()
    assert cloud.invoke("reconcile_result", event)["passes"] == 1
    assert task_states(cloud, run_id)["root.step"] is TaskState.SUCCEEDED


def test_the_cloud_entries_never_sleep(cloud, chain_of_two, monkeypatch) -> None:
    caller = threading.current_thread()
    real_sleep = time.sleep

    def no_sleep(seconds: float) -> None:
        if threading.current_thread() is caller:
            raise AssertionError(f"a cloud entry slept {seconds}s")
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", no_sleep)
    run_id = create_run(cloud, chain_of_two, 600)
    assert cloud.drive(run_id) == "SUCCEEDED"
    # Ten minutes of steps cost a handful of short invocations, not ten minutes of a polling Lambda.
    assert len(cloud.invocations) <= 2 + 2 + 20


def test_the_tick_kicks_a_run_whose_pod_died_without_a_result_and_returns(cloud, chain_of_two) -> None:
    run_id = started(cloud, chain_of_two)
    assert cloud.tick() == {"active": 1, "kicked": 0}  # running, passed just now: nothing to do
    cloud.pods.fail_with("root.step", "OOMKilled")
    cloud.pods.advance(30.0)
    assert cloud.result_event_messages() == []  # no result.json, so no event
    assert cloud.tick() == {"active": 1, "kicked": 1}
    assert cloud.kicks.take() == [run_id]
    cloud.invoke("reconcile", {"run_id": run_id})
    assert task_states(cloud, run_id)["root.step"] is TaskState.FAILED
    assert cloud.runtime.store.runs.get_run(run_id).state == "FAILED"


def test_an_idle_tick_asks_only_for_active_runs(cloud) -> None:
    assert cloud.tick() == {"active": 0, "kicked": 0}
    assert cloud.fake.requests == []
    assert cloud.kicks.take() == []


def _status(run_id: str, phase: AttemptPhase) -> AttemptStatus:
    return AttemptStatus(run_id, "t", 1, phase)


def test_the_tick_kicks_ended_idle_and_stale_runs_only() -> None:
    statuses = [
        _status("running", AttemptPhase.RUNNING),
        _status("ended", AttemptPhase.RUNNING),
        _status("ended", AttemptPhase.FAILED),
        _status("stale", AttemptPhase.RUNNING),
        _status("lost", AttemptPhase.LOST),
    ]
    passes = {"running": 990.0, "ended": 990.0, "stale": 100.0, "idle": 990.0, "lost": 990.0}
    active = ["running", "ended", "stale", "idle", "lost"]
    assert runs_to_kick(active, statuses, passes, now=1000.0, stale_seconds=600) == [
        "ended",
        "stale",
        "idle",
        "lost",
    ]
