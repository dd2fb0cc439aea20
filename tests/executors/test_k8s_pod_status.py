"""Pod → attempt phase rules not covered through the executor tests, and the poll label selector."""

from __future__ import annotations

import datetime as dt

from chalicelib.executors.k8s import names
from chalicelib.executors.k8s.executor import MAX_SELECTOR_RUN_IDS, run_selector
from chalicelib.executors.k8s.pod_status import pod_identity, pod_verdict
from chalicelib.executors.protocol import AttemptPhase
from tests.executors.k8s_fake.server import selector_matches

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def verdict(status: dict, **meta):
    pod = {"metadata": {"creationTimestamp": "2026-01-01T00:00:00Z", **meta}, "status": status}
    return pod_verdict(pod, NOW, pending_grace_seconds=60, collect_grace_seconds=60)


def exited(name: str, code: int) -> dict:
    return {"name": name, "state": {"terminated": {"exitCode": code, "finishedAt": "2026-01-01T00:00:00Z"}}}


def test_pod_still_preparing_inputs_counts_as_running():
    status = {
        "phase": "Pending",
        "initContainerStatuses": [{"name": "kfp-prepare", "state": {"running": {}}}],
    }
    assert verdict(status).phase is AttemptPhase.RUNNING


def test_scheduled_pod_waiting_for_nothing_in_particular_is_pending():
    assert verdict({"phase": "Pending"}).phase is AttemptPhase.PENDING


def test_active_deadline_exceeded_is_a_failure_with_that_reason():
    result = verdict({"phase": "Failed", "reason": "DeadlineExceeded", "message": "too slow"})
    assert (result.phase, result.reason, result.needs_result) == (
        AttemptPhase.FAILED,
        "DeadlineExceeded",
        True,
    )


def test_collect_failure_after_a_clean_command_is_reported_as_collect_failed():
    status = {"phase": "Failed", "containerStatuses": [exited("main", 0), exited("kfp-collect", 1)]}
    result = verdict(status)
    assert (result.phase, result.reason, result.exit_code) == (AttemptPhase.FAILED, "CollectFailed", 0)


def test_finished_pod_being_deleted_keeps_its_outcome():
    status = {"phase": "Succeeded", "containerStatuses": [exited("main", 0), exited("kfp-collect", 0)]}
    assert verdict(status, deletionTimestamp="2026-01-01T00:00:00Z").phase is AttemptPhase.SUCCEEDED


def test_disruption_target_condition_means_lost():
    status = {"phase": "Running", "conditions": [{"type": "DisruptionTarget", "status": "True"}]}
    assert verdict(status).phase is AttemptPhase.LOST


def test_pods_without_our_annotations_are_ignored():
    assert pod_identity({"metadata": {"name": "x", "labels": {}}}) is None


def test_run_selector_names_the_runs_and_falls_back_to_all_our_pods_for_many_runs():
    labels = {names.LABEL_MANAGED_BY: names.MANAGED_BY, names.LABEL_RUN_ID: "r1"}
    assert selector_matches(run_selector(["r1", "r2"]), labels)
    assert not selector_matches(run_selector(["r2"]), labels)
    many = [f"r{i}" for i in range(MAX_SELECTOR_RUN_IDS + 1)]
    assert run_selector(many) == f"{names.LABEL_MANAGED_BY}={names.MANAGED_BY}"
