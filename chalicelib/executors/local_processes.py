"""Process bookkeeping for the local executor: pid records that survive a restart, liveness, group kills.

A pid alone is not proof: after a restart the number may belong to another process. The record keeps the
process start time from `/proc/<pid>/stat` too, and a process is ours only if both still match.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from pathlib import Path

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


def process_start_ticks(pid: int) -> int | None:
    """The start time (clock ticks since boot) of a live, non-zombie process, else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its closing ')'
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def record_of(pid: int) -> ProcessRecord:
    return ProcessRecord(pid, process_start_ticks(pid) or 0)


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
