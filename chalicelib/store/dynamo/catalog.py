"""Experiments, pipelines and pipeline versions in DynamoDB (the `Catalog` protocol).

Names are unique per namespace (experiments, pipelines) or per pipeline (versions): a `NameClaim` item and the
owner are written in one transaction with a "claim does not exist" condition, so concurrent creates of one name
cannot both succeed and a failed create leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.models import Model

from chalicelib.store.dynamo.tables import Tables, namespace_key
from chalicelib.store.dynamo.transactions import Transaction, TransactionCancelled
from chalicelib.store.errors import AlreadyExists, ConcurrentUpdate, NotFound, StoreError
from chalicelib.store.name_claims import experiment_taken, pipeline_taken, version_taken
from chalicelib.store.records import Experiment, Pipeline, PipelineVersion


def _claim(kind: str, scope: str, name: str) -> str:
    return f"{kind}|{scope}|{name}"


def _experiment(item: Any) -> Experiment:
    return Experiment(
        experiment_id=item.experiment_id,
        display_name=item.display_name,
        namespace=item.namespace or "",
        created_at=item.created_at,
        description=item.description or "",
        last_run_created_at=item.last_run_created_at or "",
        storage_state=item.storage_state or "AVAILABLE",
    )


def _pipeline(item: Any) -> Pipeline:
    return Pipeline(
        pipeline_id=item.pipeline_id,
        name=item.name,
        display_name=item.display_name,
        namespace=item.namespace or "",
        created_at=item.created_at,
        description=item.description or "",
        tags=dict(item.tags or {}),
    )


def _version(item: Any) -> PipelineVersion:
    return PipelineVersion(
        pipeline_id=item.pipeline_id,
        version_id=item.version_id,
        name=item.name,
        display_name=item.display_name,
        namespace=item.namespace or "",
        created_at=item.created_at,
        description=item.description or "",
        package_key=item.package_key or "",
        spec_key=item.spec_key or "",
        package_url=item.package_url or "",
        code_source_url=item.code_source_url or "",
        tags=dict(item.tags or {}),
        error=item.error,
    )


class DynamoCatalog:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    # ------------------------------------------------------------------ shared

    def _write_claimed(
        self,
        item: Model,
        claim: str,
        owner_id: str,
        taken: str,
        *,
        old_claim: str = "",
        item_condition: Any = None,
        creating: bool = False,
        checks: tuple[tuple[type[Model], Any, Any], ...] = (),
        also: tuple[tuple[Model, str, str, Any], ...] = (),
    ) -> None:
        """Write `item` and claim `claim` in one transaction (AlreadyExists when the name is taken). With
        `old_claim` (a rename) the previous name is released in the same transaction; `item_condition` guards
        the item write (when it fails: AlreadyExists when `creating`, else ConcurrentUpdate); `checks` are
        (model, hash key, condition) that must hold (NotFound when one fails); `also` are more items to create
        with their claims in the same transaction: (item, claim, taken message, item condition)."""
        names = self._t.names
        tx = Transaction(self._t.connection)
        tx.save("claim", names(claim, owner_id=owner_id), condition=names.claim.does_not_exist())
        tx.save("item", item, condition=item_condition)
        if old_claim:
            tx.delete("old claim", names(old_claim))
        for model, key, condition in checks:
            tx.condition_check("owner", model, key, condition)
        for index, (other, other_claim, _, other_condition) in enumerate(also):
            tx.save(f"claim {index}", names(other_claim, owner_id=owner_id), names.claim.does_not_exist())
            tx.save(f"item {index}", other, other_condition)
        try:
            tx.commit()
        except TransactionCancelled as exc:
            if "claim" in exc.failed:
                raise AlreadyExists(taken) from exc.cause
            for index, (_, _, other_taken, _) in enumerate(also):
                if f"claim {index}" in exc.failed:
                    raise AlreadyExists(other_taken) from exc.cause
            if ("item" in exc.failed or any(label.startswith("item ") for label in exc.failed)) and creating:
                raise AlreadyExists(f"{owner_id} already exists") from exc.cause
            if "item" in exc.failed:
                raise ConcurrentUpdate(f"{owner_id} changed concurrently") from exc.cause
            raise NotFound(f"{owner_id}: what it belongs to does not exist") from exc.cause

    def _delete_claimed(self, model: type[Model], what: str, key: tuple[Any, ...], claim_of: Any) -> None:
        item = self._get(model, what, *key)
        tx = (
            Transaction(self._t.connection)
            .delete("item", item)
            .delete("claim", self._t.names(claim_of(item)))
        )
        try:
            tx.commit()
        except TransactionCancelled as exc:
            raise StoreError(f"cannot delete {what}: {exc}") from exc.cause

    @staticmethod
    def _get(model: type[Model], what: str, hash_key: str, range_key: str | None = None) -> Any:
        try:
            if range_key is None:
                return model.get(hash_key, consistent_read=True)
            return model.get(hash_key, range_key, consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound(f"{what} not found") from exc
        except PynamoDBException as exc:
            raise StoreError(f"cannot read {what}: {exc}") from exc

    def _owner(self, claim: str) -> str | None:
        try:
            return self._t.names.get(claim, consistent_read=True).owner_id
        except DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise StoreError(f"cannot read name claim: {exc}") from exc

    @staticmethod
    def _query(query: Any) -> list[Any]:
        try:
            return list(query)
        except PynamoDBException as exc:
            raise StoreError(f"cannot list: {exc}") from exc

    # ------------------------------------------------------------------ experiments

    def create_experiment(self, experiment: Experiment) -> Experiment:
        items = self._t.experiments
        item = items(
            experiment.experiment_id,
            display_name=experiment.display_name,
            description=experiment.description,
            namespace=experiment.namespace,
            ns_key=namespace_key(experiment.namespace),
            created_at=experiment.created_at,
            last_run_created_at=experiment.last_run_created_at,
            storage_state=experiment.storage_state,
        )
        self._write_claimed(
            item,
            _claim("experiment", experiment.namespace, experiment.display_name),
            experiment.experiment_id,
            experiment_taken(experiment.display_name, experiment.namespace),
            item_condition=items.experiment_id.does_not_exist(),
            creating=True,
        )
        return experiment

    def get_experiment(self, experiment_id: str) -> Experiment:
        return _experiment(self._get(self._t.experiments, f"Experiment {experiment_id}", experiment_id))

    def find_experiment(self, namespace: str, display_name: str) -> Experiment | None:
        owner = self._owner(_claim("experiment", namespace, display_name))
        if owner is None:
            return None
        try:
            return self.get_experiment(owner)
        except NotFound:
            return None

    def list_experiments(self, namespace: str) -> Iterator[Experiment]:
        query = self._t.experiments.by_namespace.query(namespace_key(namespace))
        return iter([_experiment(item) for item in self._query(query)])

    def set_experiment_storage_state(self, experiment_id: str, storage_state: str) -> None:
        items = self._t.experiments
        try:
            items(experiment_id).update(
                actions=[items.storage_state.set(storage_state)], condition=items.experiment_id.exists()
            )
        except PynamoDBException as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                raise NotFound(f"Experiment {experiment_id} not found") from exc
            raise StoreError(f"cannot update experiment {experiment_id}: {exc}") from exc

    def touch_experiment_last_run(self, experiment_id: str, created_at: str) -> None:
        items = self._t.experiments
        try:
            items(experiment_id).update(
                actions=[items.last_run_created_at.set(created_at)], condition=items.experiment_id.exists()
            )
        except PynamoDBException:
            pass  # informational only

    def delete_experiment(self, experiment_id: str) -> None:
        self._delete_claimed(
            self._t.experiments,
            f"Experiment {experiment_id}",
            (experiment_id,),
            lambda item: _claim("experiment", item.namespace or "", item.display_name),
        )

    # ------------------------------------------------------------------ pipelines

    def _pipeline_item(self, pipeline: Pipeline) -> Any:
        return self._t.pipelines(
            pipeline.pipeline_id,
            name=pipeline.name,
            display_name=pipeline.display_name,
            description=pipeline.description,
            namespace=pipeline.namespace,
            ns_key=namespace_key(pipeline.namespace),
            created_at=pipeline.created_at,
            tags=dict(pipeline.tags),
        )

    def create_pipeline(self, pipeline: Pipeline, first_version: PipelineVersion | None = None) -> Pipeline:
        also: tuple[tuple[Model, str, str, Any], ...] = ()
        if first_version is not None:
            version = dataclasses.replace(
                first_version, pipeline_id=pipeline.pipeline_id, namespace=pipeline.namespace
            )
            also = (
                (
                    self._version_item(version),
                    _claim("version", pipeline.pipeline_id, version.name),
                    version_taken(version.name, pipeline.pipeline_id),
                    self._t.versions.version_id.does_not_exist(),
                ),
            )
        self._write_claimed(
            self._pipeline_item(pipeline),
            _claim("pipeline", pipeline.namespace, pipeline.name),
            pipeline.pipeline_id,
            pipeline_taken(pipeline.name, pipeline.namespace),
            item_condition=self._t.pipelines.pipeline_id.does_not_exist(),
            creating=True,
            also=also,
        )
        return pipeline

    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        return _pipeline(self._get(self._t.pipelines, f"Pipeline {pipeline_id}", pipeline_id))

    def find_pipeline(self, namespace: str, name: str) -> Pipeline | None:
        owner = self._owner(_claim("pipeline", namespace, name))
        if owner is None:
            return None
        try:
            return self.get_pipeline(owner)
        except NotFound:
            return None

    def list_pipelines(self, namespace: str) -> Iterator[Pipeline]:
        query = self._t.pipelines.by_namespace.query(namespace_key(namespace))
        return iter([_pipeline(item) for item in self._query(query)])

    def update_pipeline(self, pipeline: Pipeline) -> Pipeline:
        stored = self.get_pipeline(pipeline.pipeline_id)
        updated = dataclasses.replace(pipeline, namespace=stored.namespace, created_at=stored.created_at)
        items = self._t.pipelines
        item = self._pipeline_item(updated)
        same_name = items.pipeline_id.exists() & (items.name == stored.name)
        if updated.name == stored.name:
            self._save_conditioned(item, same_name, f"Pipeline {pipeline.pipeline_id}")
        else:
            self._write_claimed(
                item,
                _claim("pipeline", stored.namespace, updated.name),
                pipeline.pipeline_id,
                pipeline_taken(updated.name, stored.namespace),
                old_claim=_claim("pipeline", stored.namespace, stored.name),
                item_condition=same_name,
            )
        return updated

    def delete_pipeline(self, pipeline_id: str) -> None:
        self._delete_claimed(
            self._t.pipelines,
            f"Pipeline {pipeline_id}",
            (pipeline_id,),
            lambda item: _claim("pipeline", item.namespace or "", item.name),
        )

    @staticmethod
    def _save_conditioned(item: Model, condition: Any, what: str) -> None:
        try:
            item.save(condition=condition)
        except PynamoDBException as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                raise ConcurrentUpdate(f"{what} changed concurrently") from exc
            raise StoreError(f"cannot write {what}: {exc}") from exc

    # ------------------------------------------------------------------ versions

    def _version_item(self, version: PipelineVersion) -> Any:
        return self._t.versions(
            version.pipeline_id,
            version.version_id,
            name=version.name,
            display_name=version.display_name,
            namespace=version.namespace,
            description=version.description,
            created_at=version.created_at,
            package_key=version.package_key,
            spec_key=version.spec_key,
            package_url=version.package_url,
            code_source_url=version.code_source_url,
            tags=dict(version.tags),
            error=version.error,
        )

    def create_version(self, version: PipelineVersion) -> PipelineVersion:
        pipelines = self._t.pipelines
        self._write_claimed(
            self._version_item(version),
            _claim("version", version.pipeline_id, version.name),
            version.version_id,
            version_taken(version.name, version.pipeline_id),
            item_condition=self._t.versions.version_id.does_not_exist(),
            creating=True,
            checks=((pipelines, version.pipeline_id, pipelines.pipeline_id.exists()),),
        )
        return version

    def get_version(self, pipeline_id: str, version_id: str) -> PipelineVersion:
        what = f"Pipeline version {version_id} of pipeline {pipeline_id}"
        return _version(self._get(self._t.versions, what, pipeline_id, version_id))

    def list_versions(self, pipeline_id: str) -> Iterator[PipelineVersion]:
        query = self._t.versions.query(pipeline_id, consistent_read=True)
        return iter([_version(item) for item in self._query(query)])

    def update_version(self, version: PipelineVersion) -> PipelineVersion:
        stored = self.get_version(version.pipeline_id, version.version_id)
        updated = dataclasses.replace(
            version,
            namespace=stored.namespace,
            created_at=stored.created_at,
            package_key=stored.package_key,
            spec_key=stored.spec_key,
        )
        items = self._t.versions
        item = self._version_item(updated)
        same_name = items.version_id.exists() & (items.name == stored.name)
        if updated.name == stored.name:
            self._save_conditioned(item, same_name, f"Pipeline version {version.version_id}")
        else:
            self._write_claimed(
                item,
                _claim("version", stored.pipeline_id, updated.name),
                version.version_id,
                version_taken(updated.name, stored.pipeline_id),
                old_claim=_claim("version", stored.pipeline_id, stored.name),
                item_condition=same_name,
            )
        return updated

    def delete_version(self, pipeline_id: str, version_id: str) -> None:
        self._delete_claimed(
            self._t.versions,
            f"Pipeline version {version_id} of pipeline {pipeline_id}",
            (pipeline_id, version_id),
            lambda item: _claim("version", item.pipeline_id, item.name),
        )
