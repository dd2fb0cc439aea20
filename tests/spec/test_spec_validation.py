"""Schema (protobuf) and graph checks on hand-written bad specs: each names the field, task or component."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.spec import InvalidPackage, spec_from_struct


def _rejected(spec: dict[str, Any]) -> str:
    with pytest.raises(InvalidPackage) as raised:
        spec_from_struct(spec, source="body")
    return str(raised.value)


def _tasks(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["root"]["dag"]["tasks"]


def _add_sub_dag(spec: dict[str, Any]) -> dict[str, Any]:
    """Move the root DAG into component 'comp-inner', called by the root task 'inner'; return its DAG."""
    spec["components"]["comp-inner"] = {"dag": spec["root"]["dag"]}
    spec["root"]["dag"] = {
        "tasks": {"inner": {"taskInfo": {"name": "inner"}, "componentRef": {"name": "comp-inner"}}}
    }
    for task in spec["components"]["comp-inner"]["dag"]["tasks"].values():
        task["inputs"]["parameters"].pop("text", None)
    return spec["components"]["comp-inner"]["dag"]


def test_small_spec_is_valid(small_spec: dict[str, Any]) -> None:
    assert spec_from_struct(small_spec).name == "small-pipeline"


def test_unknown_nested_field_is_named_with_its_path(small_spec: dict[str, Any]) -> None:
    _tasks(small_spec)["produce"]["cachingOption"] = {}
    assert "unknown field 'cachingOption' at root.dag.tasks['produce']" in _rejected(small_spec)


def test_unknown_field_in_executor_is_named(small_spec: dict[str, Any]) -> None:
    small_spec["deploymentSpec"]["executors"]["exec-produce"]["container"]["imag"] = "x"
    assert "unknown field 'imag' at deploymentSpec.executors['exec-produce'].container" in _rejected(
        small_spec
    )


def test_wrong_value_type_in_executor_is_named(small_spec: dict[str, Any]) -> None:
    small_spec["deploymentSpec"]["executors"]["exec-produce"]["container"]["command"] = "echo"
    message = _rejected(small_spec)
    assert "field command" in message and "deploymentSpec.executors[exec-produce].container" in message


def test_wrong_value_type_is_named(small_spec: dict[str, Any]) -> None:
    _tasks(small_spec)["produce"]["cachingOptions"] = {"enableCache": "yes"}
    message = _rejected(small_spec)
    assert "root.dag.tasks[produce].cachingOptions.enableCache" in message
    assert "Failed to parse" not in message and "Available Fields" not in message


def test_both_iterators_on_one_task_are_rejected(small_spec: dict[str, Any]) -> None:
    task = _tasks(small_spec)["produce"]
    task["parameterIterator"] = {"itemInput": "x", "items": {"raw": "[1]"}}
    task["artifactIterator"] = {"itemInput": "y", "items": {"inputArtifact": "z"}}
    assert 'multiple "iterator" oneof fields' in _rejected(small_spec)


def test_snake_case_field_names_are_normalised_to_camel_case(small_spec: dict[str, Any]) -> None:
    small_spec["pipeline_info"] = small_spec.pop("pipelineInfo")
    _tasks(small_spec)["consume"]["dependent_tasks"] = _tasks(small_spec)["consume"].pop("dependentTasks")
    package = spec_from_struct(small_spec)
    assert package.pipeline_spec["pipelineInfo"]["name"] == "small-pipeline"
    assert _tasks(package.pipeline_spec)["consume"]["dependentTasks"] == ["produce"]


def test_field_given_in_both_spellings_is_rejected(small_spec: dict[str, Any]) -> None:
    small_spec["schema_version"] = "2.1.0"
    assert "field 'schemaVersion' given twice" in _rejected(small_spec)


@pytest.mark.parametrize("name", [None, ""])
def test_missing_pipeline_name_is_rejected(small_spec: dict[str, Any], name: str | None) -> None:
    small_spec["pipelineInfo"]["name"] = name
    assert "pipelineInfo.name is required" in _rejected(small_spec)


@pytest.mark.parametrize("name", ["My_Pipeline", "-lead", "trail-"])
def test_pipeline_name_outside_dns_rules_is_rejected(small_spec: dict[str, Any], name: str) -> None:
    small_spec["pipelineInfo"]["name"] = name
    assert f"pipelineInfo.name '{name}' is invalid" in _rejected(small_spec)


@pytest.mark.parametrize("version", ["2.0.0", "2.1.0"])
def test_supported_schema_versions_are_accepted(small_spec: dict[str, Any], version: str) -> None:
    small_spec["schemaVersion"] = version
    assert spec_from_struct(small_spec).schema_version == version


@pytest.mark.parametrize("version", ["1.0.0", "2.2.0", None])
def test_other_schema_versions_are_rejected(small_spec: dict[str, Any], version: str | None) -> None:
    small_spec["schemaVersion"] = version
    if version is None:
        del small_spec["schemaVersion"]
    assert f"schemaVersion {version!r} is not supported" in _rejected(small_spec)


def test_missing_root_is_rejected(small_spec: dict[str, Any]) -> None:
    del small_spec["root"]
    assert "root is required" in _rejected(small_spec)


def test_root_with_neither_dag_nor_executor_is_rejected(small_spec: dict[str, Any]) -> None:
    del small_spec["root"]["dag"]
    assert "root has neither a dag nor an executorLabel" in _rejected(small_spec)


def test_root_may_be_a_single_executor(small_spec: dict[str, Any]) -> None:
    small_spec["root"] = {"executorLabel": "exec-produce"}
    assert spec_from_struct(small_spec).pipeline_spec["root"] == {"executorLabel": "exec-produce"}


def test_component_with_dag_and_executor_is_rejected(small_spec: dict[str, Any]) -> None:
    small_spec["components"]["comp-produce"]["dag"] = {"tasks": {}}
    message = _rejected(small_spec)
    assert 'multiple "implementation" oneof fields at "components[comp-produce]"' in message


def test_undefined_component_reference_is_rejected(small_spec: dict[str, Any]) -> None:
    _tasks(small_spec)["produce"]["componentRef"]["name"] = "comp-missing"
    assert "task 'produce' in root references undefined component 'comp-missing'" in _rejected(small_spec)


def test_task_without_component_reference_is_rejected(small_spec: dict[str, Any]) -> None:
    del _tasks(small_spec)["produce"]["componentRef"]
    assert "task 'produce' in root has no componentRef.name" in _rejected(small_spec)


def test_undefined_executor_label_is_rejected(small_spec: dict[str, Any]) -> None:
    del small_spec["deploymentSpec"]["executors"]["exec-consume"]
    message = _rejected(small_spec)
    assert (
        "component 'comp-consume' has executorLabel 'exec-consume' not defined in deploymentSpec.executors"
        in (message)
    )


def test_dependent_task_outside_the_dag_is_rejected(small_spec: dict[str, Any]) -> None:
    _tasks(small_spec)["consume"]["dependentTasks"] = ["produce", "ghost"]
    assert (
        "task 'consume' in root has dependentTasks 'ghost', which is not a task in the same DAG"
        in _rejected(small_spec)
    )


def test_task_depending_on_itself_is_rejected(small_spec: dict[str, Any]) -> None:
    _tasks(small_spec)["produce"]["dependentTasks"] = ["produce"]
    assert "task 'produce' in root depends on itself" in _rejected(small_spec)


def test_parameter_producer_outside_the_dag_is_rejected(small_spec: dict[str, Any]) -> None:
    param = _tasks(small_spec)["consume"]["inputs"]["parameters"]["value"]
    param["taskOutputParameter"]["producerTask"] = "ghost"
    assert "has taskOutputParameter.producerTask 'ghost'" in _rejected(small_spec)


def test_artifact_producer_outside_the_dag_is_rejected(small_spec: dict[str, Any]) -> None:
    _tasks(small_spec)["consume"]["inputs"]["artifacts"] = {
        "data": {"taskOutputArtifact": {"producerTask": "ghost", "outputArtifactKey": "out"}}
    }
    assert "has taskOutputArtifact.producerTask 'ghost'" in _rejected(small_spec)


def test_final_status_producer_outside_the_dag_is_rejected(small_spec: dict[str, Any]) -> None:
    _tasks(small_spec)["consume"]["inputs"]["parameters"]["status"] = {
        "taskFinalStatus": {"producerTask": "ghost"}
    }
    assert "has taskFinalStatus.producerTask 'ghost'" in _rejected(small_spec)


def test_producer_in_a_parent_dag_is_not_a_sibling(small_spec: dict[str, Any]) -> None:
    inner = _add_sub_dag(small_spec)
    inner["tasks"]["consume"]["dependentTasks"] = ["inner"]
    message = _rejected(small_spec)
    assert "task 'consume' in component 'comp-inner' has dependentTasks 'inner'" in message


def test_dag_output_from_unknown_subtask_is_rejected(small_spec: dict[str, Any]) -> None:
    inner = _add_sub_dag(small_spec)
    inner["outputs"] = {
        "parameters": {
            "out": {"valueFromParameter": {"producerSubtask": "ghost", "outputParameterKey": "Output"}}
        },
        "artifacts": {
            "art": {"artifactSelectors": [{"producerSubtask": "phantom", "outputArtifactKey": "a"}]}
        },
    }
    message = _rejected(small_spec)
    assert "component 'comp-inner' dag.outputs producerSubtask 'ghost'" in message
    assert "producerSubtask 'phantom'" in message


def test_cycle_in_root_dag_names_its_tasks(small_spec: dict[str, Any]) -> None:
    _tasks(small_spec)["produce"]["dependentTasks"] = ["consume"]
    assert "cycle in the DAG of root: 'consume' -> 'produce' -> 'consume'" in _rejected(small_spec)


def test_cycle_through_data_edges_is_found(small_spec: dict[str, Any]) -> None:
    _tasks(small_spec)["produce"]["inputs"]["parameters"]["text"] = {
        "taskOutputParameter": {"producerTask": "consume", "outputParameterKey": "Output"}
    }
    assert "cycle in the DAG of root" in _rejected(small_spec)


def test_cycle_in_a_nested_dag_is_found(small_spec: dict[str, Any]) -> None:
    inner = _add_sub_dag(small_spec)
    inner["tasks"]["produce"]["dependentTasks"] = ["consume"]
    assert "cycle in the DAG of component 'comp-inner': 'consume' -> 'produce' -> 'consume'" in _rejected(
        small_spec
    )


def test_component_containing_itself_is_rejected(small_spec: dict[str, Any]) -> None:
    inner = _add_sub_dag(small_spec)
    inner["tasks"]["again"] = {"taskInfo": {"name": "again"}, "componentRef": {"name": "comp-inner"}}
    assert "component contains itself: 'comp-inner' -> 'comp-inner'" in _rejected(small_spec)


def test_condition_on_importer_task_is_rejected(small_spec: dict[str, Any]) -> None:
    small_spec["deploymentSpec"]["executors"]["exec-produce"] = {
        "importer": {"artifactUri": {"constant": "s3://b/k"}, "typeSchema": {"schemaTitle": "system.Dataset"}}
    }
    _tasks(small_spec)["produce"]["triggerPolicy"] = {"condition": "true"}
    assert "task 'produce' in root: a condition on an importer task is not supported" in _rejected(small_spec)


def test_custom_job_executor_is_rejected(small_spec: dict[str, Any]) -> None:
    small_spec["deploymentSpec"]["executors"]["exec-produce"] = {
        "customJob": {"customJob": {"displayName": "x"}}
    }
    assert "executor 'exec-produce' is a customJob, which is deprecated and GCP-only" in _rejected(small_spec)


def test_all_problems_are_reported_together(small_spec: dict[str, Any]) -> None:
    small_spec["pipelineInfo"]["name"] = ""
    _tasks(small_spec)["produce"]["componentRef"]["name"] = "comp-missing"
    message = _rejected(small_spec)
    assert message.startswith("body: ")
    assert "pipelineInfo.name is required" in message and "undefined component 'comp-missing'" in message


def test_long_problem_lists_are_cut_short(small_spec: dict[str, Any]) -> None:
    for index in range(30):
        _tasks(small_spec)[f"t{index}"] = {
            "taskInfo": {"name": "t"},
            "componentRef": {"name": f"comp-missing-{index}"},
        }
    message = _rejected(small_spec)
    assert message.count("references undefined component") == 20
    assert message.endswith("and 10 more problems")
