"""KFP Serverless: Chalice wiring only. Routes live in chalicelib/api (one blueprint per KFP service); the
reconciler and triggers live in chalicelib and are registered here as event handlers."""

from chalice import Chalice, Rate

from chalicelib.api.artifacts import artifacts
from chalicelib.api.experiments import experiments
from chalicelib.api.healthz import healthz
from chalicelib.api.pipelines import pipelines
from chalicelib.api.recurring_runs import recurring_runs
from chalicelib.api.runs import runs

app = Chalice(app_name="kfp-serverless")
app.api.binary_types.append("multipart/form-data")

for blueprint in (healthz, experiments, pipelines, runs, recurring_runs, artifacts):
    app.register_blueprint(blueprint)


@app.lambda_function(name="reconcile")
def reconcile(event, context):
    from chalicelib.reconcile_entry import reconcile_until_idle

    run_id = (event or {}).get("run_id")
    return reconcile_until_idle(context, [run_id] if run_id else None)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="reconcile_tick")
def reconcile_tick(event):
    from chalicelib.reconcile_entry import reconcile_until_idle

    return reconcile_until_idle(event.context)
