"""The unmodified kfp.Client 2.17.3 against the local stack over HTTP: every method of kfp-api.md §4."""

import json
from pathlib import Path

import pytest
from kfp import compiler, dsl
from kfp_server_api.exceptions import ApiException


@dsl.component
def say(name: str) -> str:
    return f"hello {name}"


@dsl.pipeline(name="compat-hello")
def hello_pipeline(name: str = "world"):
    say(name=name)


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pkg") / "hello.yaml"
    compiler.Compiler().compile(hello_pipeline, str(path))
    return path


def test_healthz_and_constructor(kfp_client):
    assert kfp_client.get_kfp_healthz().multi_user is False


def test_create_experiment_twice_returns_same_id_and_lookup_by_name(kfp_client, unique):
    first = kfp_client.create_experiment(f"exp-{unique}", description="d")
    second = kfp_client.create_experiment(f"exp-{unique}")
    assert first.experiment_id == second.experiment_id
    assert kfp_client.get_experiment(experiment_name=f"exp-{unique}").experiment_id == first.experiment_id
    assert kfp_client.get_experiment(experiment_id=first.experiment_id).description == "d"
    listed = kfp_client.list_experiments(page_size=200)
    assert first.experiment_id in [e.experiment_id for e in listed.experiments]


def test_upload_pipeline_and_versions(kfp_client, package, unique):
    pipeline = kfp_client.upload_pipeline(str(package), pipeline_name=f"pipe-{unique}", description="desc")
    assert kfp_client.get_pipeline_id(f"pipe-{unique}") == pipeline.pipeline_id
    version = kfp_client.upload_pipeline_version(
        str(package), "v2", pipeline_name=f"pipe-{unique}", description="vd"
    )
    assert version.pipeline_id == pipeline.pipeline_id
    versions = kfp_client.list_pipeline_versions(pipeline.pipeline_id)
    assert sorted(v.display_name for v in versions.pipeline_versions) == sorted([f"pipe-{unique}", "v2"])
    got = kfp_client.get_pipeline_version(pipeline.pipeline_id, version.pipeline_version_id)
    assert got.pipeline_spec["pipelineInfo"]["name"] == "compat-hello"
    assert kfp_client.get_pipeline(pipeline.pipeline_id).display_name == f"pipe-{unique}"
    with pytest.raises(ApiException) as err:
        kfp_client.delete_pipeline(pipeline.pipeline_id)  # versions exist, no cascade
    assert err.value.status == 400
    for v in versions.pipeline_versions:
        kfp_client.delete_pipeline_version(pipeline.pipeline_id, v.pipeline_version_id)
    kfp_client.delete_pipeline(pipeline.pipeline_id)
    with pytest.raises(ApiException) as err:
        kfp_client.get_pipeline(pipeline.pipeline_id)
    assert err.value.status == 404
    assert len(kfp_client.list_pipelines(page_size=200).pipelines or []) >= 0


def test_duplicate_upload_is_409(kfp_client, package, unique):
    kfp_client.upload_pipeline(str(package), pipeline_name=f"dupe-{unique}")
    with pytest.raises(ApiException) as err:
        kfp_client.upload_pipeline(str(package), pipeline_name=f"dupe-{unique}")
    assert err.value.status == 409


def test_run_pipeline_from_package_and_from_version(kfp_client, package, unique):
    experiment = kfp_client.create_experiment(f"runs-{unique}")
    run = kfp_client.run_pipeline(
        experiment.experiment_id,
        "job1",
        pipeline_package_path=str(package),
        params={"name": "bob"},
        enable_caching=False,
    )
    got = kfp_client.get_run(run.run_id)
    assert got.display_name == "job1" and got.runtime_config.parameters == {"name": "bob"}
    pipeline = kfp_client.upload_pipeline(str(package), pipeline_name=f"runpipe-{unique}")
    version = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]
    run2 = kfp_client.run_pipeline(
        experiment.experiment_id,
        "job2",
        pipeline_id=pipeline.pipeline_id,
        version_id=version.pipeline_version_id,
    )
    assert (
        kfp_client.get_run(run2.run_id).pipeline_version_reference.pipeline_version_id
        == version.pipeline_version_id
    )


def test_create_run_from_pipeline_func_uses_default_experiment(kfp_client):
    result = kfp_client.create_run_from_pipeline_func(hello_pipeline, arguments={"name": "x"})
    run = kfp_client.get_run(result.run_id)
    assert kfp_client.get_experiment(experiment_id=run.experiment_id).display_name == "Default"


def test_list_runs_with_filter_and_sort(kfp_client, package, unique):
    experiment = kfp_client.create_experiment(f"list-{unique}")
    for name in ("b", "a", "c"):
        kfp_client.run_pipeline(experiment.experiment_id, name, pipeline_package_path=str(package))
    listed = kfp_client.list_runs(
        experiment_id=experiment.experiment_id, sort_by="display_name desc", page_size=5
    )
    assert [r.display_name for r in listed.runs] == ["c", "b", "a"]
    flt = json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": "a"}]})
    only = kfp_client.list_runs(experiment_id=experiment.experiment_id, filter=flt)
    assert [r.display_name for r in only.runs] == ["a"] and only.total_size == 1
    with pytest.raises(ApiException) as err:
        kfp_client.list_runs(experiment_id=experiment.experiment_id, sort_by="colour")
    assert err.value.status == 400


def test_archive_unarchive_delete_runs_and_experiments(kfp_client, package, unique):
    experiment = kfp_client.create_experiment(f"arch-{unique}")
    run = kfp_client.run_pipeline(experiment.experiment_id, "r", pipeline_package_path=str(package))
    kfp_client.archive_run(run.run_id)
    assert kfp_client.get_run(run.run_id).storage_state == "ARCHIVED"
    kfp_client.unarchive_run(run.run_id)
    assert kfp_client.get_run(run.run_id).storage_state == "AVAILABLE"
    kfp_client.archive_experiment(experiment.experiment_id)
    assert kfp_client.get_experiment(experiment_id=experiment.experiment_id).storage_state == "ARCHIVED"
    assert kfp_client.get_run(run.run_id).storage_state == "ARCHIVED"
    kfp_client.unarchive_experiment(experiment.experiment_id)
    kfp_client.delete_run(run.run_id)
    with pytest.raises(ApiException) as err:
        kfp_client.get_run(run.run_id)
    assert err.value.status == 404
    kfp_client.delete_experiment(experiment.experiment_id)
    with pytest.raises(ApiException) as err:
        kfp_client.get_experiment(experiment_id=experiment.experiment_id)
    assert err.value.status == 404


def test_terminate_archive_delete_cleans_up_a_finished_run(kfp_client, unique):
    """The cleanup of KFP's own client tests (`terminate_run` → `archive_run` → `delete_run`) on a run that
    has already finished: terminate is a no-op that keeps its state, history and finished time."""
    experiment = kfp_client.create_experiment(f"cleanup-{unique}")
    result = kfp_client.create_run_from_pipeline_func(
        hello_pipeline, arguments={"name": "x"}, experiment_name=experiment.display_name
    )
    finished = kfp_client.wait_for_run_completion(result.run_id, timeout=120)
    assert finished.state == "SUCCEEDED" and finished.finished_at
    kfp_client.terminate_run(result.run_id)
    after = kfp_client.get_run(result.run_id)
    assert after.state == "SUCCEEDED"
    assert after.finished_at == finished.finished_at
    assert after.state_history == finished.state_history
    kfp_client.archive_run(result.run_id)
    assert kfp_client.get_run(result.run_id).storage_state == "ARCHIVED"
    kfp_client.delete_run(result.run_id)
    with pytest.raises(ApiException) as err:
        kfp_client.get_run(result.run_id)
    assert err.value.status == 404
    with pytest.raises(ApiException) as err:
        kfp_client.terminate_run(result.run_id)
    assert err.value.status == 404


@dsl.component
def nap(seconds: int):
    import time

    time.sleep(seconds)


@dsl.pipeline(name="compat-nap")
def nap_pipeline(seconds: int = 60):
    nap(seconds=seconds)


def test_terminate_cancels_a_running_run_and_retry_reruns_it(kfp_client):
    import time

    result = kfp_client.create_run_from_pipeline_func(nap_pipeline, arguments={"seconds": 60})
    deadline = time.monotonic() + 60
    while kfp_client.get_run(result.run_id).state != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
    kfp_client.terminate_run(result.run_id)
    while kfp_client.get_run(result.run_id).state != "CANCELED" and time.monotonic() < deadline:
        time.sleep(0.2)
    run = kfp_client.get_run(result.run_id)
    assert run.state == "CANCELED"
    assert [h.state for h in run.state_history][-2:] == ["CANCELING", "CANCELED"]
    kfp_client.terminate_run(result.run_id)  # already ended: changes nothing
    assert kfp_client.get_run(result.run_id).to_dict() == run.to_dict()
    kfp_client.runs.run_service_retry_run(run_id=result.run_id)
    assert kfp_client.get_run(result.run_id).state in ("PENDING", "RUNNING")
    kfp_client.terminate_run(result.run_id)


def test_recurring_run_crud(kfp_client, package, unique):
    experiment = kfp_client.create_experiment(f"rec-{unique}")
    pipeline = kfp_client.upload_pipeline(str(package), pipeline_name=f"recpipe-{unique}")
    version = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]
    nightly = kfp_client.create_recurring_run(
        experiment.experiment_id,
        "nightly",
        cron_expression="0 0 * * * *",
        pipeline_id=pipeline.pipeline_id,
        version_id=version.pipeline_version_id,
        no_catchup=True,
    )
    hourly = kfp_client.create_recurring_run(
        experiment.experiment_id,
        "hourly",
        interval_second=3600,
        pipeline_package_path=str(package),
        enabled=False,
        start_time="2026-01-01T00:00:00Z",
    )
    listed = kfp_client.list_recurring_runs(experiment_id=experiment.experiment_id)
    assert sorted(r.display_name for r in listed.recurring_runs) == ["hourly", "nightly"]
    assert kfp_client.get_recurring_run(hourly.recurring_run_id).status == "DISABLED"
    kfp_client.enable_recurring_run(hourly.recurring_run_id)
    assert kfp_client.get_recurring_run(hourly.recurring_run_id).status == "ENABLED"
    kfp_client.disable_recurring_run(nightly.recurring_run_id)
    assert kfp_client.get_recurring_run(nightly.recurring_run_id).status == "DISABLED"
    kfp_client.delete_recurring_run(nightly.recurring_run_id)
    with pytest.raises(ApiException) as err:
        kfp_client.get_recurring_run(nightly.recurring_run_id)
    assert err.value.status == 404


def test_error_cases_raise_api_exception(kfp_client, package):
    with pytest.raises(ApiException) as err:
        kfp_client.get_experiment(experiment_id="missing")
    assert err.value.status == 404 and json.loads(err.value.body)["code"] == 5
    with pytest.raises(ApiException) as err:
        kfp_client.get_run("missing")
    assert err.value.status == 404
    with pytest.raises(ApiException) as err:
        kfp_client.run_pipeline("missing-experiment", "x", pipeline_package_path=str(package))
    assert err.value.status == 404
    with pytest.raises(ApiException) as err:
        kfp_client.run_pipeline(
            kfp_client.create_experiment("errors").experiment_id,
            "x",
            pipeline_package_path=str(package),
            params={"nope": 1},
        )
    assert err.value.status == 400 and "nope" in err.value.body


def test_deleting_an_active_run_hides_it_at_once_and_stops_its_task(kfp_client, local_stack):
    import time
    from pathlib import Path

    from chalicelib.store.errors import NotFound

    run_store = local_stack.runtime.store.runs

    result = kfp_client.create_run_from_pipeline_func(nap_pipeline, arguments={"seconds": 60})
    deadline = time.monotonic() + 60
    while kfp_client.get_run(result.run_id).state != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
    kfp_client.delete_run(result.run_id)
    with pytest.raises(ApiException) as err:
        kfp_client.get_run(result.run_id)
    assert err.value.status == 404
    assert result.run_id not in [r.run_id for r in (kfp_client.list_runs(page_size=200).runs or [])]
    while time.monotonic() < deadline:  # the reconciler stops the task, then removes the run
        try:
            run_store.get_run(result.run_id)
        except NotFound:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the deleted run was not removed")
    workdirs = list((Path(local_stack.settings.local_data_dir) / "runs" / result.run_id).glob("*/1"))
    assert workdirs and all((w / "canceled").exists() for w in workdirs)


def test_list_runs_pages_newest_first_and_tokens_stay_in_their_experiment(kfp_client, package, unique):
    experiment = kfp_client.create_experiment(f"pages-{unique}")
    other = kfp_client.create_experiment(f"pages-other-{unique}")
    created = [
        kfp_client.run_pipeline(experiment.experiment_id, name, pipeline_package_path=str(package)).run_id
        for name in ("first", "second", "third")
    ]
    first = kfp_client.list_runs(
        experiment_id=experiment.experiment_id, sort_by="created_at desc", page_size=2
    )
    rest = kfp_client.list_runs(
        experiment_id=experiment.experiment_id, page_token=first.next_page_token, page_size=2
    )
    assert [r.run_id for r in first.runs + rest.runs] == created[::-1] and not rest.next_page_token
    with pytest.raises(ApiException) as err:
        kfp_client.list_runs(experiment_id=other.experiment_id, page_token=first.next_page_token, page_size=2)
    assert err.value.status == 400
