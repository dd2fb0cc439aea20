import json

import pytest

from chalicelib.launcher.errors import LauncherError
from chalicelib.launcher.placeholders import (
    PlaceholderValues,
    expand_structure,
    resolve_command,
    resolve_string,
)

EXECUTOR_INPUT = {
    "inputs": {
        "parameterValues": {"s": "abc", "i": 3, "f": 1.0, "g": 2.5, "b": True, "l": [1, "a"], "d": {"k": 1}},
        "artifacts": {
            "ds": {
                "artifacts": [
                    {
                        "name": "ds",
                        "uri": "s3://bkt/a/ds",
                        "type": {"schemaTitle": "system.Dataset"},
                        "metadata": {"k": "v"},
                    }
                ]
            }
        },
    },
    "outputs": {
        "parameters": {"p": {"outputFile": "/out/p"}},
        "artifacts": {
            "m": {
                "artifacts": [
                    {"name": "m", "uri": "/root/m", "type": {"schemaTitle": "system.Model"}, "metadata": {}}
                ]
            }
        },
        "outputFile": "/out/output_metadata.json",
    },
}
DEFINITIONS = {
    "parameters": {
        "s": {"parameterType": "STRING"},
        "opt": {"parameterType": "STRING", "isOptional": True},
        "req": {"parameterType": "STRING"},
    },
    "artifacts": {"ds": {}, "maybe": {"isOptional": True}, "needed": {}},
}
IDENTITY = {"pipeline_job_name": "pipe", "pipeline_task_name": "task-a", "pipeline_job_create_time_utc": "T0"}


def values(executor_input=EXECUTOR_INPUT) -> PlaceholderValues:
    return PlaceholderValues(
        executor_input,
        DEFINITIONS,
        IDENTITY,
        lambda a: "/mnt" + a["uri"][len("s3:/") :] if a["uri"].startswith("s3://") else a["uri"],
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{$.inputs.parameters['s']}}", "abc"),
        ("{{$.inputs.parameters['i']}}", "3"),
        ("{{$.inputs.parameters['f']}}", "1"),
        ("{{$.inputs.parameters['g']}}", "2.5"),
        ("{{$.inputs.parameters['b']}}", "true"),
        ("{{$.inputs.parameters['l']}}", '[1, "a"]'),
        ("{{$.inputs.parameters['d']}}", '{"k": 1}'),
        ("{{$.inputs.parameters['opt']}}", ""),
        ("{{$.inputs.artifacts['ds'].uri}}", "s3://bkt/a/ds"),
        ("{{$.inputs.artifacts['ds'].path}}", "/mnt/bkt/a/ds"),
        ("{{$.inputs.artifacts['ds'].metadata}}", '{"k": "v"}'),
        ("{{$.inputs.artifacts['ds'].metadata['k']}}", "v"),
        ("{{$.inputs.artifacts['maybe'].path}}", ""),
        ("{{$.outputs.artifacts['m'].path}}", "/root/m"),
        ("{{$.outputs.artifacts['m'].uri}}/0", "/root/m/0"),
        ("{{$.outputs.artifacts['m'].metadata}}", "{}"),
        ("{{$.outputs.parameters['p'].output_file}}", "/out/p"),
        ("{{$.outputs.output_file}}", "/out/output_metadata.json"),
        ("{{$.outputMetadataUri}}", "/out/output_metadata.json"),
        (
            "{{$.pipeline_job_name}}/{{$.pipeline_task_name}}@{{$.pipeline_job_create_time_utc}}",
            "pipe/task-a@T0",
        ),
        ("prefix-{{$.inputs.parameters['s']}}-{{$.inputs.parameters['i']}}-suffix", "prefix-abc-3-suffix"),
    ],
)
def test_string_placeholder_resolves_to_kfp_text(template, expected):
    assert resolve_string(template, values()) == expected


def test_whole_executor_input_placeholder_is_compact_json_inserted_once():
    executor_input = json.loads(json.dumps(EXECUTOR_INPUT))
    executor_input["inputs"]["parameterValues"]["s"] = "{{$.inputs.parameters['i']}}"
    text = resolve_string("{{$}}", values(executor_input))
    assert json.loads(text) == executor_input  # the inserted JSON is not scanned again


def test_input_artifact_without_attribute_is_json_array_of_artifacts():
    resolved = json.loads(resolve_string("{{$.inputs.artifacts['ds']}}", values()))
    assert [a["uri"] for a in resolved] == ["s3://bkt/a/ds"]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{$.inputs.parameters['req']}}", "required input parameter 'req'"),
        ("{{$.inputs.parameters['nope']}}", "'nope'"),
        ("{{$.inputs.artifacts['needed'].path}}", "required input artifact 'needed'"),
        ("{{$.outputs.parameters['nope'].output_file}}", "unknown output parameter"),
        ("{{$.no_such_thing}}", "unknown placeholder"),
    ],
)
def test_unknown_placeholder_or_missing_required_input_is_launcher_error(template, message):
    with pytest.raises(LauncherError, match=message):
        resolve_string(template, values())


def test_lenient_resolution_leaves_unresolvable_placeholders():
    assert resolve_string("{{$.foo}} {{$.inputs.parameters['s']}}", values(), strict=False) == "{{$.foo}} abc"


def if_present(name, then, else_=None):
    body = {"InputName": name, "Then": then}
    if else_ is not None:
        body["Else"] = else_
    return json.dumps({"IfPresent": body})


def test_if_present_list_splices_then_elements_when_parameter_present():
    command = ["prog", if_present("s", ["--s", "{{$.inputs.parameters['s']}}"]), "end"]
    assert resolve_command(command, values()) == ["prog", "--s", "abc", "end"]


def test_if_present_absent_without_else_gives_no_elements():
    assert resolve_command(["prog", if_present("opt", ["--opt", "x"]), "end"], values()) == ["prog", "end"]


def test_if_present_takes_else_for_absent_input():
    assert resolve_command([if_present("opt", "yes", ["no", "really"])], values()) == ["no", "really"]


def test_if_present_sees_optional_artifacts():
    assert resolve_command([if_present("ds", "{{$.inputs.artifacts['ds'].path}}", "none")], values()) == [
        "/mnt/bkt/a/ds"
    ]
    assert resolve_command([if_present("maybe", "x", "none")], values()) == ["none"]


def test_null_parameter_counts_as_absent():
    executor_input = json.loads(json.dumps(EXECUTOR_INPUT))
    executor_input["inputs"]["parameterValues"]["opt"] = None
    assert resolve_command([if_present("opt", "yes", "no")], values(executor_input)) == ["no"]


def test_concat_joins_items_and_nested_if_present_into_one_element():
    concat = json.dumps(
        {"Concat": ["--x=", "{{$.inputs.parameters['i']}}", {"IfPresent": {"InputName": "s", "Then": "-s"}}]}
    )
    assert resolve_command([concat], values()) == ["--x=3-s"]


def test_malformed_structure_is_launcher_error():
    with pytest.raises(LauncherError):
        expand_structure('{"IfPresent": {"Then": "x"}}', frozenset())
    with pytest.raises(LauncherError):
        expand_structure('{"Concat": [1', frozenset())


def test_compiled_container_component_if_present_and_concat(tmp_path):
    from kfp import dsl

    from tests.launcher.task_specs import compile_component

    @dsl.container_component
    def echo(text: str, opt: str = None, out: dsl.OutputPath(str) = None):  # type: ignore[assignment]
        return dsl.ContainerSpec(
            image="alpine",
            command=["echo"],
            args=[
                dsl.ConcatPlaceholder(["t=", text]),
                dsl.IfPresentPlaceholder(input_name="opt", then=["--opt", opt], else_=["--no-opt"]),
                out,
            ],
        )

    ir = compile_component(echo, tmp_path)
    container = ir["deploymentSpec"]["executors"]["exec-echo"]["container"]
    executor_input = {
        "inputs": {"parameterValues": {"text": "hi"}, "artifacts": {}},
        "outputs": {
            "parameters": {"out": {"outputFile": "/o/out"}},
            "artifacts": {},
            "outputFile": "/o/x.json",
        },
    }
    component = ir["components"]["comp-echo"]
    resolved = resolve_command(
        container["command"] + container["args"],
        PlaceholderValues(executor_input, component["inputDefinitions"], {}, lambda a: a["uri"]),
    )
    assert resolved == ["echo", "t=hi", "--no-opt", "/o/out"]


def test_artifact_value_placeholder_reads_the_artifact_file(tmp_path):
    data = tmp_path / "value.txt"
    data.write_text("42")
    executor_input = json.loads(json.dumps(EXECUTOR_INPUT))
    executor_input["inputs"]["artifacts"]["ds"]["artifacts"][0]["uri"] = str(data)
    assert resolve_string("n={{$.inputs.artifacts['ds'].value}}", values(executor_input)) == "n=42"
