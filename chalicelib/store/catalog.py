"""Experiments, pipelines and pipeline versions in DynamoDB.

Names are unique per namespace (experiments, pipelines) or per pipeline (versions): the name claim and the item
are written in one transaction with a "claim does not exist" condition, so concurrent creates of one name
cannot both succeed and a failed create leaves nothing behind.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.settings import Settings
from chalicelib.store.errors import AlreadyExists, NotFound, StoreError
from chalicelib.store.tables import (
    ExperimentItem,
    NameClaim,
    PipelineItem,
    VersionItem,
    namespace_key,
)
from chalicelib.timestamps import now_text


def new_id() -> str:
    return str(uuid.uuid4())


@functools.cache
def _connection() -> Connection:
    """One connection (and botocore client) per process: building a client costs ~0.1 s."""
    return Connection(region=Settings.from_env().region)


def _claim(kind: str, scope: str, name: str) -> str:
    return f"{kind}|{scope}|{name}"


def _create_with_claim(item: Model, claim: str, owner_id: str, what: str, old_claim: str = "") -> None:
    """Write `item` and claim its unique name in one transaction (AlreadyExists when the name is taken).
    With `old_claim` (a rename), the item's previous name is released in the same transaction."""
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.save(NameClaim(claim, owner_id=owner_id), condition=NameClaim.claim.does_not_exist())
            if old_claim:
                tx.delete(NameClaim(old_claim))
            tx.save(item)
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        if "ConditionalCheckFailed" in reasons:
            raise AlreadyExists(what) from exc
        raise StoreError(f"cannot create {what}: {exc}") from exc


def _delete_with_claim(item: Model, claim: str) -> None:
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.delete(item)
            tx.delete(NameClaim(claim))
    except PynamoDBException as exc:
        raise StoreError(f"cannot delete: {exc}") from exc


def _get(model: type[Model], what: str, hash_key: str, range_key: str | None = None) -> Model:
    try:
        return model.get(hash_key, range_key) if range_key is not None else model.get(hash_key)
    except DoesNotExist as exc:
        raise NotFound(what) from exc
    except PynamoDBException as exc:
        raise StoreError(f"cannot read {what}: {exc}") from exc


def _query_namespace(model: type[Model], namespace: str) -> Iterator[Model]:
    try:
        yield from model.by_namespace.query(namespace_key(namespace))
    except PynamoDBException as exc:
        raise StoreError(f"cannot list: {exc}") from exc


# ---------------------------------------------------------------- experiments


def create_experiment(display_name: str, description: str, namespace: str) -> ExperimentItem:
    experiment_id = new_id()
    item = ExperimentItem(
        experiment_id,
        display_name=display_name,
        description=description,
        namespace=namespace,
        ns_key=namespace_key(namespace),
        created_at=now_text(),
        storage_state="AVAILABLE",
    )
    _create_with_claim(
        item,
        _claim("experiment", namespace, display_name),
        experiment_id,
        f"Experiment with name {display_name!r} already exists in namespace {namespace!r}",
    )
    return item


def get_experiment(experiment_id: str) -> ExperimentItem:
    return _get(ExperimentItem, f"Experiment {experiment_id} not found", experiment_id)


def find_experiment_id(display_name: str, namespace: str) -> str | None:
    try:
        return NameClaim.get(_claim("experiment", namespace, display_name)).owner_id
    except DoesNotExist:
        return None


def list_experiments(namespace: str) -> Iterator[ExperimentItem]:
    return _query_namespace(ExperimentItem, namespace)


def delete_experiment(item: ExperimentItem) -> None:
    _delete_with_claim(item, _claim("experiment", item.namespace, item.display_name))


def set_experiment_storage_state(item: ExperimentItem, storage_state: str) -> None:
    item.update(actions=[ExperimentItem.storage_state.set(storage_state)])


def touch_experiment_last_run(experiment_id: str, created_at: str) -> None:
    try:
        ExperimentItem(experiment_id).update(
            actions=[ExperimentItem.last_run_created_at.set(created_at)],
            condition=ExperimentItem.experiment_id.exists(),
        )
    except PynamoDBException:
        pass  # informational only


# ---------------------------------------------------------------- pipelines


def create_pipeline(
    name: str, display_name: str, description: str, namespace: str, tags: dict[str, str]
) -> PipelineItem:
    pipeline_id = new_id()
    item = PipelineItem(
        pipeline_id,
        name=name,
        display_name=display_name,
        description=description,
        namespace=namespace,
        ns_key=namespace_key(namespace),
        created_at=now_text(),
        tags=tags,
    )
    _create_with_claim(
        item,
        _claim("pipeline", namespace, name),
        pipeline_id,
        _pipeline_taken(name, namespace),
    )
    return item


def get_pipeline(pipeline_id: str) -> PipelineItem:
    return _get(PipelineItem, f"Pipeline {pipeline_id} not found", pipeline_id)


def find_pipeline_id(name: str, namespace: str) -> str | None:
    try:
        return NameClaim.get(_claim("pipeline", namespace, name)).owner_id
    except DoesNotExist:
        return None


def list_pipelines(namespace: str) -> Iterator[PipelineItem]:
    return _query_namespace(PipelineItem, namespace)


def delete_pipeline(item: PipelineItem) -> None:
    _delete_with_claim(item, _claim("pipeline", item.namespace, item.name))


# ---------------------------------------------------------------- versions


def create_version(item: VersionItem) -> VersionItem:
    """Store a fully built version item (its package and spec must already be in S3)."""
    _create_with_claim(
        item,
        _claim("version", item.pipeline_id, item.name),
        item.version_id,
        _version_taken(item.name, item.pipeline_id),
    )
    return item


def get_version(pipeline_id: str, version_id: str) -> VersionItem:
    return _get(
        VersionItem,
        f"Pipeline version {version_id} of pipeline {pipeline_id} not found",
        pipeline_id,
        version_id,
    )


def list_versions(pipeline_id: str) -> Iterator[VersionItem]:
    try:
        yield from VersionItem.query(pipeline_id)
    except PynamoDBException as exc:
        raise StoreError(f"cannot list versions: {exc}") from exc


def has_versions(pipeline_id: str) -> bool:
    try:
        return any(True for _ in VersionItem.query(pipeline_id, limit=1))
    except PynamoDBException as exc:
        raise StoreError(f"cannot list versions: {exc}") from exc


def latest_version(pipeline_id: str) -> VersionItem | None:
    """The newest version that has a valid spec (a version recorded with an `error` — a bad package dropped
    into `pipelines/` — cannot be run, so it is never "latest")."""
    versions = sorted(
        (v for v in list_versions(pipeline_id) if not v.error), key=lambda v: (v.created_at, v.version_id)
    )
    return versions[-1] if versions else None


def delete_version(item: VersionItem) -> None:
    _delete_with_claim(item, _claim("version", item.pipeline_id, item.name))


def _save_with_name(item: Model, kind: str, scope: str, owner_id: str, old_name: str, taken: str) -> None:
    """Save an updated item; when its unique name changed, move the name claim in the same transaction."""
    if item.name == old_name:
        item.save()
        return
    _create_with_claim(
        item, _claim(kind, scope, item.name), owner_id, taken, old_claim=_claim(kind, scope, old_name)
    )


def update_pipeline(item: PipelineItem, name: str, display_name: str, description: str, tags: dict) -> None:
    """Change a pipeline's name, display name, description or tags; a new name must be free in its namespace."""
    old_name = item.name
    item.name, item.display_name, item.description, item.tags = name, display_name, description, tags
    _save_with_name(
        item, "pipeline", item.namespace, item.pipeline_id, old_name, _pipeline_taken(name, item.namespace)
    )


def update_version(item: VersionItem, name: str, display_name: str, description: str, tags: dict) -> None:
    """Change a version's name, display name, description or tags; a new name must be free in its pipeline."""
    old_name = item.name
    item.name, item.display_name, item.description, item.tags = name, display_name, description, tags
    _save_with_name(
        item, "version", item.pipeline_id, item.version_id, old_name, _version_taken(name, item.pipeline_id)
    )


def _pipeline_taken(name: str, namespace: str) -> str:
    return f"Pipeline with name {name!r} already exists in namespace {namespace!r}"


def _version_taken(name: str, pipeline_id: str) -> str:
    return f"Pipeline version with name {name!r} already exists in pipeline {pipeline_id}"
