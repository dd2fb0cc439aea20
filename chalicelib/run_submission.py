"""Creating a run: the one path shared by `POST /runs`, recurring-run firings and the S3 trigger.

The spec snapshot goes to S3 first, then the run item (PENDING, conditional on the id being new, so a repeated
scheduled firing with a derived id creates nothing), then the reconciler is kicked.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib import reconcile_kick
from chalicelib.settings import Settings
from chalicelib.spec import PipelinePackage
from chalicelib.store import catalog
from chalicelib.store import runs as run_store
from chalicelib.store.objects import ObjectStore, run_spec_key
from chalicelib.store.tables import RunItem, namespace_key
from chalicelib.timestamps import now_text


@dataclasses.dataclass(frozen=True)
class RunRequest:
    display_name: str
    experiment_id: str
    namespace: str
    package: PipelinePackage
    parameters: dict[str, Any]
    description: str = ""
    pipeline_id: str = ""
    pipeline_version_id: str = ""
    pipeline_root: str = ""
    service_account: str = ""
    recurring_run_id: str = ""
    scheduled_at: str = ""
    plugins_input: dict[str, Any] | None = None
    run_id: str = ""


def submit_run(request: RunRequest, settings: Settings, objects: ObjectStore) -> RunItem:
    """Store a new PENDING run and kick the reconciler. AlreadyExists when `request.run_id` is taken."""
    run_id = request.run_id or catalog.new_id()
    created_at = now_text()
    spec_key = run_spec_key(run_id)
    objects.put_json(spec_key, request.package.to_struct())
    item = RunItem(
        run_id,
        display_name=request.display_name,
        description=request.description,
        experiment_id=request.experiment_id,
        namespace=request.namespace,
        ns_key=namespace_key(request.namespace),
        pipeline_id=request.pipeline_id,
        pipeline_version_id=request.pipeline_version_id,
        pipeline_name=request.package.name,
        spec_key=spec_key,
        parameters=request.parameters,
        pipeline_root=request.pipeline_root,
        service_account=request.service_account,
        state="PENDING",
        created_at=created_at,
        scheduled_at=request.scheduled_at or created_at,
        recurring_run_id=request.recurring_run_id or None,
        plugins_input=request.plugins_input,
    )
    run_store.create_run(item)
    catalog.touch_experiment_last_run(request.experiment_id, created_at)
    reconcile_kick.kick(settings, run_id)
    return item
