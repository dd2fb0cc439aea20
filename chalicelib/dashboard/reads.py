"""Every store read the dashboard's helpers make, in one module: porting the dashboard onto another store
means changing only this file. Each function returns plain values (frozen dataclasses, dicts, TaskRecords)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chalicelib.api import runtime
from chalicelib.engine.model import TaskRecord
from chalicelib.store import catalog
from chalicelib.store import runs as run_store
from chalicelib.store.errors import NotFound


@dataclasses.dataclass(frozen=True)
class RunSummary:
    run_id: str
    display_name: str
    created_at: str
    state: str


def run_spec_and_tasks(run_id: str) -> tuple[RunSummary, Mapping[str, Any], Mapping[str, TaskRecord]]:
    """A visible run's summary, its spec snapshot (as the API's `pipeline_spec` value) and its task records.
    NotFound for an unknown run or one being deleted."""
    item = run_store.get_visible_run(run_id)
    spec = runtime.objects().get_json(item.spec_key)
    return _summary(item), spec, run_store.load_tasks(item.run_id, runtime.objects())


def run_tasks(run_id: str) -> Mapping[str, TaskRecord]:
    return run_store.load_tasks(run_id, runtime.objects())


def version_spec(pipeline_id: str, version_id: str) -> Mapping[str, Any]:
    """The stored spec of a pipeline version (NotFound when the version is unknown or has none)."""
    item = catalog.get_version(pipeline_id, version_id)
    if not item.spec_key:
        raise NotFound(f"pipeline version {version_id} has no pipeline spec")
    return runtime.objects().get_json(item.spec_key)


def launch_spec(run_id: str, task_id: str, attempt: int) -> Mapping[str, Any] | None:
    """The TaskSpec (as a dict) the reconciler wrote ahead for one attempt, or None when there is none
    (DAG nodes, cache hits, attempts not launched yet)."""
    from chalicelib.reconciler import launch_document_key

    try:
        return runtime.objects().get_json(launch_document_key(run_id, task_id, attempt)).get("spec")
    except NotFound:
        return None


def runs_newest_first(namespace: str) -> list[RunSummary]:
    """The visible runs of a namespace, newest first."""
    found = [_summary(item) for item in run_store.list_runs(namespace=namespace) if not item.delete_requested]
    return sorted(found, key=lambda run: (run.created_at, run.run_id), reverse=True)


def _summary(item: Any) -> RunSummary:
    return RunSummary(item.run_id, item.display_name or "", item.created_at or "", item.state or "")
