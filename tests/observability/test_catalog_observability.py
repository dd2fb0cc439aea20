"""Pipelines, versions and recurring runs as the console sees them: one line per change made through the API,
none for a request that changes nothing."""

from __future__ import annotations

from tests.observability.conftest import Output
from tests.support.specs import HELLO
from tests.triggers.conftest import AppClient


def test_pipeline_and_recurring_run_changes_are_logged_once(
    output: Output, app_client: AppClient, unique: str
) -> None:
    import yaml

    status, pipeline = app_client.call(
        "POST",
        "/pipelines/create",
        {
            "pipeline": {"display_name": f"logged-{unique}"},
            "pipeline_version": {
                "display_name": f"logged-{unique}-v1",
                "pipeline_spec": yaml.safe_load(HELLO),
            },
        },
    )
    assert status == 200, pipeline
    pipeline_id = pipeline["pipeline_id"]
    rid = app_client.create_recurring_run(unique)["recurring_run_id"]
    assert app_client.call("POST", f"/recurringruns/{rid}:disable")[0] == 200
    assert app_client.call("POST", f"/recurringruns/{rid}:disable")[0] == 200  # already disabled
    assert app_client.call("DELETE", f"/recurringruns/{rid}")[0] == 200
    assert app_client.call("DELETE", f"/pipelines/{pipeline_id}?cascade=true")[0] == 200
    output.read()

    (created,) = output.lines("pipeline created", pipeline_id=pipeline_id)
    assert created["pipeline_name"] == f"logged-{unique}"
    (version,) = output.lines("pipeline version created", pipeline_id=pipeline_id)
    assert version["pipeline_version_id"]
    assert len(output.lines("pipeline version deleted", pipeline_id=pipeline_id)) == 1
    assert len(output.lines("pipeline deleted", pipeline_id=pipeline_id)) == 1
    assert len(output.lines("recurring run created", recurring_run_id=rid)) == 1
    assert len(output.lines("recurring run disabled", recurring_run_id=rid)) == 1
    assert len(output.lines("recurring run deleted", recurring_run_id=rid)) == 1
    assert all(line["function_request_id"] for line in output.logs if line.get("pipeline_id") == pipeline_id)
