"""The local executor's fork server: a prewarmed launcher that forks one child per task attempt.

    python -m chalicelib.executors.fork_server

A fresh `python -m chalicelib.launcher run` pays interpreter start plus importing kfp (and, for a lightweight
Python step, a second interpreter importing kfp again). This process imports the launcher, kfp and
`kfp.dsl.executor_main` once, then, for each request, forks a child that becomes the attempt's launcher with
the same isolation as a plain process (`become_attempt`): its own session and process group, the attempt's
environment and cwd, stdin from /dev/null, stdout and stderr appended to the attempt's log, no other file
descriptors. The child runs the launcher with `--fork-python-steps`, so a lightweight Python step runs in a
fork of it too (`chalicelib.launcher.python_steps`).

The child claims the attempt by creating its pid record exclusively (`write_record_exclusively`) before it
does anything else: if the executor took the attempt back (it lost this server mid-request and started a
plain process), the child exits at once, so an attempt never runs twice. A child that finds the attempt
canceled exits too.

Protocol, one JSON object per line: on the server's stdin a `ForkRequest`, on its stdout first
`{"ready": true, "pid": N}` once preloaded, then one reply per request: `{"pid": N, "start_ticks": T}` or
`{"error": "..."}`. End of stdin (the executor went away) ends the server; its children live on, like plain
attempt processes, each in its own session.

Fork safety: the server is single-threaded (checked after preloading), holds no sockets and no boto3 client
(the launcher creates S3 clients lazily, in the child, and the child drops any cached one), and reaps its
children with a non-blocking `waitpid` between requests.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import json
import logging
import os
import select
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chalicelib.executors.local_processes import ProcessRecord, process_start_ticks, write_record_exclusively

logger = logging.getLogger("kfps.fork_server")

# What a lightweight step and the launcher import: kfp's executor and everything the ephemeral component's
# own imports (`import kfp`, `from kfp import dsl`, `from kfp.dsl import *`, `from typing import *`) pull in.
PRELOADED_MODULES = (
    "chalicelib.launcher.__main__",
    "chalicelib.launcher.commands",
    "chalicelib.launcher.python_steps",
    "kfp",
    "kfp.dsl",
    "kfp.dsl.executor_main",
    "typing",
)
REAP_INTERVAL_SECONDS = 0.5
READ_CHUNK = 1 << 16
EXIT_NOT_FORK_SAFE = 3


@dataclasses.dataclass(frozen=True)
class ForkRequest:
    """One attempt to fork: the launcher's arguments (after `python -m chalicelib.launcher`), its complete
    environment and cwd, the log its stdout/stderr are appended to, and the attempt's pid record and
    canceled marker."""

    launcher_args: tuple[str, ...]
    env: Mapping[str, str]
    cwd: str
    log_file: str
    pid_file: str
    canceled_file: str

    def to_line(self) -> bytes:
        return json.dumps(dataclasses.asdict(self)).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> ForkRequest:
        values: dict[str, Any] = json.loads(line)
        values["launcher_args"] = tuple(values["launcher_args"])
        return cls(**values)


def reply_line(reply: Mapping[str, Any]) -> bytes:
    return json.dumps(reply).encode() + b"\n"


def preload() -> None:
    for name in PRELOADED_MODULES:
        importlib.import_module(name)


def main() -> int:
    """Serve fork requests until stdin ends; 0 then, `EXIT_NOT_FORK_SAFE` if preloading started a thread."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="[fork-server] %(levelname)s %(message)s"
    )
    control_in, control_out = _take_control_fds()
    preload()
    if threading.active_count() != 1:
        logger.error("preloading started threads %s: forking is not safe", threading.enumerate())
        return EXIT_NOT_FORK_SAFE
    gc.freeze()  # keep the preloaded objects' pages shared with the children (no refcount-only copies)
    os.write(control_out, reply_line({"ready": True, "pid": os.getpid()}))
    pending = b""
    while True:
        readable, _, _ = select.select([control_in], [], [], REAP_INTERVAL_SECONDS)
        _reap_children()
        if not readable:
            continue
        chunk = os.read(control_in, READ_CHUNK)
        if not chunk:
            return 0
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            os.write(control_out, reply_line(_serve(line, control_in, control_out)))


def _take_control_fds() -> tuple[int, int]:
    """Move the control pipes off fds 0 and 1 (children must not inherit them there): stdin becomes
    /dev/null and stdout joins stderr (the server's log)."""
    control_in, control_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return control_in, control_out


def _serve(line: bytes, control_in: int, control_out: int) -> dict[str, Any]:
    try:
        request = ForkRequest.from_line(line)
    except (ValueError, TypeError, KeyError) as error:
        return {"error": f"bad request: {error}"}
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError as error:
        return {"error": f"fork failed: {error}"}
    if pid == 0:  # pragma: no cover - the child ends in os._exit inside become_attempt
        become_attempt(request, (control_in, control_out))
    # The child is not reaped before this reply, so its /proc entry is there even if it already ended.
    return {"pid": pid, "start_ticks": process_start_ticks(pid, zombies_too=True) or 0}


def _reap_children() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def become_attempt(request: ForkRequest, server_fds: tuple[int, ...]) -> None:
    """In the forked child: isolate like a plain attempt process, claim the attempt, run the launcher, and
    `os._exit` with its exit code. Never returns."""
    code = 1
    try:
        os.setsid()
        for fd in server_fds:
            os.close(fd)
        _attach_stdio(request.log_file)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        record = ProcessRecord(os.getpid(), process_start_ticks(os.getpid()) or 0)
        if not write_record_exclusively(Path(request.pid_file), record):
            os._exit(0)  # the executor started this attempt another way
        if os.path.exists(request.canceled_file):
            os._exit(0)
        code = _run_launcher(request)
    except BaseException:  # noqa: BLE001 - nothing may unwind into the server's loop in the child
        traceback.print_exc()
    finally:
        os._exit(code)


def _attach_stdio(log_file: str) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    log = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


def _run_launcher(request: ForkRequest) -> int:
    """What `python -m chalicelib.launcher <args>` does, in this already-started interpreter."""
    from chalicelib.launcher import __main__ as launcher_main
    from chalicelib.launcher import python_steps, storage

    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.env)
    tempfile.tempdir = None  # cached from the server's TMPDIR
    python_steps.reopen_stdio()
    python_steps.reset_logging()
    storage.s3_client.cache_clear()
    sys.path[0] = os.getcwd()
    sys.argv = [launcher_main.__file__, *request.launcher_args]
    code = launcher_main.main(list(request.launcher_args))
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
