"""Hand-built PipelineSpec dicts for engine tests, shaped like the SDK's compiled output."""

from __future__ import annotations

from typing import Any

DATASET = {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"}


def parameter(parameter_type: str, default: Any = None, optional: bool = False) -> dict[str, Any]:
    definition: dict[str, Any] = {"parameterType": parameter_type}
    if default is not None:
        definition["defaultValue"] = default
        optional = True
    if optional:
        definition["isOptional"] = True
    return definition


def definitions(
    parameters: dict[str, Any] | None = None, artifacts: dict[str, Any] | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if parameters:
        result["parameters"] = {
            name: value if isinstance(value, dict) else {"parameterType": value}
            for name, value in parameters.items()
        }
    if artifacts:
        result["artifacts"] = {
            name: value if isinstance(value, dict) else {"artifactType": DATASET}
            for name, value in artifacts.items()
        }
    return result


def const(value: Any) -> dict[str, Any]:
    return {"runtimeValue": {"constant": value}}


def comp_in(name: str) -> dict[str, Any]:
    return {"componentInputParameter": name}


def out(producer: str, key: str = "Output") -> dict[str, Any]:
    return {"taskOutputParameter": {"producerTask": producer, "outputParameterKey": key}}


def art_in(name: str) -> dict[str, Any]:
    return {"componentInputArtifact": name}


def art_out(producer: str, key: str) -> dict[str, Any]:
    return {"taskOutputArtifact": {"producerTask": producer, "outputArtifactKey": key}}


def task(
    component: str,
    parameters: dict[str, Any] | None = None,
    artifacts: dict[str, Any] | None = None,
    after: list[str] | None = None,
    display: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    result: dict[str, Any] = {"componentRef": {"name": component}, "taskInfo": {"name": display or component}}
    inputs: dict[str, Any] = {}
    if parameters:
        inputs["parameters"] = parameters
    if artifacts:
        inputs["artifacts"] = artifacts
    if inputs:
        result["inputs"] = inputs
    producers = [
        source["taskOutputParameter"]["producerTask"]
        for source in (parameters or {}).values()
        if "taskOutputParameter" in source
    ] + [
        source["taskOutputArtifact"]["producerTask"]
        for source in (artifacts or {}).values()
        if "taskOutputArtifact" in source
    ]
    dependent = list(dict.fromkeys([*(after or []), *producers]))
    if dependent:
        result["dependentTasks"] = dependent
    result.update(extra)
    return result


class SpecBuilder:
    """Collects components and executors; `build(tasks, ...)` returns the spec dict."""

    def __init__(self, name: str = "test-pipeline") -> None:
        self.name = name
        self.components: dict[str, Any] = {}
        self.executors: dict[str, Any] = {}

    def container(
        self,
        name: str,
        inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
        artifact_inputs: dict[str, Any] | None = None,
        artifact_outputs: dict[str, Any] | None = None,
        image: str = "python:3.11",
        env: dict[str, str] | None = None,
    ) -> str:
        container: dict[str, Any] = {"image": image, "command": ["sh", "-c"], "args": ["echo {{$}}"]}
        if env:
            container["env"] = [{"name": key, "value": value} for key, value in env.items()]
        self.executors[f"exec-{name}"] = {"container": container}
        self.components[f"comp-{name}"] = {
            "executorLabel": f"exec-{name}",
            "inputDefinitions": definitions(inputs, artifact_inputs),
            "outputDefinitions": definitions(outputs, artifact_outputs),
        }
        return f"comp-{name}"

    def importer(
        self, name: str, artifact_uri: dict[str, Any], inputs: dict[str, Any] | None = None, metadata=None
    ) -> str:
        self.executors[f"exec-{name}"] = {
            "importer": {"artifactUri": artifact_uri, "typeSchema": DATASET, "metadata": metadata or {}}
        }
        self.components[f"comp-{name}"] = {
            "executorLabel": f"exec-{name}",
            "inputDefinitions": definitions(inputs),
            "outputDefinitions": definitions(artifacts={"artifact": "Dataset"}),
        }
        return f"comp-{name}"

    def dag(
        self,
        name: str,
        tasks: dict[str, Any],
        inputs: dict[str, Any] | None = None,
        artifact_inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
        output_definitions: dict[str, Any] | None = None,
    ) -> str:
        dag: dict[str, Any] = {"tasks": tasks}
        if outputs:
            dag["outputs"] = outputs
        self.components[f"comp-{name}"] = {
            "dag": dag,
            "inputDefinitions": definitions(inputs, artifact_inputs),
            "outputDefinitions": output_definitions or {},
        }
        return f"comp-{name}"

    def build(
        self,
        tasks: dict[str, Any],
        inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
        output_definitions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        dag: dict[str, Any] = {"tasks": tasks}
        if outputs:
            dag["outputs"] = outputs
        return {
            "pipelineInfo": {"name": self.name},
            "components": self.components,
            "deploymentSpec": {"executors": self.executors},
            "root": {
                "dag": dag,
                "inputDefinitions": definitions(inputs),
                "outputDefinitions": output_definitions or {},
            },
            "schemaVersion": "2.1.0",
            "sdkVersion": "kfp-2.17.3",
        }


def parameter_output(producer: str, key: str = "Output") -> dict[str, Any]:
    return {"valueFromParameter": {"producerSubtask": producer, "outputParameterKey": key}}


def one_of(*selectors: tuple[str, str]) -> dict[str, Any]:
    return {
        "valueFromOneof": {
            "parameterSelectors": [
                {"producerSubtask": task, "outputParameterKey": key} for task, key in selectors
            ]
        }
    }


def artifact_output(*selectors: tuple[str, str]) -> dict[str, Any]:
    return {
        "artifactSelectors": [{"producerSubtask": task, "outputArtifactKey": key} for task, key in selectors]
    }
