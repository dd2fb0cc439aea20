"""Launch decisions for container tasks: the complete TaskSpec of one attempt, its cache key and platform config.

Output artifact URIs are pre-assigned as `<pipeline_root>/<pipeline_name>/<run_id>/<task_id>/<output_name>`,
the same for every attempt, for `s3://...` roots and absolute local directories alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.engine import pipeline_spec
from chalicelib.engine.cache_keys import container_cache_key, custom_cache_key
from chalicelib.engine.inputs import ResolvedInputs
from chalicelib.engine.model import Launch, RunInput, TaskRecord
from chalicelib.engine.placeholders import TaskIdentity
from chalicelib.engine.platform_config import executor_platform_config, pvc_names, resolve_platform_config
from chalicelib.engine.scopes import RecordLookup, Scope
from chalicelib.task_contract import TaskSpec


def join_uri(root: str, *parts: str) -> str:
    """`root` joined with `parts` by `/`; keeps a `scheme://` prefix and avoids doubled slashes."""
    joined = root.rstrip("/")
    for part in parts:
        joined = f"{joined}/{part.strip('/')}"
    return joined


def output_artifact_uris(
    run: RunInput, task_id: str, output_definitions: Mapping[str, Any]
) -> dict[str, str]:
    return {
        name: join_uri(run.pipeline_root, run.pipeline_name, run.run_id, task_id, name)
        for name in (output_definitions.get("artifacts") or {})
    }


def container_env(container: Mapping[str, Any]) -> dict[str, str]:
    """The container's `env[]` as a name → value mapping (kubernetes `$(VAR)` expansion is left to the runner)."""
    return {str(item.get("name", "")): str(item.get("value", "")) for item in container.get("env") or []}


def build_launch(
    run: RunInput,
    spec: Mapping[str, Any],
    platform_spec: Mapping[str, Any] | None,
    scope: Scope,
    task: Mapping[str, Any],
    record: TaskRecord,
    inputs: ResolvedInputs,
    lookup: RecordLookup,
) -> Launch:
    """The Launch of attempt `record.attempt` of the container task `record` with its resolved inputs."""
    component_name = pipeline_spec.task_component_name(task)
    spec_component = pipeline_spec.component(spec, component_name)
    container = dict(pipeline_spec.executor(spec, spec_component)["container"])
    output_definitions = dict(spec_component.get("outputDefinitions") or {})
    identity = TaskIdentity.of(run, record.name, record.task_id)
    platform = resolve_platform_config(
        executor_platform_config(platform_spec, spec_component.get("executorLabel", "")),
        scope,
        lookup,
        identity,
    )
    caching = task.get("cachingOptions") or {}
    if caching.get("cacheKey"):
        cache_key = custom_cache_key(component_name, caching["cacheKey"])
    else:
        cache_key = container_cache_key(
            container, output_definitions, inputs.parameters, inputs.artifacts, pvc_names(platform)
        )
    task_spec = TaskSpec(
        run_id=run.run_id,
        task_id=record.task_id,
        attempt=record.attempt,
        task_name=record.name,
        display_name=record.display_name,
        pipeline_name=run.pipeline_name,
        pipeline_root=run.pipeline_root,
        container=container,
        input_definitions=dict(spec_component.get("inputDefinitions") or {}),
        output_definitions=output_definitions,
        parameters=dict(inputs.parameters),
        artifacts={name: list(values) for name, values in inputs.artifacts.items()},
        output_artifact_uris=output_artifact_uris(run, record.task_id, output_definitions),
        run_create_time=run.created_at,
        run_schedule_time=run.scheduled_at or run.created_at,
        env=container_env(container),
    )
    return Launch(
        spec=task_spec, cache_key=cache_key, cache_enabled=bool(caching.get("enableCache")), platform=platform
    )
