"""The store as one principal may see it: the single place the API's namespace rules are enforced.

Every route reads and writes through `runtime.current().store`, which during a request of a restricted principal
is this wrapper (`scoped_store`), so no route, service, v1beta1 handler or dashboard helper can reach past it:
- an object of a namespace the principal cannot read is NotFound, with the very message of a missing one;
- listing or looking up by name in such a namespace is Forbidden (403);
- creating, changing or deleting in a namespace the principal cannot write is Forbidden (a readable object, such
  as a shared pipeline) or NotFound (an unreadable one).
Pipelines of namespace "" are shared: every principal reads them, only an admin writes them. Objects (S3 keys)
are reached only after the run or pipeline they belong to was read through this wrapper. Unrestricted
principals (admin, open mode) get the store itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chalicelib.auth.errors import Forbidden
from chalicelib.auth.principal import Principal
from chalicelib.engine.model import TaskRecord
from chalicelib.store.errors import NotFound
from chalicelib.store.protocols import Catalog, RecurringRunStore, RunStore, Store
from chalicelib.store.records import (
    CachedResult,
    Experiment,
    Pipeline,
    PipelineVersion,
    RecurringRun,
    Run,
    RunListing,
    RunPage,
    TaskChanges,
)


def scoped_store(store: Store, principal: Principal) -> Store:
    """`store` as `principal` may use it (the store itself for an unrestricted principal)."""
    if principal.unrestricted:
        return store
    catalog = ScopedCatalog(store.catalog, principal)
    return Store(
        kind=store.kind,
        catalog=catalog,
        runs=ScopedRunStore(store.runs, catalog, principal),
        recurring_runs=ScopedRecurringRunStore(store.recurring_runs, catalog, principal),
        objects=store.objects,
        tokens=store.tokens,
        leases=store.leases,
    )


def _require(allowed: bool, what: str, namespace: str) -> None:
    if not allowed:
        shown = f"namespace {namespace!r}" if namespace else "the shared namespace"
        raise Forbidden(f"not allowed to {what} in {shown}")


class ScopedCatalog:
    def __init__(self, inner: Catalog, principal: Principal) -> None:
        self._inner = inner
        self._principal = principal

    def create_experiment(self, experiment: Experiment) -> Experiment:
        _require(self._principal.may_write(experiment.namespace), "create experiments", experiment.namespace)
        return self._inner.create_experiment(experiment)

    def get_experiment(self, experiment_id: str) -> Experiment:
        found = self._inner.get_experiment(experiment_id)
        if not self._principal.may_read(found.namespace):
            raise NotFound(f"Experiment {experiment_id} not found")
        return found

    def _writable_experiment(self, experiment_id: str) -> Experiment:
        found = self.get_experiment(experiment_id)
        _require(self._principal.may_write(found.namespace), "change experiments", found.namespace)
        return found

    def find_experiment(self, namespace: str, display_name: str) -> Experiment | None:
        _require(self._principal.may_read(namespace), "look up experiments", namespace)
        return self._inner.find_experiment(namespace, display_name)

    def list_experiments(self, namespace: str) -> Iterator[Experiment]:
        _require(self._principal.may_read(namespace), "list experiments", namespace)
        return self._inner.list_experiments(namespace)

    def set_experiment_storage_state(self, experiment_id: str, storage_state: str) -> None:
        self._writable_experiment(experiment_id)
        self._inner.set_experiment_storage_state(experiment_id, storage_state)

    def touch_experiment_last_run(self, experiment_id: str, created_at: str) -> None:
        self._inner.touch_experiment_last_run(experiment_id, created_at)

    def delete_experiment(self, experiment_id: str) -> None:
        self._writable_experiment(experiment_id)
        self._inner.delete_experiment(experiment_id)

    def create_pipeline(self, pipeline: Pipeline, first_version: PipelineVersion | None = None) -> Pipeline:
        _require(self._principal.may_write(pipeline.namespace), "create pipelines", pipeline.namespace)
        return self._inner.create_pipeline(pipeline, first_version)

    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        found = self._inner.get_pipeline(pipeline_id)
        if not self._principal.may_read(found.namespace, shared=True):
            raise NotFound(f"Pipeline {pipeline_id} not found")
        return found

    def _writable_pipeline(self, pipeline_id: str) -> Pipeline:
        found = self.get_pipeline(pipeline_id)
        _require(self._principal.may_write(found.namespace), "change pipelines", found.namespace)
        return found

    def find_pipeline(self, namespace: str, name: str) -> Pipeline | None:
        _require(self._principal.may_read(namespace, shared=True), "look up pipelines", namespace)
        return self._inner.find_pipeline(namespace, name)

    def list_pipelines(self, namespace: str) -> Iterator[Pipeline]:
        _require(self._principal.may_read(namespace, shared=True), "list pipelines", namespace)
        return self._inner.list_pipelines(namespace)

    def update_pipeline(self, pipeline: Pipeline) -> Pipeline:
        self._writable_pipeline(pipeline.pipeline_id)
        return self._inner.update_pipeline(pipeline)

    def delete_pipeline(self, pipeline_id: str) -> None:
        self._writable_pipeline(pipeline_id)
        self._inner.delete_pipeline(pipeline_id)

    def create_version(self, version: PipelineVersion) -> PipelineVersion:
        self._writable_pipeline(version.pipeline_id)
        return self._inner.create_version(version)

    def get_version(self, pipeline_id: str, version_id: str) -> PipelineVersion:
        try:
            self.get_pipeline(pipeline_id)
        except NotFound as exc:
            raise NotFound(f"Pipeline version {version_id} of pipeline {pipeline_id} not found") from exc
        return self._inner.get_version(pipeline_id, version_id)

    def list_versions(self, pipeline_id: str) -> Iterator[PipelineVersion]:
        self.get_pipeline(pipeline_id)
        return self._inner.list_versions(pipeline_id)

    def update_version(self, version: PipelineVersion) -> PipelineVersion:
        self._writable_pipeline(version.pipeline_id)
        return self._inner.update_version(version)

    def delete_version(self, pipeline_id: str, version_id: str) -> None:
        self._writable_pipeline(pipeline_id)
        self._inner.delete_version(pipeline_id, version_id)


class ScopedRunStore:
    def __init__(self, inner: RunStore, catalog: ScopedCatalog, principal: Principal) -> None:
        self._inner = inner
        self._catalog = catalog
        self._principal = principal

    def create_run(self, run: Run, max_concurrency: int | None = None) -> Run:
        _require(self._principal.may_write(run.namespace), "create runs", run.namespace)
        return self._inner.create_run(run, max_concurrency)

    def get_run(self, run_id: str) -> Run:
        found = self._inner.get_run(run_id)
        if not self._principal.may_read(found.namespace):
            raise NotFound(f"Run {run_id} not found")
        return found

    def _writable_run(self, run_id: str) -> Run:
        found = self.get_run(run_id)
        _require(self._principal.may_write(found.namespace), "change runs", found.namespace)
        return found

    def list_runs(self, namespace: str, experiment_id: str = "") -> Iterator[Run]:
        if experiment_id:
            self._catalog.get_experiment(experiment_id)
        if namespace or not experiment_id:
            _require(self._principal.may_read(namespace), "list runs", namespace)
        return self._inner.list_runs(namespace, experiment_id)

    def page_runs(self, listing: RunListing) -> RunPage:
        if listing.experiment_id:
            self._catalog.get_experiment(listing.experiment_id)
        if listing.namespace or not listing.experiment_id:
            _require(self._principal.may_read(listing.namespace), "list runs", listing.namespace)
        return self._inner.page_runs(listing)

    def active_run_ids(self) -> list[str]:
        return [run_id for run_id in self._inner.active_run_ids() if self._readable_run(run_id)]

    def _readable_run(self, run_id: str) -> bool:
        try:
            self.get_run(run_id)
        except NotFound:
            return False
        return True

    def update_run(self, run: Run) -> Run:
        self._writable_run(run.run_id)
        return self._inner.update_run(run)

    def delete_run(self, run_id: str) -> None:
        try:
            self._writable_run(run_id)
        except NotFound:
            return
        self._inner.delete_run(run_id)

    def load_tasks(self, run_id: str) -> dict[str, TaskRecord]:
        self.get_run(run_id)
        return self._inner.load_tasks(run_id)

    def save_task(self, run_id: str, record: TaskRecord) -> TaskRecord:
        self._writable_run(run_id)
        return self._inner.save_task(run_id, record)

    def load_task_changes(self, run_id: str, after: int) -> TaskChanges:
        self.get_run(run_id)
        return self._inner.load_task_changes(run_id, after)

    def save_tasks(self, run_id: str, records: Sequence[TaskRecord]) -> list[TaskRecord]:
        self._writable_run(run_id)
        return self._inner.save_tasks(run_id, records)

    def cached_result(self, namespace: str, cache_key: str) -> CachedResult | None:
        _require(self._principal.may_read(namespace), "read the cache", namespace)
        return self._inner.cached_result(namespace, cache_key)

    def put_cached_result(self, namespace: str, cache_key: str, result: CachedResult) -> None:
        _require(self._principal.may_write(namespace), "write the cache", namespace)
        self._inner.put_cached_result(namespace, cache_key, result)


class ScopedRecurringRunStore:
    def __init__(self, inner: RecurringRunStore, catalog: ScopedCatalog, principal: Principal) -> None:
        self._inner = inner
        self._catalog = catalog
        self._principal = principal

    def create_recurring_run(self, recurring_run: RecurringRun) -> RecurringRun:
        namespace = recurring_run.namespace
        _require(self._principal.may_write(namespace), "create recurring runs", namespace)
        return self._inner.create_recurring_run(recurring_run)

    def get_recurring_run(self, recurring_run_id: str) -> RecurringRun:
        found = self._inner.get_recurring_run(recurring_run_id)
        if not self._principal.may_read(found.namespace):
            raise NotFound(f"Recurring run {recurring_run_id} not found")
        return found

    def _writable(self, recurring_run_id: str) -> RecurringRun:
        found = self.get_recurring_run(recurring_run_id)
        _require(self._principal.may_write(found.namespace), "change recurring runs", found.namespace)
        return found

    def list_recurring_runs(self, namespace: str, experiment_id: str = "") -> Iterator[RecurringRun]:
        if experiment_id:
            self._catalog.get_experiment(experiment_id)
        if namespace or not experiment_id:
            _require(self._principal.may_read(namespace), "list recurring runs", namespace)
        return self._inner.list_recurring_runs(namespace, experiment_id)

    def list_enabled_recurring_runs(self) -> Iterator[RecurringRun]:
        readable = self._principal.may_read
        return (found for found in self._inner.list_enabled_recurring_runs() if readable(found.namespace))

    def update_recurring_run(self, recurring_run: RecurringRun) -> RecurringRun:
        self._writable(recurring_run.recurring_run_id)
        return self._inner.update_recurring_run(recurring_run)

    def delete_recurring_run(self, recurring_run_id: str) -> None:
        try:
            self._writable(recurring_run_id)
        except NotFound:
            return
        self._inner.delete_recurring_run(recurring_run_id)
