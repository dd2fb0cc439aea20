"""DynamoDB tables as pynamodb models: the only place that names tables, keys and indexes.

The model classes are built per (table prefix, AWS access) by `tables_for`, so nothing is read from the
environment at import time and one process can talk to two deployments (tests, the local stack).

One table per kind. Every list is a Query on a key or a global secondary index (never a Scan):
namespace-scoped lists go through `by_namespace` (hash `ns_key` = "ns#" + namespace, because DynamoDB key
attributes cannot be empty and KFP's single-user namespace is ""), runs and recurring runs of an experiment
through `by_experiment`, the reconciler's active runs through the sparse `active` index (only the runs it visits,
`Run.needs_reconciler`, carry `active_key`) and the local firer's enabled recurring runs through the sparse `enabled` index.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import AwsAccess

ACTIVE_KEY = "active"
ENABLED_KEY = "enabled"
TOKEN_KIND = "token"


def namespace_key(namespace: str) -> str:
    return f"ns#{namespace}"


def run_order_key(created_at: str, run_id: str) -> str:
    """A run's position in the list page indexes: created_at is fixed width, so text order is (time, id)."""
    return f"{created_at}#{run_id}"


def filtered_scope_key(scope: str, *values: str) -> str:
    """The hash key of a scope's runs with these filter values (a state, a storage state, or both)."""
    return "|".join((scope, *values))


class StateChangeMap(MapAttribute):
    update_time = UnicodeAttribute()
    state = UnicodeAttribute()
    error = JSONAttribute(null=True)


@dataclasses.dataclass(frozen=True)
class Tables:
    """The model class of every table of one deployment, and a connection for its transactions."""

    names: Any
    experiments: Any
    pipelines: Any
    versions: Any
    runs: Any
    tasks: Any
    recurring_runs: Any
    recurring_run_slots: Any
    cache: Any
    tokens: Any
    leases: Any
    connection: Connection

    @property
    def models(self) -> tuple[type[Model], ...]:
        return (
            self.names,
            self.experiments,
            self.pipelines,
            self.versions,
            self.runs,
            self.tasks,
            self.recurring_runs,
            self.cache,
            self.tokens,
            self.leases,
        )


@functools.cache
def tables_for(table_prefix: str, access: AwsAccess) -> Tables:
    """The models of the tables `<table_prefix>-<kind>` reached with `access` (built once per process)."""

    def meta(kind: str) -> type:
        class Meta:
            table_name = f"{table_prefix}-{kind}"
            region = access.region
            host = access.endpoint_url or None
            aws_access_key_id = access.access_key_id or None
            aws_secret_access_key = access.secret_access_key or None
            aws_session_token = access.session_token or None
            billing_mode = "PAY_PER_REQUEST"

        return Meta

    def index_meta(name: str) -> type:
        class Meta:
            index_name = name
            projection = AllProjection()

        return Meta

    class ByNamespace(GlobalSecondaryIndex):
        Meta = index_meta("by_namespace")
        ns_key = UnicodeAttribute(hash_key=True)
        created_at = UnicodeAttribute(range_key=True)

    class ByExperiment(GlobalSecondaryIndex):
        Meta = index_meta("by_experiment")
        experiment_id = UnicodeAttribute(hash_key=True)
        created_at = UnicodeAttribute(range_key=True)

    class ActiveRuns(GlobalSecondaryIndex):
        Meta = index_meta("active")
        active_key = UnicodeAttribute(hash_key=True)
        created_at = UnicodeAttribute(range_key=True)

    class ByRecurringRun(GlobalSecondaryIndex):
        Meta = index_meta("by_recurring_run")
        recurring_run_id = UnicodeAttribute(hash_key=True)
        created_at = UnicodeAttribute(range_key=True)

    def run_page_index(name: str, hash_attribute: str) -> GlobalSecondaryIndex:
        """A run list page index: hash `hash_attribute` (the scope, or scope|filter value), range `order_key`
        (created_at#run_id, set only on listed runs, so the index is sparse)."""
        attributes = {
            "Meta": index_meta(name),
            hash_attribute: UnicodeAttribute(hash_key=True),
            "order_key": UnicodeAttribute(range_key=True),
        }
        return type(f"RunPage_{name}", (GlobalSecondaryIndex,), attributes)()

    class EnabledRecurringRuns(GlobalSecondaryIndex):
        Meta = index_meta("enabled")
        enabled_key = UnicodeAttribute(hash_key=True)
        created_at = UnicodeAttribute(range_key=True)

    class NameClaim(Model):
        """A unique name: `<kind>|<scope>|<name>` → the id that owns it. Claimed in the same transaction that
        creates the owner, so two concurrent creates of one name cannot both succeed."""

        Meta = meta("names")
        claim = UnicodeAttribute(hash_key=True)
        owner_id = UnicodeAttribute()

    class ExperimentItem(Model):
        Meta = meta("experiments")
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
        Meta = meta("pipelines")
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
        Meta = meta("versions")
        pipeline_id = UnicodeAttribute(hash_key=True)
        version_id = UnicodeAttribute(range_key=True)
        display_name = UnicodeAttribute()
        name = UnicodeAttribute()
        namespace = UnicodeAttribute(default="")
        description = UnicodeAttribute(default="")
        created_at = UnicodeAttribute()
        package_key = UnicodeAttribute(default="")
        spec_key = UnicodeAttribute(default="")
        package_url = UnicodeAttribute(default="")
        code_source_url = UnicodeAttribute(default="")
        tags = JSONAttribute(default=dict)
        error = JSONAttribute(null=True)

    class RunItem(Model):
        Meta = meta("runs")
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
        state_history = ListAttribute(of=StateChangeMap, default=list)
        storage_state = UnicodeAttribute(default="AVAILABLE")
        created_at = UnicodeAttribute()
        scheduled_at = UnicodeAttribute(default="")
        finished_at = UnicodeAttribute(default="")
        error = JSONAttribute(null=True)
        recurring_run_id = UnicodeAttribute(null=True)
        active_key = UnicodeAttribute(null=True)
        cancel_requested = BooleanAttribute(default=False)
        delete_requested = BooleanAttribute(default=False)
        retry_requested = NumberAttribute(default=0)
        retry_applied = NumberAttribute(default=0)
        plugins_input = JSONAttribute(null=True)
        holds_slot = BooleanAttribute(default=False)
        version = VersionAttribute()
        by_namespace = ByNamespace()
        by_experiment = ByExperiment()
        active = ActiveRuns()
        by_recurring_run = ByRecurringRun()
        # Run list pages (`DynamoRunStore.page_runs`): the scope, or the scope and the filter values (state,
        # storage state, both), in created_at#run_id order.
        order_key = UnicodeAttribute(null=True)
        ns_state_key = UnicodeAttribute(null=True)
        ns_storage_key = UnicodeAttribute(null=True)
        exp_state_key = UnicodeAttribute(null=True)
        exp_storage_key = UnicodeAttribute(null=True)
        ns_storage_state_key = UnicodeAttribute(null=True)
        exp_storage_state_key = UnicodeAttribute(null=True)
        page_ns = run_page_index("page_ns", "ns_key")
        page_ns_state = run_page_index("page_ns_state", "ns_state_key")
        page_ns_storage = run_page_index("page_ns_storage", "ns_storage_key")
        page_exp = run_page_index("page_exp", "experiment_id")
        page_exp_state = run_page_index("page_exp_state", "exp_state_key")
        page_exp_storage = run_page_index("page_exp_storage", "exp_storage_key")
        page_ns_storage_state = run_page_index("page_ns_storage_state", "ns_storage_state_key")
        page_exp_storage_state = run_page_index("page_exp_storage_state", "exp_storage_state_key")

    class TaskItem(Model):
        """One task instance of a run: the engine's TaskRecord as JSON (or an S3 pointer when it is large)."""

        Meta = meta("tasks")
        run_id = UnicodeAttribute(hash_key=True)
        task_id = UnicodeAttribute(range_key=True)
        state = UnicodeAttribute()
        record = JSONAttribute(null=True)
        record_key = UnicodeAttribute(null=True)
        version = VersionAttribute()

    class RecurringRunItem(Model):
        Meta = meta("recurring-runs")
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
        active_runs = NumberAttribute(default=0)
        enabled_key = UnicodeAttribute(null=True)
        version = VersionAttribute()
        by_namespace = ByNamespace()
        by_experiment = ByExperiment()
        enabled_index = EnabledRecurringRuns()

    class RecurringRunSlots(Model):
        """The recurring-runs table seen by the run transactions: only the slot counter, no version, so taking
        or giving back a slot neither checks nor bumps the recurring run's version."""

        Meta = meta("recurring-runs")
        recurring_run_id = UnicodeAttribute(hash_key=True)
        active_runs = NumberAttribute(default=0)

    class CacheItem(Model):
        """A cached task result by KFP cache key: the outputs to re-publish on a hit."""

        Meta = meta("cache")
        cache_key = UnicodeAttribute(hash_key=True)
        result = JSONAttribute()
        run_id = UnicodeAttribute(default="")
        task_id = UnicodeAttribute(default="")
        created_at = UnicodeAttribute()

    class TokenItem(Model):
        """An API token (only the hash of its secret). All tokens share the hash key `kind` = "token", so the
        token list is a Query, never a Scan (the table holds a team's few tokens)."""

        Meta = meta("tokens")
        kind = UnicodeAttribute(hash_key=True, default=TOKEN_KIND)
        token_id = UnicodeAttribute(range_key=True)
        secret_sha256 = UnicodeAttribute()
        namespaces = ListAttribute(of=UnicodeAttribute, default=list)
        admin = BooleanAttribute(default=False)
        created_at = UnicodeAttribute()
        expires_at = UnicodeAttribute(default="")
        revoked = BooleanAttribute(default=False)
        description = UnicodeAttribute(default="")

    class LeaseItem(Model):
        """A run's reconcile pass lease (`RunLeases`): holder and expiry, the marks counted while it was held,
        the end of the last released pass; `expires_at` (TTL) drops the item a while after its last use."""

        Meta = meta("leases")
        run_id = UnicodeAttribute(hash_key=True)
        owner = UnicodeAttribute(null=True)
        until = NumberAttribute(null=True)
        marks = NumberAttribute(null=True)
        passed_at = NumberAttribute(null=True)
        expires_at = NumberAttribute(null=True)

    connection = Connection(
        region=access.region,
        host=access.endpoint_url or None,
        aws_access_key_id=access.access_key_id or None,
        aws_secret_access_key=access.secret_access_key or None,
        aws_session_token=access.session_token or None,
    )
    return Tables(
        names=NameClaim,
        experiments=ExperimentItem,
        pipelines=PipelineItem,
        versions=VersionItem,
        runs=RunItem,
        tasks=TaskItem,
        recurring_runs=RecurringRunItem,
        recurring_run_slots=RecurringRunSlots,
        cache=CacheItem,
        tokens=TokenItem,
        leases=LeaseItem,
        connection=connection,
    )


def create_tables(tables: Tables) -> None:
    """Create every table that does not exist yet (local stack and tests; the cloud uses infra/)."""
    for model in tables.models:
        if not model.exists():
            model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
