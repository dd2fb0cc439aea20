"""ParallelFor over dicts whose fields the KFP compiler wires to nowhere (kubeflow/pipelines #9366, #13273):
`<itemInput>-subvar-<field>` inputs without a producer take the current item's field. The pipelines are
compiled here with the installed kfp (2.17.3), so the test sees exactly what the compiler emits."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from engine_fakes import FakeRun, Result
from kfp import compiler, dsl

from chalicelib.engine.errors import InputResolutionError
from chalicelib.engine.loop_item_fields import item_channels_optional, item_field_values, loop_item_inputs
from chalicelib.task_contract import TaskSpec

ITEMS = [{"label": "a", "n": 1}, {"label": "b", "n": 2}]


@dsl.component
def echo(msg: str) -> str:
    return msg


@dsl.pipeline(name="item-field-plain")
def plain_field():
    with dsl.ParallelFor(ITEMS) as item:
        echo(msg=item.label)


@dsl.pipeline(name="item-field-fstring")
def fstring_fields():
    with dsl.ParallelFor(ITEMS) as item:
        echo(msg=f"{item.label}-{item.n}")


@dsl.pipeline(name="item-field-if-and-inner-loop")
def condition_and_inner_loop(items: list = ITEMS):
    with dsl.ParallelFor(items) as item:
        with dsl.If(item.n > 1):
            echo(msg=f"big {item.label}")
        with dsl.ParallelFor([1, 2]) as inner:
            echo(msg=f"inner {item.label}-{inner}")


@dsl.pipeline(name="item-field-exit-handler")
def loop_in_exit_handler():
    # kfp refuses an ExitHandler inside a ParallelFor; the loop inside an ExitHandler is the nested case.
    with dsl.ExitHandler(echo(msg="bye")):
        with dsl.ParallelFor(ITEMS) as item:
            echo(msg=f"in {item.label}-{item.n}")


def compiled(pipeline: Any, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    return yaml.safe_load(path.read_text())


def echo_message(task_spec: TaskSpec) -> Result:
    return Result(parameters={"Output": task_spec.parameters["msg"]})


def messages(pipeline: Any, tmp_path: Path) -> list[str]:
    fake = FakeRun(compiled(pipeline, tmp_path), behaviour=echo_message)
    outcome = fake.run_to_end().outcome
    assert outcome.state == "SUCCEEDED", outcome.error
    return sorted(launch.spec.parameters["msg"] for launch in fake.launches)


def test_the_compiler_still_wires_fstring_fields_to_missing_pipeline_inputs(tmp_path):
    """The premise: if kfp fixes the bug, this fails and the workaround can be reviewed."""
    spec = compiled(fstring_fields, tmp_path)
    (loop_task,) = spec["root"]["dag"]["tasks"].values()
    sources = {value["componentInputParameter"] for value in loop_task["inputs"]["parameters"].values()}
    assert sources and not sources & set(spec["root"].get("inputDefinitions", {}).get("parameters", {}))


def test_plain_field_of_a_dict_item(tmp_path):
    assert messages(plain_field, tmp_path) == ["a", "b"]


def test_fields_of_a_dict_item_in_an_fstring(tmp_path):
    assert messages(fstring_fields, tmp_path) == ["a-1", "b-2"]


def test_fields_inside_a_condition_and_an_inner_loop_of_the_loop(tmp_path):
    assert messages(condition_and_inner_loop, tmp_path) == [
        "big b",
        "inner a-1",
        "inner a-2",
        "inner b-1",
        "inner b-2",
    ]


def test_fields_of_a_loop_inside_an_exit_handler(tmp_path):
    assert messages(loop_in_exit_handler, tmp_path) == ["bye", "in a-1", "in b-2"]


def test_an_item_without_the_field_fails_the_iteration_naming_it(tmp_path):
    fake = FakeRun(
        compiled(condition_and_inner_loop, tmp_path),
        parameters={"items": [{"label": "a", "n": 1}, {"n": 2}]},
        behaviour=echo_message,
    )
    outcome = fake.run_to_end().outcome
    assert outcome.state == "FAILED"
    assert "has no field 'label'" in outcome.error


def test_item_field_values_fill_only_fields_without_a_value():
    declared = ["loop-item-subvar-a", "loop-item-subvar-b", "other", "loop-item"]
    values = item_field_values("loop-item", declared, {"loop-item-subvar-b": "given"}, '{"a": 1, "b": 2}')
    assert values == {"loop-item-subvar-a": 1}
    with pytest.raises(InputResolutionError, match="no field 'a'"):
        item_field_values("loop-item", declared, {}, [1, 2])


def test_only_loop_item_channels_become_optional(tmp_path):
    spec = compiled(loop_in_exit_handler, tmp_path)
    item_inputs = loop_item_inputs(spec)
    assert item_inputs == {"pipelinechannel--loop-item-param-2"}
    definitions = {
        "parameters": {
            "pipelinechannel--loop-item-param-2-subvar-label": {"parameterType": "STRING"},
            "pipelinechannel--loop-item-param-20": {"parameterType": "STRING"},
        }
    }
    relaxed = item_channels_optional(definitions, item_inputs)["parameters"]
    assert relaxed["pipelinechannel--loop-item-param-2-subvar-label"]["isOptional"] is True
    assert "isOptional" not in relaxed["pipelinechannel--loop-item-param-20"]
