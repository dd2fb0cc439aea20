"""KFP Serverless: Chalice wiring only. Routes live in chalicelib/api (one blueprint per KFP service); the
reconciler and triggers live in chalicelib and are registered here as event handlers. Every handler uses the
process's runtime (`chalicelib.runtime.current()`: settings read once from the Lambda's environment, the store)
and runs inside `invocation(...)`: the log lines get the invocation's keys, the metrics are flushed once at its
end. Handler modules are imported when called, so the API function's cold import stays light."""

from chalice import Chalice, Rate

from chalicelib import runtime
from chalicelib.api.artifacts import artifacts
from chalicelib.api.authentication import serve_authenticated
from chalicelib.api.experiments import experiments
from chalicelib.api.healthz import healthz
from chalicelib.api.package_uploads import package_uploads
from chalicelib.api.pipelines import pipelines
from chalicelib.api.recurring_runs import recurring_runs
from chalicelib.api.runs import runs
from chalicelib.api.v1beta1.experiments import experiments_v1
from chalicelib.api.v1beta1.jobs import jobs_v1
from chalicelib.api.v1beta1.pipelines import pipelines_v1
from chalicelib.api.v1beta1.runs import runs_v1
from chalicelib.dashboard.api import dashboard_api
from chalicelib.dashboard.static import dashboard_static
from chalicelib.observability.invocations import invocation

# configure_logs=False: Chalice would give its logger (named after the app, the same name as the functions'
# powertools service) a plain handler of its own and level ERROR; the observability logger configures it.
app = Chalice(app_name="kfp-serverless", configure_logs=False)
app.api.binary_types.append("multipart/form-data")

for blueprint in (
    healthz,
    experiments,
    pipelines,
    package_uploads,
    runs,
    recurring_runs,
    artifacts,
    experiments_v1,
    pipelines_v1,
    runs_v1,
    jobs_v1,
    dashboard_api,
    dashboard_static,
):
    app.register_blueprint(blueprint)


@app.middleware("http")
def observed_request(event, get_response):
    current = runtime.current()
    with invocation(current.settings, getattr(event, "lambda_context", None)):
        return serve_authenticated(current, event, get_response)


@app.lambda_function(name="reconcile")
def reconcile(event, context):
    from chalicelib.reconcile_entry import reconcile_runs

    run_id = (event or {}).get("run_id")
    current = runtime.current()
    with invocation(current.settings, context):
        run_ids = [run_id] if run_id else current.store.runs.active_run_ids()
        return reconcile_runs(current, context, run_ids)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="reconcile_tick")
def reconcile_tick(event):
    from chalicelib.reconcile_entry import reconcile_backstop

    current = runtime.current()
    with invocation(current.settings, event.context):
        return reconcile_backstop(current, event.context)


# A task attempt's result.json landed (`runs/<run>/tasks/<task>/<attempt>/result.json`): pass its run now. The
# deployment's template adds `detail.bucket.name` = the stack's bucket (infra/template.py); the handler checks
# the bucket and the whole key too.
@app.on_cw_event(
    {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"object": {"key": [{"suffix": "/result.json"}]}},
    },
    name="reconcile_result",
)
def reconcile_result(event):
    from chalicelib.reconcile_entry import reconcile_result_event

    current = runtime.current()
    with invocation(current.settings, event.context):
        return reconcile_result_event(current, event.context, event.to_dict())


@app.lambda_function(name="fire_recurring_run")
def fire_recurring_run(event, context):
    from chalicelib.triggers.lambda_entries import fire_from_event

    current = runtime.current()
    with invocation(current.settings, context):
        return fire_from_event(event, current)


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

    current = runtime.current()
    with invocation(current.settings, event.context):
        return register_from_event(event.to_dict(), current)
