"""The store contract, written once against the protocols and run on both implementations (`any_store`:
DynamoDB + S3 on the moto server, and the embedded SQLite + files store): versioned writes and conflicts,
name claims, create-if-absent, listings, the recurring-run slot counter, objects."""

from __future__ import annotations

import dataclasses
import threading
import uuid

import pytest

from chalicelib.engine.model import TaskRecord
from chalicelib.store.conflicts import retry_on_conflict
from chalicelib.store.errors import AlreadyExists, ConcurrentUpdate, LimitReached, NotFound, StoreError
from chalicelib.store.protocols import Store
from chalicelib.store.records import (
    CachedResult,
    Experiment,
    Pipeline,
    PipelineVersion,
    RecurringRun,
    Run,
    moved_to,
)
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import now_text


def new_id() -> str:
    return str(uuid.uuid4())


def experiment(namespace: str, name: str = "exp") -> Experiment:
    return Experiment(new_id(), name, namespace, now_text())


def pipeline(namespace: str, name: str = "pipe") -> Pipeline:
    return Pipeline(new_id(), name, name, namespace, now_text(), tags={"team": "a"})


def version(pipe: Pipeline, name: str = "v1") -> PipelineVersion:
    return PipelineVersion(pipe.pipeline_id, new_id(), name, name, pipe.namespace, now_text(), spec_key="k")


def run(namespace: str, experiment_id: str = "e", recurring_run_id: str = "", state: str = "PENDING") -> Run:
    run_id = new_id()
    return Run(
        run_id,
        "run",
        experiment_id,
        namespace,
        f"runs/{run_id}/spec.json",
        now_text(),
        parameters={"x": 1},
        state=state,
        recurring_run_id=recurring_run_id,
    )


def recurring(namespace: str, max_concurrency: int = 2) -> RecurringRun:
    stamp = now_text()
    return RecurringRun(
        new_id(),
        "rr",
        "e",
        namespace,
        stamp,
        stamp,
        max_concurrency=max_concurrency,
        trigger={"periodic_schedule": {"interval_second": 3600}},
    )


def task(task_id: str = "t1") -> TaskRecord:
    return TaskRecord(task_id, "step", "container", TaskState.PENDING, attempt=1, data={"k": [1, 2]})


# ---------------------------------------------------------------- catalog


def test_experiment_names_are_unique_per_namespace(any_store: Store, namespace: str):
    catalog = any_store.catalog
    first = catalog.create_experiment(experiment(namespace))
    with pytest.raises(AlreadyExists, match="already exists"):
        catalog.create_experiment(experiment(namespace))
    catalog.create_experiment(experiment(namespace + "-other"))
    assert [e.experiment_id for e in catalog.list_experiments(namespace)] == [first.experiment_id]
    assert catalog.find_experiment(namespace, "exp") == first
    assert catalog.get_experiment(first.experiment_id) == first


def test_deleting_an_experiment_frees_its_name(any_store: Store, namespace: str):
    catalog = any_store.catalog
    first = catalog.create_experiment(experiment(namespace))
    catalog.delete_experiment(first.experiment_id)
    assert catalog.find_experiment(namespace, "exp") is None
    with pytest.raises(NotFound):
        catalog.get_experiment(first.experiment_id)
    with pytest.raises(NotFound):
        catalog.delete_experiment(first.experiment_id)
    catalog.create_experiment(experiment(namespace))


def test_experiment_storage_state_and_last_run(any_store: Store, namespace: str):
    catalog = any_store.catalog
    created = catalog.create_experiment(experiment(namespace))
    catalog.set_experiment_storage_state(created.experiment_id, "ARCHIVED")
    catalog.touch_experiment_last_run(created.experiment_id, "2031-01-01T00:00:00.000000Z")
    catalog.touch_experiment_last_run("missing", "2031-01-01T00:00:00.000000Z")
    stored = catalog.get_experiment(created.experiment_id)
    assert (stored.storage_state, stored.last_run_created_at) == ("ARCHIVED", "2031-01-01T00:00:00.000000Z")
    with pytest.raises(NotFound):
        catalog.set_experiment_storage_state("missing", "ARCHIVED")


def test_concurrent_creates_of_one_name_leave_exactly_one(any_store: Store, namespace: str):
    outcomes: list[str] = []

    def create() -> None:
        try:
            any_store.catalog.create_pipeline(pipeline(namespace, "contended"))
            outcomes.append("created")
        except AlreadyExists:
            outcomes.append("taken")

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] + ["taken"] * 5
    assert len(list(any_store.catalog.list_pipelines(namespace))) == 1


def test_renaming_a_pipeline_moves_its_name_claim(any_store: Store, namespace: str):
    catalog = any_store.catalog
    first = catalog.create_pipeline(pipeline(namespace, "a"))
    catalog.create_pipeline(pipeline(namespace, "b"))
    with pytest.raises(AlreadyExists):
        catalog.update_pipeline(dataclasses.replace(first, name="b"))
    assert catalog.get_pipeline(first.pipeline_id).name == "a"
    renamed = catalog.update_pipeline(dataclasses.replace(first, name="c", description="new", tags={}))
    assert catalog.get_pipeline(first.pipeline_id) == renamed
    assert catalog.find_pipeline(namespace, "a") is None
    assert catalog.find_pipeline(namespace, "c") == renamed
    catalog.create_pipeline(pipeline(namespace, "a"))
    with pytest.raises(NotFound):
        catalog.update_pipeline(pipeline(namespace, "ghost"))


def test_versions_claim_names_per_pipeline_and_need_their_pipeline(any_store: Store, namespace: str):
    catalog = any_store.catalog
    pipe = catalog.create_pipeline(pipeline(namespace))
    other = catalog.create_pipeline(pipeline(namespace, "other"))
    first = catalog.create_version(version(pipe))
    with pytest.raises(AlreadyExists):
        catalog.create_version(version(pipe))
    with pytest.raises(AlreadyExists):
        catalog.create_version(dataclasses.replace(first, name="v-other"))
    catalog.create_version(version(other))
    with pytest.raises(NotFound):
        catalog.create_version(dataclasses.replace(version(pipe), pipeline_id="missing"))
    renamed = catalog.update_version(dataclasses.replace(first, name="v2", spec_key="ignored"))
    assert renamed.spec_key == "k"
    assert [v.name for v in catalog.list_versions(pipe.pipeline_id)] == ["v2"]
    catalog.delete_version(pipe.pipeline_id, first.version_id)
    assert list(catalog.list_versions(pipe.pipeline_id)) == []
    catalog.create_version(version(pipe, "v2"))


# ---------------------------------------------------------------- runs


def test_runs_are_created_if_absent_and_versioned(any_store: Store, namespace: str):
    runs = any_store.runs
    created = runs.create_run(run(namespace))
    assert created.version == 1 and created.state_history[0].state == "PENDING"
    with pytest.raises(AlreadyExists):
        runs.create_run(dataclasses.replace(created, display_name="again"))
    running = runs.update_run(moved_to(created, "RUNNING", now_text()))
    assert running.version == 2
    with pytest.raises(ConcurrentUpdate):
        runs.update_run(moved_to(created, "CANCELING", now_text()))
    assert runs.get_run(created.run_id) == running
    with pytest.raises(NotFound):
        runs.get_run("missing")
    with pytest.raises(ConcurrentUpdate):
        runs.update_run(dataclasses.replace(created, run_id="missing"))


def test_active_runs_are_listed_until_final(any_store: Store, namespace: str):
    runs = any_store.runs
    created = runs.create_run(run(namespace, experiment_id="exp-1"))
    runs.create_run(run(namespace, experiment_id="exp-2"))
    assert created.run_id in runs.active_run_ids()
    done = runs.update_run(moved_to(created, "SUCCEEDED", now_text()))
    assert done.finished_at and done.run_id not in runs.active_run_ids()
    assert len(list(runs.list_runs(namespace))) == 2
    assert [r.run_id for r in runs.list_runs(namespace, "exp-1")] == [created.run_id]
    reopened_attempt = moved_to(done, "SUCCEEDED", now_text(), storage_state="ARCHIVED")
    assert runs.update_run(reopened_attempt).storage_state == "ARCHIVED"


def test_a_final_run_whose_deletion_is_pending_stays_in_the_active_index(any_store: Store, namespace: str):
    """The reconciler deletes the Kubernetes objects of a final KFP v1 run before the run itself."""
    runs = any_store.runs
    done = runs.update_run(moved_to(runs.create_run(run(namespace)), "FAILED", now_text()))
    assert done.run_id not in runs.active_run_ids()
    pending = runs.update_run(dataclasses.replace(done, delete_requested=True))
    assert pending.run_id in runs.active_run_ids()
    runs.delete_run(pending.run_id)
    assert pending.run_id not in runs.active_run_ids()


def test_deleting_a_run_deletes_its_tasks(any_store: Store, namespace: str):
    runs = any_store.runs
    created = runs.create_run(run(namespace))
    runs.save_task(created.run_id, task())
    runs.delete_run(created.run_id)
    runs.delete_run(created.run_id)
    with pytest.raises(NotFound):
        runs.get_run(created.run_id)
    assert runs.load_tasks(created.run_id) == {}


def test_task_records_are_versioned(any_store: Store, namespace: str):
    runs = any_store.runs
    run_id = runs.create_run(run(namespace)).run_id
    saved = runs.save_task(run_id, task())
    assert saved.version == 1
    with pytest.raises(ConcurrentUpdate):
        runs.save_task(run_id, task())
    running = runs.save_task(run_id, dataclasses.replace(saved, state=TaskState.RUNNING))
    with pytest.raises(ConcurrentUpdate):
        runs.save_task(run_id, dataclasses.replace(saved, state=TaskState.FAILED))
    assert runs.load_tasks(run_id) == {"t1": running}


def test_task_changes_after_a_sequence_number_hold_every_later_write(any_store: Store, namespace: str):
    runs = any_store.runs
    run_id = runs.create_run(run(namespace)).run_id
    first = runs.save_task(run_id, task())
    other = runs.save_task(run_id, dataclasses.replace(task(), task_id="t2"))
    everything = runs.load_task_changes(run_id, 0)
    assert everything.complete and dict(everything.records) == {"t1": first, "t2": other}
    running = runs.save_task(run_id, dataclasses.replace(first, state=TaskState.RUNNING))
    later = runs.load_task_changes(run_id, everything.sequence)
    assert later.records["t1"] == running
    assert later.complete or set(later.records) == {"t1"}
    assert later.sequence >= everything.sequence
    unchanged = runs.load_task_changes(run_id, later.sequence)
    assert unchanged.complete or dict(unchanged.records) == {}


def test_retry_on_conflict_rereads_until_the_write_wins(any_store: Store, namespace: str):
    runs = any_store.runs
    created = runs.create_run(run(namespace))
    runs.update_run(dataclasses.replace(created, display_name="moved on"))
    reads = iter([created])
    calls: list[int] = []

    def read() -> Run:
        return next(reads, None) or runs.get_run(created.run_id)

    def change(current: Run) -> Run:
        calls.append(current.version)
        return runs.update_run(dataclasses.replace(current, description="retried"))

    result = retry_on_conflict(read, change)
    assert calls == [1, 2] and result.description == "retried" and result.display_name == "moved on"


def test_cached_results_are_kept_per_namespace(any_store: Store, namespace: str):
    key = new_id()
    assert any_store.runs.cached_result(namespace, key) is None
    result = CachedResult({"a": 1}, {"out": [{"uri": "s3://b/k"}]}, "r", "t", now_text())
    any_store.runs.put_cached_result(namespace, key, result)
    assert any_store.runs.cached_result(namespace, key) == result
    assert any_store.runs.cached_result(namespace + "-other", key) is None


# ---------------------------------------------------------------- recurring runs and slots


def test_recurring_runs_are_versioned_and_listed_when_enabled(any_store: Store, namespace: str):
    store = any_store.recurring_runs
    created = store.create_recurring_run(recurring(namespace))
    with pytest.raises(AlreadyExists):
        store.create_recurring_run(created)
    disabled = store.update_recurring_run(dataclasses.replace(created, enabled=False, error={"code": 8}))
    assert disabled.version == created.version + 1
    with pytest.raises(ConcurrentUpdate):
        store.update_recurring_run(dataclasses.replace(created, last_fired_at=now_text()))
    enabled_ids = {r.recurring_run_id for r in store.list_enabled_recurring_runs()}
    assert created.recurring_run_id not in enabled_ids
    cleared = store.update_recurring_run(dataclasses.replace(disabled, enabled=True, error=None))
    assert cleared.error is None and store.get_recurring_run(created.recurring_run_id) == cleared
    assert created.recurring_run_id in {r.recurring_run_id for r in store.list_enabled_recurring_runs()}
    assert [r.recurring_run_id for r in store.list_recurring_runs(namespace)] == [created.recurring_run_id]
    store.delete_recurring_run(created.recurring_run_id)
    with pytest.raises(NotFound):
        store.get_recurring_run(created.recurring_run_id)


def test_runs_of_a_recurring_run_take_and_give_back_slots(any_store: Store, namespace: str):
    rr = any_store.recurring_runs.create_recurring_run(recurring(namespace, max_concurrency=2))
    rid = rr.recurring_run_id
    runs = any_store.runs
    first = runs.create_run(run(namespace, recurring_run_id=rid), max_concurrency=2)
    second = runs.create_run(run(namespace, recurring_run_id=rid), max_concurrency=2)
    assert first.holds_slot and second.holds_slot
    with pytest.raises(LimitReached):
        runs.create_run(run(namespace, recurring_run_id=rid), max_concurrency=2)
    assert any_store.recurring_runs.get_recurring_run(rid).active_runs == 2
    # An update of the recurring run never touches the counter.
    fresh = any_store.recurring_runs.get_recurring_run(rid)
    any_store.recurring_runs.update_recurring_run(dataclasses.replace(fresh, active_runs=0, enabled=False))
    assert any_store.recurring_runs.get_recurring_run(rid).active_runs == 2

    finished = runs.update_run(moved_to(first, "FAILED", now_text()))
    assert not finished.holds_slot
    assert any_store.recurring_runs.get_recurring_run(rid).active_runs == 1
    again = runs.update_run(moved_to(finished, "FAILED", now_text(), description="still failed"))
    assert any_store.recurring_runs.get_recurring_run(rid).active_runs == 1 and not again.holds_slot
    third = runs.create_run(run(namespace, recurring_run_id=rid), max_concurrency=2)
    retried = runs.update_run(moved_to(again, "PENDING", now_text()))
    assert retried.holds_slot
    assert any_store.recurring_runs.get_recurring_run(rid).active_runs == 3
    runs.delete_run(retried.run_id)
    runs.delete_run(third.run_id)
    assert any_store.recurring_runs.get_recurring_run(rid).active_runs == 1


def test_a_run_of_a_deleted_recurring_run_is_refused_but_can_still_end(any_store: Store, namespace: str):
    rr = any_store.recurring_runs.create_recurring_run(recurring(namespace))
    created = any_store.runs.create_run(run(namespace, recurring_run_id=rr.recurring_run_id), 2)
    any_store.recurring_runs.delete_recurring_run(rr.recurring_run_id)
    with pytest.raises(NotFound):
        any_store.runs.create_run(run(namespace, recurring_run_id=rr.recurring_run_id), 2)
    ended = any_store.runs.update_run(moved_to(created, "SUCCEEDED", now_text()))
    assert ended.state == "SUCCEEDED" and not ended.holds_slot
    with pytest.raises(NotFound):
        any_store.recurring_runs.get_recurring_run(rr.recurring_run_id)


def test_concurrent_run_creations_never_exceed_the_slots(any_store: Store, namespace: str):
    rr = any_store.recurring_runs.create_recurring_run(recurring(namespace, max_concurrency=3))
    outcomes: list[str] = []

    def create() -> None:
        try:
            any_store.runs.create_run(run(namespace, recurring_run_id=rr.recurring_run_id), 3)
            outcomes.append("created")
        except LimitReached:
            outcomes.append("full")

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("created") == 3 and outcomes.count("full") == 5
    assert any_store.recurring_runs.get_recurring_run(rr.recurring_run_id).active_runs == 3


# ---------------------------------------------------------------- objects


def test_objects_round_trip_and_list_by_prefix(any_store: Store, namespace: str):
    objects = any_store.objects
    prefix = f"contract/{namespace}/"
    objects.put_bytes(prefix + "a.bin", b"one")
    objects.put_json(prefix + "nested/b.json", {"b": [1]})
    objects.put_bytes(prefix + "a.bin", b"two")
    assert objects.get_bytes(prefix + "a.bin") == b"two"
    assert objects.get_json(prefix + "nested/b.json") == {"b": [1]}
    listed = {info.key: info for info in objects.list_objects(prefix)}
    assert sorted(listed) == [prefix + "a.bin", prefix + "nested/b.json"]
    assert listed[prefix + "a.bin"].size == 3 and listed[prefix + "a.bin"].modified_at.endswith("Z")
    etag = listed[prefix + "a.bin"].etag
    assert objects.get_revision(prefix + "a.bin", etag=etag) == b"two"
    objects.put_bytes(prefix + "a.bin", b"three")
    with pytest.raises(NotFound):
        objects.get_revision(prefix + "a.bin", etag=etag)
    objects.delete(prefix + "a.bin")
    objects.delete(prefix + "a.bin")
    with pytest.raises(NotFound):
        objects.get_bytes(prefix + "a.bin")
    assert [info.key for info in objects.list_objects(prefix)] == [prefix + "nested/b.json"]


def test_reading_other_buckets_is_a_store_error_when_unreadable(any_store: Store):
    with pytest.raises(StoreError):
        any_store.objects.read_bucket_object("no-such-bucket-kfps", "x", 10)


def test_a_pipeline_and_its_first_version_are_written_together_or_not_at_all(
    any_store: Store, namespace: str
):
    catalog = any_store.catalog
    pipe = pipeline(namespace, "with-version")
    catalog.create_pipeline(pipe, version(pipe, "v1"))
    assert [v.name for v in catalog.list_versions(pipe.pipeline_id)] == ["v1"]
    clash = pipeline(namespace, "with-version")
    with pytest.raises(AlreadyExists):
        catalog.create_pipeline(clash, version(clash, "v1"))
    assert list(catalog.list_versions(clash.pipeline_id)) == []
    assert [p.pipeline_id for p in catalog.list_pipelines(namespace)] == [pipe.pipeline_id]


def test_saving_several_task_records_versions_each(any_store: Store, namespace: str):
    runs = any_store.runs
    run_id = runs.create_run(run(namespace)).run_id
    first, second = runs.save_tasks(run_id, [task(), task("t2")])
    assert (first.version, second.version) == (1, 1)
    moved = runs.save_tasks(run_id, [dataclasses.replace(first, state=TaskState.RUNNING)])
    assert runs.load_tasks(run_id) == {"t1": moved[0], "t2": second}
    with pytest.raises(ConcurrentUpdate):
        runs.save_tasks(run_id, [dataclasses.replace(second, state=TaskState.RUNNING), first])
