"""KFP v1 packages (Argo Workflows): the corpus loads, archives too, and every bad workflow is refused with a
message that names the problem."""

from __future__ import annotations

import copy
import io
import json
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.spec import (
    InvalidPackage,
    InvalidParameters,
    load_package,
    spec_from_struct,
    validate_runtime_parameters,
)
from chalicelib.spec.package import PackageFormat, package_format
from tests.spec.conftest import corpus_root

V1_CORPUS = corpus_root() / "kfp-v1-compiled"
V1_FILES = sorted(V1_CORPUS.glob("*.yaml")) if V1_CORPUS.is_dir() else []

SMALL = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {
        "generateName": "small-",
        "annotations": {
            "pipelines.kubeflow.org/pipeline_spec": json.dumps(
                {
                    "name": "small",
                    "description": "two steps",
                    "inputs": [
                        {"name": "count", "type": "Integer", "default": "3"},
                        {"name": "text", "type": "String", "description": "what to say"},
                    ],
                }
            )
        },
    },
    "spec": {
        "entrypoint": "main",
        "arguments": {"parameters": [{"name": "count", "value": "3"}, {"name": "text"}]},
        "templates": [
            {
                "name": "main",
                "inputs": {"parameters": [{"name": "count"}, {"name": "text"}]},
                "dag": {
                    "tasks": [
                        {
                            "name": "say",
                            "template": "say",
                            "arguments": {
                                "parameters": [{"name": "text", "value": "{{inputs.parameters.text}}"}]
                            },
                        },
                        {
                            "name": "again",
                            "template": "say",
                            "dependencies": ["say"],
                            "when": "{{inputs.parameters.count}} > 1",
                            "arguments": {
                                "parameters": [
                                    {"name": "text", "value": "{{tasks.say.outputs.parameters.said}}"}
                                ]
                            },
                        },
                    ]
                },
            },
            {
                "name": "say",
                "inputs": {"parameters": [{"name": "text"}]},
                "container": {
                    "image": "alpine",
                    "command": ["sh", "-c", "echo {{inputs.parameters.text}} | tee /tmp/o"],
                },
                "outputs": {"parameters": [{"name": "said", "valueFrom": {"path": "/tmp/o"}}]},
            },
        ],
    },
}


def small() -> dict[str, Any]:
    return copy.deepcopy(SMALL)


def _template(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in workflow["spec"]["templates"] if t["name"] == name)


@pytest.mark.parametrize("path", V1_FILES, ids=[path.name for path in V1_FILES])
def test_every_v1_corpus_file_loads_as_an_argo_package(path: Path):
    package = load_package(path.read_bytes(), path.name)
    assert package.format is PackageFormat.ARGO
    assert package.name and package.platform_spec is None
    assert package.to_struct() == yaml.safe_load(path.read_text())
    assert package_format(json.loads(package.to_json_bytes())) is PackageFormat.ARGO


def test_a_workflow_loads_from_yaml_json_zip_and_tar_gz_and_as_a_struct():
    text = yaml.safe_dump(SMALL)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("pipeline.yaml", text)
    tarred = io.BytesIO()
    with tarfile.open(fileobj=tarred, mode="w:gz") as archive:
        info = tarfile.TarInfo("pipeline.yaml")
        info.size = len(text.encode())
        archive.addfile(info, io.BytesIO(text.encode()))
    for data, name in [
        (text.encode(), "p.yaml"),
        (json.dumps(SMALL).encode(), "p.json"),
        (zipped.getvalue(), "p.zip"),
        (tarred.getvalue(), "p.tar.gz"),
    ]:
        package = load_package(data, name)
        assert package.format is PackageFormat.ARGO and package.pipeline_spec == SMALL, name
    assert spec_from_struct(small()).pipeline_spec == SMALL
    assert load_package(text.encode(), "p.yaml").description == "two steps"


def test_parameters_come_from_the_arguments_with_the_annotation_types():
    package = spec_from_struct(small())
    assert package.root_parameters == {
        "count": {"parameterType": "NUMBER_INTEGER", "defaultValue": "3"},
        "text": {"parameterType": "STRING", "description": "what to say"},
    }
    assert validate_runtime_parameters(package, {"text": "hi", "count": 5}) == {"text": "hi", "count": "5"}
    assert validate_runtime_parameters(package, {"text": ["a", 1]}) == {"text": '["a", 1]'}
    with pytest.raises(InvalidParameters, match="missing required parameter 'text'"):
        validate_runtime_parameters(package, {})
    with pytest.raises(
        InvalidParameters, match=r"unknown parameter 'nope' \(pipeline parameters: count, text\)"
    ):
        validate_runtime_parameters(package, {"text": "x", "nope": 1})
    with pytest.raises(InvalidParameters, match="parameter 'count' expects NUMBER_INTEGER, got 'many'"):
        validate_runtime_parameters(package, {"text": "x", "count": "many"})


def test_entrypoint_inputs_missing_from_the_arguments_are_required_run_parameters():
    workflow = small()
    workflow["spec"]["arguments"] = {}
    package = spec_from_struct(workflow)
    assert set(package.root_parameters) == {"count", "text"}
    with pytest.raises(InvalidParameters, match="missing required parameter 'count'"):
        validate_runtime_parameters(package, {"text": "x"})


def _broken(change) -> dict[str, Any]:
    workflow = small()
    change(workflow)
    return workflow


BAD_WORKFLOWS = {
    "unknown template kind": (
        lambda w: _template(w, "say").update(script={"image": "python", "source": "print(1)"}),
        "template 'say' has more than one kind (container, script)",
    ),
    "script template": (
        lambda w: w["spec"]["templates"].append({"name": "s", "script": {"image": "python", "source": "1"}}),
        "template 's' is a script template, which is not supported",
    ),
    "no kind at all": (
        lambda w: w["spec"]["templates"].append({"name": "empty"}),
        "template 'empty' has none of container, dag, steps, resource",
    ),
    "missing template": (
        lambda w: _template(w, "main")["dag"]["tasks"][0].update(template="nowhere"),
        "task 'say' calls template 'nowhere', which does not exist",
    ),
    "missing entrypoint": (
        lambda w: w["spec"].update(entrypoint="start"),
        "spec.entrypoint 'start' is not a template",
    ),
    "missing onExit": (lambda w: w["spec"].update(onExit="bye"), "spec.onExit 'bye' is not a template"),
    "cycle": (
        lambda w: _template(w, "main")["dag"]["tasks"][0].update(dependencies=["again"]),
        "has a dependency cycle: again -> say -> again",
    ),
    "dangling dependency": (
        lambda w: _template(w, "main")["dag"]["tasks"][1].update(dependencies=["ghost"]),
        "task 'again' depends on 'ghost', which is not a task of template 'main'",
    ),
    "undeclared input parameter": (
        lambda w: _template(w, "say")["container"].update(args=["{{inputs.parameters.colour}}"]),
        "template 'say' refers to {{inputs.parameters.colour}}: input parameter 'colour' is not declared",
    ),
    "undeclared workflow parameter": (
        lambda w: _template(w, "say")["container"].update(args=["{{workflow.parameters.size}}"]),
        "workflow parameter 'size' is not declared",
    ),
    "task output of an unknown task": (
        lambda w: _template(w, "main")["dag"]["tasks"][1]["arguments"]["parameters"][0].update(
            value="{{tasks.other.outputs.parameters.x}}"
        ),
        "there is no task 'other' here",
    ),
    "item outside a loop": (
        lambda w: _template(w, "main")["dag"]["tasks"][0]["arguments"]["parameters"][0].update(
            value="{{item}}"
        ),
        "{{item}} is only defined in a task with withItems or withParam",
    ),
    "required input not passed": (
        lambda w: _template(w, "main")["dag"]["tasks"][0].update(arguments={}),
        "task 'say' does not pass input parameter 'text' that template 'say' declares",
    ),
    "unparsable when": (
        lambda w: _template(w, "main")["dag"]["tasks"][1].update(when="{{inputs.parameters.count}} >> ("),
        "task 'again' has a 'when' that does not parse",
    ),
    "bad depends": (
        lambda w: _template(w, "main")["dag"]["tasks"][1].update(dependencies=None, depends="say.Finished"),
        "unknown task result 'Finished' for task 'say'",
    ),
    "withItems not a list": (
        lambda w: _template(w, "main")["dag"]["tasks"][0].update(withItems="abc"),
        "task 'say' withItems must be a list",
    ),
    "templateRef": (
        lambda w: _template(w, "main")["dag"]["tasks"][0].update(templateRef={"name": "x", "template": "y"}),
        "uses templateRef, which is not supported",
    ),
    "bad retry limit": (
        lambda w: _template(w, "say").update(retryStrategy={"limit": "lots"}),
        "template 'say'.retryStrategy.limit must be a whole number, got 'lots'",
    ),
    "negative deadline": (
        lambda w: w["spec"].update(activeDeadlineSeconds=-5),
        "spec.activeDeadlineSeconds must not be negative",
    ),
    "bad resource action": (
        lambda w: w["spec"]["templates"].append(
            {"name": "r", "resource": {"action": "explode", "manifest": "a: b"}}
        ),
        "template 'r'.resource.action 'explode' is not one of",
    ),
    "duplicate template": (
        lambda w: w["spec"]["templates"].append(copy.deepcopy(_template(w, "say"))),
        "template 'say' is defined twice",
    ),
    "other apiVersion": (
        lambda w: w.update(apiVersion="argoproj.io/v2"),
        "apiVersion 'argoproj.io/v2' is not supported",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_WORKFLOWS))
def test_a_bad_workflow_is_refused_naming_the_problem(case: str):
    change, message = BAD_WORKFLOWS[case]
    workflow = _broken(change)
    with pytest.raises(InvalidPackage) as raised:
        spec_from_struct(workflow)
    assert message in str(raised.value)
    with pytest.raises(InvalidPackage) as uploaded:
        load_package(yaml.safe_dump(workflow).encode(), "bad.yaml")
    assert str(uploaded.value).startswith("bad.yaml: ") and message in str(uploaded.value)


def test_other_argo_kinds_and_extra_documents_are_refused():
    template = {**small(), "kind": "WorkflowTemplate"}
    with pytest.raises(InvalidPackage, match="kind 'WorkflowTemplate'.*is not supported"):
        spec_from_struct(template)
    two = yaml.safe_dump(SMALL) + "---\n" + yaml.safe_dump({"platforms": {}})
    with pytest.raises(InvalidPackage, match="a KFP v1 package is exactly one Workflow document"):
        load_package(two.encode(), "two.yaml")


def test_recursion_through_templates_is_legal():
    workflow = small()
    _template(workflow, "main")["dag"]["tasks"].append(
        {
            "name": "recurse",
            "template": "main",
            "dependencies": ["again"],
            "when": "'{{tasks.again.outputs.parameters.said}}' == 'more'",
            "arguments": {
                "parameters": [
                    {"name": "count", "value": "{{inputs.parameters.count}}"},
                    {"name": "text", "value": "{{inputs.parameters.text}}"},
                ]
            },
        }
    )
    assert spec_from_struct(workflow).format is PackageFormat.ARGO
