"""One log line per change of a pipeline, a pipeline version or a recurring run (the services call these after
the store accepted the change): `pipeline created`, `pipeline version created`, `pipeline deleted`,
`pipeline version deleted`, `recurring run created`, `recurring run enabled` / `disabled`, `recurring run
deleted`, keyed by `pipeline_id`, `pipeline_version_id`, `recurring_run_id`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.observability.logs import logger, present

if TYPE_CHECKING:
    from chalicelib.store.records import Pipeline, PipelineVersion, RecurringRun


def _version_keys(version: PipelineVersion) -> dict[str, Any]:
    keys: dict[str, Any] = {
        "pipeline_id": version.pipeline_id,
        "pipeline_version_id": version.version_id,
        "version_name": version.name,
    }
    if version.error:
        keys["error"] = str(version.error.get("message", ""))[:500]
    return keys


def pipeline_created(pipeline: Pipeline, first: PipelineVersion | None = None) -> None:
    keys = {
        "pipeline_id": pipeline.pipeline_id,
        "pipeline_name": pipeline.name,
        "namespace": pipeline.namespace,
    }
    logger().info("pipeline created", extra=keys)
    if first is not None:
        version_created(first)


def version_created(version: PipelineVersion) -> None:
    logger().info("pipeline version created", extra=_version_keys(version))


def pipeline_deleted(pipeline: Pipeline) -> None:
    logger().info(
        "pipeline deleted", extra={"pipeline_id": pipeline.pipeline_id, "pipeline_name": pipeline.name}
    )


def version_deleted(version: PipelineVersion) -> None:
    logger().info("pipeline version deleted", extra=_version_keys(version))


def _recurring_keys(recurring_run: RecurringRun) -> dict[str, Any]:
    return present(
        recurring_run_id=recurring_run.recurring_run_id,
        experiment_id=recurring_run.experiment_id,
        pipeline_id=recurring_run.pipeline_id,
        pipeline_version_id=recurring_run.pipeline_version_id,
    )


def recurring_run_created(recurring_run: RecurringRun) -> None:
    logger().info(
        "recurring run created", extra={**_recurring_keys(recurring_run), "enabled": recurring_run.enabled}
    )


def recurring_run_switched(recurring_run: RecurringRun) -> None:
    message = "recurring run enabled" if recurring_run.enabled else "recurring run disabled"
    logger().info(message, extra=_recurring_keys(recurring_run))


def recurring_run_deleted(recurring_run: RecurringRun) -> None:
    logger().info("recurring run deleted", extra=_recurring_keys(recurring_run))
