import json
from pathlib import Path

import pytest

from chalicelib.launcher.errors import LauncherError
from chalicelib.launcher.outputs import collect_outputs, parse_parameter_text

DEFINITIONS = {
    "parameters": {
        "s": {"parameterType": "STRING"},
        "i": {"parameterType": "NUMBER_INTEGER"},
        "f": {"parameterType": "NUMBER_DOUBLE"},
        "b": {"parameterType": "BOOLEAN"},
        "l": {"parameterType": "LIST"},
        "d": {"parameterType": "STRUCT"},
    },
    "artifacts": {"model": {"artifactType": {"schemaTitle": "system.Model", "schemaVersion": "0.0.1"}}},
}


def executor_input(tmp_path: Path) -> dict:
    return {
        "inputs": {"parameterValues": {}, "artifacts": {}},
        "outputs": {
            "parameters": {name: {"outputFile": str(tmp_path / name)} for name in DEFINITIONS["parameters"]},
            "artifacts": {
                "model": {
                    "artifacts": [
                        {
                            "name": "model",
                            "type": {"schemaTitle": "system.Model", "schemaVersion": "0.0.1"},
                            "uri": str(tmp_path / "model"),
                            "metadata": {},
                        }
                    ]
                }
            },
            "outputFile": str(tmp_path / "output_metadata.json"),
        },
    }


def test_output_files_are_typed_by_declaration(tmp_path: Path):
    texts = {"s": " raw text \n", "i": " 42\n", "f": "2.5", "b": "True", "l": '[1, "a"]', "d": '{"k": [1]}'}
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    collected = collect_outputs(executor_input(tmp_path), DEFINITIONS, lambda a: a["uri"])
    assert collected.parameters == {
        "s": " raw text \n",
        "i": 42,
        "f": 2.5,
        "b": True,
        "l": [1, "a"],
        "d": {"k": [1]},
    }
    assert isinstance(collected.parameters["i"], int)


def test_executor_output_values_win_and_integers_stay_integers(tmp_path: Path):
    (tmp_path / "s").write_text("from file")
    output = {"parameterValues": {"s": "from executor", "i": 4.0, "b": False, "l": [], "d": {}}}
    (tmp_path / "output_metadata.json").write_text(json.dumps(output))
    collected = collect_outputs(executor_input(tmp_path), DEFINITIONS, lambda a: a["uri"])
    assert collected.parameters == {"s": "from executor", "i": 4, "b": False, "l": [], "d": {}}
    assert json.dumps(collected.parameters["i"]) == "4"


def test_unwritten_output_parameter_is_absent(tmp_path: Path):
    collected = collect_outputs(executor_input(tmp_path), DEFINITIONS, lambda a: a["uri"])
    assert collected.parameters == {}


@pytest.mark.parametrize(
    ("kind", "text"),
    [("NUMBER_INTEGER", "1.5x"), ("BOOLEAN", "yes"), ("LIST", '{"a": 1}'), ("STRUCT", "[1]")],
)
def test_unreadable_output_parameter_is_launcher_error(kind, text):
    with pytest.raises(LauncherError, match="'p'"):
        parse_parameter_text("p", text, kind)


@pytest.mark.parametrize(
    ("text", "expected"), [("true", True), ("False", False), ("1", True), ("0\n", False)]
)
def test_boolean_output_file_accepts_go_parse_bool_words(text, expected):
    assert parse_parameter_text("b", text, "BOOLEAN") is expected


def test_artifact_keeps_provisioned_uri_and_takes_metadata_from_executor_output(tmp_path: Path):
    output = {
        "artifacts": {
            "model": {"artifacts": [{"name": "model", "uri": "", "metadata": {"framework": "x", "acc": 0.9}}]}
        }
    }
    (tmp_path / "output_metadata.json").write_text(json.dumps(output))
    collected = collect_outputs(executor_input(tmp_path), DEFINITIONS, lambda a: a["uri"])
    assert collected.artifacts == {
        "model": [
            {
                "name": "model",
                "type": {"schemaTitle": "system.Model", "schemaVersion": "0.0.1"},
                "uri": str(tmp_path / "model"),
                "metadata": {"framework": "x", "acc": 0.9},
            }
        ]
    }


def test_artifact_uri_and_custom_path_from_executor_output_are_honoured(tmp_path: Path):
    output = {"artifacts": {"model": {"artifacts": [{"uri": "s3://b/k", "custom_path": "/tmp/somewhere"}]}}}
    (tmp_path / "output_metadata.json").write_text(json.dumps(output))
    collected = collect_outputs(executor_input(tmp_path), DEFINITIONS, lambda a: "/s3/" + a["uri"][5:])
    assert collected.artifacts["model"][0]["uri"] == "s3://b/k"
    (transfer,) = collected.transfers
    assert (transfer.source_path, transfer.uri, transfer.local_path) == (
        "/tmp/somewhere",
        "s3://b/k",
        "/s3/b/k",
    )


def test_malformed_executor_output_is_launcher_error(tmp_path: Path):
    (tmp_path / "output_metadata.json").write_text("{not json")
    with pytest.raises(LauncherError, match="not valid JSON"):
        collect_outputs(executor_input(tmp_path), DEFINITIONS, lambda a: a["uri"])
