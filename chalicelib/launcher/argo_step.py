"""One attempt of a KFP v1 step (an Argo container template), the same way in a process and in a pod.

`prepare_step` stages the input artifacts under `<workdir>/argo/inputs/` (downloaded and unpacked; `raw` data
written) and writes `<workdir>/argo/step.sh`, a POSIX-sh script the user's image runs: it copies each input to
its fixed path (`/tmp/inputs/<name>/data`, ...), runs the command, and copies each output path to
`<workdir>/argo/outputs/` whatever the exit code, so `collect_step` can read them afterwards — from the pod's
shared volume (the `kfp-collect` container) or from the same directory (a local process). The script needs
`/bin/sh`, `mkdir`, `rm` and `cp`.

`collect_step` turns the copied outputs into the result: output parameters are the files' text without one
trailing newline (`valueFrom.default` when the file is missing, else the attempt fails), output artifacts are
gzipped tars (or the raw file with `archive: none`) stored at their pre-assigned URIs.

Locally (`run_step`) the script runs inside a private mount namespace (`private_view`), so parallel steps and
loop iterations never see each other's `/tmp/...` files.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import shlex
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chalicelib.launcher import argo_archives, storage
from chalicelib.launcher.errors import LauncherError
from chalicelib.task_contract import TaskResult, TaskSpec

logger = logging.getLogger(__name__)

STAGE_DIR = "argo"
STEP_SCRIPT = "step.sh"
PLACE_FAILED_EXIT_CODE = 125


def stage_dir(workdir: Path) -> Path:
    return workdir / STAGE_DIR


def container_env(container: Mapping[str, Any]) -> dict[str, str]:
    """The container's plain `env` values (valueFrom entries are the pod's to resolve)."""
    return {
        str(item["name"]): str(item.get("value", ""))
        for item in container.get("env") or []
        if "name" in item and "valueFrom" not in item
    }


def container_argv(container: Mapping[str, Any]) -> list[str]:
    argv = [str(part) for part in [*(container.get("command") or []), *(container.get("args") or [])]]
    if not container.get("command"):
        raise LauncherError(
            "the container has no command: the image's entrypoint cannot be looked up here; "
            "give the step a command"
        )
    return argv


def _fetch(entry: Mapping[str, Any], target: Path) -> None:
    """Put one input artifact's data at `target` (a file or a directory)."""
    if "raw" in entry:
        target.write_text(str(entry["raw"]))
        return
    uri = str(entry["uri"])
    download = target.with_name(target.name + ".download")
    if uri.startswith(storage.S3_PREFIX):
        storage.fetch_input(uri, str(download))
    elif "://" in uri:
        raise LauncherError(
            f"input artifact {entry['name']!r}: {uri} cannot be read here (only s3:// and paths)"
        )
    elif Path(uri).is_dir():
        shutil.copytree(uri, download)
    elif Path(uri).exists():
        shutil.copyfile(uri, download)
    else:
        raise LauncherError(f"input artifact {entry['name']!r}: {uri} does not exist")
    if download.is_file() and argo_archives.is_tar_gz(download):
        argo_archives.unpack(download, target)
        download.unlink()
    else:
        download.rename(target)


def step_script(step: Mapping[str, Any]) -> str:
    """The POSIX-sh script that places inputs, runs `"$@"` and copies outputs out (see the module docstring).

    It runs with `KFP_STEP_DIR` (the stage directory; `.` when its cwd already is) and, optionally,
    `KFP_STEP_CWD` (where the command runs; default: the directory the script started in).
    """
    lines = [
        "#!/bin/sh",
        "# A KFP v1 step: put the input artifacts at their paths, run the command, copy the outputs out.",
        'kfp_cwd="${KFP_STEP_CWD:-$(pwd)}"',
        # No `cd .`: sh would re-resolve the directory by its path, which a private view may have covered.
        '[ "${KFP_STEP_DIR:-.}" = . ] || cd "$KFP_STEP_DIR" || exit 125',
    ]
    for index, entry in enumerate(step.get("input_artifacts") or []):
        path = str(entry.get("path") or "")
        if not path:
            continue
        quoted, parent = shlex.quote(path), shlex.quote(posixpath.dirname(path.rstrip("/")) or "/")
        lines.append(
            f"mkdir -p {parent} && rm -rf {quoted} && cp -R inputs/{index} {quoted} || "
            f"{{ echo 'cannot place input artifact {entry['name']} at '{quoted} >&2; exit {PLACE_FAILED_EXIT_CODE}; }}"
        )
        if entry.get("mode") is not None:
            lines.append(f"chmod {int(entry['mode']):o} {quoted}")
    lines += ['(cd "$kfp_cwd" && exec "$@")', "kfp_rc=$?", "mkdir -p outputs"]
    for index, path in enumerate(_output_paths(step)):
        quoted = shlex.quote(path)
        lines.append(f"if [ -e {quoted} ]; then rm -rf outputs/{index}; cp -R {quoted} outputs/{index}; fi")
    lines.append('exit "$kfp_rc"')
    return "\n".join(lines) + "\n"


def _output_paths(step: Mapping[str, Any]) -> list[str]:
    """Every path the step's outputs are read from, in a fixed order (parameters, then artifacts)."""
    paths = [str(entry["path"]) for entry in step.get("output_parameters") or [] if entry.get("path")]
    paths += [str(entry["path"]) for entry in step.get("output_artifacts") or [] if entry.get("path")]
    return list(dict.fromkeys(paths))


def prepare_step(
    spec: TaskSpec, workdir: Path, stage: Path | None = None
) -> tuple[list[str], dict[str, str]]:
    """Stage inputs and write step.sh; return the argv that runs the step and the command's environment.

    `stage` is the stage directory as the command will see it (default `<workdir>/argo`). Raises
    LauncherError when an input cannot be fetched or the container has no command.
    """
    step = spec.argo_step
    local_stage = stage_dir(workdir)
    if local_stage.exists():
        shutil.rmtree(local_stage)
    (local_stage / "inputs").mkdir(parents=True)
    (local_stage / "outputs").mkdir()
    for index, entry in enumerate(step.get("input_artifacts") or []):
        logger.info("input artifact %s from %s", entry["name"], entry.get("uri", "(raw data)"))
        _fetch(entry, local_stage / "inputs" / str(index))
    script = local_stage / STEP_SCRIPT
    script.write_text(step_script(step))
    argv = ["/bin/sh", str((stage or local_stage) / STEP_SCRIPT), *container_argv(step["container"])]
    env = container_env(step["container"])
    env["KFP_STEP_DIR"] = str(stage or local_stage)
    return argv, env


def collect_step(
    spec: TaskSpec,
    workdir: Path,
    exit_code: int,
    log_tail: str = "",
    started_at: str = "",
    finished_at: str = "",
) -> TaskResult:
    """The attempt's result from the outputs step.sh copied out (see the module docstring)."""
    common = {"log_tail": log_tail, "started_at": started_at, "finished_at": finished_at}
    if exit_code != 0:
        return TaskResult(exit_code, error=f"exit code {exit_code}", **common)
    step = spec.argo_step
    outputs = stage_dir(workdir) / "outputs"
    copied = {path: outputs / str(index) for index, path in enumerate(_output_paths(step))}
    try:
        parameters = _parameters(step, copied)
        artifacts = _artifacts(step, copied)
    except LauncherError as error:
        logger.error("%s", error)
        return TaskResult(PLACE_FAILED_EXIT_CODE, error=str(error), **common)
    return TaskResult(0, parameters=parameters, artifacts=artifacts, **common)


def _parameters(step: Mapping[str, Any], copied: Mapping[str, Path]) -> dict[str, str]:
    values = {}
    for entry in step.get("output_parameters") or []:
        name = entry["name"]
        if "value" in entry:
            values[name] = str(entry["value"])
            continue
        if not entry.get("path"):
            continue
        file = copied[entry["path"]]
        if file.is_file():
            text = file.read_bytes().decode(errors="replace")
            values[name] = text.removesuffix("\n")
        elif "default" in entry:
            values[name] = str(entry["default"])
        elif file.is_dir():
            raise LauncherError(f"output parameter {name!r}: {entry['path']} is a directory, not a file")
        else:
            raise LauncherError(f"output parameter {name!r}: the step wrote no file at {entry['path']}")
    return values


def _artifacts(step: Mapping[str, Any], copied: Mapping[str, Path]) -> dict[str, list[dict[str, Any]]]:
    artifacts: dict[str, list[dict[str, Any]]] = {}
    for entry in step.get("output_artifacts") or []:
        source = copied.get(entry["path"])
        if source is None or not source.exists():
            if entry.get("optional"):
                continue
            raise LauncherError(
                f"output artifact {entry['name']!r}: the step wrote nothing at {entry['path']}"
            )
        uri = str(entry["uri"])
        if entry.get("archive") == "none":
            storage.store_output(str(source), uri, uri)
        else:
            named = source.with_name(posixpath.basename(str(entry["path"]).rstrip("/")) or "data")
            with tempfile.TemporaryDirectory(dir=source.parent) as scratch:
                renamed = Path(scratch) / named.name
                source.rename(renamed)
                data = argo_archives.pack(renamed)
                renamed.rename(source)
            _store_bytes(data, uri)
        artifacts[entry["name"]] = [
            {"name": entry["name"], "uri": uri, "metadata": {"archive": entry.get("archive", "tgz")}}
        ]
    return artifacts


def _store_bytes(data: bytes, uri: str) -> None:
    if uri.startswith(storage.S3_PREFIX):
        bucket, key = storage.split_s3_uri(uri)
        storage.s3_client().put_object(Bucket=bucket, Key=key, Body=data)
        return
    if "://" in uri:
        raise LauncherError(f"cannot store an artifact at {uri}: only local paths and s3:// are writable")
    target = Path(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.replace(temp, target)


def describe(spec: TaskSpec) -> str:
    """One line for the log: the template and its image."""
    return json.dumps({"template": spec.argo_step.get("template"), "image": spec.container.get("image", "")})
