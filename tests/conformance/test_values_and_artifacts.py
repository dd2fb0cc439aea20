# ruff: noqa: B006, UP014, UP045 -- kfp reads Optional[...], functional NamedTuples and literal defaults
"""Parameters of every type (defaults, optional, required), task outputs feeding inputs, pipeline outputs and
artifacts of every system type with metadata — checked against kfp.local where it can run the same pipeline."""

import functools
import json
from typing import NamedTuple, Optional

import pytest
from kfp import dsl
from kfp.dsl import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Input,
    Markdown,
    Metrics,
    Model,
    Output,
)
from kfp_server_api.exceptions import ApiException
from local_reference import run_locally
from run_waiting import only_task, read_artifact
from submitting import artifact_text, output_artifacts, output_parameter, pipeline_outputs, submit

component = functools.partial(dsl.component, base_image="python:3.11", install_kfp_package=False)


@component
def describe(
    s: str, i: int, f: float, b: bool, items: list, mapping: dict, maybe: Optional[str] = None
) -> str:
    import json

    return json.dumps(
        {
            "s": s,
            "i": i,
            "f": f,
            "b": b,
            "items": items,
            "mapping": mapping,
            "maybe": maybe,
            "types": [type(v).__name__ for v in (s, i, f, b, items, mapping)],
        },
        sort_keys=True,
    )


@component
def split(text: str) -> NamedTuple(
    "Parts", [("head", str), ("count", int), ("ratio", float), ("flag", bool)]
):
    Parts = NamedTuple("Parts", [("head", str), ("count", int), ("ratio", float), ("flag", bool)])
    return Parts(text[:5], len(text), len(text) / 4, len(text) > 3)


@component
def join(head: str, count: int, ratio: float, flag: bool) -> str:
    return f"{head}|{count}|{ratio}|{flag}"


@dsl.pipeline(name="conformance-values")
def values_pipeline(
    required: str,
    s: str = "text",
    i: int = 7,
    f: float = 2.5,
    b: bool = False,
    items: list = [1, "two", 3.0],
    mapping: dict = {"k": {"nested": [1, 2]}},
    maybe: Optional[str] = None,
) -> NamedTuple("Outputs", [("described", str), ("joined", str)]):
    described = describe(s=f"{required}{s}", i=i, f=f, b=b, items=items, mapping=mapping, maybe=maybe)
    parts = split(text=described.output)
    joined = join(
        head=parts.outputs["head"],
        count=parts.outputs["count"],
        ratio=parts.outputs["ratio"],
        flag=parts.outputs["flag"],
    )
    Outputs = NamedTuple("Outputs", [("described", str), ("joined", str)])
    return Outputs(described.output, joined.output)


@component
def make_artifacts(
    dataset: Output[Dataset],
    model: Output[Model],
    metrics: Output[Metrics],
    classification: Output[ClassificationMetrics],
    html: Output[HTML],
    markdown: Output[Markdown],
    generic: Output[Artifact],
):
    with open(dataset.path, "w") as handle:
        handle.write("a,b\n1,2\n")
    dataset.metadata["rows"] = 1
    with open(model.path, "w") as handle:
        handle.write("weights")
    model.metadata["framework"] = "none"
    metrics.log_metric("accuracy", 0.9)
    classification.log_confusion_matrix(["yes", "no"], [[3, 1], [0, 4]])
    classification.log_roc_curve([0.0, 1.0], [0.0, 1.0], [1.0, 0.0])
    with open(html.path, "w") as handle:
        handle.write("<p>hi</p>")
    with open(markdown.path, "w") as handle:
        handle.write("# hi")
    with open(generic.path, "w") as handle:
        handle.write("raw")
    generic.metadata["note"] = "n"


@component
def read_artifacts(
    dataset: Input[Dataset],
    model: Input[Model],
    metrics: Input[Metrics],
    classification: Input[ClassificationMetrics],
    html: Input[HTML],
    markdown: Input[Markdown],
    generic: Input[Artifact],
) -> str:
    import json

    def text(artifact):
        with open(artifact.path) as handle:
            return handle.read()

    return json.dumps(
        {
            "dataset": [text(dataset), dataset.metadata.get("rows")],
            "model": [text(model), model.metadata.get("framework")],
            "metrics": metrics.metadata.get("accuracy"),
            "confusion": classification.metadata.get("confusionMatrix", {}).get("rows"),
            "html": text(html),
            "markdown": text(markdown),
            "generic": [text(generic), generic.metadata.get("note")],
            "schemas": sorted(
                a.schema_title for a in (dataset, model, metrics, classification, html, markdown, generic)
            ),
        },
        sort_keys=True,
    )


@dsl.pipeline(name="conformance-artifacts")
def artifacts_pipeline() -> str:
    made = make_artifacts()
    return read_artifacts(
        dataset=made.outputs["dataset"],
        model=made.outputs["model"],
        metrics=made.outputs["metrics"],
        classification=made.outputs["classification"],
        html=made.outputs["html"],
        markdown=made.outputs["markdown"],
        generic=made.outputs["generic"],
    ).output


VALUES_ARGUMENTS = {"required": "req-", "i": 11, "maybe": "given"}


@pytest.fixture(scope="module")
def runs(executor_stack):
    ids = {
        "values": submit(executor_stack.client, values_pipeline, VALUES_ARGUMENTS),
        "defaults": submit(executor_stack.client, values_pipeline, {"required": "r"}),
        "artifacts": submit(executor_stack.client, artifacts_pipeline),
    }
    finished = executor_stack.wait_for_runs(ids.values())
    return {key: finished[run_id] for key, run_id in ids.items()}


def test_parameters_of_every_type_reach_the_component_with_their_python_types(runs):
    run = runs["values"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    described = json.loads(output_parameter(run, "describe"))
    assert described == {
        "s": "req-text",
        "i": 11,
        "f": 2.5,
        "b": False,
        "items": [1, "two", 3.0],
        "mapping": {"k": {"nested": [1, 2]}},
        "maybe": "given",
        "types": ["str", "int", "float", "bool", "list", "dict"],
    }


def test_optional_parameter_left_out_arrives_as_none_and_defaults_apply(runs):
    run = runs["defaults"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    described = json.loads(output_parameter(run, "describe"))
    assert described["maybe"] is None and described["s"] == "rtext" and described["i"] == 7


def test_named_tuple_outputs_feed_inputs_and_become_pipeline_outputs(runs):
    run = runs["values"]
    split_outputs = only_task(run, "split")["output_parameters"]
    described = output_parameter(run, "describe")
    assert split_outputs == {
        "head": described[:5],
        "count": len(described),
        "ratio": len(described) / 4,
        "flag": True,
    }
    assert pipeline_outputs(run) == {
        "described": described,
        "joined": f"{described[:5]}|{len(described)}|{len(described) / 4}|True",
    }


def test_values_pipeline_outputs_equal_kfp_local(runs, tmp_path):
    local = run_locally(values_pipeline, tmp_path, **VALUES_ARGUMENTS)
    assert pipeline_outputs(runs["values"]) == local


def test_artifacts_of_every_type_keep_content_and_metadata(runs, executor_stack):
    run = runs["artifacts"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    producer = only_task(run, "make-artifacts")
    dataset = output_artifacts(run, "make-artifacts", "dataset")[0]
    assert artifact_text(dataset) == "a,b\n1,2\n" and dataset["metadata"] == {"rows": 1}
    assert read_artifact(executor_stack.url, run["run_id"], producer["task_id"], "model") == b"weights"
    assert output_artifacts(run, "make-artifacts", "metrics")[0]["metadata"] == {"accuracy": 0.9}
    confusion = output_artifacts(run, "make-artifacts", "classification")[0]["metadata"]["confusionMatrix"]
    assert confusion["rows"] == [{"row": [3, 1]}, {"row": [0, 4]}]
    assert artifact_text(output_artifacts(run, "make-artifacts", "html")[0]) == "<p>hi</p>"
    assert artifact_text(output_artifacts(run, "make-artifacts", "markdown")[0]) == "# hi"
    generic = output_artifacts(run, "make-artifacts", "generic")[0]
    assert generic["metadata"] == {"note": "n"} and artifact_text(generic) == "raw"


def test_artifacts_consumer_output_equals_kfp_local(runs, tmp_path):
    ours = json.loads(pipeline_outputs(runs["artifacts"])["Output"])
    local = json.loads(run_locally(artifacts_pipeline, tmp_path)["Output"])
    assert ours == local
    assert ours["schemas"] == sorted(
        [
            "system.Dataset",
            "system.Model",
            "system.Metrics",
            "system.ClassificationMetrics",
            "system.HTML",
            "system.Markdown",
            "system.Artifact",
        ]
    )


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"required": "x", "i": "seven"}, "i"),
        ({"required": "x", "b": "yes"}, "b"),
        ({"required": "x", "items": {"not": "a list"}}, "items"),
        ({"required": "x", "surprise": 1}, "surprise"),
        ({"s": "no required"}, "required"),
    ],
    ids=["string-for-int", "string-for-bool", "dict-for-list", "unknown", "missing-required"],
)
def test_bad_runtime_parameters_are_rejected_with_400(kfp_client, arguments, named):
    with pytest.raises(ApiException) as err:
        submit(kfp_client, values_pipeline, arguments)
    assert err.value.status == 400
    assert named in err.value.body
