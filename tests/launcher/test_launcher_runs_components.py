"""End to end: compile real components, build TaskSpecs by hand, run `python -m chalicelib.launcher run`."""

import dataclasses
from pathlib import Path
from typing import NamedTuple

import pytest
from kfp import dsl

from tests.launcher.task_specs import compile_component, run_launcher, task_spec_from_ir


@dsl.component(base_image="python:3.11")
def train(
    epochs: int, name: str, data: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model], rate: float = 0.5
) -> NamedTuple("Outputs", [("steps", int), ("label", str), ("ok", bool), ("hist", list), ("cfg", dict)]):
    with open(data.path) as f:
        rows = f.read().split()
    with open(model.path, "w") as f:
        f.write(f"{name}:{len(rows)}")
    model.metadata["framework"] = "toy"
    model.metadata["rate"] = rate
    outputs = NamedTuple(  # noqa: UP014 - the function's source is what runs; keep it self-contained
        "Outputs", [("steps", int), ("label", str), ("ok", bool), ("hist", list), ("cfg", dict)]
    )
    return outputs(epochs * len(rows), name.upper(), True, [1, 2], {"epochs": epochs})


def test_python_component_outputs_parameters_and_artifact_with_metadata(tmp_path: Path):
    root = tmp_path / "root"
    data = tmp_path / "input" / "data.txt"
    data.parent.mkdir()
    data.write_text("a b c")
    dataset = {
        "name": "d1",
        "uri": str(data),
        "type": {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"},
        "metadata": {},
    }
    spec = task_spec_from_ir(
        compile_component(train, tmp_path), str(root), {"epochs": 2, "name": "m"}, {"data": [dataset]}
    )

    result = run_launcher(spec, tmp_path / "work")

    assert (result.exit_code, result.error) == (0, "")
    assert result.parameters == {"steps": 6, "label": "M", "ok": True, "hist": [1, 2], "cfg": {"epochs": 2}}
    (model,) = result.artifacts["model"]
    assert model["uri"] == spec.output_artifact_uris["model"]
    assert model["metadata"] == {"framework": "toy", "rate": 0.5}
    assert model["type"]["schemaTitle"] == "system.Model"
    assert Path(model["uri"]).read_text() == "m:3"
    assert result.started_at and result.finished_at


@dsl.container_component
def shell_writer(text: str, out: dsl.OutputPath(int), copy: dsl.Output[dsl.Artifact], flag: str = None):  # type: ignore[assignment]
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c"],
        args=[
            dsl.ConcatPlaceholder(
                ['echo "$0" "$1" && printf 41 > "$2" && printf "%s" "$0" > "$3"; echo ', text]
            ),
            text,
            dsl.IfPresentPlaceholder(input_name="flag", then=[flag], else_=["no-flag"]),
            out,
            copy.path,
        ],
    )


def test_container_component_writes_output_parameter_file_and_artifact(tmp_path: Path):
    spec = task_spec_from_ir(
        compile_component(shell_writer, tmp_path), str(tmp_path / "root"), {"text": "hello"}
    )

    result = run_launcher(spec, tmp_path / "work")

    assert (result.exit_code, result.error) == (0, "")
    assert result.parameters == {"out": 41}
    assert Path(result.artifacts["copy"][0]["uri"]).read_text() == "hello"
    log = (tmp_path / "work" / "launcher.log").read_text()
    assert "hello no-flag" in log
    assert log.splitlines()[0] == "[launcher] INFO image 'alpine:3' is ignored: the command runs on this host"


@dsl.component(base_image="python:3.11")
def explode(message: str) -> str:
    print("about to fail")
    raise RuntimeError(f"boom: {message}")


def test_failing_command_reports_exit_code_error_and_log_tail(tmp_path: Path):
    spec = task_spec_from_ir(
        compile_component(explode, tmp_path), str(tmp_path / "root"), {"message": "bad input"}
    )

    result = run_launcher(spec, tmp_path / "work")

    assert result.exit_code == 1
    assert result.error == "exit code 1"
    assert "RuntimeError: boom: bad input" in result.log_tail
    assert result.parameters == {} and result.artifacts == {}


def test_unknown_placeholder_fails_the_attempt_in_the_launcher(tmp_path: Path):
    spec = task_spec_from_ir(compile_component(explode, tmp_path), str(tmp_path / "root"), {"message": "x"})
    container = {**spec.container, "args": ["{{$.inputs.parameters['message']}}", "{{$.made_up}}"]}
    result = run_launcher(dataclasses.replace(spec, container=container), tmp_path / "work")

    assert result.exit_code == 125
    assert "unknown placeholder {{$.made_up}}" in result.error


def test_missing_required_input_fails_the_attempt_in_the_launcher(tmp_path: Path):
    spec = task_spec_from_ir(compile_component(shell_writer, tmp_path), str(tmp_path / "root"), {})

    result = run_launcher(spec, tmp_path / "work")

    assert result.exit_code == 125
    assert "required input parameter 'text'" in result.error


@dsl.component(base_image="python:3.11")
def echo_text(text: str) -> str:
    return text


def test_fstring_input_value_is_resolved_against_other_inputs(tmp_path: Path):
    parameters = {
        "text": "heads and {{$.inputs.parameters['pipelinechannel--flip-Output']}}!",
        "pipelinechannel--flip-Output": "7",
    }
    spec = task_spec_from_ir(compile_component(echo_text, tmp_path), str(tmp_path / "root"), parameters)

    result = run_launcher(spec, tmp_path / "work")

    assert result.parameters == {"Output": "heads and 7!"}


@dsl.component(base_image="python:3.11")
def uri_only(art: dsl.Input[dsl.Artifact]) -> str:
    return art.uri


def test_remote_input_uri_in_local_mode_is_logged_not_a_crash(tmp_path: Path):
    artifact = {
        "name": "a",
        "uri": "gs://somewhere/file",
        "type": {"schemaTitle": "system.Artifact"},
        "metadata": {},
    }
    spec = task_spec_from_ir(
        compile_component(uri_only, tmp_path), str(tmp_path / "root"), {}, {"art": [artifact]}
    )

    result = run_launcher(spec, tmp_path / "work")

    assert result.parameters == {"Output": "gs://somewhere/file"}
    assert (
        "input artifact gs://somewhere/file cannot be fetched"
        in (tmp_path / "work" / "launcher.log").read_text()
    )


def oci_spec(tmp_path: Path):
    artifact = {
        "name": "m",
        "uri": "oci://registry.example.com/m:v1",
        "type": {"schemaTitle": "system.Artifact"},
    }
    return task_spec_from_ir(
        compile_component(uri_only, tmp_path),
        str(tmp_path / "root"),
        {},
        {"art": [{**artifact, "metadata": {}}]},
    )


def test_oci_input_that_is_not_mounted_fails_the_task_before_its_command(tmp_path: Path):
    result = run_launcher(oci_spec(tmp_path), tmp_path / "work", "--mount-root", str(tmp_path / "mnt"))

    assert result.exit_code != 0 and result.parameters == {}
    assert "oci://registry.example.com/m:v1 is not mounted" in result.error


def test_oci_input_mounted_at_its_kfp_path_is_used_in_place(tmp_path: Path):
    (tmp_path / "mnt" / "oci" / "registry.example.com_m:v1").mkdir(parents=True)

    result = run_launcher(oci_spec(tmp_path), tmp_path / "work", "--mount-root", str(tmp_path / "mnt"))

    assert result.exit_code == 0, result.error
    assert result.parameters == {"Output": "oci://registry.example.com/m:v1"}


@dsl.component(base_image="python:3.11")
def task_uri() -> str:
    return dsl.get_uri("extra")


def test_get_uri_maps_to_the_task_output_root(tmp_path: Path):
    spec = task_spec_from_ir(compile_component(task_uri, tmp_path), str(tmp_path / "root"), {})

    result = run_launcher(spec, tmp_path / "work")

    assert result.parameters == {"Output": f"{tmp_path}/root/task-uri/run-1/task-uri-id/extra"}


@dsl.component(base_image="python:3.11", packages_to_install=["six"])
def uses_six() -> str:
    import six

    return six.__file__


def test_component_with_extra_packages_gets_its_own_target_environment(tmp_path: Path):
    from tests.launcher.test_python_env import pip_can_reach_an_index

    if not pip_can_reach_an_index(tmp_path):
        pytest.skip("pip cannot reach a package index to install 'six'")
    spec = task_spec_from_ir(compile_component(uses_six, tmp_path), str(tmp_path / "root"), {})
    cache = tmp_path / "cache"

    result = run_launcher(spec, tmp_path / "work", "--package-cache", str(cache))

    assert (result.exit_code, result.error) == (0, ""), result.log_tail
    assert Path(result.parameters["Output"]).is_relative_to(cache)
