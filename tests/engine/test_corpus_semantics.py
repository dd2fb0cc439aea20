"""Corpus pipelines whose KFP tests assert specific behaviour, checked through plan() with fake executions."""

from __future__ import annotations

import pytest
from corpus_files import VALID, load
from engine_fakes import FakeRun, Result, sample_outputs

from chalicelib.task_contract import TaskState

pytestmark = pytest.mark.skipif(not VALID.is_dir(), reason="corpus not found")


def by_name(**produce):
    def behaviour(task_spec):
        make = produce.get(task_spec.task_name.replace("-", "_"))
        return make(task_spec) if make else sample_outputs(task_spec)

    return behaviour


def test_input_status_state_exit_task_sees_complete_and_its_producer():
    spec, _ = load("critical/pipeline_with_input_status_state.yaml")
    fake = FakeRun(spec)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    (echo,) = [launch for launch in fake.launches if "status" in launch.spec.parameters]
    status = echo.spec.parameters["status"]
    assert status["state"] == "COMPLETE"
    assert "status-state-pipeline" in status["pipelineJobResourceName"]
    assert status["pipelineTaskName"] == "exit-handler-1"


def test_pipeline_as_exit_task_branches_on_failed_state_and_run_fails():
    spec, _ = load("pipeline_as_exit_task.yaml")
    behaviour = by_name(
        fail_op=lambda s: Result(succeeded=False, error="exit 1", exit_code=1),
        get_run_state=lambda s: Result(parameters={"Output": s.parameters["status"]["state"]}),
    )
    fake = FakeRun(spec, behaviour=behaviour)
    decisions = fake.run_to_end()
    assert decisions.outcome.state == "FAILED"
    condition = fake.record("root.conditional-notification.condition-1")
    assert condition.state is TaskState.SUCCEEDED
    inner = [
        launch.spec.task_id for launch in fake.launches if launch.spec.task_id.startswith(condition.task_id)
    ]
    assert inner


def test_collected_artifacts_flatten_across_two_loop_levels():
    spec, _ = load("collected_artifacts.yaml")
    behaviour = by_name(
        split_ids=lambda s: Result(parameters={"Output": s.parameters["model_ids"].split(",")}),
        split_chars=lambda s: Result(parameters={"Output": s.parameters["model_ids"].split(",")}),
    )
    fake = FakeRun(spec, behaviour=behaviour)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    lists = [
        len(values)
        for launch in fake.launches
        for name, values in launch.spec.artifacts.items()
        if (launch.spec.input_definitions.get("artifacts") or {}).get(name, {}).get("isArtifactList")
    ]
    assert 9 in lists  # 3 ids x 3 chars, collected into one flat List[Model]


def test_dynamic_importer_metadata_resolves_placeholders_and_runtime_uri():
    spec, _ = load("pipeline_with_dynamic_importer_metadata.yaml")
    fake = FakeRun(spec, behaviour=by_name(make_name=lambda s: Result(parameters={"Output": "made"})))
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    first = fake.record("root.importer").artifacts["artifact"][0]
    assert first["uri"] == "gs://ml-pipeline-playground/shakespeare1.txt"
    assert first["metadata"]["name"] == ["default-name", "alias-name"]
    second = fake.record("root.importer-2").artifacts["artifact"][0]["metadata"]
    assert second["name"] == "prefix-made"
    assert second["made"] == "made"
    assert second["list-of-data"] == ["made", "default-name", 1]
    assert not [launch for launch in fake.launches if launch.spec.task_name.startswith("importer")]


def test_platform_config_parameters_are_resolved_for_the_executor():
    spec, platform = load("pvc_mount.yaml")
    fake = FakeRun(spec, {"pvc_name": "my-pvc"}, platform_spec=platform)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    for launch in fake.launches:
        (mount,) = launch.platform["pvcMount"]
        assert mount["pvcNameParameter"] == {"runtimeValue": {"constant": "my-pvc"}}
        assert "componentInputParameter" not in mount and mount["mountPath"] == "/data"


def test_pvc_names_enter_the_cache_key():
    spec, platform = load("pvc_mount.yaml")
    keys = []
    for name in ("a", "b"):
        fake = FakeRun(spec, {"pvc_name": name}, platform_spec=platform)
        fake.run_to_end()
        keys.append(fake.launches[0].cache_key)
    assert keys[0] != keys[1]


def test_loops_and_conditions_pipeline_runs_inner_tasks_per_item():
    spec, _ = load("parallel_and_nested/pipeline_with_loops.yaml")
    fake = FakeRun(
        spec,
        {"loop_parameter": ["a", "b"]},
        behaviour=by_name(
            args_generator_op=lambda s: Result(parameters={"Output": [{"A_a": "1", "B_b": "2"}]})
        ),
    )
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    texts = sorted(
        str(launch.spec.parameters.get("msg")) for launch in fake.launches if "msg" in launch.spec.parameters
    )
    assert {"1", "2", "a", "b"} <= set(texts)
