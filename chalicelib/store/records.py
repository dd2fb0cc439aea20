"""The records the store keeps, as frozen dataclasses: what crosses the store's boundary in both directions.

Neither implementation's item shapes (pynamodb items, SQLite rows) leave `chalicelib.store`. Every record that
belongs to a namespace carries `namespace` (KFP's single-user namespace is ""). Timestamps are RFC3339 strings
in the one format of `chalicelib.timestamps`, so they sort as text.

`version` (Run, RecurringRun, and the engine's TaskRecord) is the optimistic lock: 0 on a record not stored yet;
the store returns the stored version after each write, and a write whose version is not the stored one raises
ConcurrentUpdate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chalicelib.engine.model import TaskRecord
from chalicelib.run_states import FINAL_RUN_STATES, check_run_transition

AVAILABLE = "AVAILABLE"
ARCHIVED = "ARCHIVED"


@dataclasses.dataclass(frozen=True)
class Experiment:
    experiment_id: str
    display_name: str
    namespace: str
    created_at: str
    description: str = ""
    last_run_created_at: str = ""
    storage_state: str = AVAILABLE


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """A pipeline; `name` is unique in its namespace."""

    pipeline_id: str
    name: str
    display_name: str
    namespace: str
    created_at: str
    description: str = ""
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class PipelineVersion:
    """A version of a pipeline; `name` is unique in its pipeline. The package bytes and the validated spec are
    objects (`package_key`, `spec_key`); a version registered from a bad upload has `error` and no spec."""

    pipeline_id: str
    version_id: str
    name: str
    display_name: str
    namespace: str
    created_at: str
    description: str = ""
    package_key: str = ""
    spec_key: str = ""
    package_url: str = ""
    code_source_url: str = ""
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    error: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class StateChange:
    update_time: str
    state: str
    error: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class Run:
    """One run. The spec snapshot is an object (`spec_key`); its task instances are the engine's TaskRecords.

    cancel_requested: `:terminate` (or a deletion) asked the reconciler to stop the run.
    delete_requested: deleted while active (or while final with Kubernetes objects of KFP v1 resource steps);
        hidden from the API, removed by the reconciler once its tasks stopped and those objects are deleted.
    retry_requested / retry_applied: `:retry` counter and the reconciler's acknowledgement of it.
    holds_slot: the run counts against its recurring run's `max_concurrency` (`RecurringRun.active_runs`).
        Kept by the store, never by callers: set when a run of a recurring run is created or made active
        again, cleared in the same transaction that records a final state or deletes the run.
    """

    run_id: str
    display_name: str
    experiment_id: str
    namespace: str
    spec_key: str
    created_at: str
    description: str = ""
    pipeline_id: str = ""
    pipeline_version_id: str = ""
    pipeline_name: str = ""
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    pipeline_root: str = ""
    service_account: str = ""
    state: str = "PENDING"
    state_history: tuple[StateChange, ...] = ()
    storage_state: str = AVAILABLE
    scheduled_at: str = ""
    finished_at: str = ""
    error: dict[str, Any] | None = None
    recurring_run_id: str = ""
    cancel_requested: bool = False
    delete_requested: bool = False
    retry_requested: int = 0
    retry_applied: int = 0
    plugins_input: dict[str, Any] | None = None
    holds_slot: bool = False
    version: int = 0

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_RUN_STATES

    @property
    def needs_reconciler(self) -> bool:
        """Whether reconcile passes visit the run (the stores' sparse active index): it is not final, or it was
        deleted when final while it held Kubernetes objects (KFP v1 resource steps) only the reconciler can
        delete."""
        return not self.is_final or self.delete_requested

    @property
    def wants_slot(self) -> bool:
        """Whether the run should count against its recurring run's max_concurrency now."""
        return bool(self.recurring_run_id) and not self.is_final


def moved_to(run: Run, state: str, now: str, error: dict[str, Any] | None = None, **changes: Any) -> Run:
    """`run` in `state` (checked by the run state machine), with `changes` applied (Run fields).

    A new state appends to `state_history`; a final state stamps `finished_at`, an active one clears it.
    `error` is recorded with the change (and cleared by a change without one). Staying in the same state with
    no error changes only `changes`. Raises IllegalRunTransition.
    """
    check_run_transition(run.state, state)
    if state != run.state:
        changes["state"] = state
        changes["state_history"] = (*run.state_history, StateChange(now, state, error))
        changes["finished_at"] = now if state in FINAL_RUN_STATES else ""
        changes["error"] = error
    elif error is not None:
        changes["error"] = error
    return dataclasses.replace(run, **changes)


@dataclasses.dataclass(frozen=True)
class RecurringRun:
    """A recurring run (its schedule lives in EventBridge Scheduler in the cloud).

    spec_key: the spec snapshot object when the recurring run was made from a spec, not a version.
    last_fired_at: the schedule cursor (the latest scheduled time handled).
    active_runs: how many of its runs hold a slot now (see `Run.holds_slot`); changed only by the store, in
        the transactions that create, finish, reopen or delete those runs, never by `update_recurring_run`.
    """

    recurring_run_id: str
    display_name: str
    experiment_id: str
    namespace: str
    created_at: str
    updated_at: str
    description: str = ""
    pipeline_id: str = ""
    pipeline_version_id: str = ""
    spec_key: str = ""
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    pipeline_root: str = ""
    service_account: str = ""
    max_concurrency: int = 1
    trigger: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    enabled: bool = True
    no_catchup: bool = False
    last_fired_at: str = ""
    error: dict[str, Any] | None = None
    active_runs: int = 0
    version: int = 0


@dataclasses.dataclass(frozen=True)
class TaskChanges:
    """A run's task records written after a change sequence number, and the newest sequence number they
    carry (pass it back as `after` next time). `complete`: `records` is every record of the run (a full read:
    a store without a change index, or `after` 0), so records absent from it do not exist."""

    records: Mapping[str, TaskRecord]
    sequence: int
    complete: bool


@dataclasses.dataclass(frozen=True)
class CachedResult:
    """A task's outputs kept under its KFP cache key (per namespace), re-published by a later cache hit."""

    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    artifacts: Mapping[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    run_id: str = ""
    task_id: str = ""
    created_at: str = ""


@dataclasses.dataclass(frozen=True)
class ObjectInfo:
    """One stored object as a listing reports it: `etag` changes whenever the bytes change."""

    key: str
    etag: str
    size: int
    modified_at: str


@dataclasses.dataclass(frozen=True)
class ApiToken:
    """An API token issued by `kfps token create`: only the SHA-256 of its secret is kept (the secret is 256
    random bits, so a plain hash is enough). `namespaces` are the KFP namespaces it grants (sorted), `admin`
    grants all of them and the shared pipelines; `expires_at` "" never expires."""

    token_id: str
    secret_sha256: str
    namespaces: tuple[str, ...]
    admin: bool
    created_at: str
    expires_at: str = ""
    revoked: bool = False
    description: str = ""


@dataclasses.dataclass(frozen=True)
class RunListing:
    """One page of an index-served run list: the scope (the experiment's runs when `experiment_id` is set, else
    the namespace's), created_at order (ties by run id), equality filters on `state`, `storage_state` or
    both, and `after`: the (created_at, run_id) of the previous page's last run, or None.

    Runs whose deletion is pending (`delete_requested`) are not listed, as the API hides them."""

    namespace: str
    experiment_id: str = ""
    descending: bool = False
    state: str = ""
    storage_state: str = ""
    limit: int = 20
    after: tuple[str, str] | None = None


@dataclasses.dataclass(frozen=True)
class RunPage:
    """The runs of a `RunListing` page; `more` when runs follow it. `total`: every run the listing matches,
    when the store can count it from its index without reading the runs (the embedded store), else None."""

    runs: tuple[Run, ...]
    more: bool
    total: int | None = None
