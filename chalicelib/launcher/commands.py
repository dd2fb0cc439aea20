"""The launcher subcommands behind `__main__`: read the task, call `runner`, write the result."""

from __future__ import annotations

import argparse
import json
import logging
import os
import traceback
from pathlib import Path

from chalicelib.launcher import argo_step, runner, storage
from chalicelib.launcher.errors import LauncherError
from chalicelib.task_contract import TaskResult, TaskSpec

logger = logging.getLogger(__name__)


def dispatch(arguments: argparse.Namespace) -> int:
    """Run the parsed subcommand; return the process exit code."""
    handler = {"run": run, "prepare": prepare, "collect": collect}[arguments.command]
    return handler(arguments)


def settings_of(arguments: argparse.Namespace, host_python: bool) -> runner.LauncherSettings:
    return runner.LauncherSettings.from_environ(
        os.environ,
        package_cache=getattr(arguments, "package_cache", None),
        mount_root=getattr(arguments, "mount_root", None),
        host_python=host_python,
        fork_python_steps=getattr(arguments, "fork_python_steps", False),
    )


def write_result(location: str, result: TaskResult) -> None:
    storage.write_text(location, result.to_json())


def run(arguments: argparse.Namespace) -> int:
    """Prepare, run and collect; a TaskResult is written whatever happens."""
    started_at = runner.now_utc()
    try:
        spec = TaskSpec.from_json(storage.read_text(arguments.task_file))
        workdir = arguments.workdir or runner.default_workdir()
        result = runner.run_task(spec, workdir, settings_of(arguments, host_python=True))
    except Exception as error:  # noqa: BLE001 - any crash must still produce a failed result
        logger.error("launcher crashed: %s\n%s", error, traceback.format_exc())
        result = TaskResult(
            runner.LAUNCHER_ERROR_EXIT_CODE,
            error=f"launcher crashed: {error}",
            log_tail=traceback.format_exc(limit=5),
            started_at=started_at,
            finished_at=runner.now_utc(),
        )
    write_result(arguments.result_file, result)
    return 0


def prepare(arguments: argparse.Namespace) -> int:
    """Write executor_input.json and argv.json into the workdir; exit code 1 when the task cannot run."""
    spec = TaskSpec.from_json(storage.read_text(arguments.task_file))
    try:
        if spec.is_argo_step:
            _prepare_argo_step(spec, arguments.workdir)
        else:
            runner.prepare_task(
                spec, arguments.workdir, settings_of(arguments, host_python=arguments.host_python)
            )
    except LauncherError as error:
        logger.error("%s", error)
        (arguments.workdir / "prepare_error").write_text(str(error))
        return 1
    return 0


def _prepare_argo_step(spec: TaskSpec, workdir: Path) -> None:
    """A KFP v1 step in a pod: stage its inputs and write argv.json / env.json for the pod's wrapper."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / runner.STARTED_AT_FILE).write_text(runner.now_utc())
    argv, env = argo_step.prepare_step(spec, workdir)
    (workdir / runner.ARGV_FILE).write_text(json.dumps(argv))
    (workdir / runner.ENV_FILE).write_text(json.dumps(env))


def collect(arguments: argparse.Namespace) -> int:
    """Read the outputs of a command that ended with --exit-code and write the TaskResult."""
    spec = TaskSpec.from_json(storage.read_text(arguments.task_file))
    workdir: Path = arguments.workdir
    started_at_file = workdir / runner.STARTED_AT_FILE
    started_at = started_at_file.read_text() if started_at_file.exists() else ""
    log_tail = ""
    if arguments.log_file is not None and arguments.log_file.exists():
        log_tail = runner.last_lines(arguments.log_file.read_text(errors="replace"))
    prepare_error = workdir / "prepare_error"
    if prepare_error.exists():
        error = prepare_error.read_text()
        result = TaskResult(
            runner.LAUNCHER_ERROR_EXIT_CODE,
            error=error,
            log_tail=log_tail or error,
            started_at=started_at,
            finished_at=runner.now_utc(),
        )
    elif spec.is_argo_step:
        result = argo_step.collect_step(
            spec, workdir, arguments.exit_code, log_tail, started_at, runner.now_utc()
        )
    else:
        executor_input = json.loads((workdir / runner.EXECUTOR_INPUT_FILE).read_text())
        settings = settings_of(arguments, host_python=False)
        result = runner.collect_task(
            spec, executor_input, arguments.exit_code, settings, log_tail, started_at
        )
    write_result(arguments.result_file, result)
    return 0
