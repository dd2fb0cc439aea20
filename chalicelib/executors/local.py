"""`LocalExecutor`: each attempt is one launcher process on this machine.

Every attempt has a deterministic workdir `<data_dir>/runs/<run_id>/<task_id>/<attempt>/` holding `task.json`,
`launcher.log`, `pid` and, when the launcher is done, `result.json` — so `launch` is idempotent and a new
executor object (a restarted stack) finds earlier attempts on disk.

Admission (`local_admission`): an attempt starts when its requested CPU and memory fit in what the running
attempts leave of the machine, as kube-scheduler admits pods; queued attempts that fit start in FIFO order
(one that does not fit does not hold back smaller ones behind it), `max_parallel` (when set) caps how many
run at once, and a task that requests more than the machine has is refused at `launch`.

The launcher process is either a plain `python -m chalicelib.launcher run`, or, with `prewarm`, a fork of the
fork server (`fork_server`), which has the launcher and kfp imported already: a lightweight Python step whose
interpreter would be this venv's takes that path, anything else (container commands, steps with packages to
install or their own interpreter settings) a plain process, as does every attempt while the server is not
ready. Both have the same isolation: own session and process group, the same env and cwd, stdout/stderr
appended to `launcher.log`, the same pid record, killed as a group on cancel.

Starting an attempt first claims it (an exclusive `claimed` file), so when several executor objects share a
data dir (a restarted stack, two reconcilers at once) each attempt starts exactly once, and an attempt left
queued by an executor that went away is adopted by the next one that polls it instead of being reported
lost. A forked launcher also claims its attempt by creating the pid record exclusively, so an attempt the
executor had to start another way (its fork server vanished mid-request) never runs twice. A waiter thread
per process (a pidfd for forked ones, which are not our children) calls `on_change` the moment the process
exits, so the reconciler can start dependants within milliseconds. `<data_dir>/workspaces/<run_id>` is the
run's `{{$.workspace_path}}`; `<data_dir>/packages` caches per-requirements package directories.
"""

from __future__ import annotations

import dataclasses
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
from chalicelib.executors.fork_server import ForkRequest
from chalicelib.executors.fork_server_client import ForkOutcomeUnknown, ForkServer, ForkServerUnavailable
from chalicelib.executors.k8s.resources import ResourceSpecError
from chalicelib.executors.local_admission import (
    DEFAULT_REQUEST,
    Admission,
    Resources,
    machine_capacity,
    requested_resources,
)
from chalicelib.executors.local_processes import (
    AttemptProcess,
    ChildProcess,
    ForeignProcess,
    ProcessRecord,
    is_alive,
    kill_group,
    record_of,
    signal_group,
    write_record,
    write_record_exclusively,
)
from chalicelib.executors.protocol import AttemptLaunch, AttemptPhase, AttemptStatus, LaunchRefused
from chalicelib.launcher.python_steps import interpreter_start_env, is_prewarmable
from chalicelib.launcher.runner import LAUNCHER_ERROR_EXIT_CODE, now_utc
from chalicelib.launcher.storage import write_text
from chalicelib.task_contract import TaskResult, TaskSpec
from chalicelib.timestamps import format_epoch

logger = logging.getLogger(__name__)

TASK_FILE = "task.json"
RESULT_FILE = "result.json"
LOG_FILE = "launcher.log"
PID_FILE = "pid"
CANCELED_FILE = "canceled"
CLAIM_FILE = "claimed"
FORK_SERVER_LOG = "fork-server.log"
# A claimed attempt whose pid record has not appeared after this long lost its claimer mid-start.
CLAIM_GRACE_SECONDS = 30.0
STOP_POLL_SECONDS = 0.02
# A dir's mtime may not change when an entry is added within the file system's timestamp granularity of the
# last look (coarse clocks): a task dir modified this recently is always listed again.
RACY_MTIME_NS = 2_000_000_000
REPO_ROOT = Path(chalicelib.__file__).resolve().parent.parent

AttemptKey = tuple[str, str, int]
NO_PROCESS = ProcessRecord(0, 0)  # a record no process matches


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


@dataclasses.dataclass(frozen=True)
class RunningAttempt:
    """A started attempt's launcher process and the resources reserved for it."""

    process: AttemptProcess
    request: Resources


@dataclasses.dataclass(frozen=True)
class TaskDirListing:
    """A task dir's attempt numbers that have a task file, as of the dir's mtime. `complete`: no attempt dir
    was still without its task file (one being written is listed again next time)."""

    mtime_ns: int
    attempts: tuple[int, ...]
    complete: bool


def _list_task_dir(task_dir: Path, mtime_ns: int) -> TaskDirListing:
    attempts, complete = [], True
    try:
        entries = list(os.scandir(task_dir))
    except (FileNotFoundError, NotADirectoryError):
        return TaskDirListing(mtime_ns, (), False)
    for entry in entries:
        if not entry.is_dir() or not entry.name.isdigit():
            continue
        if (Path(entry.path) / TASK_FILE).exists():
            attempts.append(int(entry.name))
        else:
            complete = False
    return TaskDirListing(mtime_ns, tuple(sorted(attempts)), complete)


class LocalExecutor:
    """The Executor protocol over local processes (see the module docstring).

    max_parallel: at most this many attempts run at once (0: no count limit, admission alone decides).
    capacity: the CPU and memory attempts are admitted against (default: this machine's).
    prewarm: start a fork server and fork lightweight Python steps' launchers from it.
    """

    keeps_final_logs = False  # the reconciler copies the attempt's log file into the store

    def __init__(
        self,
        data_dir: Path,
        max_parallel: int = 0,
        on_change: Callable[[], None] | None = None,
        python_bin_dir: Path = Path(sys.executable).parent,
        base_env: Mapping[str, str] | None = None,
        capacity: Resources | None = None,
        prewarm: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir)
        # Added to this process's environment for every attempt (e.g. the embedded AWS endpoint and keys, so a
        # task with an s3:// pipeline root reaches the same bucket as the stack).
        self.base_env = dict(base_env or {})
        self.max_parallel = max(0, max_parallel)
        self.on_change = on_change
        self.python_bin_dir = Path(python_bin_dir)
        self.admission = Admission(capacity or machine_capacity())
        self._lock = threading.Lock()
        self._queue: dict[AttemptKey, Resources] = {}  # FIFO: dicts keep insertion order
        self._running: dict[AttemptKey, RunningAttempt] = {}
        # Polling reads only what can have changed: per polled run, each task dir's attempts as of its mtime,
        # and the attempts cleaned up (finished and forgotten: not reported again, like a deleted pod).
        self._task_dirs: dict[str, dict[str, TaskDirListing]] = {}
        self._forgotten: set[AttemptKey] = set()
        self.fork_server: ForkServer | None = None
        if prewarm:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.fork_server = ForkServer(
                self.python_bin_dir / "python",
                self._launcher_env({}),
                self.data_dir,
                self.data_dir / FORK_SERVER_LOG,
            )
            self.fork_server.start()

    # -- paths ------------------------------------------------------------------------------------------
    def workdir(self, run_id: str, task_id: str, attempt: int) -> Path:
        return self.data_dir / "runs" / run_id / task_id / str(attempt)

    @property
    def package_cache(self) -> Path:
        return self.data_dir / "packages"

    # -- protocol ---------------------------------------------------------------------------------------
    def launch(self, attempt: AttemptLaunch) -> str:
        """Queue or start the attempt unless its workdir already exists; return its process name. Raises
        LaunchRefused (nothing written) when the task requests more than this machine has, or its resources
        are not quantities."""
        key: AttemptKey = (attempt.spec.run_id, attempt.spec.task_id, attempt.spec.attempt)
        spec = attempt.spec.with_pod_name(process_name(*key))
        request = self._request_of(spec)
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
            self._queue[key] = request
            self._start_queued()
        return process_name(*key)

    def poll(self, run_ids: Iterable[str]) -> list[AttemptStatus]:
        """The status of every attempt of these runs found on disk, except those cleaned up by this executor.
        A task dir unchanged since the last poll (same mtime, older than the file system's timestamp
        granularity) is not listed again."""
        ids = list(run_ids)
        statuses: list[AttemptStatus] = []
        listings: dict[str, dict[str, TaskDirListing]] = {}
        for run_id in ids:
            listings[run_id] = self._list_run(run_id, self._task_dirs.get(run_id, {}))
            for task_id, listing in listings[run_id].items():
                for attempt in listing.attempts:
                    if (run_id, task_id, attempt) not in self._forgotten:
                        statuses.append(self._status(run_id, task_id, attempt))
        polled = set(ids)
        with self._lock:
            self._task_dirs = listings
            self._forgotten = {key for key in self._forgotten if key[0] in polled}
        return statuses

    def _list_run(self, run_id: str, known: dict[str, TaskDirListing]) -> dict[str, TaskDirListing]:
        """The attempts (with a task file) of each task dir of the run, re-listing only changed task dirs."""
        try:
            entries = sorted(os.scandir(self.data_dir / "runs" / run_id), key=lambda entry: entry.name)
        except (FileNotFoundError, NotADirectoryError):
            return {}
        settled_before = time.time_ns() - RACY_MTIME_NS
        listings: dict[str, TaskDirListing] = {}
        for entry in entries:
            if not entry.is_dir():
                continue
            try:
                mtime = entry.stat().st_mtime_ns
            except FileNotFoundError:
                continue
            cached = known.get(entry.name)
            if cached is not None and cached.mtime_ns == mtime and cached.complete and mtime < settled_before:
                listings[entry.name] = cached
                continue
            listings[entry.name] = _list_task_dir(Path(entry.path), mtime)
        return listings

    def cancel(self, run_id: str, task_id: str, attempt: int) -> None:
        """Mark the attempt canceled and kill its process group (TERM, then KILL in the background)."""
        key: AttemptKey = (run_id, task_id, attempt)
        workdir = self.workdir(*key)
        if not workdir.is_dir():
            return
        with self._lock:
            (workdir / CANCELED_FILE).touch()
            self._queue.pop(key, None)
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
            self._queue.pop(key, None)
            running = self._running.get(key)
            if running is not None and running.process.finished():
                self._release(key, running.process)
            if running is None or running.process.finished():
                self._forgotten.add(key)

    def close(self) -> None:
        """Stop the fork server; running attempts live on, and later ones start as plain processes."""
        if self.fork_server is not None:
            self.fork_server.close()

    def stop_all(self, grace_seconds: float = 2.0) -> None:
        """Stop every process this executor started that still runs, and forget the queue (the stack's clean
        stop). SIGTERM to each process group, SIGKILL to what is left after `grace_seconds`; returns when done.
        The attempts have no result, so the next executor on this data dir reports them LOST."""
        with self._lock:
            self._queue.clear()
            running = list(self._running.values())
            self._running.clear()
            for attempt in running:
                self.admission.release(attempt.request)
        for attempt in running:
            signal_group(attempt.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline and not all(a.process.finished() for a in running):
            time.sleep(STOP_POLL_SECONDS)
        for attempt in running:
            signal_group(attempt.process.pid, signal.SIGKILL)

    # -- status -----------------------------------------------------------------------------------------
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
            # Launched by an executor that is gone before it could start it: adopt it.
            adopted = None if queued or running or claimed else self._adopt(key)
        if adopted is False:  # refused here: it has its failed result now (or another executor has it)
            return self._status(run_id, task_id, attempt)
        if queued or adopted:
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

    def _adopt(self, key: AttemptKey) -> bool:
        """Queue an attempt another executor launched but never started; True when queued. One this machine
        can never admit is claimed and given a failed result instead (False). Call with the lock held."""
        workdir = self.workdir(*key)
        try:
            request = self._request_of(TaskSpec.from_json((workdir / TASK_FILE).read_text()))
        except LaunchRefused as refused:
            if _claim(workdir):
                result = TaskResult(
                    LAUNCHER_ERROR_EXIT_CODE, error=f"cannot launch: {refused}", finished_at=now_utc()
                )
                write_text(str(workdir / RESULT_FILE), result.to_json())
            return False
        except (OSError, ValueError, TypeError):
            request = DEFAULT_REQUEST  # unreadable: the launcher will report it
        self._queue[key] = request
        self._start_queued()
        return True

    def _request_of(self, spec: TaskSpec) -> Resources:
        """The attempt's requested resources; LaunchRefused when they are unreadable or too big for here."""
        try:
            request = requested_resources(spec.container, spec.parameters)
        except ResourceSpecError as error:
            raise LaunchRefused(f"task {spec.task_name!r}: resources: {error}") from error
        refusal = self.admission.refusal(request)
        if refusal:
            raise LaunchRefused(f"task {spec.task_name!r}: {refusal}")
        return request

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

    # -- admission and starting -------------------------------------------------------------------------
    def _start_queued(self) -> None:
        """Start the queued attempts that fit in what is left, in queue order. Call with the lock held."""
        for key, request in list(self._queue.items()):
            if self.max_parallel and len(self._running) >= self.max_parallel:
                return
            if not self.admission.fits(request):
                continue
            del self._queue[key]
            try:
                process = self._spawn(key)
            except OSError:
                logger.exception("cannot start the launcher for %s", key)
                continue
            if process is not None:
                self._track(key, RunningAttempt(process, request))

    def _track(self, key: AttemptKey, running: RunningAttempt) -> None:
        """Reserve the attempt's resources and wait for its process in a thread. Call with the lock held."""
        self._running[key] = running
        self.admission.reserve(running.request)
        threading.Thread(
            target=self._wait, args=(key, running.process), name=f"wait-{running.process.pid}", daemon=True
        ).start()

    def _release(self, key: AttemptKey, process: AttemptProcess) -> Resources | None:
        """Forget the attempt's process (if it is still this one) and free its resources; return them.
        Call with the lock held."""
        running = self._running.get(key)
        if running is None or running.process is not process:
            return None
        del self._running[key]
        self.admission.release(running.request)
        return running.request

    def _wait(self, key: AttemptKey, process: AttemptProcess) -> None:
        process.wait()
        with self._lock:
            request = self._release(key, process)
            # (None: no longer ours to restart — the stack is stopping its tasks)
            if isinstance(process, ForeignProcess) and request is not None:
                replacement = self._restart_unclaimed(key)
                if replacement is not None:
                    self._track(key, RunningAttempt(replacement, request))
            self._start_queued()
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:  # noqa: BLE001 - a failing callback must not kill the waiter
                logger.exception("on_change failed")

    def _restart_unclaimed(self, key: AttemptKey) -> AttemptProcess | None:
        """A forked launcher that ended before it claimed its attempt (no pid record) never ran it: take the
        attempt back and start it as a plain process. Call with the lock held."""
        workdir = self.workdir(*key)
        if self._result(workdir) is not None or (workdir / CANCELED_FILE).exists():
            return None
        if not write_record_exclusively(workdir / PID_FILE, None):
            return None  # it did claim the attempt: its end is the attempt's end
        logger.warning("the forked launcher of %s ended before it started; starting a plain process", key)
        arguments, env = self._launcher_command(key)
        return self._spawn_plain(workdir, arguments, env)

    # -- processes --------------------------------------------------------------------------------------
    def _launcher_env(self, task_env: dict[str, str]) -> dict[str, str]:
        """A launcher's environment: ours, `base_env`, the task's variables, this venv first on PATH, the repository on
        PYTHONPATH, the package cache."""
        env = {**os.environ, **self.base_env, **task_env}
        env["PATH"] = os.pathsep.join(p for p in (str(self.python_bin_dir), env.get("PATH", "")) if p)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), str(REPO_ROOT)) if p)
        env.setdefault("KFPS_PACKAGE_CACHE", str(self.package_cache))
        return env

    def _launcher_command(
        self, key: AttemptKey, spec: TaskSpec | None = None
    ) -> tuple[list[str], dict[str, str]]:
        """The launcher's arguments (after `python -m chalicelib.launcher`) and environment."""
        workdir = self.workdir(*key)
        if spec is None:
            spec = self._spec(workdir)
        env = self._launcher_env(spec.env if spec is not None else {})
        env["KFPS_VOLUME_ROOT"] = str(self.data_dir / "volumes")
        env["KFP_POD_NAME"] = process_name(*key)
        workspace = self.data_dir / "workspaces" / key[0]
        workspace.mkdir(parents=True, exist_ok=True)
        env["KFPS_WORKSPACE_PATH"] = str(workspace)
        arguments = [
            "run",
            "--task-file",
            str(workdir / TASK_FILE),
            "--result-file",
            str(workdir / RESULT_FILE),
        ]
        arguments += ["--workdir", str(workdir)]
        return arguments, env

    @staticmethod
    def _spec(workdir: Path) -> TaskSpec | None:
        try:
            return TaskSpec.from_json((workdir / TASK_FILE).read_text())
        except (OSError, ValueError, TypeError):
            logger.warning("cannot read the task of %s", workdir)
            return None

    def _spawn(self, key: AttemptKey) -> AttemptProcess | None:
        """Claim and start the attempt; None when another executor object claimed it first."""
        workdir = self.workdir(*key)
        if not _claim(workdir):
            return None
        spec = self._spec(workdir)
        arguments, env = self._launcher_command(key, spec)
        if spec is not None and self._prewarmable(spec, env):
            process = self._spawn_forked(workdir, arguments, env)
            if process is not None:
                return process
        return self._spawn_plain(workdir, arguments, env)

    def _prewarmable(self, spec: TaskSpec, env: dict[str, str]) -> bool:
        """Whether the fork server may start this attempt's launcher (see `is_prewarmable`)."""
        server = self.fork_server
        return (
            server is not None
            and is_prewarmable(spec.container, spec.env)
            and interpreter_start_env(env) == interpreter_start_env(server.env)
        )

    def _spawn_forked(
        self, workdir: Path, arguments: list[str], env: dict[str, str]
    ) -> AttemptProcess | None:
        """Have the fork server start the launcher; None when it could not (start a plain process then)."""
        assert self.fork_server is not None
        request = ForkRequest(
            launcher_args=(*arguments, "--fork-python-steps"),
            env=env,
            cwd=str(workdir),
            log_file=str(workdir / LOG_FILE),
            pid_file=str(workdir / PID_FILE),
            canceled_file=str(workdir / CANCELED_FILE),
        )
        try:
            return ForeignProcess(self.fork_server.fork(request))
        except ForkServerUnavailable:
            return None
        except ForkOutcomeUnknown:
            # The server may have forked the child before it went away: whoever creates the pid record
            # first owns the attempt. Either we reserve it (empty) and start a plain process, or the child
            # made it and is the attempt's process.
            if write_record_exclusively(workdir / PID_FILE, None):
                return self._spawn_plain(workdir, arguments, env)
            # The child writes its record whole (a hard link of a written file), so it reads back.
            return ForeignProcess(self._record(workdir) or NO_PROCESS)

    def _spawn_plain(self, workdir: Path, arguments: list[str], env: dict[str, str]) -> AttemptProcess:
        command = [str(self.python_bin_dir / "python"), "-m", "chalicelib.launcher", *arguments]
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
        write_record(workdir / PID_FILE, record_of(process.pid))
        return ChildProcess(process)


def _claim(workdir: Path) -> bool:
    """Create the attempt's claim file exclusively; False when someone else did."""
    try:
        os.close(os.open(workdir / CLAIM_FILE, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True
