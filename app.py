"""KFP Serverless: Chalice wiring only. Routes live in chalicelib/api (one blueprint per KFP service); the
reconciler and triggers live in chalicelib and are registered here as event handlers. Every handler uses the
process's runtime (`chalicelib.runtime.current()`: settings read once from the Lambda's environment, the store)."""

from chalice import Chalice, Rate

from chalicelib import runtime
from chalicelib.api.artifacts import artifacts
from chalicelib.api.experiments import experiments
from chalicelib.api.healthz import healthz
from chalicelib.api.package_uploads import package_uploads
from chalicelib.api.pipelines import pipelines
from chalicelib.api.recurring_runs import recurring_runs
from chalicelib.api.runs import runs
from chalicelib.dashboard.api import dashboard_api
from chalicelib.dashboard.static import dashboard_static

app = Chalice(app_name="kfp-serverless")
app.api.binary_types.append("multipart/form-data")

for blueprint in (
    healthz,
    experiments,
    pipelines,
    package_uploads,
    runs,
    recurring_runs,
    artifacts,
    dashboard_api,
    dashboard_static,
):
    app.register_blueprint(blueprint)


@app.lambda_function(name="reconcile")
def reconcile(event, context):
    from chalicelib.reconcile_entry import reconcile_until_idle

    run_id = (event or {}).get("run_id")
    return reconcile_until_idle(runtime.current(), context, [run_id] if run_id else None)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="reconcile_tick")
def reconcile_tick(event):
    from chalicelib.reconcile_entry import reconcile_until_idle

    return reconcile_until_idle(runtime.current(), event.context)


@app.lambda_function(name="fire_recurring_run")
def fire_recurring_run(event, context):
    from chalicelib.triggers.lambda_entries import fire_from_event

    return fire_from_event(event, runtime.current())


# The deployment's template adds `detail.bucket.name` = the stack's bucket to this pattern (infra/template.py);
# the handler also ignores any other bucket.
@app.on_cw_event(
    {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"object": {"key": [{"prefix": "pipelines/"}]}},
    },
    name="register_uploaded_pipeline",
)
def register_uploaded_pipeline(event):
    from chalicelib.triggers.lambda_entries import register_from_event

    return register_from_event(event.to_dict(), runtime.current())
