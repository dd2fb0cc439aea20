"""Nested pipelines (sub-DAG inputs and outputs), optional sub-DAG inputs, importers, pipeline outputs."""

from __future__ import annotations

from engine_fakes import FakeRun, Result, sample_outputs
from spec_builders import (
    SpecBuilder,
    art_out,
    artifact_output,
    comp_in,
    const,
    out,
    parameter,
    parameter_output,
    task,
)

from chalicelib.engine import pipeline_outputs
from chalicelib.task_contract import TaskState


def nested_spec():
    builder = SpecBuilder("nested")
    double = builder.container(
        "double",
        inputs={"x": "NUMBER_INTEGER"},
        outputs={"Output": "NUMBER_INTEGER"},
        artifact_outputs={"model": "Model"},
    )
    child = builder.dag(
        "child",
        {"double": task(double, {"x": comp_in("n")}), "double-2": task(double, {"x": out("double")})},
        inputs={"n": parameter("NUMBER_INTEGER", 5.0)},
        outputs={
            "parameters": {"result": parameter_output("double-2")},
            "artifacts": {"model": artifact_output(("double-2", "model"))},
        },
    )
    show = builder.container("show", inputs={"x": "NUMBER_INTEGER"}, artifact_inputs={"model": "Model"})
    return builder.build(
        {
            "child": task(child, {"n": comp_in("n")}),
            "show": task(show, {"x": out("child", "result")}, {"model": art_out("child", "model")}),
        },
        inputs={"n": parameter("NUMBER_INTEGER", optional=True)},
        outputs={
            "parameters": {"final": parameter_output("child", "result")},
            "artifacts": {"model": artifact_output(("child", "model"))},
        },
    )


def doubler(task_spec):
    if task_spec.task_name.startswith("double"):
        return Result(
            parameters={"Output": task_spec.parameters["x"] * 2},
            artifacts=sample_outputs(task_spec).artifacts,
        )
    return sample_outputs(task_spec)


def test_sub_dag_outputs_flow_to_parent_and_pipeline_outputs():
    fake = FakeRun(nested_spec(), {"n": 3}, behaviour=doubler)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    show = fake.launched("show")[0].spec
    assert show.parameters == {"x": 12}
    assert show.artifacts["model"][0]["uri"].endswith("/root.child.double-2/model")
    outputs = pipeline_outputs(fake.spec, fake.tasks)
    assert outputs["parameters"] == {"final": 12}
    assert outputs["artifacts"]["model"][0]["uri"] == show.artifacts["model"][0]["uri"]


def test_absent_optional_run_parameter_lets_the_sub_dag_default_apply():
    fake = FakeRun(nested_spec(), {}, behaviour=doubler)
    fake.run_to_end()
    assert fake.launched("double")[0].spec.parameters == {"x": 5}


def test_pipeline_outputs_while_running_has_only_what_completed():
    fake = FakeRun(nested_spec(), {"n": 1}, behaviour=doubler)
    fake.step()
    assert pipeline_outputs(fake.spec, fake.tasks) == {"parameters": {}, "artifacts": {}}


def test_importer_runs_in_the_engine_with_constant_or_runtime_uri():
    builder = SpecBuilder("imp")
    constant = builder.importer("importer", {"constant": "s3://data/file.csv"}, metadata={"source": "fixed"})
    runtime = builder.importer("importer-2", {"runtimeParameter": "uri"}, inputs={"uri": "STRING"})
    use = builder.container("use", artifact_inputs={"data": "Dataset"})
    spec = builder.build(
        {
            "importer": task(constant, {"uri": const("s3://data/file.csv")}),
            "importer-2": task(runtime, {"uri": comp_in("where")}),
            "use": task(use, artifacts={"data": art_out("importer-2", "artifact")}),
        },
        inputs={"where": "STRING"},
    )
    fake = FakeRun(spec, {"where": "s3://data/other.csv"})
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    assert fake.record("root.importer").artifacts["artifact"][0] == {
        "name": "artifact",
        "uri": "s3://data/file.csv",
        "type": {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"},
        "metadata": {"source": "fixed"},
    }
    assert fake.record("root.importer-2").state is TaskState.SUCCEEDED
    assert [launch.spec.task_name for launch in fake.launches] == ["use"]
    assert fake.launched("use")[0].spec.artifacts["data"][0]["uri"] == "s3://data/other.csv"


def test_importer_without_uri_fails_the_run_clearly():
    builder = SpecBuilder("imp")
    runtime = builder.importer(
        "importer", {"runtimeParameter": "uri"}, inputs={"uri": parameter("STRING", optional=True)}
    )
    decisions = FakeRun(builder.build({"importer": task(runtime)})).run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert "importer URI input 'uri' has no value" in decisions.outcome.error


def test_unsupported_executor_fails_with_its_kind():
    builder = SpecBuilder()
    builder.executors["exec-res"] = {"resolver": {}}
    builder.components["comp-res"] = {"executorLabel": "exec-res"}
    decisions = FakeRun(builder.build({"res": task("comp-res")})).run_to_end()
    assert decisions.outcome.state == "FAILED" and "'resolver'" in decisions.outcome.error


def test_exit_handler_runs_when_its_group_was_skipped():
    builder = SpecBuilder()
    work = builder.container("work")
    group = builder.dag("condition-1", {"work": task(work)})
    spec = builder.build(
        {
            "condition-1": task(group, triggerPolicy={"condition": "false"}),
            "cleanup": task(
                work, after=["condition-1"], triggerPolicy={"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
            ),
        }
    )
    fake = FakeRun(spec)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    assert fake.launched("cleanup") and not fake.launched("work")
