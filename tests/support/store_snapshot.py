"""What a refused request must leave unchanged in the store, for tests of refusals."""

from __future__ import annotations

from typing import Any


def stored(app_runtime: Any, experiment_id: str = "") -> tuple:
    """The experiment's runs and recurring runs, the experiments and pipelines of the default namespace, and
    the run and recurring-run spec objects (the reconciler's own writes to existing runs are left out)."""
    store = app_runtime.store
    return (
        sorted(r.run_id for r in store.runs.list_runs("", experiment_id)) if experiment_id else [],
        sorted(r.recurring_run_id for r in store.recurring_runs.list_recurring_runs("", experiment_id))
        if experiment_id
        else [],
        sorted(e.experiment_id for e in store.catalog.list_experiments("")),
        sorted(p.pipeline_id for p in store.catalog.list_pipelines("")),
        sorted(o.key for o in store.objects.list_objects("runs/") if o.key.endswith("/spec.json")),
        sorted(o.key for o in store.objects.list_objects("recurring-runs/")),
    )
