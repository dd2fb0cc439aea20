"""The local stack fires recurring runs and registers uploads itself, through the cloud handlers' code paths:
the firer with an injected clock, and a package put into the store's `pipelines/` (the embedded bucket, or the
embedded store's directory) seen through the unmodified kfp.Client."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import requests

from chalicelib.local.recurring_firer import RecurringRunFirer
from chalicelib.timestamps import parse_time
from chalicelib.triggers.firing import scheduled_run_id
from tests.support.waiting import wait_for
from tests.triggers.conftest import HELLO

SCHEDULE_ECHO = HELLO.replace(
    "[\"{{$.inputs.parameters['name']}}\"]", '["at {{$.pipeline_job_schedule_time_utc}}"]'
)
WAIT_SECONDS = 120


def test_firer_fires_each_due_time_once_as_the_clock_advances(
    kfp_client, local_stack, unique, tmp_path: Path
):
    package = tmp_path / "schedule-echo.yaml"
    package.write_text(SCHEDULE_ECHO)
    experiment = kfp_client.create_experiment(f"firer-{unique}")
    recurring = kfp_client.create_recurring_run(
        experiment.experiment_id,
        f"every-minute-{unique}",
        interval_second=60,
        max_concurrency=10,
        pipeline_package_path=str(package),
    )
    rid = recurring.recurring_run_id
    firer = RecurringRunFirer(local_stack.runtime)
    try:
        created = parse_time(local_stack.runtime.store.recurring_runs.get_recurring_run(rid).created_at)
        expected = [created + timedelta(minutes=minutes) for minutes in (1, 2, 3)]

        first = [
            o for o in firer.tick(created + timedelta(minutes=3, seconds=30)) if o.recurring_run_id == rid
        ]
        second = [
            o for o in firer.tick(created + timedelta(minutes=3, seconds=40)) if o.recurring_run_id == rid
        ]

        assert [(o.result.value, o.scheduled_time) for o in first] == [("created", t) for t in expected]
        assert second == []
        runs = kfp_client.list_runs(experiment_id=experiment.experiment_id, page_size=100).runs
        assert sorted(run.run_id for run in runs) == sorted(scheduled_run_id(rid, t) for t in expected)
        assert {run.recurring_run_id for run in runs} == {rid}

        run_id = scheduled_run_id(rid, expected[0])
        done = kfp_client.wait_for_run_completion(run_id, timeout=WAIT_SECONDS)
        assert done.state == "SUCCEEDED", done.error
        task = next(t for t in done.run_details.task_details if t.display_name == "hello")
        logs = requests.get(
            f"{local_stack.url}/apis/v2beta1/runs/{run_id}/tasks/{task.task_id}/logs", timeout=10
        )
        assert parse_time(logs.text.split("at ", 1)[1].strip()) == expected[0]
    finally:
        kfp_client.delete_recurring_run(rid)


def test_package_put_into_the_store_registers_a_pipeline(kfp_client, local_stack, unique):
    name = f"dropped-{unique}"

    local_stack.runtime.store.objects.put_bytes(f"pipelines/{name}.yaml", HELLO.encode())

    assert_registered_once(kfp_client, name)


def test_package_copied_into_the_embedded_store_directory_registers_a_pipeline(
    kfp_client, local_stack, unique, tmp_path: Path
):
    if local_stack.settings.store != "embedded":
        import pytest

        pytest.skip("the embedded store's pipelines/ directory exists only with the embedded store")
    name = f"copied-{unique}"
    source = tmp_path / f"{name}.yaml"
    source.write_text(HELLO)
    uploads = local_stack.options.data_dir / "store" / "objects" / "pipelines"
    uploads.mkdir(parents=True, exist_ok=True)

    shutil.copy(source, uploads / source.name)

    assert_registered_once(kfp_client, name)


def assert_registered_once(kfp_client, name: str) -> None:
    pipeline_id = wait_for(lambda: kfp_client.get_pipeline_id(name), f"pipeline {name}")
    only_this = json.dumps(
        {"predicates": [{"key": "display_name", "operation": "EQUALS", "string_value": name}]}
    )
    assert [p.pipeline_id for p in kfp_client.list_pipelines(filter=only_this).pipelines] == [pipeline_id]
    versions = kfp_client.list_pipeline_versions(pipeline_id).pipeline_versions
    assert [v.display_name.split("@")[0] for v in versions] == [f"{name}.yaml"]
