"""Experiments, pipelines and pipeline versions in the embedded database (the `Catalog` protocol).

Unique names are unique indexes, so the claim and the owner are one row written in one transaction: a taken
name fails the insert (AlreadyExists) and nothing is written.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator

from chalicelib.store.embedded.codec import decode, encode
from chalicelib.store.embedded.database import Database, first
from chalicelib.store.errors import AlreadyExists, NotFound
from chalicelib.store.name_claims import experiment_taken, pipeline_taken, version_taken
from chalicelib.store.records import Experiment, Pipeline, PipelineVersion


def _taken(exc: sqlite3.IntegrityError, by_name: str, by_id: str) -> AlreadyExists:
    """The AlreadyExists for a failed insert: the name's message when the unique name index refused it."""
    return AlreadyExists(by_name if ".name" in str(exc) else by_id)


class EmbeddedCatalog:
    def __init__(self, database: Database) -> None:
        self._db = database

    # ------------------------------------------------------------------ experiments

    def create_experiment(self, experiment: Experiment) -> Experiment:
        try:
            with self._db.write() as tx:
                tx.execute(
                    "INSERT INTO experiments (experiment_id, namespace, display_name, created_at, record) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        experiment.experiment_id,
                        experiment.namespace,
                        experiment.display_name,
                        experiment.created_at,
                        encode(experiment),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(
                experiment_taken(experiment.display_name, experiment.namespace)
                if "display_name" in str(exc)
                else f"Experiment {experiment.experiment_id} already exists"
            ) from exc
        return experiment

    def _one_experiment(self, where: str, *args: str) -> Experiment | None:
        with self._db.read() as connection:
            row = first(connection.execute(f"SELECT record FROM experiments WHERE {where}", args).fetchall())
        return decode(Experiment, row[0]) if row else None

    def get_experiment(self, experiment_id: str) -> Experiment:
        found = self._one_experiment("experiment_id = ?", experiment_id)
        if found is None:
            raise NotFound(f"Experiment {experiment_id} not found")
        return found

    def find_experiment(self, namespace: str, display_name: str) -> Experiment | None:
        return self._one_experiment("namespace = ? AND display_name = ?", namespace, display_name)

    def list_experiments(self, namespace: str) -> Iterator[Experiment]:
        with self._db.read() as connection:
            rows = connection.execute(
                "SELECT record FROM experiments WHERE namespace = ? ORDER BY created_at", (namespace,)
            ).fetchall()
        return iter([decode(Experiment, row[0]) for row in rows])

    def _change_experiment(self, experiment_id: str, **changes: str) -> bool:
        with self._db.write() as tx:
            row = first(
                tx.execute(
                    "SELECT record FROM experiments WHERE experiment_id = ?", (experiment_id,)
                ).fetchall()
            )
            if row is None:
                return False
            updated = dataclasses.replace(decode(Experiment, row[0]), **changes)
            tx.execute(
                "UPDATE experiments SET record = ? WHERE experiment_id = ?", (encode(updated), experiment_id)
            )
        return True

    def set_experiment_storage_state(self, experiment_id: str, storage_state: str) -> None:
        if not self._change_experiment(experiment_id, storage_state=storage_state):
            raise NotFound(f"Experiment {experiment_id} not found")

    def touch_experiment_last_run(self, experiment_id: str, created_at: str) -> None:
        self._change_experiment(experiment_id, last_run_created_at=created_at)

    def delete_experiment(self, experiment_id: str) -> None:
        with self._db.write() as tx:
            deleted = tx.execute("DELETE FROM experiments WHERE experiment_id = ?", (experiment_id,)).rowcount
        if not deleted:
            raise NotFound(f"Experiment {experiment_id} not found")

    # ------------------------------------------------------------------ pipelines

    def create_pipeline(self, pipeline: Pipeline, first_version: PipelineVersion | None = None) -> Pipeline:
        try:
            with self._db.write() as tx:
                tx.execute(
                    "INSERT INTO pipelines (pipeline_id, namespace, name, created_at, record) VALUES (?, ?, ?, ?, ?)",
                    (
                        pipeline.pipeline_id,
                        pipeline.namespace,
                        pipeline.name,
                        pipeline.created_at,
                        encode(pipeline),
                    ),
                )
                if first_version is not None:
                    version = dataclasses.replace(
                        first_version, pipeline_id=pipeline.pipeline_id, namespace=pipeline.namespace
                    )
                    self._insert_version(tx, version)
        except sqlite3.IntegrityError as exc:
            if first_version is not None and "versions." in str(exc):
                raise AlreadyExists(version_taken(first_version.name, pipeline.pipeline_id)) from exc
            raise _taken(
                exc,
                pipeline_taken(pipeline.name, pipeline.namespace),
                f"Pipeline {pipeline.pipeline_id} already exists",
            ) from exc
        return pipeline

    def _one_pipeline(self, where: str, *args: str) -> Pipeline | None:
        with self._db.read() as connection:
            row = first(connection.execute(f"SELECT record FROM pipelines WHERE {where}", args).fetchall())
        return decode(Pipeline, row[0]) if row else None

    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        found = self._one_pipeline("pipeline_id = ?", pipeline_id)
        if found is None:
            raise NotFound(f"Pipeline {pipeline_id} not found")
        return found

    def find_pipeline(self, namespace: str, name: str) -> Pipeline | None:
        return self._one_pipeline("namespace = ? AND name = ?", namespace, name)

    def list_pipelines(self, namespace: str) -> Iterator[Pipeline]:
        with self._db.read() as connection:
            rows = connection.execute(
                "SELECT record FROM pipelines WHERE namespace = ? ORDER BY created_at", (namespace,)
            ).fetchall()
        return iter([decode(Pipeline, row[0]) for row in rows])

    def update_pipeline(self, pipeline: Pipeline) -> Pipeline:
        try:
            with self._db.write() as tx:
                row = first(
                    tx.execute(
                        "SELECT record FROM pipelines WHERE pipeline_id = ?", (pipeline.pipeline_id,)
                    ).fetchall()
                )
                if row is None:
                    raise NotFound(f"Pipeline {pipeline.pipeline_id} not found")
                stored = decode(Pipeline, row[0])
                updated = dataclasses.replace(
                    pipeline, namespace=stored.namespace, created_at=stored.created_at
                )
                tx.execute(
                    "UPDATE pipelines SET name = ?, record = ? WHERE pipeline_id = ?",
                    (updated.name, encode(updated), updated.pipeline_id),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(pipeline_taken(pipeline.name, pipeline.namespace)) from exc
        return updated

    def delete_pipeline(self, pipeline_id: str) -> None:
        with self._db.write() as tx:
            deleted = tx.execute("DELETE FROM pipelines WHERE pipeline_id = ?", (pipeline_id,)).rowcount
        if not deleted:
            raise NotFound(f"Pipeline {pipeline_id} not found")

    # ------------------------------------------------------------------ versions

    def create_version(self, version: PipelineVersion) -> PipelineVersion:
        try:
            with self._db.write() as tx:
                owner = first(
                    tx.execute(
                        "SELECT 1 FROM pipelines WHERE pipeline_id = ?", (version.pipeline_id,)
                    ).fetchall()
                )
                if owner is None:
                    raise NotFound(f"Pipeline {version.pipeline_id} not found")
                tx.execute(
                    "INSERT INTO versions (pipeline_id, version_id, name, created_at, record) VALUES (?, ?, ?, ?, ?)",
                    (
                        version.pipeline_id,
                        version.version_id,
                        version.name,
                        version.created_at,
                        encode(version),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise _taken(
                exc,
                version_taken(version.name, version.pipeline_id),
                f"Pipeline version {version.version_id} already exists",
            ) from exc
        return version

    @staticmethod
    def _insert_version(tx: sqlite3.Connection, version: PipelineVersion) -> None:
        tx.execute(
            "INSERT INTO versions (pipeline_id, version_id, name, created_at, record) VALUES (?, ?, ?, ?, ?)",
            (version.pipeline_id, version.version_id, version.name, version.created_at, encode(version)),
        )

    def get_version(self, pipeline_id: str, version_id: str) -> PipelineVersion:
        with self._db.read() as connection:
            row = first(
                connection.execute(
                    "SELECT record FROM versions WHERE pipeline_id = ? AND version_id = ?",
                    (pipeline_id, version_id),
                ).fetchall()
            )
        if row is None:
            raise NotFound(f"Pipeline version {version_id} of pipeline {pipeline_id} not found")
        return decode(PipelineVersion, row[0])

    def list_versions(self, pipeline_id: str) -> Iterator[PipelineVersion]:
        with self._db.read() as connection:
            rows = connection.execute(
                "SELECT record FROM versions WHERE pipeline_id = ? ORDER BY created_at", (pipeline_id,)
            ).fetchall()
        return iter([decode(PipelineVersion, row[0]) for row in rows])

    def update_version(self, version: PipelineVersion) -> PipelineVersion:
        try:
            with self._db.write() as tx:
                row = first(
                    tx.execute(
                        "SELECT record FROM versions WHERE pipeline_id = ? AND version_id = ?",
                        (version.pipeline_id, version.version_id),
                    ).fetchall()
                )
                if row is None:
                    raise NotFound(
                        f"Pipeline version {version.version_id} of pipeline {version.pipeline_id} not found"
                    )
                stored = decode(PipelineVersion, row[0])
                updated = dataclasses.replace(
                    version,
                    namespace=stored.namespace,
                    created_at=stored.created_at,
                    package_key=stored.package_key,
                    spec_key=stored.spec_key,
                )
                tx.execute(
                    "UPDATE versions SET name = ?, record = ? WHERE pipeline_id = ? AND version_id = ?",
                    (updated.name, encode(updated), updated.pipeline_id, updated.version_id),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(version_taken(version.name, version.pipeline_id)) from exc
        return updated

    def delete_version(self, pipeline_id: str, version_id: str) -> None:
        with self._db.write() as tx:
            deleted = tx.execute(
                "DELETE FROM versions WHERE pipeline_id = ? AND version_id = ?", (pipeline_id, version_id)
            ).rowcount
        if not deleted:
            raise NotFound(f"Pipeline version {version_id} of pipeline {pipeline_id} not found")
