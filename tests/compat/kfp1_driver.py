"""Drives the v1beta1 API with the real kfp 1.8.22 `kfp.Client`. Runs in the kfp 1.8 venv (`.venv-kfp1`), not
in ours: it imports nothing of the project. Usage: `python kfp1_driver.py <scenario> <host> <inputs JSON>`;
prints one JSON object of what it saw as its last line of stdout (tests/compat/test_kfp1_client.py asserts)."""

import json
import sys
import time

import kfp


def _run_view(detail):
    manifest = json.loads(detail.pipeline_runtime.workflow_manifest)
    nodes = manifest["status"].get("nodes", {})
    return {
        "status": detail.run.status,
        "phase": manifest["status"]["phase"],
        "root": manifest["metadata"]["name"] in nodes,
        "nodes": sorted(
            (node["displayName"], node["type"], node["phase"], bool(node.get("startedAt")))
            for node in nodes.values()
        ),
        "outputs": sorted(
            (node["displayName"], parameter["name"], parameter["value"])
            for node in nodes.values()
            for parameter in (node.get("outputs") or {}).get("parameters", [])
        ),
        "artifacts": sorted(
            (node["displayName"], artifact["name"], "s3" in artifact or "path" in artifact)
            for node in nodes.values()
            for artifact in (node.get("outputs") or {}).get("artifacts", [])
        ),
    }


def ir_flow(client, inputs):
    """Every client method the brief names, on a KFP v2 IR package compiled by kfp 2."""
    package, unique = inputs["package"], inputs["unique"]
    seen = {"multi_user": client.get_kfp_healthz().multi_user}
    experiment = client.create_experiment(f"v1c-{unique}", description="from kfp 1.8")
    seen["experiment_id"] = experiment.id
    seen["same_experiment"] = client.create_experiment(f"v1c-{unique}").id == experiment.id
    listed = client.list_experiments(page_size=200)
    seen["experiment_listed"] = experiment.id in [e.id for e in listed.experiments or []]

    pipeline = client.upload_pipeline(package, pipeline_name=f"v1p-{unique}", description="d")
    seen["pipeline_id"] = pipeline.id
    seen["pipeline_parameters"] = [(p.name, p.value) for p in pipeline.parameters or []]
    seen["found_by_name"] = client.get_pipeline_id(f"v1p-{unique}") == pipeline.id
    seen["missing_by_name"] = client.get_pipeline_id(f"no-such-{unique}")
    version = client.upload_pipeline_version(package, "second", pipeline_name=f"v1p-{unique}")
    seen["version_id"] = version.id
    versions = client.list_pipeline_versions(pipeline.id, page_size=50)
    seen["versions"] = sorted(v.name for v in versions.versions)
    seen["default_version"] = client.get_pipeline(pipeline.id).default_version.id

    from_version = client.run_pipeline(
        experiment.id, "from-version", pipeline_id=pipeline.id, version_id=version.id, params={"name": "bob"}
    )
    from_package = client.create_run_from_pipeline_package(
        package, {"name": "alice"}, run_name="from-package", experiment_name=f"v1c-{unique}"
    )
    seen["from_version"] = _run_view(client.wait_for_run_completion(from_version.id, timeout=600))
    seen["from_package"] = _run_view(from_package.wait_for_run_completion(timeout=600))
    seen["from_package_id"] = from_package.run_id
    runs = client.list_runs(experiment_id=experiment.id, page_size=50, sort_by="created_at desc")
    seen["runs"] = [(r.name, r.status) for r in runs.runs]

    job = client.create_recurring_run(
        experiment.id,
        "hourly",
        interval_second=3600,
        pipeline_id=pipeline.id,
        version_id=version.id,
        params={"name": "carol"},
        enabled=False,
        max_concurrency=2,
    )
    seen["job_id"] = job.id
    seen["job_created"] = (job.enabled, job.max_concurrency, job.trigger.periodic_schedule.interval_second)
    client.jobs.enable_job(job.id)
    seen["job_enabled"] = client.get_recurring_run(job.id).enabled
    client.disable_job(job.id)
    seen["job_disabled"] = client.get_recurring_run(job.id).enabled
    seen["jobs"] = [j.id for j in client.list_recurring_runs(experiment_id=experiment.id).jobs]
    client.delete_job(job.id)

    client.runs.terminate_run(from_version.id)  # ended already: a no-op 200
    client.runs.archive_run(from_version.id)
    seen["archived"] = client.get_run(from_version.id).run.storage_state
    client.runs.unarchive_run(from_version.id)
    client.runs.delete_run(from_version.id)
    try:
        client.get_run(from_version.id)
        seen["deleted_run_status"] = 200
    except kfp_server_api_exception() as exc:
        seen["deleted_run_status"] = exc.status
    client.delete_pipeline_version(version.id)
    client.delete_pipeline(pipeline.id)
    seen["pipeline_gone"] = client.get_pipeline_id(f"v1p-{unique}") is None
    client.archive_experiment(experiment.id)
    seen["experiment_archived"] = client.get_experiment(experiment_id=experiment.id).storage_state
    return seen


def _v1_pipelines():
    """KFP v1 pipelines, written with the kfp 1.8 SDK: a function component, a ContainerOp with file_outputs,
    a condition that is false, and a step that sleeps (to terminate)."""
    from kfp import dsl
    from kfp.components import create_component_from_func

    def add(a: int, b: int) -> int:
        return a + b

    add_op = create_component_from_func(add, base_image="python:3.9")

    @dsl.pipeline(name="v1beta1-arithmetic")
    def arithmetic(a: int = 1, b: int = 2):
        total = add_op(a, b)
        dsl.ContainerOp(
            name="echo",
            image="alpine",
            command=["sh", "-c", 'echo "sum $0" > /tmp/said.txt', total.output],
            file_outputs={"said": "/tmp/said.txt"},
        )
        with dsl.Condition(total.output > 100):
            dsl.ContainerOp(name="never", image="alpine", command=["sh", "-c", "exit 1"])

    @dsl.pipeline(name="v1beta1-sleeper")
    def sleeper():
        dsl.ContainerOp(name="sleeper", image="alpine", command=["sh", "-c", "sleep 300"])

    return arithmetic, sleeper


def _wait_until_running(client, run_id, seconds=300):
    """The run's status once it is Running with a step (a Pod node) running."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        detail = client.get_run(run_id)
        nodes = json.loads(detail.pipeline_runtime.workflow_manifest)["status"].get("nodes", {})
        pods = [node for node in nodes.values() if node["type"] == "Pod"]
        if detail.run.status == "Running" and any(node["phase"] == "Running" for node in pods):
            return detail.run.status
        time.sleep(1)
    raise TimeoutError(f"run {run_id} did not start a step")


def v1_flow(client, inputs):
    """KFP v1 (Argo Workflow) packages compiled by kfp 1.8: from a function, uploaded, refused, terminated."""
    import tempfile

    from kfp import compiler

    unique = inputs["unique"]
    arithmetic, sleeper = _v1_pipelines()
    seen = {}
    result = client.create_run_from_pipeline_func(
        arithmetic, {"a": 40, "b": 2}, run_name="v1-from-func", experiment_name=f"v1x-{unique}"
    )
    seen["from_func"] = _run_view(result.wait_for_run_completion(timeout=600))
    seen["from_func_id"] = result.run_id

    package = tempfile.mktemp(suffix=".yaml")
    compiler.Compiler().compile(arithmetic, package)
    pipeline = client.upload_pipeline(package, pipeline_name=f"v1x-{unique}")
    seen["pipeline_parameters"] = sorted((p.name, p.value) for p in pipeline.parameters or [])
    seen["template_kind"] = yaml_kind(client.pipelines.get_template(pipeline.id).template)
    experiment = client.create_experiment(f"v1x-{unique}")
    try:
        client.run_pipeline(experiment.id, "bad", pipeline_id=pipeline.id, params={"a": 1, "b": "many"})
        seen["bad_parameter"] = 200
    except kfp_server_api_exception() as exc:
        seen["bad_parameter"] = (exc.status, json.loads(exc.body)["error"])
    run = client.run_pipeline(
        experiment.id, "v1-from-pipeline", pipeline_id=pipeline.id, params={"a": 5, "b": 6}
    )
    seen["from_pipeline"] = _run_view(client.wait_for_run_completion(run.id, timeout=600))

    long = client.create_run_from_pipeline_func(
        sleeper, {}, run_name="v1-sleeper", experiment_name=f"v1x-{unique}"
    )
    seen["running"] = _wait_until_running(client, long.run_id)
    client.runs.terminate_run(long.run_id)
    seen["terminated"] = client.wait_for_run_completion(long.run_id, timeout=300).run.status
    client.runs.retry_run(long.run_id)
    seen["retried"] = _wait_until_running(client, long.run_id)
    client.runs.terminate_run(long.run_id)
    seen["terminated_again"] = client.wait_for_run_completion(long.run_id, timeout=300).run.status
    seen["runs"] = sorted(r.name for r in client.list_runs(experiment_id=experiment.id, page_size=50).runs)
    client.delete_pipeline(pipeline.id)
    return seen


def yaml_kind(text):
    import yaml

    return yaml.safe_load(text)["kind"]


def kfp_server_api_exception():
    import kfp_server_api

    return kfp_server_api.ApiException


SCENARIOS = {"ir_flow": ir_flow, "v1_flow": v1_flow}

if __name__ == "__main__":
    scenario, host, raw_inputs = sys.argv[1:4]
    result = SCENARIOS[scenario](kfp.Client(host=host), json.loads(raw_inputs))
    print(json.dumps(result))
