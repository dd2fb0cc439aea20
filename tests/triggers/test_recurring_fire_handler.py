"""The `fire_recurring_run` Lambda and the `:enable` catch-up, through the app in process against moto."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import runtime
from chalicelib.run_states import FINAL_RUN_STATES, IllegalRunTransition
from chalicelib.services.recurring_fires import FireOutcome, FireResult, fire_scheduled_time
from chalicelib.store.errors import ConcurrentUpdate
from chalicelib.store.records import moved_to
from chalicelib.timestamps import format_time, now_text, parse_time
from chalicelib.triggers.firing import scheduled_run_id
from tests.triggers.conftest import AppClient

# The session stack's firer would fire these recurring runs on its own clock while the tests fire by hand.
pytestmark = pytest.mark.usefixtures("quiet_stack")

T1 = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
T2 = T1 + timedelta(hours=1)
T3 = T1 + timedelta(hours=2)


def fire(app_client: AppClient, recurring_run_id: str, moment: datetime) -> dict:
    return app_client.invoke(
        "fire_recurring_run", {"recurring_run_id": recurring_run_id, "scheduled_time": format_time(moment)}
    )


@pytest.fixture(autouse=True)
def _stores(app_runtime) -> None:
    """The helpers below use the installed runtime's store: the session stack's."""


def run_store():
    return runtime.current().store.runs


def recurring_store():
    return runtime.current().store.recurring_runs


def run_ids_of(recurring_run_id: str) -> set[str]:
    return {run.run_id for run in run_store().list_runs("") if run.recurring_run_id == recurring_run_id}


def finish(run_id: str) -> None:
    """End the run (a reconcile loop may be moving it on at the same time)."""
    for _ in range(20):
        run = run_store().get_run(run_id)
        if run.state in FINAL_RUN_STATES:
            return
        try:
            run_store().update_run(moved_to(run, "FAILED", now_text()))
        except (ConcurrentUpdate, IllegalRunTransition):
            continue
    raise AssertionError(f"run {run_id} did not end")


@pytest.fixture
def recurring_run(app_client: AppClient, unique: str):
    created = app_client.create_recurring_run(unique)
    yield created
    app_client.call("DELETE", f"/recurringruns/{created['recurring_run_id']}")


def test_fire_creates_the_run_of_the_scheduled_time(app_client: AppClient, recurring_run: dict) -> None:
    rid = recurring_run["recurring_run_id"]

    outcome = fire(app_client, rid, T1)

    assert outcome["result"] == "created"
    assert outcome["run_id"] == scheduled_run_id(rid, T1)
    status, run = app_client.call("GET", f"/runs/{outcome['run_id']}")
    assert status == 200, run
    assert run["recurring_run_id"] == rid
    assert parse_time(run["scheduled_at"]) == T1
    assert run["experiment_id"] == recurring_run["experiment_id"]
    assert recurring_store().get_recurring_run(rid).last_fired_at == format_time(T1)


def test_repeated_and_out_of_order_fires_create_one_run_per_time(
    app_client: AppClient, recurring_run: dict
) -> None:
    rid = recurring_run["recurring_run_id"]

    results = [fire(app_client, rid, moment)["result"] for moment in (T2, T1, T2, T1)]

    assert results == ["created", "created", "duplicate", "duplicate"]
    assert run_ids_of(rid) == {scheduled_run_id(rid, T1), scheduled_run_id(rid, T2)}
    assert recurring_store().get_recurring_run(rid).last_fired_at == format_time(T2)


def test_fire_while_max_concurrency_runs_are_active_is_skipped_and_recorded(
    app_client: AppClient, unique: str
) -> None:
    rid = app_client.create_recurring_run(unique, max_concurrency=1)["recurring_run_id"]
    try:
        assert fire(app_client, rid, T1)["result"] == "created"

        skipped = fire(app_client, rid, T2)

        assert skipped["result"] == "skipped"
        assert run_ids_of(rid) == {scheduled_run_id(rid, T1)}
        _, shown = app_client.call("GET", f"/recurringruns/{rid}")
        assert "max_concurrency is 1" in shown["error"]["message"]
        assert recurring_store().get_recurring_run(rid).last_fired_at == format_time(T2)

        finish(scheduled_run_id(rid, T1))
        assert fire(app_client, rid, T3)["result"] == "created"
        _, shown = app_client.call("GET", f"/recurringruns/{rid}")
        assert "error" not in shown
    finally:
        app_client.call("DELETE", f"/recurringruns/{rid}")


def test_fire_over_the_namespaces_active_run_quota_is_skipped_and_recorded(
    app_client: AppClient, unique: str, app_runtime
) -> None:
    rid = app_client.create_recurring_run(unique, max_concurrency=10)["recurring_run_id"]
    namespace = recurring_store().get_recurring_run(rid).namespace
    active = sum(
        run_store().get_run(run_id).namespace == namespace for run_id in run_store().active_run_ids()
    )
    limits = dataclasses.replace(app_runtime.settings.limits, max_active_runs_per_namespace=active + 1)
    runtime.install(
        dataclasses.replace(app_runtime, settings=dataclasses.replace(app_runtime.settings, limits=limits))
    )
    try:
        assert fire(app_client, rid, T1)["result"] == "created"

        assert fire(app_client, rid, T2)["result"] == "skipped"

        assert run_ids_of(rid) == {scheduled_run_id(rid, T1)}
        _, shown = app_client.call("GET", f"/recurringruns/{rid}")
        assert f"the quota is {active + 1}" in shown["error"]["message"]
    finally:
        runtime.install(app_runtime)
        finish(scheduled_run_id(rid, T1))
        app_client.call("DELETE", f"/recurringruns/{rid}")


def test_fires_of_a_disabled_or_deleted_recurring_run_create_nothing(
    app_client: AppClient, unique: str
) -> None:
    rid = app_client.create_recurring_run(unique)["recurring_run_id"]
    app_client.call("POST", f"/recurringruns/{rid}:disable")

    assert fire(app_client, rid, T1)["result"] == "disabled"
    app_client.call("DELETE", f"/recurringruns/{rid}")
    assert fire(app_client, rid, T1)["result"] == "gone"
    assert run_ids_of(rid) == set()


def test_fire_event_without_time_is_dropped(app_client: AppClient, recurring_run: dict) -> None:
    outcome = app_client.invoke("fire_recurring_run", {"recurring_run_id": recurring_run["recurring_run_id"]})

    assert outcome["result"] == "invalid"
    assert run_ids_of(recurring_run["recurring_run_id"]) == set()


def test_recurring_run_on_a_version_keeps_using_that_version(app_client: AppClient, unique: str) -> None:
    from tests.triggers.conftest import HELLO_SPEC

    status, pipeline = app_client.call(
        "POST",
        "/pipelines/create",
        {
            "pipeline": {"display_name": f"pinned-{unique}"},
            "pipeline_version": {"display_name": "v1", "pipeline_spec": HELLO_SPEC},
        },
    )
    assert status == 200, pipeline
    pid = pipeline["pipeline_id"]
    _, versions = app_client.call("GET", f"/pipelines/{pid}/versions")
    v1 = versions["pipeline_versions"][0]["pipeline_version_id"]
    rid = app_client.create_recurring_run(
        unique,
        pipeline_spec=None,
        pipeline_version_reference={"pipeline_id": pid, "pipeline_version_id": v1},
    )["recurring_run_id"]
    try:
        status, _ = app_client.call(
            "POST", f"/pipelines/{pid}/versions", {"display_name": "v2", "pipeline_spec": HELLO_SPEC}
        )
        assert status == 200

        run_id = fire(app_client, rid, T1)["run_id"]

        _, run = app_client.call("GET", f"/runs/{run_id}")
        assert run["pipeline_version_reference"] == {"pipeline_id": pid, "pipeline_version_id": v1}
    finally:
        app_client.call("DELETE", f"/recurringruns/{rid}")


def _disable_with_cursor(app_client: AppClient, rid: str, cursor: datetime) -> None:
    app_client.call("POST", f"/recurringruns/{rid}:disable")
    item = recurring_store().get_recurring_run(rid)
    recurring_store().update_recurring_run(dataclasses.replace(item, last_fired_at=format_time(cursor)))


def test_enable_backfills_missed_times_oldest_first_within_max_concurrency(
    app_client: AppClient, unique: str
) -> None:
    rid = app_client.create_recurring_run(unique, max_concurrency=2, no_catchup=False)["recurring_run_id"]
    try:
        cursor = datetime.now(UTC) - timedelta(hours=3, minutes=30)
        _disable_with_cursor(app_client, rid, cursor)

        assert app_client.call("POST", f"/recurringruns/{rid}:enable") == (200, {})

        missed = [cursor + timedelta(hours=hours) for hours in (1, 2, 3)]
        assert run_ids_of(rid) == {scheduled_run_id(rid, moment) for moment in missed[:2]}
        _, shown = app_client.call("GET", f"/recurringruns/{rid}")
        assert shown["status"] == "ENABLED"
        assert "max_concurrency is 2" in shown["error"]["message"]
        assert parse_time(recurring_store().get_recurring_run(rid).last_fired_at) > missed[-1]
    finally:
        app_client.call("DELETE", f"/recurringruns/{rid}")


def test_enable_with_no_catchup_fires_nothing_missed(app_client: AppClient, unique: str) -> None:
    rid = app_client.create_recurring_run(unique, no_catchup=True)["recurring_run_id"]
    try:
        cursor = datetime.now(UTC) - timedelta(hours=3, minutes=30)
        _disable_with_cursor(app_client, rid, cursor)

        app_client.call("POST", f"/recurringruns/{rid}:enable")

        assert run_ids_of(rid) == set()
        assert parse_time(recurring_store().get_recurring_run(rid).last_fired_at) > cursor + timedelta(
            hours=3
        )
    finally:
        app_client.call("DELETE", f"/recurringruns/{rid}")


def test_concurrent_fires_never_start_more_than_max_concurrency_runs(
    app_client: AppClient, app_runtime, unique: str
) -> None:
    """Eight threads fire eight different scheduled times at the same moment: exactly max_concurrency runs are
    created (the slot counter is taken in the run's own create transaction); finishing one frees its slot."""
    rid = app_client.create_recurring_run(unique, max_concurrency=2)["recurring_run_id"]
    moments = [T1 + timedelta(minutes=minute) for minute in range(8)]
    start = threading.Barrier(len(moments))
    outcomes: list[FireOutcome] = []

    def fire_at(moment: datetime) -> None:
        start.wait()
        outcomes.append(fire_scheduled_time(app_runtime, rid, moment, moment))

    threads = [threading.Thread(target=fire_at, args=(moment,)) for moment in moments]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        results = sorted(outcome.result.value for outcome in outcomes)
        assert results == ["created"] * 2 + ["skipped"] * 6
        created = [outcome.run_id for outcome in outcomes if outcome.result is FireResult.CREATED]
        assert run_ids_of(rid) == set(created)
        assert recurring_store().get_recurring_run(rid).active_runs == 2

        finish(created[0])
        assert recurring_store().get_recurring_run(rid).active_runs == 1
        later = fire_scheduled_time(app_runtime, rid, T3, T3)
        assert later.result is FireResult.CREATED
        assert recurring_store().get_recurring_run(rid).active_runs == 2
    finally:
        app_client.call("DELETE", f"/recurringruns/{rid}")
