"""Submitting SDK pipelines through kfp.Client, and reading back what a finished run produced."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from run_waiting import only_task, tasks_by_name

EXPERIMENT = "conformance"


def _without_caching(documents: list[dict[str, Any]]) -> None:
    """Turn caching off for every task of every DAG (kfp.Client's `enable_caching=False` only reaches the root
    DAG's tasks, so tasks in loops and sub-pipelines would hit results of earlier tests)."""
    spec = documents[0]
    dags = [spec["root"].get("dag") or {}] + [
        c.get("dag") or {} for c in (spec.get("components") or {}).values()
    ]
    for dag in dags:
        for task in (dag.get("tasks") or {}).values():
            task["cachingOptions"] = {}


def submit(
    kfp_client: Any,
    pipeline_func: Callable[..., Any],
    arguments: dict[str, Any] | None = None,
    enable_caching: bool = False,
) -> str:
    """Compile and start `pipeline_func` (caching off for every task unless `enable_caching`); the run id."""
    from kfp import compiler

    with tempfile.TemporaryDirectory() as tmp:
        package = Path(tmp) / "pipeline.yaml"
        compiler.Compiler().compile(pipeline_func, str(package))
        if not enable_caching:
            documents = [document for document in yaml.safe_load_all(package.read_text()) if document]
            _without_caching(documents)
            package.write_text(yaml.safe_dump_all(documents))
        experiment = kfp_client.create_experiment(EXPERIMENT)
        result = kfp_client.run_pipeline(
            experiment.experiment_id,
            pipeline_func.name,
            pipeline_package_path=str(package),
            params=arguments or {},
            enable_caching=enable_caching,
        )
    return result.run_id


def pipeline_outputs(run: dict[str, Any]) -> dict[str, Any]:
    """The run's root output parameters (the root task's `output_parameters`)."""
    roots = [task for task in run["run_details"]["task_details"] if not task.get("parent_task_id")]
    assert len(roots) == 1, roots
    return roots[0].get("output_parameters", {})


def output_parameter(run: dict[str, Any], display_name: str, name: str = "Output") -> Any:
    return only_task(run, display_name).get("output_parameters", {})[name]


def output_artifacts(run: dict[str, Any], display_name: str, name: str) -> list[dict[str, Any]]:
    return only_task(run, display_name)["outputs"][name]["artifacts"]


def artifact_text(artifact: dict[str, Any]) -> str:
    """The text of an artifact: an object in the stack's bucket (`s3://`, the Kubernetes executor's pipeline
    root) or a file under the local executor's pipeline root."""
    uri = artifact["uri"]
    if uri.startswith("s3://"):
        from chalicelib import runtime

        _, _, key = uri.removeprefix("s3://").partition("/")
        return runtime.current().store.objects.get_bytes(key).decode()
    return Path(uri.removeprefix("file://")).read_text()


def states(run: dict[str, Any]) -> dict[str, list[str]]:
    """Task states by display name."""
    return {name: sorted(task["state"] for task in tasks) for name, tasks in tasks_by_name(run).items()}
