"""Container components with shell commands, KFP v1 component YAML (`inputValue` / `inputPath` /
`outputPath`), environment variables, display names and importers (constant and runtime URI, metadata,
reimport)."""

import functools

import pytest
from kfp import components, dsl
from kfp.dsl import Dataset, Input, Output, OutputPath
from run_waiting import only_task, tasks_by_name
from submitting import artifact_text, output_artifacts, output_parameter, pipeline_outputs, submit

component = functools.partial(dsl.component, base_image="python:3.11", install_kfp_package=False)


@dsl.container_component
def shout(text: str, copies: int, out: Output[Dataset], length: OutputPath(int)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c"],
        args=[
            'mkdir -p "$(dirname "$2")" "$(dirname "$3")" && '
            'for i in $(seq "$1"); do echo "$0" | tr a-z A-Z; done > "$2" && '
            'printf "%s" "$(wc -l < "$2" | tr -d " ")" > "$3"',
            text,
            copies,
            out.path,
            length,
        ],
    )


@component
def read(data: Input[Dataset]) -> str:
    with open(data.path) as handle:
        return handle.read()


@component
def env_of(name: str) -> str:
    import os

    return os.environ.get(name, "<unset>")


V1_COMPONENT = """
name: Count words
inputs:
- {name: text, type: String}
- {name: source, type: Dataset}
outputs:
- {name: counted, type: Dataset}
implementation:
  container:
    image: alpine:3
    command:
    - sh
    - -c
    - |
      mkdir -p "$(dirname "$2")"
      printf '%s %s\\n' "$0" "$(wc -w < "$1" | tr -d ' ')" > "$2"
    - {inputValue: text}
    - {inputPath: source}
    - {outputPath: counted}
"""
count_words = components.load_component_from_text(V1_COMPONENT)


@dsl.pipeline(name="conformance-containers")
def containers_pipeline(text: str = "hi there") -> str:
    shouted = shout(text=text, copies=2).set_display_name("shout twice")
    counted = count_words(text="words:", source=shouted.outputs["out"])
    return read(data=counted.outputs["counted"]).output


@dsl.pipeline(name="conformance-env")
def env_pipeline():
    env_of(name="CONFORMANCE_GREETING").set_env_variable("CONFORMANCE_GREETING", "bonjour").set_display_name(
        "greeting"
    )
    env_of(name="CONFORMANCE_GREETING").set_display_name("no greeting")


@component
def write(text: str, out: Output[Dataset]):
    with open(out.path, "w") as handle:
        handle.write(text)


@component
def uri_of(data: Input[Dataset]) -> str:
    return data.uri


@dsl.pipeline(name="conformance-importers")
def importers_pipeline(source_uri: str) -> str:
    constant = dsl.importer(
        artifact_uri="file:///dev/null/never-read",
        artifact_class=Dataset,
        reimport=False,
        metadata={"k": "v"},
    ).set_display_name("constant importer")
    runtime = dsl.importer(
        artifact_uri=source_uri, artifact_class=Dataset, reimport=True, metadata={"origin": "runtime"}
    ).set_display_name("runtime importer")
    uri_of(data=constant.output).set_display_name("constant uri")
    return read(data=runtime.output).output


@pytest.fixture(scope="module")
def source_file(local_stack, tmp_path_factory):
    """A file for the runtime importer under the stack's pipeline root (the local executor's data)."""
    from pathlib import Path

    root = Path(local_stack.settings.default_pipeline_root) / "conformance-imports"
    root.mkdir(parents=True, exist_ok=True)
    path = root / "source.txt"
    path.write_text("imported text")
    return path


@pytest.fixture(scope="module")
def runs(executor_stack, source_file):
    ids = {
        "containers": submit(executor_stack.client, containers_pipeline, {"text": "hi there"}),
        "env": submit(executor_stack.client, env_pipeline),
        "importers": submit(executor_stack.client, importers_pipeline, {"source_uri": str(source_file)}),
    }
    finished = executor_stack.wait_for_runs(ids.values())
    return {key: finished[run_id] for key, run_id in ids.items()}


def test_container_component_and_v1_yaml_component_chain_through_artifacts(runs):
    run = runs["containers"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    shouted = only_task(run, "shout twice")
    assert artifact_text(output_artifacts(run, "shout twice", "out")[0]) == "HI THERE\nHI THERE\n"
    assert shouted["output_parameters"] == {"length": 2}
    assert pipeline_outputs(run) == {"Output": "words: 4\n"}
    assert only_task(run, "count-words")["state"] == "SUCCEEDED"


def test_env_variable_reaches_only_the_task_that_sets_it(runs):
    run = runs["env"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    assert output_parameter(run, "greeting") == "bonjour"
    assert output_parameter(run, "no greeting") == "<unset>"


def test_display_names_name_the_task_details(runs):
    names = set(tasks_by_name(runs["env"]))
    assert {"greeting", "no greeting"} <= names


def test_importers_give_constant_and_runtime_uris_with_metadata(runs, source_file):
    run = runs["importers"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    constant = output_artifacts(run, "constant importer", "artifact")[0]
    assert constant["uri"] == "file:///dev/null/never-read" and constant["metadata"] == {"k": "v"}
    assert output_parameter(run, "constant uri") == "file:///dev/null/never-read"
    runtime = output_artifacts(run, "runtime importer", "artifact")[0]
    assert runtime["uri"].endswith(str(source_file)) and runtime["metadata"] == {"origin": "runtime"}
    assert pipeline_outputs(run) == {"Output": "imported text"}
