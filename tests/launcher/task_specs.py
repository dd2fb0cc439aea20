"""Helpers for launcher tests: compile real components with the kfp SDK and build TaskSpecs from the IR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from chalicelib.task_contract import TaskResult, TaskSpec

REPO = Path(__file__).resolve().parents[2]


def compile_component(component: Any, directory: Path) -> dict[str, Any]:
    """The PipelineSpec dict the kfp compiler makes for one component."""
    from kfp import compiler

    package = directory / f"{component.name}.yaml"
    compiler.Compiler().compile(component, str(package))
    return yaml.safe_load(package.read_text())


def task_spec_from_ir(
    ir: dict[str, Any],
    pipeline_root: str,
    parameters: dict[str, Any] | None = None,
    artifacts: dict[str, list[dict[str, Any]]] | None = None,
    run_id: str = "run-1",
    attempt: int = 1,
) -> TaskSpec:
    """A TaskSpec for the single component of a compiled component package, outputs under pipeline_root."""
    (component_name, component), *_ = ir["components"].items()
    container = ir["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
    task_name = component_name.removeprefix("comp-")
    outputs = component.get("outputDefinitions", {})
    root = pipeline_root.rstrip("/")
    return TaskSpec(
        run_id=run_id,
        task_id=f"{task_name}-id",
        attempt=attempt,
        task_name=task_name,
        display_name=task_name,
        pipeline_name=ir["pipelineInfo"]["name"],
        pipeline_root=pipeline_root,
        container=container,
        input_definitions=component.get("inputDefinitions", {}),
        output_definitions=outputs,
        parameters=parameters or {},
        artifacts=artifacts or {},
        output_artifact_uris={
            name: f"{root}/{ir['pipelineInfo']['name']}/{run_id}/{task_name}/{name}"
            for name in outputs.get("artifacts", {})
        },
        run_create_time="2026-01-01T00:00:00Z",
    )


def launcher_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a step process gets: this venv's bin first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = str(REPO)
    env.update(extra or {})
    return env


def run_launcher(
    spec: TaskSpec, workdir: Path, *extra_args: str, env: dict[str, str] | None = None
) -> TaskResult:
    """Run `python -m chalicelib.launcher run` on `spec` and return the TaskResult it wrote."""
    workdir.mkdir(parents=True, exist_ok=True)
    task_file = workdir / "task.json"
    result_file = workdir / "result.json"
    task_file.write_text(spec.to_json())
    completed = subprocess.run(
        [sys.executable, "-m", "chalicelib.launcher", "run", "--task-file", str(task_file)]
        + ["--result-file", str(result_file), "--workdir", str(workdir), *extra_args],
        env=env or launcher_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (workdir / "launcher.log").write_text(completed.stdout + completed.stderr)
    return TaskResult.from_json(result_file.read_text())


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
