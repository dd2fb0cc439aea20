"""plan() over hand-built linear pipelines: inputs, defaults, outputs, ids, launches and idempotency."""

from __future__ import annotations

from engine_fakes import FakeRun, Result, sample_outputs
from spec_builders import SpecBuilder, comp_in, const, out, parameter, parameter_output, task

from chalicelib.engine import plan
from chalicelib.engine.model import RunInput


def add_spec() -> dict:
    builder = SpecBuilder("add-pipeline")
    add = builder.container(
        "add",
        inputs={"a": "NUMBER_INTEGER", "b": parameter("NUMBER_INTEGER", 2.0)},
        outputs={"Output": "NUMBER_INTEGER"},
    )
    show = builder.container(
        "show",
        inputs={
            "x": "NUMBER_INTEGER",
            "note": parameter("STRING", optional=True),
            "flag": parameter("BOOLEAN", True),
        },
    )
    return builder.build(
        {
            "add": task(add, {"a": comp_in("a")}),
            "add-2": task(add, {"a": out("add"), "b": const(10)}),
            "show": task(show, {"x": out("add-2")}),
        },
        inputs={"a": parameter("NUMBER_INTEGER", 1.0)},
        outputs={"parameters": {"Output": parameter_output("add-2")}},
    )


def adder(spec):
    if spec.task_name.startswith("add"):
        return Result(parameters={"Output": spec.parameters["a"] + spec.parameters["b"]})
    return sample_outputs(spec)


def test_linear_pipeline_passes_outputs_downstream_and_succeeds():
    fake = FakeRun(add_spec(), {"a": 5}, behaviour=adder)
    decisions = fake.run_to_end()
    assert decisions.outcome.state == "SUCCEEDED"
    assert fake.launched("show")[0].spec.parameters == {"x": 17, "flag": True}
    assert fake.record("root").parameters == {"Output": 17}


def test_integer_defaults_written_as_floats_arrive_as_ints():
    fake = FakeRun(add_spec(), {}, behaviour=adder)
    fake.run_to_end()
    parameters = fake.launched("add")[0].spec.parameters
    assert parameters == {"a": 1, "b": 2}
    assert all(type(value) is int for value in parameters.values())


def test_optional_input_without_default_is_absent_from_task_spec():
    fake = FakeRun(add_spec(), {}, behaviour=adder)
    fake.run_to_end()
    assert "note" not in fake.launched("show")[0].spec.parameters


def test_first_pass_launches_only_ready_tasks_with_deterministic_ids():
    run = RunInput(run_id="r", pipeline_name="add-pipeline", pipeline_root="s3://b/p")
    decisions = plan(run, add_spec(), None, {}, FakeRun(add_spec()).now)
    assert [launch.spec.task_id for launch in decisions.launches] == ["root.add"]
    assert {record.task_id for record in decisions.records} == {"root", "root.add"}
    assert decisions.outcome.state == "RUNNING"


def test_planning_again_with_applied_records_launches_nothing_new():
    fake = FakeRun(add_spec(), {})
    first = plan(fake.run, fake.spec, None, {}, fake.now)
    fake.apply(first.records)
    second = plan(fake.run, fake.spec, None, dict(fake.tasks), fake.now)
    assert first.launches and not second.launches
    assert second.records == []


def test_output_artifact_uris_are_under_pipeline_root_run_and_task():
    builder = SpecBuilder("art")
    make = builder.container("make", artifact_outputs={"data": "Dataset"})
    fake = FakeRun(builder.build({"make": task(make)}), pipeline_root="s3://bucket/prefix/")
    fake.run_to_end()
    assert fake.launched("make")[0].spec.output_artifact_uris == {
        "data": "s3://bucket/prefix/art/run-1/root.make/data"
    }


def test_local_pipeline_root_gives_absolute_path_uris():
    builder = SpecBuilder("art")
    make = builder.container("make", artifact_outputs={"data": "Dataset"})
    fake = FakeRun(builder.build({"make": task(make)}), pipeline_root="/tmp/kfps/artifacts")
    fake.run_to_end()
    assert (
        fake.launched("make")[0].spec.output_artifact_uris["data"]
        == "/tmp/kfps/artifacts/art/run-1/root.make/data"
    )


def test_missing_required_run_parameter_fails_the_run_with_its_name():
    builder = SpecBuilder()
    show = builder.container("show", inputs={"x": "STRING"})
    spec = builder.build({"show": task(show, {"x": comp_in("x")})}, inputs={"x": "STRING"})
    decisions = FakeRun(spec, {}).run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert "'x'" in decisions.outcome.error


def test_list_run_parameter_given_as_json_text_is_normalised():
    builder = SpecBuilder()
    show = builder.container("show", inputs={"items": "LIST"})
    spec = builder.build({"show": task(show, {"items": comp_in("items")})}, inputs={"items": "LIST"})
    fake = FakeRun(spec, {"items": '[1, "a"]'})
    fake.run_to_end()
    assert fake.launched("show")[0].spec.parameters == {"items": [1, "a"]}


def test_wrong_parameter_type_fails_the_consuming_task_clearly():
    builder = SpecBuilder()
    show = builder.container("show", inputs={"n": "NUMBER_INTEGER"})
    spec = builder.build({"show": task(show, {"n": const("not a number")})})
    decisions = FakeRun(spec).run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert "NUMBER_INTEGER" in decisions.outcome.error and "'show'" in decisions.outcome.error


def test_fstring_constant_is_resolved_from_other_inputs():
    builder = SpecBuilder()
    num = builder.container("num", outputs={"Output": "NUMBER_INTEGER"})
    show = builder.container("show", inputs={"msg": "STRING"})
    spec = builder.build(
        {
            "num": task(num),
            "show": task(
                show,
                {
                    "msg": const("heads and {{$.inputs.parameters['pipelinechannel--num-Output']}} > 5!"),
                    "pipelinechannel--num-Output": out("num"),
                },
            ),
        }
    )
    fake = FakeRun(
        spec, behaviour=lambda s: Result(parameters={"Output": 7}) if s.task_name == "num" else Result()
    )
    fake.run_to_end()
    assert fake.launched("show")[0].spec.parameters["msg"] == "heads and 7 > 5!"


def test_identity_placeholders_as_constants_are_resolved():
    builder = SpecBuilder("pipeline-with-placeholders")
    show = builder.container(
        "show", inputs={"job": "STRING", "task": "STRING", "uuid": "STRING", "root": "STRING"}
    )
    spec = builder.build(
        {
            "print-all": task(
                show,
                {
                    "job": const("{{$.pipeline_job_resource_name}}"),
                    "task": const("{{$.pipeline_task_name}}"),
                    "uuid": const("{{$.pipeline_task_uuid}}"),
                    "root": const("{{$.pipeline_root}}"),
                },
            )
        }
    )
    fake = FakeRun(spec)
    fake.run_to_end()
    parameters = fake.launched("print-all")[0].spec.parameters
    assert parameters["job"].startswith("pipeline-with-placeholders-")
    assert parameters["task"] == "print-all"
    assert parameters["uuid"] == "root.print-all"
    assert parameters["root"] == "s3://bucket/root"


def test_display_name_comes_from_task_info():
    builder = SpecBuilder()
    show = builder.container("show")
    fake = FakeRun(builder.build({"show": task(show, display="Nice name")}))
    fake.run_to_end()
    assert fake.launched("show")[0].spec.display_name == "Nice name"
    assert fake.record("root.show").display_name == "Nice name"


def test_env_and_container_pass_through_to_task_spec():
    builder = SpecBuilder()
    show = builder.container("show", env={"A": "1"}, image="alpine:3")
    fake = FakeRun(builder.build({"show": task(show)}))
    fake.run_to_end()
    launched = fake.launched("show")[0].spec
    assert launched.env == {"A": "1"}
    assert launched.container["image"] == "alpine:3"
