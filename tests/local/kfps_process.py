"""`kfps up` as a user runs it: a subprocess in its own process group, with an environment free of AWS_* and
KFPS_* variables (the stack must configure itself), on free ports and a data directory of the test's own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from chalicelib.local.ports import free_port

START_TIMEOUT = 90.0


def clean_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "KFPS_"))}


class KfpsUp:
    """One `kfps up` process. `start()` waits for the banner; `signal_group`/`signal_process` send signals."""

    def __init__(self, data_dir: Path, *options: str, port: int = 0) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.options = options
        self.process: subprocess.Popen[str] | None = None
        self.banner = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "chalicelib.local.cli",
            "up",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            *self.options,
        ]

    def start(self) -> KfpsUp:
        self.process = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=clean_environment(),
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while "kfp.Client(host=" not in self.banner and time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.banner += line
        if "kfp.Client(host=" not in self.banner:
            self.kill()
            raise AssertionError(f"kfps up did not start:\n{self.banner}")
        # Keep reading its output (one line per request) into a file beside the data directory: a full pipe
        # would block every thread that logs.
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    @property
    def output_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-kfps-{self.port}.log"

    def _drain(self) -> None:
        assert self.process is not None
        with open(self.output_path, "a") as log:
            try:
                for line in self.process.stdout:
                    log.write(line)
                    log.flush()
            except (OSError, ValueError):
                return  # closed

    def errors_logged(self) -> str:
        """The tracebacks the stack printed so far (for assertion messages)."""
        text = self.output_path.read_text() if self.output_path.exists() else ""
        return "\n".join(block for block in text.split("Traceback")[1:])[-4000:]

    def signal_group(self, signum: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signum)

    def signal_process(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float = 60) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group (the stack; task processes have their own sessions)."""
        if self.process is not None and self.process.poll() is None:
            self.signal_group(signal.SIGKILL)
            self.process.wait(timeout=30)

    def group_is_gone(self) -> bool:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return True
        return False

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}/apis/v2beta1{path}", timeout=30) as response:
            return json.loads(response.read())
