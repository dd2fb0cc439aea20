"""`ForkServer`: the local executor's handle on its fork server process (`chalicelib.executors.fork_server`).

The server is started in the background; until it reports ready, and whenever it is gone, `fork` raises
`ForkServerUnavailable` (nothing was sent) and the executor starts a plain process instead. A server that
exited (noticed at once by a thread waiting for it) or stopped answering (killed then) is started again
after a back-off that doubles with each consecutive failure (a successful fork resets it). When a request was sent but no reply came back,
`fork` raises `ForkOutcomeUnknown`: the child may or may not exist, and the executor settles it through the
attempt's pid record (see `fork_server`).
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chalicelib.executors.fork_server import ForkRequest
from chalicelib.executors.local_processes import ProcessRecord

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 120.0  # preloading kfp takes ~1 s, much more on a loaded machine
REPLY_TIMEOUT_SECONDS = 10.0  # a fork takes milliseconds
CLOSE_TIMEOUT_SECONDS = 5.0
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
RESTART_SLACK_SECONDS = 0.05


class ForkServerUnavailable(RuntimeError):
    """The server cannot take the request now; nothing was forked."""


class ForkOutcomeUnknown(RuntimeError):
    """The request was sent but no reply came: a child may have been forked, or not."""


class ForkServer:
    """Start, use, restart and stop one fork server. Thread-safe; `fork` never waits for a start."""

    def __init__(self, python: Path, env: Mapping[str, str], cwd: Path, log_file: Path) -> None:
        self.python = Path(python)
        self.env = dict(env)
        self.cwd = Path(cwd)
        self.log_file = Path(log_file)
        self.reply_timeout = REPLY_TIMEOUT_SECONDS
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._replies: _LineReader | None = None
        self._ready = threading.Event()
        self._failures = 0
        self._not_before = 0.0
        self._closed = False

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the server in the background unless it runs or is starting."""
        with self._lock:
            self._start_locked()

    def wait_ready(self, timeout: float) -> bool:
        """Block until the server is ready (tests and benchmarks); False on timeout."""
        return self._ready.wait(timeout)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    def close(self) -> None:
        """Stop the server (end of its stdin, then a kill if it lingers). Its children live on."""
        with self._lock:
            self._closed = True
            process, self._process = self._process, None
            self._ready.clear()
        if process is not None:
            _stop(process)

    # -- requests ---------------------------------------------------------------------------------------
    def fork(self, request: ForkRequest) -> ProcessRecord:
        """Have the server fork the attempt's launcher; return the child's record."""
        with self._lock:
            process = self._process
            if process is None or not self._ready.is_set():
                self._start_locked()
                raise ForkServerUnavailable("the fork server is not ready")
            assert process.stdin is not None
            try:
                process.stdin.write(request.to_line())
            except OSError as error:  # a dead server never read it
                self._lose_locked(process, f"cannot write to it: {error}")
                raise ForkServerUnavailable("the fork server is gone") from error
            assert self._replies is not None
            reply = self._replies.read(self.reply_timeout)
            if reply is None:
                self._lose_locked(process, "no reply to a fork request")
                raise ForkOutcomeUnknown("the fork server did not answer")
            if "error" in reply:
                raise ForkServerUnavailable(str(reply["error"]))
            self._failures = 0
            return ProcessRecord(int(reply["pid"]), int(reply["start_ticks"]))

    # -- internals (call with the lock held) ------------------------------------------------------------
    def _start_locked(self) -> None:
        if self._closed or self._process is not None or time.monotonic() < self._not_before:
            return
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(self.log_file, "ab") as log:
                process = subprocess.Popen(
                    [str(self.python), "-m", "chalicelib.executors.fork_server"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    cwd=self.cwd,
                    env=self.env,
                    start_new_session=True,  # a Ctrl-C in the stack's terminal is not for it
                    bufsize=0,
                )
        except OSError:
            logger.exception("cannot start the fork server")
            self._back_off_locked()
            return
        assert process.stdout is not None
        self._process = process
        self._replies = _LineReader(process.stdout.fileno())
        threading.Thread(
            target=self._await_ready,
            args=(process, self._replies),
            name=f"fork-server-{process.pid}",
            daemon=True,
        ).start()

    def _await_ready(self, process: subprocess.Popen[bytes], replies: _LineReader) -> None:
        reply = replies.read(STARTUP_TIMEOUT_SECONDS)  # nobody else reads before the server is ready
        with self._lock:
            if self._process is not process:
                return
            if reply is None or not reply.get("ready"):
                self._lose_locked(process, "it did not start (see its log)")
                return
            logger.info("fork server ready (pid %s)", process.pid)
            self._ready.set()
        code = process.wait()
        with self._lock:
            if self._process is process:
                self._lose_locked(process, f"it exited with code {code}")

    def _lose_locked(self, process: subprocess.Popen[bytes], why: str) -> None:
        logger.warning(
            "fork server (pid %s) lost: %s; attempts start as plain processes meanwhile", process.pid, why
        )
        if self._process is process:
            self._process = None
            self._ready.clear()
        self._back_off_locked()
        threading.Thread(target=_stop, args=(process,), name=f"stop-{process.pid}", daemon=True).start()

    def _back_off_locked(self) -> None:
        self._failures += 1
        delay = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (self._failures - 1))
        self._not_before = time.monotonic() + delay
        restart = threading.Timer(delay + RESTART_SLACK_SECONDS, self.start)
        restart.daemon = True
        restart.start()


class _LineReader:
    """JSON lines from one server's stdout, read with a timeout."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""

    def read(self, timeout: float) -> dict[str, Any] | None:
        """The next line as a JSON object; None on end of output, timeout or garbage."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                readable, _, _ = select.select([self.fd], [], [], remaining)
                chunk = os.read(self.fd, 1 << 16) if readable else b""
            except (OSError, ValueError):  # closed meanwhile
                return None
            if not chunk:
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            return None
        return reply if isinstance(reply, dict) else None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Close the server's stdin (it exits), kill it if it is still there after a while, and reap it."""
    try:
        if process.stdin is not None:
            process.stdin.close()
    except OSError:
        pass
    try:
        process.wait(CLOSE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()
