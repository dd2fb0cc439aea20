"""The store's interface: five protocols, each implemented by DynamoDB + S3 (`store.dynamo`) and by the embedded
SQLite + files store (`store.embedded`) with the same semantics, which `tests/store` checks on both.

Shared rules:
- Records in, records out (`store.records`, the engine's `TaskRecord`); store errors only (`store.errors`).
- Unique names are claimed in the same transaction that writes their owner: experiments by (namespace,
  display_name), pipelines by (namespace, name), versions by (pipeline_id, name). A taken name → AlreadyExists
  and nothing is written.
- Versioned writes (`update_run`, `save_task` of a stored record, `update_recurring_run`): the record's
  `version` must be the stored one, else ConcurrentUpdate (also when the record is gone); the returned record
  carries the new version. Use `conflicts.retry_on_conflict` to re-read and re-decide.
- Creates are create-if-absent: an existing id → AlreadyExists (runs, recurring runs, versions) or
  ConcurrentUpdate (`save_task` of a version-0 record that exists).
- Listings take their scope explicitly; they are index queries, never scans: the namespace's experiments,
  pipelines, runs and recurring runs, an experiment's runs and recurring runs, a pipeline's versions, the
  active runs (sparse: only the runs the reconciler visits, `Run.needs_reconciler`) and the enabled recurring
  runs (sparse). Index listings may lag a write slightly (DynamoDB global indexes are eventually consistent);
  `get_*` reads are strongly consistent.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from chalicelib.engine.model import TaskRecord
from chalicelib.store.records import (
    ApiToken,
    CachedResult,
    Experiment,
    ObjectInfo,
    Pipeline,
    PipelineVersion,
    RecurringRun,
    Run,
    RunListing,
    RunPage,
    TaskChanges,
)


class Catalog(Protocol):
    """Experiments, pipelines and pipeline versions."""

    def create_experiment(self, experiment: Experiment) -> Experiment:
        """Store a new experiment and claim its name in its namespace. AlreadyExists."""

    def get_experiment(self, experiment_id: str) -> Experiment:
        """NotFound."""

    def find_experiment(self, namespace: str, display_name: str) -> Experiment | None:
        """The experiment holding this name in the namespace (through its claim), or None."""

    def list_experiments(self, namespace: str) -> Iterator[Experiment]: ...

    def set_experiment_storage_state(self, experiment_id: str, storage_state: str) -> None:
        """NotFound."""

    def touch_experiment_last_run(self, experiment_id: str, created_at: str) -> None:
        """Record a run's creation time on its experiment (informational; a missing experiment is ignored)."""

    def delete_experiment(self, experiment_id: str) -> None:
        """Delete the experiment and release its name. NotFound."""

    def create_pipeline(self, pipeline: Pipeline, first_version: PipelineVersion | None = None) -> Pipeline:
        """Store a new pipeline and claim its name in its namespace, and with `first_version` that version
        (claiming its name too) in the same transaction. AlreadyExists, and nothing is written."""

    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        """NotFound."""

    def find_pipeline(self, namespace: str, name: str) -> Pipeline | None: ...

    def list_pipelines(self, namespace: str) -> Iterator[Pipeline]: ...

    def update_pipeline(self, pipeline: Pipeline) -> Pipeline:
        """Replace the pipeline's fields (not its id, namespace or creation time); a new name moves the claim in
        the same transaction. AlreadyExists (name taken), NotFound, ConcurrentUpdate (renamed meanwhile)."""

    def delete_pipeline(self, pipeline_id: str) -> None:
        """Delete the pipeline (not its versions) and release its name. NotFound."""

    def create_version(self, version: PipelineVersion) -> PipelineVersion:
        """Store a new version of an existing pipeline and claim its name in the pipeline. AlreadyExists (name
        or id taken), NotFound (no such pipeline)."""

    def get_version(self, pipeline_id: str, version_id: str) -> PipelineVersion:
        """NotFound."""

    def list_versions(self, pipeline_id: str) -> Iterator[PipelineVersion]: ...

    def update_version(self, version: PipelineVersion) -> PipelineVersion:
        """As `update_pipeline`, with the name claimed in the pipeline."""

    def delete_version(self, pipeline_id: str, version_id: str) -> None:
        """Delete the version and release its name. NotFound."""


class RunStore(Protocol):
    """Runs, their task records, and the task cache."""

    def create_run(self, run: Run, max_concurrency: int | None = None) -> Run:
        """Store a new run (create-if-absent: AlreadyExists when the id is taken). A run of a recurring run that
        is not final takes a slot on it in the same transaction (`RecurringRun.active_runs` + 1): with
        `max_concurrency`, only while fewer than that many are taken, else LimitReached and nothing is
        written; NotFound when the recurring run is gone. Returns the stored run (version 1)."""

    def get_run(self, run_id: str) -> Run:
        """NotFound (strongly consistent)."""

    def list_runs(self, namespace: str, experiment_id: str = "") -> Iterator[Run]:
        """The namespace's runs, or the experiment's when `experiment_id` is given."""

    def page_runs(self, listing: RunListing) -> RunPage:
        """One page of runs from an index: `listing.limit` runs after `listing.after` in created_at order (ties
        by run id), only the runs with the filters' values (`state`, `storage_state`, or both), never reading past
        the page (+1 to know `more`)."""

    def active_run_ids(self) -> list[str]:
        """Ids of the runs the reconciler visits (`Run.needs_reconciler`: not final, or a final run's deletion
        pending), in every namespace (sparse index)."""

    def update_run(self, run: Run) -> Run:
        """Versioned write of the whole run. When the run enters a final state it gives back its recurring run's
        slot, and when it becomes active again it takes one (no limit: the user retried it), in the same
        transaction. Returns the stored run. ConcurrentUpdate."""

    def delete_run(self, run_id: str) -> None:
        """Delete the run (giving back its slot) and then its task records. A missing run is fine."""

    def load_tasks(self, run_id: str) -> dict[str, TaskRecord]:
        """Every task record of the run by task id (strongly consistent)."""

    def load_task_changes(self, run_id: str, after: int) -> TaskChanges:
        """The run's task records written after change sequence number `after` (0: every record), strongly
        consistent: a record written after a call returned carries a higher number than that call's
        `sequence`. A store may return more than asked (a full read, `complete`)."""

    def save_task(self, run_id: str, record: TaskRecord) -> TaskRecord:
        """Create (`record.version` 0) or update (the stored version) one task record; returns it with its new
        version. ConcurrentUpdate when the stored record moved on (or exists, for a create)."""

    def save_tasks(self, run_id: str, records: Sequence[TaskRecord]) -> list[TaskRecord]:
        """`save_task` of each record, in order; the returned records carry their new versions. On
        ConcurrentUpdate the records before the conflicting one may or may not be stored (the embedded store
        writes all in one transaction, DynamoDB one by one)."""

    def cached_result(self, namespace: str, cache_key: str) -> CachedResult | None:
        """The outputs cached under `cache_key` by a run of `namespace` (a namespace never sees another's)."""

    def put_cached_result(self, namespace: str, cache_key: str, result: CachedResult) -> None:
        """Keep (or replace) the outputs under `cache_key` for `namespace`."""


class RecurringRunStore(Protocol):
    def create_recurring_run(self, recurring_run: RecurringRun) -> RecurringRun:
        """Create-if-absent (AlreadyExists). Returns the stored record (version 1)."""

    def get_recurring_run(self, recurring_run_id: str) -> RecurringRun:
        """NotFound (strongly consistent)."""

    def list_recurring_runs(self, namespace: str, experiment_id: str = "") -> Iterator[RecurringRun]: ...

    def list_enabled_recurring_runs(self) -> Iterator[RecurringRun]:
        """Every enabled recurring run, in every namespace (sparse index)."""

    def update_recurring_run(self, recurring_run: RecurringRun) -> RecurringRun:
        """Versioned write of every field but `active_runs` (kept by the run transactions). ConcurrentUpdate."""

    def delete_recurring_run(self, recurring_run_id: str) -> None:
        """A missing one is fine."""


class TokenStore(Protocol):
    """API tokens (`auth.tokens`), by id; only hashes of their secrets."""

    def create_token(self, token: ApiToken) -> ApiToken:
        """Create-if-absent (AlreadyExists)."""

    def get_token(self, token_id: str) -> ApiToken:
        """NotFound (strongly consistent: a revocation is seen by the next request)."""

    def list_tokens(self) -> Iterator[ApiToken]:
        """Every token, revoked and expired ones too, oldest first."""

    def revoke_token(self, token_id: str) -> ApiToken:
        """Mark the token revoked (again is fine). NotFound."""


@dataclasses.dataclass(frozen=True)
class Lease:
    """A held pass lease of one run: who holds it, until when (epoch seconds), and the run's mark count when it
    was taken or renewed (a release succeeds only while no mark arrived since)."""

    run_id: str
    owner: str
    until: float
    marks: int


class RunLeases(Protocol):
    """One reconcile pass of a run at a time, and no event lost while one runs (`chalicelib.leased_passes`).

    Every kick for a run tries to take its lease; when another owner holds it, the run is marked instead, and
    the holder's release fails on the new mark, so the holder passes the run again before it lets go. A lease
    past its `until` is taken over (its holder crashed or ran out of time). Each method takes many runs at once
    (the local stack passes every active run together: one transaction there)."""

    def acquire(self, run_ids: Sequence[str], owner: str, now: float, seconds: float) -> dict[str, Lease]:
        """Take each run's lease for `seconds` when free, expired or already `owner`'s (then renewed, with the
        current mark count); returns the leases taken, by run id. A run another owner holds is marked instead,
        so that holder passes it again before releasing."""

    def release(self, leases: Sequence[Lease], now: float) -> set[str]:
        """Give back each lease still held by its owner with no mark since it was taken or renewed, recording
        `now` as the run's last pass; returns the ids released (the others are unchanged)."""

    def abandon(self, leases: Sequence[Lease]) -> None:
        """Give the leases back whatever marks arrived, and forget the runs' last passes (the holder hands the
        runs to new passes: a run without a last pass is one the tick kicks)."""

    def last_passes(self, run_ids: Sequence[str]) -> dict[str, float]:
        """When each run's last released pass ended (epoch seconds); runs without one are absent."""


class ObjectStore(Protocol):
    """Bytes under keys (`store.object_keys`): an S3 bucket, or files under the embedded store's directory.
    A put is atomic and durable when it returns; a get sees the last completed put."""

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get_bytes(self, key: str) -> bytes:
        """NotFound."""

    def get_revision(self, key: str, version_id: str = "", etag: str = "") -> bytes:
        """The bytes of one revision: object version `version_id` if given, else the current object only if its
        ETag is still `etag`. NotFound when that revision is gone (deleted or overwritten)."""

    def delete(self, key: str) -> None:
        """A missing object is fine."""

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix`."""

    def presigned_put_url(self, key: str, expires_seconds: int) -> str:
        """A URL anyone holding it may PUT the object `key` to, for `expires_seconds` (signed with this
        process's credentials: their s3:PutObject permission is what it grants). PresignedUrlsUnsupported
        where there is no S3 behind the store."""

    def read_bucket_object(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """At most `max_bytes` + 1 bytes of `s3://bucket/key` in any bucket the deployment can read (a
        `package_url`). NotFound, StoreError (unreadable, or no S3 behind this store)."""

    def put_json(self, key: str, value: Any) -> None:
        self.put_bytes(key, json.dumps(value, sort_keys=True).encode(), "application/json")

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))


@dataclasses.dataclass(frozen=True)
class Store:
    """Everything the app stores, behind the five protocols. `kind` is "dynamodb" or "embedded"."""

    kind: str
    catalog: Catalog
    runs: RunStore
    recurring_runs: RecurringRunStore
    objects: ObjectStore
    tokens: TokenStore
    leases: RunLeases
