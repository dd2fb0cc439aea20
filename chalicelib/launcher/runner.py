"""One attempt end to end: prepare (inputs, executor_input, argv) → run the command → collect (outputs, result).

`run_task` does all three in one process (the local executor). A pod splits them: `prepare_task` in an init
container, the resolved argv in the user's container, `collect_task` in a sidecar; they share the workdir and
the `/s3` (`/gcs`, `/minio`) mount directories.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import os
import posixpath
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from chalicelib.launcher import python_steps, storage
from chalicelib.launcher.artifact_paths import local_path_of_artifact, local_path_of_uri
from chalicelib.launcher.errors import LauncherError
from chalicelib.launcher.executor_input import build_executor_input
from chalicelib.launcher.outputs import collect_outputs
from chalicelib.launcher.placeholders import PlaceholderValues, resolve_command, resolve_string
from chalicelib.launcher.python_env import ensure_package_dir, env_with_package_dir, split_pip_bootstrap
from chalicelib.task_contract import TaskResult, TaskSpec
from chalicelib.timestamps import now_text

logger = logging.getLogger(__name__)

LAUNCHER_ERROR_EXIT_CODE = 125  # the attempt failed in the launcher, not in the user command
COMMAND_NOT_FOUND_EXIT_CODE = 127
LOG_TAIL_LINES = 50
LOG_TAIL_BYTES = 64 * 1024
EXECUTOR_OUTPUT_NAME = "output_metadata.json"
EXECUTOR_INPUT_FILE = "executor_input.json"
ARGV_FILE = "argv.json"
ENV_FILE = "env.json"
COMMAND_SCRIPT_FILE = "command.sh"
STARTED_AT_FILE = "started_at"
PREWARMED_LOG_PREFIX = "prewarmed launcher (fork server):"
METRICS_SCHEMAS = frozenset(
    {"system.Metrics", "system.ClassificationMetrics", "system.SlicedClassificationMetrics"}
)
DEFAULT_PACKAGE_CACHE = Path.home() / ".cache" / "kfps" / "packages"


@dataclasses.dataclass(frozen=True)
class LauncherSettings:
    """How the launcher maps and runs things, built once from arguments and the environment.

    mount_root: where KFP's `/s3`, `/gcs`, `/minio` mount prefixes live (`/` in a pod).
    workspace_path: the local path of `{{$.workspace_path}}`.
    package_cache: where per-requirements package directories are kept (host Python only).
    host_python: strip the pip bootstrap and run with the host's `python3` (local processes); False in a pod,
        where the user's image runs the command as compiled.
    fork_python_steps: run a lightweight Python step in a fork of this process (`python_steps`); set by the
        local executor's fork server, whose interpreter has kfp preloaded.
    """

    package_cache: Path = DEFAULT_PACKAGE_CACHE
    mount_root: str = "/"
    workspace_path: str = "/kfp-workspace"
    host_python: bool = True
    fork_python_steps: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], **overrides: Any) -> LauncherSettings:
        """Settings from `KFPS_PACKAGE_CACHE` (or `KFPS_DATA_DIR/packages`), `KFPS_MOUNT_ROOT`,
        `KFPS_WORKSPACE_PATH`; keyword overrides win."""
        data_dir = environ.get("KFPS_DATA_DIR")
        cache = environ.get("KFPS_PACKAGE_CACHE") or (str(Path(data_dir) / "packages") if data_dir else "")
        values: dict[str, Any] = {
            "package_cache": Path(cache) if cache else DEFAULT_PACKAGE_CACHE,
            "mount_root": environ.get("KFPS_MOUNT_ROOT", "/"),
            "workspace_path": environ.get("KFPS_WORKSPACE_PATH", "/kfp-workspace"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def local_path_of(self, artifact: dict[str, Any]) -> str:
        return local_path_of_artifact(artifact, self.mount_root, self.workspace_path)


@dataclasses.dataclass(frozen=True)
class PreparedTask:
    """A task ready to run: its ExecutorInput, resolved argv and the extra environment of the command."""

    executor_input: dict[str, Any]
    argv: list[str]
    env: dict[str, str]


def now_utc() -> str:
    return now_text()


def task_root_uri(spec: TaskSpec) -> str:
    """The URI of the task's own output directory: the parent of its output artifacts, else one derived from
    the pipeline root. `dsl.get_uri()` maps the executor output file's directory back to this URI."""
    if spec.output_artifact_uris:
        return posixpath.dirname(sorted(spec.output_artifact_uris.values())[0].rstrip("/"))
    return posixpath.join(spec.pipeline_root, spec.pipeline_name, spec.run_id, spec.task_id)


def identity_values(spec: TaskSpec, settings: LauncherSettings) -> dict[str, str]:
    """Values of the run/task identity placeholders (`{{$.pipeline_job_name}}`, ...)."""
    return {
        "pipeline_job_name": spec.pipeline_name,
        "pipeline_job_resource_name": f"{spec.pipeline_name}-{spec.run_id}",
        "pipeline_job_uuid": spec.run_id,
        "pipeline_task_name": spec.task_name,
        "pipeline_task_uuid": spec.task_id,
        "pipeline_root": spec.pipeline_root,
        "pipeline_job_create_time_utc": spec.run_create_time,
        "pipeline_job_schedule_time_utc": spec.run_schedule_time or spec.run_create_time,
        "workspace_path": settings.workspace_path,
    }


def prepare_task(spec: TaskSpec, workdir: Path, settings: LauncherSettings) -> PreparedTask:
    """Build executor_input, clear stale outputs, fetch input artifacts, resolve the argv.

    Writes `executor_input.json`, `argv.json` (the resolved command as a JSON list), `env.json` (extra
    environment for the command) and `command.sh` (both as a shell script) into `workdir`.
    Raises `LauncherError` when the task cannot run.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / STARTED_AT_FILE).write_text(now_utc())
    output_file = os.path.join(
        local_path_of_uri(task_root_uri(spec), settings.mount_root), EXECUTOR_OUTPUT_NAME
    )
    executor_input = build_executor_input(spec, output_file)
    values = PlaceholderValues(
        executor_input, spec.input_definitions, identity_values(spec, settings), settings.local_path_of
    )
    parameter_values = executor_input["inputs"]["parameterValues"]
    for name, value in parameter_values.items():
        if isinstance(value, str) and "{{$" in value:
            parameter_values[name] = resolve_string(value, values, strict=False)

    _clear_outputs(executor_input, settings)
    for name, artifact_list in executor_input["inputs"]["artifacts"].items():
        for artifact in artifact_list["artifacts"]:
            logger.debug("fetching input artifact %s from %s", name, artifact["uri"])
            try:
                storage.fetch_input(artifact["uri"], settings.local_path_of(artifact))
            except LauncherError:
                # Metrics live in metadata; their producer usually writes no file, so none was stored.
                if (artifact.get("type") or {}).get("schemaTitle") not in METRICS_SCHEMAS:
                    raise

    container = spec.container
    argv = resolve_command([*container.get("command", []), *container.get("args", [])], values)
    if not argv:
        raise LauncherError("the container has neither command nor args; an image entrypoint cannot run here")
    env = {item["name"]: str(item.get("value", "")) for item in container.get("env", []) if "name" in item}
    env.update(spec.env)
    if settings.host_python:
        bootstrap, argv = split_pip_bootstrap(argv)
        if bootstrap is not None and bootstrap.requirements:
            package_dir = ensure_package_dir(bootstrap, settings.package_cache)
            env = env_with_package_dir({**os.environ, **env}, package_dir)
    (workdir / EXECUTOR_INPUT_FILE).write_text(json.dumps(executor_input, indent=1))
    (workdir / ARGV_FILE).write_text(json.dumps(argv))
    (workdir / ENV_FILE).write_text(json.dumps(env))
    (workdir / COMMAND_SCRIPT_FILE).write_text(command_script(argv, env))
    return PreparedTask(executor_input, argv, env)


def command_script(argv: list[str], env: Mapping[str, str]) -> str:
    """A `/bin/sh` script that sets `env` and execs `argv`, for images with a shell but no Python."""
    exports = "".join(
        f"export {name}={shlex.quote(value)}\n" for name, value in env.items() if name.isidentifier()
    )
    return f"#!/bin/sh\n{exports}exec {shlex.join(argv)}\n"


def _clear_outputs(executor_input: dict[str, Any], settings: LauncherSettings) -> None:
    """Remove what an earlier attempt may have left, and create the parents of every output path."""
    outputs = executor_input["outputs"]
    files = [outputs["outputFile"], *(p["outputFile"] for p in outputs["parameters"].values())]
    for file in files:
        Path(file).unlink(missing_ok=True)
        Path(file).parent.mkdir(parents=True, exist_ok=True)
    for artifact_list in outputs["artifacts"].values():
        for artifact in artifact_list["artifacts"]:
            Path(settings.local_path_of(artifact)).parent.mkdir(parents=True, exist_ok=True)


def run_command(argv: list[str], env: Mapping[str, str], cwd: Path) -> tuple[int, str]:
    """Run `argv`, teeing its combined stdout/stderr to our stdout; return (exit code, log tail)."""
    sys.stdout.flush()
    try:
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(env), cwd=cwd
        )
    except OSError as error:
        message = f"cannot start {argv[0]!r}: {error}"
        logger.error(message)
        return COMMAND_NOT_FOUND_EXIT_CODE, message
    assert process.stdout is not None
    tail = tee_to_stdout(process.stdout)
    return process.wait(), tail


def tee_to_stdout(stream: BinaryIO) -> str:
    """Copy `stream` to our stdout as it comes until it ends; return its last lines."""
    tail: collections.deque[bytes] = collections.deque()
    tail_size = 0
    out = sys.stdout.buffer
    while chunk := stream.read1(65536):
        out.write(chunk)
        out.flush()
        tail.append(chunk)
        tail_size += len(chunk)
        while tail_size - len(tail[0]) > LOG_TAIL_BYTES:
            tail_size -= len(tail.popleft())
    return last_lines(b"".join(tail).decode(errors="replace"))


def run_step(
    argv: list[str], env: Mapping[str, str], cwd: Path, settings: LauncherSettings
) -> tuple[int, str]:
    """Run the resolved command: a lightweight Python step in a fork of this (prewarmed) process when
    `settings.fork_python_steps` allows and this interpreter would run it identically, else as a command.
    A prewarmed launcher logs which way it went (`PREWARMED_LOG_PREFIX`)."""
    if not settings.fork_python_steps:
        return run_command(argv, env, cwd)
    step = python_steps.step_of(argv)
    if step is None or not python_steps.runs_in_this_interpreter(env):
        logger.info("%s the step runs as a command", PREWARMED_LOG_PREFIX)
        return run_command(argv, env, cwd)
    logger.info("%s the Python step runs in a fork, kfp preloaded", PREWARMED_LOG_PREFIX)
    return python_steps.run_python_step(step, env, cwd, tee_to_stdout)


def last_lines(text: str, count: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.rstrip("\n").splitlines()[-count:])


def collect_task(
    spec: TaskSpec,
    executor_input: dict[str, Any],
    exit_code: int,
    settings: LauncherSettings,
    log_tail: str = "",
    started_at: str = "",
) -> TaskResult:
    """The TaskResult of a command that ended with `exit_code`: outputs read and stored when it succeeded."""
    finished_at = now_utc()
    if exit_code != 0:
        return TaskResult(
            exit_code,
            error=f"exit code {exit_code}",
            log_tail=log_tail,
            started_at=started_at,
            finished_at=finished_at,
        )
    try:
        collected = collect_outputs(executor_input, spec.output_definitions, settings.local_path_of)
        for transfer in collected.transfers:
            storage.store_output(transfer.source_path, transfer.uri, transfer.local_path)
    except LauncherError as error:
        logger.error("%s", error)
        return TaskResult(
            LAUNCHER_ERROR_EXIT_CODE,
            error=str(error),
            log_tail=log_tail,
            started_at=started_at,
            finished_at=finished_at,
        )
    return TaskResult(
        0,
        parameters=collected.parameters,
        artifacts=collected.artifacts,
        log_tail=log_tail,
        started_at=started_at,
        finished_at=now_utc(),
    )


def launcher_failure(error: LauncherError, started_at: str) -> TaskResult:
    """The result of an attempt the launcher could not run (logged; the message is also the log tail)."""
    logger.error("%s", error)
    return TaskResult(
        LAUNCHER_ERROR_EXIT_CODE,
        error=str(error),
        log_tail=str(error),
        started_at=started_at,
        finished_at=now_utc(),
    )


def run_task(spec: TaskSpec, workdir: Path, settings: LauncherSettings) -> TaskResult:
    """Prepare, run and collect one attempt in this process; launcher failures become failed results."""
    if spec.is_argo_step:
        from chalicelib.launcher import argo_local

        return argo_local.run_step(spec, workdir)
    started_at = now_utc()
    if settings.host_python:
        logger.info("image %r is ignored: the command runs on this host", spec.container.get("image", ""))
    try:
        prepared = prepare_task(spec, workdir, settings)
    except LauncherError as error:
        return launcher_failure(error, started_at)
    exit_code, log_tail = run_step(prepared.argv, {**os.environ, **prepared.env}, workdir, settings)
    return collect_task(spec, prepared.executor_input, exit_code, settings, log_tail, started_at)


def default_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="kfps-task-"))
