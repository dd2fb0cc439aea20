"""Every compiled pipeline of KFP's corpus runs to a final state through plan() with fake task outputs.

The fake run also checks, after every pass, that planning again over the applied records decides nothing new.
"""

from __future__ import annotations

import pytest
from corpus_files import VALID, corpus_yaml_files, load, required_parameters
from engine_fakes import FakeRun, Result, sample_outputs

from chalicelib.engine import pipeline_outputs

# Root input artifacts cannot be passed as run parameters; these runs fail with a clear message.
NEEDS_ROOT_ARTIFACTS = {
    "component_with_metadata_fields.yaml",
    "input_artifact.yaml",
    "pipeline_with_metadata_fields.yaml",
    "pipeline_with_various_io_types.yaml",
}
FILES = [str(path.relative_to(VALID)) for path in corpus_yaml_files()]
needs_corpus = pytest.mark.skipif(not FILES, reason="corpus not found")


@needs_corpus
@pytest.mark.parametrize("relative", FILES)
def test_corpus_pipeline_runs_to_completion(relative):
    spec, platform = load(relative)
    fake = FakeRun(spec, required_parameters(spec), platform_spec=platform)
    decisions = fake.run_to_end(200)
    if relative in NEEDS_ROOT_ARTIFACTS:
        assert decisions.outcome.state == "FAILED"
        assert "required input artifact" in decisions.outcome.error
        return
    assert decisions.outcome.state == "SUCCEEDED", decisions.outcome.error
    assert all(record.state.is_final for record in fake.tasks.values())
    for launch in fake.launches:
        declared = launch.spec.input_definitions.get("parameters") or {}
        for name, definition in declared.items():
            value = launch.spec.parameters.get(name)
            if definition.get("parameterType") == "NUMBER_INTEGER" and value is not None:
                assert type(value) is int, (launch.spec.task_id, name, value)


def _by_task(**produce):
    def behaviour(task_spec):
        make = produce.get(task_spec.task_name.replace("-", "_"))
        return make(task_spec) if make else sample_outputs(task_spec)

    return behaviour


ONEOF_BRANCHES = _by_task(
    branch_a=lambda s: Result(parameters={"Output": "A"}),
    branch_b=lambda s: Result(parameters={"Output": "B"}),
    tag_selected=lambda s: Result(parameters={"Output": f"selected:{s.parameters['value']}"}),
)


@needs_corpus
@pytest.mark.parametrize(("pick_a", "expected"), [(True, "selected:A"), (False, "selected:B")])
def test_local_execution_oneof_selects_the_branch_that_ran(pick_a, expected):
    spec, _ = load("local_execution/local_execution_pipeline_with_oneof.yaml")
    fake = FakeRun(spec, {"pick_a": pick_a}, behaviour=ONEOF_BRANCHES)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    assert pipeline_outputs(spec, fake.tasks)["parameters"] == {"Output": expected}


@needs_corpus
def test_local_execution_retry_succeeds_on_the_second_attempt():
    spec, _ = load("local_execution/local_execution_pipeline_with_retry.yaml")

    def flaky(task_spec):
        if task_spec.attempt == 1:
            return Result(succeeded=False, error="first attempt fails", exit_code=1)
        return Result(parameters={"Output": f"attempt={task_spec.attempt}"})

    fake = FakeRun(spec, {"counter_path": "/tmp/x"}, behaviour=flaky)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    assert pipeline_outputs(spec, fake.tasks)["parameters"] == {"Output": "attempt=2"}
    assert [launch.spec.attempt for launch in fake.launched("flaky")] == [1, 2]


@needs_corpus
def test_failing_corpus_pipelines_end_failed_and_name_the_task():
    for relative in [name for name in FILES if name.startswith("failing/")]:
        spec, platform = load(relative)
        fake = FakeRun(
            spec,
            required_parameters(spec),
            platform_spec=platform,
            behaviour=lambda s: Result(succeeded=False, error="exit status 1", exit_code=1),
        )
        decisions = fake.run_to_end(200)
        assert decisions.outcome.state == "FAILED", relative
        assert "exit status 1" in decisions.outcome.error
