import json
from pathlib import Path

from google.protobuf import json_format
from kfp import dsl
from kfp.local import executor_input_utils
from kfp.pipeline_spec import pipeline_spec_pb2

from chalicelib.launcher.executor_input import build_executor_input
from tests.launcher.task_specs import compile_component, task_spec_from_ir


@dsl.component(base_image="python:3.11")
def typed(
    i: int,
    s: str,
    ds: dsl.Input[dsl.Dataset],
    model: dsl.Output[dsl.Model],
    f: float = 1.5,
    n: int = 7,
    flag: bool = False,
    items: list = [1, "a"],  # noqa: B006 - a component default, compiled into the IR
    obj: dict = {"a": 1},  # noqa: B006
    maybe: str = None,  # type: ignore[assignment]
) -> int:
    return i


def component_spec(ir: dict) -> pipeline_spec_pb2.ComponentSpec:
    return json_format.ParseDict(ir["components"]["comp-typed"], pipeline_spec_pb2.ComponentSpec())


def test_executor_input_matches_what_kfp_local_builds(tmp_path: Path):
    ir = compile_component(typed, tmp_path)
    task_root = tmp_path / "root" / "typed" / "run-1" / "typed"
    dataset = {
        "name": "ds",
        "uri": "/data/ds",
        "type": {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"},
        "metadata": {"k": "v"},
    }
    spec = task_spec_from_ir(ir, str(tmp_path / "root"), {"i": 3, "s": "x"}, {"ds": [dataset]})
    ours = build_executor_input(spec, str(task_root / "executor_output.json"))

    theirs_message = executor_input_utils.construct_executor_input(
        component_spec(ir),
        {"i": 3, "s": "x", "ds": dsl.Dataset(name="ds", uri="/data/ds", metadata={"k": "v"})},
        str(task_root),
        block_input_artifact=False,
    )
    theirs = executor_input_utils.executor_input_to_dict(theirs_message, component_spec(ir))
    # the one intended difference: a null optional input is absent for us, `None` for kfp.local
    assert theirs["inputs"]["parameterValues"].pop("maybe") is None
    assert ours == theirs


def test_integer_inputs_and_defaults_are_json_integers(tmp_path: Path):
    ir = compile_component(typed, tmp_path)
    spec = task_spec_from_ir(ir, str(tmp_path), {"i": 3.0, "s": "x", "maybe": None})
    values = build_executor_input(spec, str(tmp_path / "out.json"))["inputs"]["parameterValues"]
    assert json.dumps(values["i"]) == "3"
    assert json.dumps(values["n"]) == "7"
    assert values["f"] == 1.5 and values["flag"] is False and values["items"] == [1, "a"]
    assert "maybe" not in values  # null means absent: the function's own default applies


def test_outputs_are_present_even_without_declared_outputs(tmp_path: Path):
    @dsl.container_component
    def bare():
        return dsl.ContainerSpec(image="alpine", command=["true"])

    spec = task_spec_from_ir(compile_component(bare, tmp_path), str(tmp_path))
    outputs = build_executor_input(spec, "/t/output_metadata.json")["outputs"]
    assert outputs == {"parameters": {}, "artifacts": {}, "outputFile": "/t/output_metadata.json"}


def test_injected_fstring_channel_inputs_are_passed_through(tmp_path: Path):
    ir = compile_component(typed, tmp_path)
    spec = task_spec_from_ir(ir, str(tmp_path), {"i": 1, "s": "x", "pipelinechannel--up-Output": "v"})
    values = build_executor_input(spec, str(tmp_path / "o.json"))["inputs"]["parameterValues"]
    assert values["pipelinechannel--up-Output"] == "v"
