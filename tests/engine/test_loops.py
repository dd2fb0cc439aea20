"""ParallelFor: raw and parameter items, dict items with selectors, parallelism, fan-in, nesting, artifacts."""

from __future__ import annotations

import json

from engine_fakes import FakeRun, Result, sample_outputs
from spec_builders import SpecBuilder, art_in, art_out, artifact_output, comp_in, out, parameter_output, task

from chalicelib.task_contract import TaskState


def echo(task_spec):
    """Outputs its `x` input as `Output` (and an artifact when one is declared)."""
    result = sample_outputs(task_spec)
    return Result(parameters={"Output": task_spec.parameters.get("x")}, artifacts=result.artifacts)


def loop_spec(items: dict, item_type: str = "NUMBER_INTEGER", limit: int = 0, extra_inputs=None):
    builder = SpecBuilder("loops")
    produce = builder.container("produce", outputs={"Output": "LIST"})
    work = builder.container("work", inputs={"x": item_type}, outputs={"Output": item_type})
    body = builder.dag(
        "for-loop-1",
        {"work": task(work, {"x": comp_in("pipelinechannel--loop-item")})},
        inputs={"pipelinechannel--loop-item": item_type, **(extra_inputs or {})},
        outputs={"parameters": {"pipelinechannel--work-Output": parameter_output("work")}},
    )
    collect = builder.container("collect", inputs={"values": "LIST"})
    loop_task = task(
        body,
        {"pipelinechannel--produce-Output": out("produce")} if "inputParameter" in items else None,
        parameterIterator={"itemInput": "pipelinechannel--loop-item", "items": items},
    )
    if limit:
        loop_task["iteratorPolicy"] = {"parallelismLimit": limit}
    return builder.build(
        {
            "produce": task(produce),
            "for-loop-1": loop_task,
            "collect": task(collect, {"values": out("for-loop-1", "pipelinechannel--work-Output")}),
        }
    )


def test_raw_items_fan_out_and_collect_in_order_as_ints():
    fake = FakeRun(loop_spec({"raw": "[1, 2, 3]"}), behaviour=echo)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    assert [launch.spec.task_id for launch in fake.launched("work")] == [
        "root.for-loop-1.0.work",
        "root.for-loop-1.1.work",
        "root.for-loop-1.2.work",
    ]
    values = fake.launched("collect")[0].spec.parameters["values"]
    assert values == [1, 2, 3] and all(type(value) is int for value in values)


def test_items_from_an_upstream_list_output():
    def behaviour(task_spec):
        if task_spec.task_name == "produce":
            return Result(parameters={"Output": ["a", "b"]})
        return echo(task_spec)

    spec = loop_spec({"inputParameter": "pipelinechannel--produce-Output"}, item_type="STRING")
    spec["components"]["comp-for-loop-1"]["inputDefinitions"]["parameters"][
        "pipelinechannel--produce-Output"
    ] = {"parameterType": "LIST"}
    fake = FakeRun(spec, behaviour=behaviour)
    fake.run_to_end()
    assert fake.launched("collect")[0].spec.parameters["values"] == ["a", "b"]


def test_items_given_as_json_text_are_accepted():
    def behaviour(task_spec):
        if task_spec.task_name == "produce":
            return Result(parameters={"Output": json.dumps(["a", "b", "c"])})
        return echo(task_spec)

    spec = loop_spec({"inputParameter": "pipelinechannel--produce-Output"}, item_type="STRING")
    fake = FakeRun(spec, behaviour=behaviour)
    fake.run_to_end()
    assert len(fake.launched("work")) == 3


def test_empty_loop_succeeds_with_empty_collection():
    fake = FakeRun(loop_spec({"raw": "[]"}), behaviour=echo)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    assert fake.launched("collect")[0].spec.parameters["values"] == []


def test_parallelism_limit_caps_running_iterations():
    def slow(task_spec):
        # Every work attempt runs for two passes before finishing.
        slow.calls[task_spec.task_id] = slow.calls.get(task_spec.task_id, 0) + 1
        if task_spec.task_name == "work" and slow.calls[task_spec.task_id] < 2:
            return Result(running=True)
        return echo(task_spec)

    slow.calls = {}
    fake = FakeRun(loop_spec({"raw": "[1, 2, 3, 4, 5]"}, limit=2), behaviour=slow)
    peak = 0
    for _ in range(50):
        decisions = fake.step()
        running = [
            record
            for record in fake.tasks.values()
            if record.kind == "iteration" and not record.state.is_final
        ]
        peak = max(peak, len(running))
        if decisions.outcome.state != "RUNNING":
            break
    assert decisions.outcome.state == "SUCCEEDED"
    assert peak == 2
    assert fake.launched("collect")[0].spec.parameters["values"] == [1, 2, 3, 4, 5]


def test_dict_items_with_selector_pick_fields():
    builder = SpecBuilder()
    work = builder.container("work", inputs={"x": "STRING"})
    body = builder.dag(
        "for-loop-1",
        {
            "work": task(
                work,
                {
                    "x": {
                        "componentInputParameter": "pipelinechannel--loop-item",
                        "parameterExpressionSelector": 'parseJson(string_value)["A_a"]',
                    }
                },
            )
        },
        inputs={"pipelinechannel--loop-item": "STRING"},
    )
    spec = builder.build(
        {
            "for-loop-1": task(
                body,
                parameterIterator={
                    "itemInput": "pipelinechannel--loop-item",
                    "items": {"raw": '[{"A_a": "1", "B_b": "2"}, {"A_a": "10", "B_b": "20"}]'},
                },
            )
        }
    )
    fake = FakeRun(spec)
    fake.run_to_end()
    assert [launch.spec.parameters["x"] for launch in fake.launched("work")] == ["1", "10"]


def test_nested_loops_collect_into_one_flat_list():
    builder = SpecBuilder("nested")
    work = builder.container("work", inputs={"x": "STRING"}, outputs={"Output": "STRING"})
    inner = builder.dag(
        "for-loop-2",
        {"work": task(work, {"x": comp_in("pipelinechannel--inner-item")})},
        inputs={"pipelinechannel--inner-item": "STRING", "pipelinechannel--outer-item": "STRING"},
        outputs={"parameters": {"pipelinechannel--work-Output": parameter_output("work")}},
    )
    outer = builder.dag(
        "for-loop-1",
        {
            "for-loop-2": task(
                inner,
                {"pipelinechannel--outer-item": comp_in("pipelinechannel--outer-item")},
                parameterIterator={
                    "itemInput": "pipelinechannel--inner-item",
                    "items": {"raw": '["x", "y"]'},
                },
            )
        },
        inputs={"pipelinechannel--outer-item": "STRING"},
        outputs={
            "parameters": {
                "pipelinechannel--work-Output": parameter_output("for-loop-2", "pipelinechannel--work-Output")
            }
        },
    )
    collect = builder.container("collect", inputs={"values": "LIST"})
    spec = builder.build(
        {
            "for-loop-1": task(
                outer,
                parameterIterator={
                    "itemInput": "pipelinechannel--outer-item",
                    "items": {"raw": '["a", "b"]'},
                },
            ),
            "collect": task(collect, {"values": out("for-loop-1", "pipelinechannel--work-Output")}),
        }
    )
    fake = FakeRun(spec, behaviour=echo)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    assert fake.launched("collect")[0].spec.parameters["values"] == ["x", "y", "x", "y"]
    assert "root.for-loop-1.1.for-loop-2.0.work" in fake.tasks


def test_collected_artifacts_and_artifact_iterator():
    builder = SpecBuilder("arts")
    make = builder.container("make", inputs={"x": "NUMBER_INTEGER"}, artifact_outputs={"data": "Dataset"})
    body = builder.dag(
        "for-loop-1",
        {"make": task(make, {"x": comp_in("item")})},
        inputs={"item": "NUMBER_INTEGER"},
        outputs={"artifacts": {"pipelinechannel--make-data": artifact_output(("make", "data"))}},
    )
    use = builder.container("use", artifact_inputs={"data": "Dataset"})
    each = builder.dag(
        "for-loop-2",
        {"use": task(use, artifacts={"data": art_in("item")})},
        artifact_inputs={"item": "Dataset"},
    )
    spec = builder.build(
        {
            "for-loop-1": task(body, parameterIterator={"itemInput": "item", "items": {"raw": "[1, 2]"}}),
            "for-loop-2": task(
                each,
                artifacts={
                    "pipelinechannel--for-loop-1-data": art_out("for-loop-1", "pipelinechannel--make-data")
                },
                artifactIterator={
                    "itemInput": "item",
                    "items": {"inputArtifact": "pipelinechannel--for-loop-1-data"},
                },
            ),
        }
    )
    fake = FakeRun(spec)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    uris = [launch.spec.artifacts["data"][0]["uri"] for launch in fake.launched("use")]
    assert uris == [
        "s3://bucket/root/arts/run-1/root.for-loop-1.0.make/data",
        "s3://bucket/root/arts/run-1/root.for-loop-1.1.make/data",
    ]
    assert fake.record("root.for-loop-2").state is TaskState.SUCCEEDED
