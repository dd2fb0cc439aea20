"""`LocalExecutor`: each attempt is one `python -m chalicelib.launcher run` process on this machine.

Every attempt has a deterministic workdir `<data_dir>/runs/<run_id>/<task_id>/<attempt>/` holding `task.json`,
`launcher.log`, `pid` and, when the launcher is done, `result.json` — so `launch` is idempotent and a new
executor object (a restarted stack) finds earlier attempts on disk. At most `max_parallel` processes run at
once; further attempts wait in a FIFO queue. Starting an attempt first claims it (an exclusive `claimed` file),
so when several executor objects share a data dir (a restarted stack, two reconcilers at once) each attempt
starts exactly once, and an attempt left queued by an executor that went away is adopted by the next one that
polls it instead of being reported lost. A waiter thread per process calls `on_change` the moment the
process exits, so the reconciler can start dependants within milliseconds. `<data_dir>/workspaces/<run_id>`
is the run's `{{$.workspace_path}}`; `<data_dir>/packages` caches per-requirements package directories.
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import chalicelib
from chalicelib.executors.local_processes import ProcessRecord, is_alive, kill_group, record_of, signal_group
from chalicelib.executors.protocol import AttemptLaunch, AttemptPhase, AttemptStatus
from chalicelib.task_contract import TaskResult, TaskSpec
from chalicelib.timestamps import format_epoch

logger = logging.getLogger(__name__)

TASK_FILE = "task.json"
RESULT_FILE = "result.json"
LOG_FILE = "launcher.log"
PID_FILE = "pid"
CANCELED_FILE = "canceled"
CLAIM_FILE = "claimed"
# A claimed attempt whose pid record has not appeared after this long lost its claimer mid-start.
CLAIM_GRACE_SECONDS = 30.0
REPO_ROOT = Path(chalicelib.__file__).resolve().parent.parent

AttemptKey = tuple[str, str, int]


def process_name(run_id: str, task_id: str, attempt: int) -> str:
    """The deterministic process name of an attempt (shown as its pod name)."""
    digest = hashlib.sha256(f"{run_id}/{task_id}/{attempt}".encode()).hexdigest()
    return f"kfps-{digest[:12]}"


def _iso_of_mtime(path: Path) -> str:
    try:
        return format_epoch(path.stat().st_mtime)
    except OSError:
        return ""


def _age_seconds(path: Path) -> float:
    try:
        return datetime.datetime.now().timestamp() - path.stat().st_mtime
    except OSError:
        return float("inf")


class LocalExecutor:
    """The Executor protocol over local processes (see the module docstring)."""

    def __init__(
        self,
        data_dir: Path,
        max_parallel: int = os.cpu_count() or 1,
        on_change: Callable[[], None] | None = None,
        python_bin_dir: Path = Path(sys.executable).parent,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        # Added to this process's environment for every attempt (e.g. the embedded AWS endpoint and keys, so a
        # task with an s3:// pipeline root reaches the same bucket as the stack).
        self.base_env = dict(base_env or {})
        self.max_parallel = max(1, max_parallel)
        self.on_change = on_change
        self.python_bin_dir = Path(python_bin_dir)
        self._lock = threading.Lock()
        self._queue: collections.deque[AttemptKey] = collections.deque()
        self._running: dict[AttemptKey, subprocess.Popen[bytes]] = {}

    # -- paths ------------------------------------------------------------------------------------------
    def workdir(self, run_id: str, task_id: str, attempt: int) -> Path:
        return self.data_dir / "runs" / run_id / task_id / str(attempt)

    @property
    def package_cache(self) -> Path:
        return self.data_dir / "packages"

    # -- protocol ---------------------------------------------------------------------------------------
    def launch(self, attempt: AttemptLaunch) -> str:
        """Queue or start the attempt unless its workdir already exists; return its process name."""
        key: AttemptKey = (attempt.spec.run_id, attempt.spec.task_id, attempt.spec.attempt)
        spec = attempt.spec.with_pod_name(process_name(*key))
        workdir = self.workdir(*key)
        with self._lock:
            if (workdir / TASK_FILE).exists():
                return process_name(*key)
            workdir.mkdir(parents=True, exist_ok=True)
            temp = workdir / f".{TASK_FILE}.{os.getpid()}.{threading.get_ident()}"
            temp.write_text(spec.to_json())
            try:
                os.link(temp, workdir / TASK_FILE)  # exclusive and atomic: another launcher may race us
            except FileExistsError:
                return process_name(*key)
            finally:
                temp.unlink()
            self._queue.append(key)
            self._start_queued()
        return process_name(*key)

    def poll(self, run_ids: Iterable[str]) -> list[AttemptStatus]:
        """The status of every attempt of these runs found on disk."""
        statuses: list[AttemptStatus] = []
        for run_id in run_ids:
            run_dir = self.data_dir / "runs" / run_id
            if not run_dir.is_dir():
                continue
            for task_dir in sorted(p for p in run_dir.iterdir() if p.is_dir()):
                for attempt_dir in sorted(p for p in task_dir.iterdir() if p.is_dir() and p.name.isdigit()):
                    if (attempt_dir / TASK_FILE).exists():
                        statuses.append(self._status(run_id, task_dir.name, int(attempt_dir.name)))
        return statuses

    def cancel(self, run_id: str, task_id: str, attempt: int) -> None:
        """Mark the attempt canceled and kill its process group (TERM, then KILL in the background)."""
        key: AttemptKey = (run_id, task_id, attempt)
        workdir = self.workdir(*key)
        if not workdir.is_dir():
            return
        with self._lock:
            (workdir / CANCELED_FILE).touch()
            if key in self._queue:
                self._queue.remove(key)
            record = self._record(workdir)
        if record is not None and is_alive(record):
            kill_group(record.pid)

    def logs(self, run_id: str, task_id: str, attempt: int) -> str:
        try:
            return (self.workdir(run_id, task_id, attempt) / LOG_FILE).read_text(errors="replace")
        except OSError:
            return ""

    def cleanup(self, run_id: str, task_id: str, attempt: int) -> None:
        """Forget the attempt's bookkeeping; its files stay."""
        key: AttemptKey = (run_id, task_id, attempt)
        with self._lock:
            if key in self._queue:
                self._queue.remove(key)
            process = self._running.get(key)
            if process is not None and process.poll() is not None:
                del self._running[key]

    def stop_all(self, grace_seconds: float = 2.0) -> None:
        """Stop every process this executor started that still runs, and forget the queue (the stack's clean
        stop). SIGTERM to each process group, SIGKILL to what is left after `grace_seconds`; returns when done.
        The attempts have no result, so the next executor on this data dir reports them LOST."""
        with self._lock:
            self._queue.clear()
            running = list(self._running.values())
            self._running.clear()
        for process in running:
            signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            signal_group(process.pid, signal.SIGKILL)

    # -- internals --------------------------------------------------------------------------------------
    def _status(self, run_id: str, task_id: str, attempt: int) -> AttemptStatus:
        key: AttemptKey = (run_id, task_id, attempt)
        workdir = self.workdir(*key)
        base = {"run_id": run_id, "task_id": task_id, "attempt": attempt, "name": process_name(*key)}
        result = self._result(workdir)
        if result is not None:
            succeeded = result.exit_code == 0 and not result.error
            return AttemptStatus(
                **base,
                phase=AttemptPhase.SUCCEEDED if succeeded else AttemptPhase.FAILED,
                reason="" if succeeded else "Error",
                message=result.error,
                exit_code=result.exit_code,
                result=result,
                started_at=result.started_at,
                finished_at=result.finished_at,
            )
        started_at = _iso_of_mtime(workdir / PID_FILE)
        if (workdir / CANCELED_FILE).exists():
            return AttemptStatus(
                **base,
                phase=AttemptPhase.FAILED,
                reason="Canceled",
                message="canceled",
                started_at=started_at,
                finished_at=_iso_of_mtime(workdir / CANCELED_FILE),
            )
        with self._lock:
            queued = key in self._queue
            running = key in self._running
            claimed = (workdir / CLAIM_FILE).exists() or (workdir / PID_FILE).exists()
            if not queued and not running and not claimed:
                # Launched by an executor that is gone before it could start it: adopt it.
                self._queue.append(key)
                self._start_queued()
                return AttemptStatus(**base, phase=AttemptPhase.PENDING)
        if queued:
            return AttemptStatus(**base, phase=AttemptPhase.PENDING)
        record = self._record(workdir)
        if running or (record is not None and is_alive(record)):
            return AttemptStatus(**base, phase=AttemptPhase.RUNNING, started_at=started_at)
        if record is None and _age_seconds(workdir / CLAIM_FILE) < CLAIM_GRACE_SECONDS:
            return AttemptStatus(**base, phase=AttemptPhase.PENDING)  # being started by its claimer
        result = self._result(workdir)  # it may have finished since the first look
        if result is not None:
            return self._status(run_id, task_id, attempt)
        return AttemptStatus(
            **base,
            phase=AttemptPhase.LOST,
            reason="ProcessLost",
            message="the launcher process ended without writing a result",
            started_at=started_at,
        )

    @staticmethod
    def _result(workdir: Path) -> TaskResult | None:
        try:
            return TaskResult.from_json((workdir / RESULT_FILE).read_text())
        except (OSError, ValueError, TypeError):
            return None

    @staticmethod
    def _record(workdir: Path) -> ProcessRecord | None:
        try:
            return ProcessRecord.from_text((workdir / PID_FILE).read_text())
        except OSError:
            return None

    def _start_queued(self) -> None:
        """Start queued attempts while there is room. Call with the lock held."""
        while self._queue and len(self._running) < self.max_parallel:
            key = self._queue.popleft()
            try:
                process = self._spawn(key)
            except OSError:
                logger.exception("cannot start the launcher for %s", key)
                continue
            if process is not None:
                self._running[key] = process

    def _spawn(self, key: AttemptKey) -> subprocess.Popen[bytes] | None:
        """Claim and start the attempt; None when another executor object claimed it first."""
        workdir = self.workdir(*key)
        try:
            os.close(os.open(workdir / CLAIM_FILE, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return None
        task_env: dict[str, str] = {}
        try:
            task_env = TaskSpec.from_json((workdir / TASK_FILE).read_text()).env
        except (OSError, ValueError, TypeError):
            logger.warning("cannot read the env of %s", workdir)
        env = {**os.environ, **self.base_env, **task_env}
        env["PATH"] = os.pathsep.join(p for p in (str(self.python_bin_dir), env.get("PATH", "")) if p)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), str(REPO_ROOT)) if p)
        env.setdefault("KFPS_PACKAGE_CACHE", str(self.package_cache))
        env["KFPS_VOLUME_ROOT"] = str(self.data_dir / "volumes")
        env["KFP_POD_NAME"] = process_name(*key)
        workspace = self.data_dir / "workspaces" / key[0]
        workspace.mkdir(parents=True, exist_ok=True)
        env["KFPS_WORKSPACE_PATH"] = str(workspace)
        command = [str(self.python_bin_dir / "python"), "-m", "chalicelib.launcher", "run"]
        command += ["--task-file", str(workdir / TASK_FILE), "--result-file", str(workdir / RESULT_FILE)]
        command += ["--workdir", str(workdir)]
        with open(workdir / LOG_FILE, "ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                env=env,
                start_new_session=True,
            )
        (workdir / PID_FILE).write_text(record_of(process.pid).to_text())
        threading.Thread(
            target=self._wait, args=(key, process), name=f"wait-{process.pid}", daemon=True
        ).start()
        return process

    def _wait(self, key: AttemptKey, process: subprocess.Popen[bytes]) -> None:
        process.wait()
        with self._lock:
            if self._running.get(key) is process:
                del self._running[key]
            self._start_queued()
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:  # noqa: BLE001 - a failing callback must not kill the waiter
                logger.exception("on_change failed")
