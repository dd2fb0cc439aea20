"""Lightweight Python steps run in a fork of a prewarmed launcher instead of a fresh `python3`.

A lightweight component's command, once its pip bootstrap is stripped (`python_env`), is
`sh -ec <kfp's program> <component source> --executor_input ... --function_to_execute f`; the program writes the
source to `$(mktemp -d)/ephemeral_component.py` and runs `_KFP_RUNTIME=true python3 -m kfp.dsl.executor_main
--component_module_path <that file> "$@"`. A fresh interpreter spends ~0.3–0.9 s importing kfp for this. In the
local executor's fork server (`chalicelib.executors.fork_server`) kfp is already imported, so `run_python_step`
does the same in a forked child of the launcher: same file, argv, environment, cwd, stdio and exit code.

Only a step this interpreter would run identically takes that path (`step_of` + `runs_in_this_interpreter`):
the exact program kfp 2.x compiles, no packages to install, `python3` on the step's PATH is this interpreter
(same venv bin directory), and the variables read at interpreter start (`PYTHON*`, locale, `TZ`, `LD_*`,
`HOME`, `TMPDIR`, ...) are the ones this interpreter started with. Anything else runs as a plain command.
Known differences, documented: modules the launcher imported (kfp, chalicelib) are already in `sys.modules`,
and the string hash seed is the fork server's, shared by all forked steps.
"""

from __future__ import annotations

import atexit
import builtins
import dataclasses
import io
import logging
import os
import re
import runpy
import shutil
import signal
import sys
import tempfile
import threading
import traceback
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from chalicelib.launcher.python_env import split_pip_bootstrap

EXECUTOR_MAIN_MODULE = "kfp.dsl.executor_main"
MODULE_FILE_NAME = "ephemeral_component.py"
# The program of kfp 2.x's lightweight components (kfp/dsl/component_factory.py), whitespace collapsed.
KFP_PROGRAM = (
    'program_path=$(mktemp -d) printf "%s" "$0" > "$program_path/ephemeral_component.py" '
    "_KFP_RUNTIME=true python3 -m kfp.dsl.executor_main --component_module_path "
    '"$program_path/ephemeral_component.py" "$@"'
)
SHELLS = frozenset({"sh", "/bin/sh"})
_WHITESPACE = re.compile(r"\s+")
# Variables an interpreter reads once at start (or that change how `python3` is found and loaded).
_START_PREFIXES = ("PYTHON", "LC_", "LD_", "MALLOC_")
_START_NAMES = frozenset({"LANG", "LANGUAGE", "TZ", "HOME", "TMPDIR", "VIRTUAL_ENV"})
EXIT_STATUS_OF_FLUSH_FAILURE = 120  # what CPython exits with when flushing stdout fails at exit


def interpreter_start_env(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of `env` that an interpreter reads when it starts."""
    return {
        name: value for name, value in env.items() if name.startswith(_START_PREFIXES) or name in _START_NAMES
    }


# This interpreter's own start environment: the fork server imports this module while it preloads, so these
# are the variables the forked steps' interpreter really started with.
STARTED_WITH = interpreter_start_env(os.environ)


@dataclasses.dataclass(frozen=True)
class PythonStep:
    """A lightweight component's step: its source and the arguments after it (`--executor_input ...`)."""

    source: str
    arguments: tuple[str, ...]


def step_of(argv: Sequence[str]) -> PythonStep | None:
    """The step when `argv` (pip bootstrap already stripped) is exactly kfp's lightweight program, else None."""
    if len(argv) < 4 or argv[0] not in SHELLS or argv[1] != "-ec":
        return None
    if _WHITESPACE.sub(" ", argv[2].replace("\\\n", " ")).strip() != KFP_PROGRAM:
        return None
    return PythonStep(source=argv[3], arguments=tuple(argv[4:]))


def is_prewarmable(container: Mapping[str, Any], task_env: Mapping[str, str]) -> bool:
    """Whether the prewarmed launcher may take this container task: a kfp lightweight step whose bootstrap
    installs nothing but kfp, and whose own environment (container `env` + task env) sets nothing an
    interpreter reads at start, nor PATH. Decided before placeholders are resolved; the launcher decides again
    on the resolved command (`runs_in_this_interpreter`)."""
    argv = [*container.get("command", []), *container.get("args", [])]
    bootstrap, rest = split_pip_bootstrap(argv)
    if bootstrap is not None and bootstrap.requirements:
        return False
    env = {str(item.get("name", "")): str(item.get("value", "")) for item in container.get("env") or []}
    env.update(task_env)
    return step_of(rest) is not None and not interpreter_start_env(env) and "PATH" not in env


def runs_in_this_interpreter(env: Mapping[str, str]) -> bool:
    """True when a step with environment `env` would get this very interpreter: `python3` on its PATH lives
    in this interpreter's bin directory and is the same file, and its start variables are the ones this
    interpreter started with."""
    found = shutil.which("python3", path=env.get("PATH", ""))
    if found is None:
        return False
    this = Path(sys.executable)
    same_file = os.path.realpath(found) == os.path.realpath(this)
    return same_file and Path(found).parent == this.parent and interpreter_start_env(env) == STARTED_WITH


def run_python_step(
    step: PythonStep, env: Mapping[str, str], cwd: Path, tee: Callable[[BinaryIO], str]
) -> tuple[int, str]:
    """Run the step in a forked child of this process, its combined stdout/stderr passed through `tee`
    (which copies it to our stdout and returns the log tail); return (exit code, log tail) like a command.

    The child does what the shell program and a fresh `python3 -m kfp.dsl.executor_main` would: the source
    written to a new temporary directory, `_KFP_RUNTIME=true` and the shell's `PWD` in its environment, cwd,
    `sys.argv`, `sys.path[0]`, fresh stdio and logging, then the interpreter's exit steps. A child killed by a
    signal reports 128 + the signal number, as the shell does."""
    program_dir = Path(tempfile.mkdtemp(prefix="tmp.", dir=env.get("TMPDIR") or "/tmp"))  # as `mktemp -d`
    module_path = program_dir / MODULE_FILE_NAME
    module_path.write_text(step.source)
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns (coverage cannot see it either)
        status = 1
        try:
            os.close(read_end)
            status = _run_in_child(step, module_path, env, cwd, write_end)
        except BaseException:  # noqa: BLE001 - nothing may unwind into the launcher in the child
            traceback.print_exc()
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as stream:
        tail = tee(stream)
    _, wait_status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(wait_status)
    return (128 - code if code < 0 else code), tail


def _run_in_child(step: PythonStep, module_path: Path, env: Mapping[str, str], cwd: Path, output: int) -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    os.chdir(cwd)
    python3 = shutil.which("python3", path=env.get("PATH", "")) or sys.executable
    child_env = dict(env)
    child_env["PWD"] = _shell_pwd(env.get("PWD", ""))
    child_env["_KFP_RUNTIME"] = "true"
    os.environ.clear()
    os.environ.update(child_env)
    tempfile.tempdir = None
    reopen_stdio()
    reset_logging()
    sys.executable = python3
    sys.path[0] = os.getcwd()
    sys.argv = ["-m", "--component_module_path", str(module_path), *step.arguments]  # [0] set by runpy
    # What `python3 -m` does: the module runs as a fresh __main__ (and is not imported under its own name).
    sys.modules.pop(EXECUTOR_MAIN_MODULE, None)
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    try:
        runpy._run_module_as_main(EXECUTOR_MAIN_MODULE, alter_argv=True)  # type: ignore[attr-defined]
        code = 0
    except SystemExit as stop:
        code = _exit_code_of(stop.code)
    except BaseException as error:  # noqa: BLE001 - an uncaught exception: the interpreter prints it, exits 1
        # from runpy's frame down, as the interpreter shows it (this function's frame is not the user's)
        trimmed = error.__traceback__.tb_next if error.__traceback__ else None
        sys.excepthook(type(error), error.with_traceback(trimmed), trimmed)
        code = 1
    return finish_like_interpreter(code)


def _shell_pwd(inherited: str) -> str:
    """What `sh` exports as PWD: the inherited value when it names the current directory, else getcwd()."""
    try:
        if inherited and os.path.samefile(inherited, "."):
            return inherited
    except OSError:
        pass
    return os.getcwd()


def _exit_code_of(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def reopen_stdio() -> None:
    """New `sys.stdin/stdout/stderr` on fds 0–2, set up as a fresh interpreter would (same encoding and
    errors; stderr line-buffered; write-through under `-u`/PYTHONUNBUFFERED)."""
    unbuffered = bool(STARTED_WITH.get("PYTHONUNBUFFERED")) or "-u" in sys.orig_argv[1:2]
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        original = getattr(sys, f"__{name}__") or getattr(sys, name)
        encoding = getattr(original, "encoding", None) or "utf-8"
        errors = getattr(original, "errors", None) or "strict"
        if fd == 0:
            stream: Any = io.TextIOWrapper(open(fd, "rb", closefd=False), encoding=encoding, errors=errors)
        else:
            raw = open(fd, "wb", buffering=0 if unbuffered else -1, closefd=False)
            stream = io.TextIOWrapper(
                raw,
                encoding=encoding,
                errors=errors,
                line_buffering=fd == 2 or os.isatty(fd),
                write_through=unbuffered,
            )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def reset_logging() -> None:
    """Logging as a fresh interpreter has it: no root handlers, root level WARNING."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def finish_like_interpreter(code: int) -> int:
    """The exit steps of `Py_FinalizeEx` that a user can observe: wait for non-daemon threads, run atexit
    handlers, flush stdout/stderr; return the exit status to pass to `os._exit`."""
    shutdown = getattr(threading, "_shutdown", None)  # what the interpreter itself calls at exit
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            if stream is sys.stdout and code == 0:
                code = EXIT_STATUS_OF_FLUSH_FAILURE
    return code
