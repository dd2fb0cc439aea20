"""Process bookkeeping for the local executor: pid records that survive a restart, liveness, group kills, and
waiting for an attempt's process whether it is our child (a plain process) or not (forked by the fork server).

A pid alone is not proof: after a restart the number may belong to another process. The record keeps the
process start time from `/proc/<pid>/stat` too, and a process is ours only if both still match.
"""

from __future__ import annotations

import dataclasses
import os
import select
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Protocol

KILL_GRACE_SECONDS = 3.0


@dataclasses.dataclass(frozen=True)
class ProcessRecord:
    pid: int
    start_ticks: int

    def to_text(self) -> str:
        return f"{self.pid} {self.start_ticks}\n"

    @classmethod
    def from_text(cls, text: str) -> ProcessRecord | None:
        try:
            pid, ticks = text.split()
            return cls(int(pid), int(ticks))
        except ValueError:
            return None


WATCH_POLL_SECONDS = 0.05  # only where pidfd_open is missing (Linux < 5.3)


def process_start_ticks(pid: int, zombies_too: bool = False) -> int | None:
    """The start time (clock ticks since boot) of a live, non-zombie process (or of any process still in the
    process table with `zombies_too`), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its closing ')'
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X") and not zombies_too:
        return None
    return int(fields[19])


def record_of(pid: int) -> ProcessRecord:
    return ProcessRecord(pid, process_start_ticks(pid) or 0)


def write_record(path: Path, record: ProcessRecord) -> None:
    """Write the record atomically (a reader sees the old file or the new one, never half of it)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    temp.write_text(record.to_text())
    os.replace(temp, path)


def write_record_exclusively(path: Path, record: ProcessRecord | None) -> bool:
    """Create the record file atomically unless it exists; False when it did. `None` reserves it empty (a
    reader takes an empty record for "being started")."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    temp.write_text(record.to_text() if record is not None else "")
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    finally:
        temp.unlink()
    return True


def is_alive(record: ProcessRecord) -> bool:
    """True when the recorded process still runs (and is the same process, not a reused pid)."""
    return process_start_ticks(record.pid) == record.start_ticks


def kill_group(pgid: int, grace_seconds: float = KILL_GRACE_SECONDS) -> None:
    """SIGTERM the process group now and SIGKILL it after `grace_seconds`, in a background thread."""
    if not signal_group(pgid, signal.SIGTERM):
        return

    def finish() -> None:
        time.sleep(grace_seconds)
        signal_group(pgid, signal.SIGKILL)

    threading.Thread(target=finish, name=f"kill-{pgid}", daemon=True).start()


def signal_group(pgid: int, signum: int) -> bool:
    """Send `signum` to the process group; False when it is gone."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class AttemptProcess(Protocol):
    """A running attempt's launcher process, as the executor waits for it."""

    pid: int

    def wait(self) -> None:
        """Block until the process has ended."""

    def finished(self) -> bool:
        """True once the process has ended."""


class ChildProcess:
    """A launcher process this process started (a plain attempt)."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen
        self.pid = popen.pid

    def wait(self) -> None:
        self.popen.wait()

    def finished(self) -> bool:
        return self.popen.poll() is not None


class ForeignProcess:
    """A launcher process some other process started (the fork server), known by its record: waited for with
    a pidfd, which becomes readable when the process ends whoever its parent is."""

    def __init__(self, record: ProcessRecord) -> None:
        self.record = record
        self.pid = record.pid

    def wait(self) -> None:
        try:
            pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            return
        except (AttributeError, OSError):
            while not self.finished():
                time.sleep(WATCH_POLL_SECONDS)
            return
        try:
            if is_alive(self.record):  # the pidfd is of this very process, not of a reused pid
                select.select([pidfd], [], [])
        finally:
            os.close(pidfd)

    def finished(self) -> bool:
        return not is_alive(self.record)
