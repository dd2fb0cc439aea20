"""Every store read the dashboard's helpers make, in one module: porting the dashboard onto another store
means changing only this file. Each function returns plain values (frozen dataclasses, dicts, TaskRecords)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chalicelib.engine.model import TaskRecord
from chalicelib.runtime import Runtime
from chalicelib.services.runs import visible_run
from chalicelib.store.errors import NotFound
from chalicelib.store.object_keys import launch_document_key


@dataclasses.dataclass(frozen=True)
class RunSummary:
    run_id: str
    display_name: str
    created_at: str
    state: str


def run_spec_and_tasks(
    current: Runtime, run_id: str
) -> tuple[RunSummary, Mapping[str, Any], Mapping[str, TaskRecord]]:
    """A visible run's summary, its spec snapshot (as the API's `pipeline_spec` value) and its task records.
    NotFound for an unknown run or one being deleted."""
    item = visible_run(current, run_id)
    spec = current.store.objects.get_json(item.spec_key)
    return _summary(item), spec, current.store.runs.load_tasks(item.run_id)


def run_tasks(current: Runtime, run_id: str) -> Mapping[str, TaskRecord]:
    return current.store.runs.load_tasks(run_id)


def version_spec(current: Runtime, pipeline_id: str, version_id: str) -> Mapping[str, Any]:
    """The stored spec of a pipeline version (NotFound when the version is unknown or has none)."""
    item = current.store.catalog.get_version(pipeline_id, version_id)
    if not item.spec_key:
        raise NotFound(f"pipeline version {version_id} has no pipeline spec")
    return current.store.objects.get_json(item.spec_key)


def launch_spec(current: Runtime, run_id: str, task_id: str, attempt: int) -> Mapping[str, Any] | None:
    """The TaskSpec (as a dict) the reconciler wrote ahead for one attempt, or None when there is none
    (DAG nodes, cache hits, attempts not launched yet)."""
    try:
        return current.store.objects.get_json(launch_document_key(run_id, task_id, attempt)).get("spec")
    except NotFound:
        return None


def runs_newest_first(current: Runtime, namespace: str) -> list[RunSummary]:
    """The visible runs of a namespace, newest first."""
    found = [_summary(item) for item in current.store.runs.list_runs(namespace) if not item.delete_requested]
    return sorted(found, key=lambda run: (run.created_at, run.run_id), reverse=True)


def _summary(item: Any) -> RunSummary:
    return RunSummary(item.run_id, item.display_name or "", item.created_at or "", item.state or "")
