"""DynamoDB tables as pynamodb models: the only place that names tables, keys and indexes.

One table per kind. Every list is a Query on a key or a global secondary index (never a Scan):
namespace-scoped lists go through `by_namespace` (hash `ns_key` = "ns#" + namespace, because DynamoDB key
attributes cannot be empty and KFP's single-user namespace is ""), runs of an experiment through
`by_experiment`, and the reconciler's active runs through the sparse `active` index (only active runs carry
`active_key`). Timestamps are RFC3339 strings in one fixed format, so they sort as text.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import Settings

_settings = Settings.from_env()


def namespace_key(namespace: str) -> str:
    return f"ns#{namespace}"


def _meta(kind: str) -> type:
    class Meta:
        table_name = _settings.table_name(kind)
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"

    return Meta


def _index_meta(name: str) -> type:
    class Meta:
        index_name = name
        projection = AllProjection()

    return Meta


class ByNamespace(GlobalSecondaryIndex):
    Meta = _index_meta("by_namespace")
    ns_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class NameClaim(Model):
    """A unique name: `<kind>|<scope>|<name>` → the id that owns it. Claimed in the same transaction that
    creates the owner, so two concurrent creates of one name cannot both succeed."""

    Meta = _meta("names")
    claim = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()


class ExperimentItem(Model):
    Meta = _meta("experiments")
    experiment_id = UnicodeAttribute(hash_key=True)
    display_name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    namespace = UnicodeAttribute(default="")
    ns_key = UnicodeAttribute()
    created_at = UnicodeAttribute()
    last_run_created_at = UnicodeAttribute(default="")
    storage_state = UnicodeAttribute(default="AVAILABLE")
    by_namespace = ByNamespace()


class PipelineItem(Model):
    Meta = _meta("pipelines")
    pipeline_id = UnicodeAttribute(hash_key=True)
    display_name = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    namespace = UnicodeAttribute(default="")
    ns_key = UnicodeAttribute()
    created_at = UnicodeAttribute()
    tags = JSONAttribute(default=dict)
    by_namespace = ByNamespace()


class VersionItem(Model):
    """A pipeline version. The package bytes and the parsed spec live in S3 (`package_key`, `spec_key`)."""

    Meta = _meta("versions")
    pipeline_id = UnicodeAttribute(hash_key=True)
    version_id = UnicodeAttribute(range_key=True)
    display_name = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    created_at = UnicodeAttribute()
    package_key = UnicodeAttribute(default="")
    spec_key = UnicodeAttribute(default="")
    package_url = UnicodeAttribute(default="")
    code_source_url = UnicodeAttribute(default="")
    tags = JSONAttribute(default=dict)
    error = JSONAttribute(null=True)


class ByExperiment(GlobalSecondaryIndex):
    Meta = _index_meta("by_experiment")
    experiment_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ActiveRuns(GlobalSecondaryIndex):
    Meta = _index_meta("active")
    active_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ByRecurringRun(GlobalSecondaryIndex):
    Meta = _index_meta("by_recurring_run")
    recurring_run_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class EnabledRecurringRuns(GlobalSecondaryIndex):
    """Sparse: only enabled recurring runs carry `enabled_key` (the local stack's firer lists them)."""

    Meta = _index_meta("enabled")
    enabled_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class StateChange(MapAttribute):
    update_time = UnicodeAttribute()
    state = UnicodeAttribute()
    error = JSONAttribute(null=True)


class RunItem(Model):
    """One run. The spec snapshot lives in S3 (`spec_key`); task instances are TaskItems."""

    Meta = _meta("runs")
    run_id = UnicodeAttribute(hash_key=True)
    display_name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    experiment_id = UnicodeAttribute()
    namespace = UnicodeAttribute(default="")
    ns_key = UnicodeAttribute()
    pipeline_id = UnicodeAttribute(default="")
    pipeline_version_id = UnicodeAttribute(default="")
    pipeline_name = UnicodeAttribute(default="")
    spec_key = UnicodeAttribute()
    parameters = JSONAttribute(default=dict)
    pipeline_root = UnicodeAttribute(default="")
    service_account = UnicodeAttribute(default="")
    state = UnicodeAttribute(default="PENDING")
    state_history = ListAttribute(of=StateChange, default=list)
    storage_state = UnicodeAttribute(default="AVAILABLE")
    created_at = UnicodeAttribute()
    scheduled_at = UnicodeAttribute(default="")
    finished_at = UnicodeAttribute(default="")
    error = JSONAttribute(null=True)
    recurring_run_id = UnicodeAttribute(null=True)
    active_key = UnicodeAttribute(null=True)
    cancel_requested = BooleanAttribute(default=False)
    # The user deleted the run while it was active: it is hidden from the API at once, and the reconciler
    # removes it once its tasks are stopped.
    delete_requested = BooleanAttribute(default=False)
    retry_requested = NumberAttribute(default=0)
    retry_applied = NumberAttribute(default=0)
    plugins_input = JSONAttribute(null=True)
    version = VersionAttribute()
    by_namespace = ByNamespace()
    by_experiment = ByExperiment()
    active = ActiveRuns()
    by_recurring_run = ByRecurringRun()


class TaskItem(Model):
    """One task instance of a run: the engine's TaskRecord as JSON (or an S3 pointer when it is large)."""

    Meta = _meta("tasks")
    run_id = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)
    state = UnicodeAttribute()
    record = JSONAttribute(null=True)
    record_key = UnicodeAttribute(null=True)
    version = VersionAttribute()


class RecurringRunItem(Model):
    Meta = _meta("recurring-runs")
    recurring_run_id = UnicodeAttribute(hash_key=True)
    display_name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    experiment_id = UnicodeAttribute()
    namespace = UnicodeAttribute(default="")
    ns_key = UnicodeAttribute()
    pipeline_id = UnicodeAttribute(default="")
    pipeline_version_id = UnicodeAttribute(default="")
    spec_key = UnicodeAttribute(default="")
    parameters = JSONAttribute(default=dict)
    pipeline_root = UnicodeAttribute(default="")
    service_account = UnicodeAttribute(default="")
    max_concurrency = NumberAttribute(default=1)
    trigger = JSONAttribute(default=dict)
    enabled = BooleanAttribute(default=True)
    no_catchup = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    last_fired_at = UnicodeAttribute(default="")
    error = JSONAttribute(null=True)
    enabled_key = UnicodeAttribute(null=True)
    version = VersionAttribute()
    by_namespace = ByNamespace()
    by_experiment = ByExperiment()
    enabled_index = EnabledRecurringRuns()


class CacheItem(Model):
    """A cached task result by KFP cache key: the outputs to re-publish on a hit."""

    Meta = _meta("cache")
    cache_key = UnicodeAttribute(hash_key=True)
    result = JSONAttribute()
    run_id = UnicodeAttribute(default="")
    task_id = UnicodeAttribute(default="")
    created_at = UnicodeAttribute()


ALL_MODELS: tuple[type[Model], ...] = (
    NameClaim,
    ExperimentItem,
    PipelineItem,
    VersionItem,
    RunItem,
    TaskItem,
    RecurringRunItem,
    CacheItem,
)


def create_tables() -> None:
    """Create every table that does not exist yet (local stack and tests; the cloud uses infra/)."""
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
