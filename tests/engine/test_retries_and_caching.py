"""Retry policy with backoff, attempts, cache keys and flags, and run retry."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from engine_fakes import START, FakeRun, Result, sample_outputs
from spec_builders import SpecBuilder, comp_in, const, out, parameter, task

from chalicelib.engine import InvalidTransition, finish_attempt, plan, record_cached, retry_run, transition
from chalicelib.engine.attempts import MAX_LOST_ATTEMPTS
from chalicelib.engine.model import RunInput
from chalicelib.task_contract import TaskState

RUN = RunInput(
    run_id="r1", pipeline_name="p", pipeline_root="s3://b/r", created_at="2026-01-01T00:00:00.000000Z"
)


def retrying_spec(policy=None):
    builder = SpecBuilder("p")
    work = builder.container("work", inputs={"x": parameter("STRING", "a")}, outputs={"Output": "STRING"})
    flaky = task(
        work, retryPolicy=policy or {"maxRetryCount": 2, "backoffDuration": "10s", "backoffFactor": 3}
    )
    return builder.build({"flaky": flaky, "next": task(work, {"x": out("flaky")})})


def apply(tasks, records):
    return {**tasks, **{record.task_id: record for record in records}}


def test_failed_attempt_waits_for_backoff_then_launches_next_attempt():
    spec = retrying_spec()
    tasks = apply({}, plan(RUN, spec, None, {}, START).records)
    failed = finish_attempt(tasks["root.flaky"], spec, False, {}, {}, "boom", 1, START)
    assert failed.state is TaskState.PENDING and failed.attempt == 2
    assert failed.next_attempt_at == "2026-01-01T00:00:10.000000Z"
    tasks = apply(tasks, [failed])
    assert plan(RUN, spec, None, tasks, START + datetime.timedelta(seconds=5)).launches == []
    due = plan(RUN, spec, None, tasks, START + datetime.timedelta(seconds=10))
    assert [launch.spec.attempt for launch in due.launches] == [2]


def test_backoff_grows_by_factor_and_retries_run_out():
    spec = retrying_spec()
    tasks = apply({}, plan(RUN, spec, None, {}, START).records)
    record = finish_attempt(tasks["root.flaky"], spec, False, {}, {}, "boom", 1, START)
    record = finish_attempt(record, spec, False, {}, {}, "boom", 1, START)
    assert record.attempt == 3 and record.next_attempt_at == "2026-01-01T00:00:30.000000Z"
    record = finish_attempt(record, spec, False, {}, {}, "still boom", 7, START)
    assert record.state is TaskState.FAILED and record.error == "still boom" and record.exit_code == 7


def test_retries_stop_once_the_max_duration_window_has_passed():
    spec = retrying_spec({"maxRetryCount": 5, "backoffDuration": "0s", "backoffMaxDuration": "60s"})
    tasks = apply({}, plan(RUN, spec, None, {}, START).records)
    late = finish_attempt(
        tasks["root.flaky"], spec, False, {}, {}, "boom", 1, START + datetime.timedelta(hours=1)
    )
    assert late.state is TaskState.FAILED


def test_task_without_retry_policy_fails_at_once():
    builder = SpecBuilder("p")
    work = builder.container("work")
    spec = builder.build({"once": task(work)})
    tasks = apply({}, plan(RUN, spec, None, {}, START).records)
    assert finish_attempt(tasks["root.once"], spec, False, {}, {}, "boom", 1, START).state is TaskState.FAILED


def test_lost_attempt_runs_again_at_once_without_a_retry_policy_a_bounded_number_of_times():
    builder = SpecBuilder("p")
    work = builder.container("work")
    spec = builder.build({"once": task(work)})
    tasks = apply({}, plan(RUN, spec, None, {}, START).records)
    record = tasks["root.once"]
    for attempt in range(2, MAX_LOST_ATTEMPTS + 2):
        record = finish_attempt(record, spec, False, {}, {}, "attempt lost", None, START, lost=True)
        assert (record.state, record.attempt, record.next_attempt_at) == (TaskState.PENDING, attempt, "")
        launched = plan(RUN, spec, None, apply(tasks, [record]), START).launches
        assert [launch.spec.attempt for launch in launched] == [attempt]
        record = launched_record(plan(RUN, spec, None, apply(tasks, [record]), START), record)
    failed = finish_attempt(record, spec, False, {}, {}, "attempt lost", None, START, lost=True)
    assert failed.state is TaskState.FAILED and failed.error == "attempt lost"


def launched_record(decisions, record):
    """The record as the plan that launched it wrote it (launched attempt noted)."""
    return next(r for r in decisions.records if r.task_id == record.task_id)


def test_terminate_during_backoff_cancels_without_a_cancel_decision():
    spec = retrying_spec({"maxRetryCount": 2, "backoffDuration": "600s"})
    tasks = apply({}, plan(RUN, spec, None, {}, START).records)
    tasks = apply(tasks, [finish_attempt(tasks["root.flaky"], spec, False, {}, {}, "boom", 1, START)])
    decisions = plan(dataclasses.replace(RUN, cancel_requested=True), spec, None, tasks, START)
    assert decisions.cancels == [] and decisions.launches == []
    assert {record.task_id: record.state for record in decisions.records}["root.flaky"] is TaskState.CANCELED
    assert decisions.outcome.state == "CANCELED"


def test_cache_flag_follows_caching_options_and_empty_options_mean_off():
    builder = SpecBuilder("p")
    work = builder.container("work")
    spec = builder.build(
        {"on": task(work, cachingOptions={"enableCache": True}), "off": task(work, cachingOptions={})}
    )
    launches = {launch.spec.task_name: launch for launch in plan(RUN, spec, None, {}, START).launches}
    assert launches["on"].cache_enabled and not launches["off"].cache_enabled


def test_cache_key_depends_on_inputs_not_on_run_or_task():
    builder = SpecBuilder("p")
    work = builder.container("work", inputs={"x": "STRING"})
    spec = builder.build(
        {
            "a": task(work, {"x": const("1")}),
            "b": task(work, {"x": const("1")}),
            "c": task(work, {"x": const("2")}),
        }
    )
    keys = {launch.spec.task_name: launch.cache_key for launch in plan(RUN, spec, None, {}, START).launches}
    other_run = {
        launch.spec.task_name: launch.cache_key
        for launch in plan(dataclasses.replace(RUN, run_id="r2"), spec, None, {}, START).launches
    }
    assert keys["a"] == keys["b"] == other_run["a"]
    assert keys["a"] != keys["c"]


def test_custom_cache_key_replaces_the_ingredients():
    builder = SpecBuilder("p")
    work = builder.container("work", inputs={"x": "STRING"})
    spec = builder.build(
        {
            "a": task(work, {"x": const("1")}, cachingOptions={"enableCache": True, "cacheKey": "k"}),
            "b": task(work, {"x": const("2")}, cachingOptions={"enableCache": True, "cacheKey": "k"}),
        }
    )
    keys = {launch.spec.task_name: launch.cache_key for launch in plan(RUN, spec, None, {}, START).launches}
    assert keys["a"] == keys["b"]


def test_cached_task_feeds_downstream_like_a_succeeded_one():
    spec = retrying_spec()
    cache: dict = {}
    first = FakeRun(spec, behaviour=lambda s: Result(parameters={"Output": "v"}), cache=cache)
    for name in ("flaky", "next"):
        spec["root"]["dag"]["tasks"][name]["cachingOptions"] = {"enableCache": True}
    first.run_to_end()
    second = FakeRun(spec, behaviour=lambda s: pytest.fail("cache hit must not run"), cache=cache)
    assert second.run_to_end().outcome.state == "SUCCEEDED"
    assert second.record("root.flaky").state is TaskState.CACHED
    assert second.record("root.next").state is TaskState.CACHED


def test_record_cached_and_transition_guard_final_states():
    spec = retrying_spec()
    record = plan(RUN, spec, None, {}, START).records[-1]
    cached = record_cached(record, {"Output": "v"}, {}, START)
    assert cached.state is TaskState.CACHED and cached.finished_at == "2026-01-01T00:00:00.000000Z"
    with pytest.raises(InvalidTransition):
        transition(cached, TaskState.RUNNING)
    with pytest.raises(InvalidTransition):
        transition(cached, TaskState.PENDING, retrying=True)


def test_run_retry_reruns_failed_tasks_with_a_new_attempt_and_keeps_succeeded_ones():
    builder = SpecBuilder("p")
    work = builder.container("work", outputs={"Output": "STRING"})
    use = builder.container("use", inputs={"x": "STRING"})
    body = builder.dag("sub", {"breaks": task(work), "after": task(use, {"x": out("breaks")})})
    spec = builder.build({"ok": task(work), "sub": task(body, after=["ok"])})
    broken = {"yes": True}

    def behaviour(task_spec):
        if task_spec.task_name == "breaks" and broken["yes"]:
            return Result(succeeded=False, error="boom", exit_code=1)
        return sample_outputs(task_spec)

    fake = FakeRun(spec, behaviour=behaviour)
    assert fake.run_to_end().outcome.state == "FAILED"
    reopened = retry_run(fake.tasks, fake.now)
    assert {record.task_id: record.state for record in reopened} == {
        "root": TaskState.RUNNING,
        "root.sub": TaskState.RUNNING,
        "root.sub.breaks": TaskState.PENDING,
    }
    fake.apply(reopened)
    broken["yes"] = False
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    assert [launch.spec.attempt for launch in fake.launched("breaks")] == [1, 2]
    assert len(fake.launched("ok")) == 1
    assert fake.launched("after")


def test_run_retry_reevaluates_a_task_whose_inputs_failed_to_resolve():
    builder = SpecBuilder("p")
    show = builder.container("show", inputs={"x": "NUMBER_INTEGER"})
    spec = builder.build({"show": task(show, {"x": comp_in("x")})}, inputs={"x": "STRING"})
    fake = FakeRun(spec, {"x": "nope"})
    first = fake.run_to_end()
    assert first.outcome.state == "FAILED"
    fake.apply(retry_run(fake.tasks, fake.now))
    again = fake.run_to_end()
    assert again.outcome == first.outcome
    assert fake.record("root.show").attempt == 2 and not fake.launches


def test_each_retried_attempt_is_kept_in_the_record_history():
    spec = retrying_spec()
    tasks = apply({}, plan(RUN, spec, None, {}, START).records)
    started = dataclasses.replace(tasks["root.flaky"], started_at="2026-01-01T00:00:00Z")
    record = finish_attempt(started, spec, False, {}, {}, "boom", 1, START + datetime.timedelta(seconds=2))
    record = finish_attempt(record, spec, False, {}, {}, "bang", 3, START + datetime.timedelta(seconds=15))
    assert record.data["attempts"] == [
        {
            "attempt": 1,
            "started_at": "2026-01-01T00:00:00Z",
            "finished_at": "2026-01-01T00:00:02.000000Z",
            "error": "boom",
            "exit_code": 1,
            "retry_at": "2026-01-01T00:00:12.000000Z",
        },
        {
            "attempt": 2,
            "started_at": "2026-01-01T00:00:12.000000Z",
            "finished_at": "2026-01-01T00:00:15.000000Z",
            "error": "bang",
            "exit_code": 3,
            "retry_at": "2026-01-01T00:00:45.000000Z",
        },
    ]
