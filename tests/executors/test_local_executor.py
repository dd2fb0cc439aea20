"""LocalExecutor with real launcher processes running small shell commands."""

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from chalicelib.executors.local import RACY_MTIME_NS, LocalExecutor
from chalicelib.executors.protocol import AttemptLaunch, AttemptPhase, AttemptStatus
from chalicelib.task_contract import TaskSpec
from tests.support.waiting import wait_for

TIMEOUT = 60.0


def shell_task(
    script: str, task_id: str = "t1", run_id: str = "r1", attempt: int = 1, env=None
) -> AttemptLaunch:
    return AttemptLaunch(
        TaskSpec(
            run_id=run_id,
            task_id=task_id,
            attempt=attempt,
            task_name=task_id,
            display_name=task_id,
            pipeline_name="p",
            pipeline_root="/unused",
            container={"image": "alpine:3", "command": ["sh", "-c", script]},
            input_definitions={},
            output_definitions={},
            parameters={},
            artifacts={},
            output_artifact_uris={},
            env=env or {},
        )
    )


def phases(executor: LocalExecutor, run_id: str = "r1") -> dict[str, AttemptPhase]:
    return {s.task_id: s.phase for s in executor.poll([run_id])}


def status_of(executor: LocalExecutor, task_id: str, run_id: str = "r1") -> AttemptStatus:
    (status,) = [s for s in executor.poll([run_id]) if s.task_id == task_id]
    return status


@pytest.fixture
def changes() -> threading.Event:
    return threading.Event()


@pytest.fixture
def executor(tmp_path: Path, changes: threading.Event):
    created: list[LocalExecutor] = []

    def make(max_parallel: int = 2) -> LocalExecutor:
        made = LocalExecutor(tmp_path / "data", max_parallel=max_parallel, on_change=changes.set)
        created.append(made)
        return made

    yield make
    for made in created:  # never leave processes behind
        for status in made.poll(p.name for p in (tmp_path / "data" / "runs").glob("*")):
            made.cancel(status.run_id, status.task_id, status.attempt)


def test_attempt_succeeds_with_result_logs_and_on_change(executor, changes):
    local = executor()
    name = local.launch(shell_task("echo hello from the task"))

    assert changes.wait(TIMEOUT)
    status = status_of(local, "t1")
    assert status.phase is AttemptPhase.SUCCEEDED
    assert status.name == name and name.startswith("kfps-")
    assert status.result is not None and status.result.exit_code == 0
    assert "hello from the task" in local.logs("r1", "t1", 1)
    assert "image 'alpine:3' is ignored" in local.logs("r1", "t1", 1)


def test_failing_command_is_failed_with_exit_code(executor, changes):
    local = executor()
    local.launch(shell_task("echo oops; exit 4"))

    assert changes.wait(TIMEOUT)
    status = status_of(local, "t1")
    assert (status.phase, status.exit_code, status.message) == (AttemptPhase.FAILED, 4, "exit code 4")
    assert "oops" in status.result.log_tail


def test_task_env_and_venv_python_first_on_path(executor, changes):
    local = executor()
    local.launch(shell_task('echo "FOO=$FOO"; command -v python3', env={"FOO": "bar"}))

    assert changes.wait(TIMEOUT)
    log = local.logs("r1", "t1", 1)
    assert "FOO=bar" in log
    assert f"{Path(sys.executable).parent}/python3" in log


def test_max_parallel_bounds_running_processes_and_queues_the_rest(executor, tmp_path):
    local = executor(max_parallel=1)
    release = tmp_path / "release"
    for task_id in ("a", "b", "c"):
        local.launch(shell_task(f"while [ ! -f {release} ]; do sleep 0.02; done", task_id=task_id))

    wait_for(lambda: AttemptPhase.RUNNING in phases(local).values(), "one attempt to run")
    assert sorted(phases(local).values()) == sorted(
        [AttemptPhase.RUNNING, AttemptPhase.PENDING, AttemptPhase.PENDING]
    )
    release.touch()
    wait_for(lambda: set(phases(local).values()) == {AttemptPhase.SUCCEEDED}, "all three to finish")


def test_second_launch_of_the_same_attempt_is_a_no_op(executor, changes, tmp_path):
    local = executor()
    counter = tmp_path / "count"
    first = local.launch(shell_task(f"echo x >> {counter}"))
    second = local.launch(shell_task(f"echo x >> {counter}"))

    assert first == second
    wait_for(lambda: phases(local) == {"t1": AttemptPhase.SUCCEEDED}, "the attempt to finish")
    assert counter.read_text() == "x\n"
    assert len(local.poll(["r1"])) == 1


def test_cancel_kills_the_whole_process_group(executor, changes, tmp_path):
    local = executor()
    child_pid = tmp_path / "child.pid"
    local.launch(shell_task(f"sleep 300 & echo $! > {child_pid}; wait"))
    wait_for(lambda: child_pid.exists() and child_pid.read_text().strip() != "", "the child process")
    pid = int(child_pid.read_text())

    local.cancel("r1", "t1", 1)
    local.cancel("r1", "t1", 1)  # idempotent

    wait_for(
        lambda: not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2],
        "the child to die",
    )
    status = status_of(local, "t1")
    assert (status.phase, status.reason) == (AttemptPhase.FAILED, "Canceled")
    assert changes.wait(TIMEOUT)


def test_cancel_of_a_queued_attempt_never_starts_it(executor, tmp_path):
    local = executor(max_parallel=1)
    release, marker = tmp_path / "release", tmp_path / "started"
    local.launch(shell_task(f"while [ ! -f {release} ]; do sleep 0.02; done", task_id="a"))
    local.launch(shell_task(f"touch {marker}", task_id="b"))

    local.cancel("r1", "b", 1)
    release.touch()
    wait_for(lambda: phases(local)["a"] is AttemptPhase.SUCCEEDED, "the first attempt")
    assert status_of(local, "b").reason == "Canceled"
    assert not marker.exists()


def test_new_executor_object_rediscovers_finished_attempts(executor, changes, tmp_path):
    local = executor()
    local.launch(shell_task("echo done"))
    assert changes.wait(TIMEOUT)
    wait_for(lambda: phases(local) == {"t1": AttemptPhase.SUCCEEDED}, "the attempt to finish")

    restarted = LocalExecutor(tmp_path / "data")
    status = status_of(restarted, "t1")
    assert status.phase is AttemptPhase.SUCCEEDED
    assert "done" in restarted.logs("r1", "t1", 1)


def test_attempt_with_neither_process_nor_result_is_lost(tmp_path):
    workdir = tmp_path / "data" / "runs" / "r1" / "t1" / "1"
    workdir.mkdir(parents=True)
    (workdir / "task.json").write_text(shell_task("true").spec.to_json())
    (workdir / "pid").write_text(f"{os.getpid()} 1\n")  # a live pid that is not the recorded process

    assert status_of(LocalExecutor(tmp_path / "data"), "t1").phase is AttemptPhase.LOST


def test_unknown_attempts_are_ignored(tmp_path):
    local = LocalExecutor(tmp_path / "data")
    assert local.poll(["nope"]) == []
    assert local.logs("nope", "t", 1) == ""
    local.cancel("nope", "t", 1)
    local.cleanup("nope", "t", 1)


def test_workspace_placeholder_is_a_per_run_directory(executor, changes, tmp_path):
    local = executor()
    local.launch(shell_task("echo ws={{$.workspace_path}}", run_id="run-w"))

    assert changes.wait(TIMEOUT)
    assert f"ws={tmp_path / 'data' / 'workspaces' / 'run-w'}" in local.logs("run-w", "t1", 1)


def test_attempt_left_queued_by_a_vanished_executor_is_adopted_not_lost(tmp_path):
    first = LocalExecutor(tmp_path / "data", max_parallel=1)
    first.launch(shell_task("sleep 5", task_id="busy"))
    first.launch(shell_task("true", task_id="t1"))  # queued behind "busy" in first's memory only
    second = LocalExecutor(tmp_path / "data", max_parallel=1)

    assert status_of(second, "t1").phase is AttemptPhase.PENDING
    deadline = time.monotonic() + TIMEOUT
    while status_of(second, "t1").phase is not AttemptPhase.SUCCEEDED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status_of(second, "t1").phase is AttemptPhase.SUCCEEDED
    first.cancel("r1", "busy", 1)


def test_a_cleaned_up_attempt_is_no_longer_polled_and_a_new_attempt_of_its_task_is(executor, changes):
    local = executor()
    local.launch(shell_task("true"))
    wait_for(lambda: phases(local).get("t1") is AttemptPhase.SUCCEEDED, "attempt 1 succeeded")
    local.cleanup("r1", "t1", 1)
    assert local.poll(["r1"]) == []  # forgotten, like a deleted pod
    changes.clear()
    local.launch(shell_task("true", attempt=2))
    wait_for(
        lambda: [(s.attempt, s.phase) for s in local.poll(["r1"])] == [(2, AttemptPhase.SUCCEEDED)],
        "attempt 2 alone polled, succeeded",
    )
    restarted = LocalExecutor(local.data_dir)  # another executor (a restarted stack) reports both again
    assert sorted(s.attempt for s in restarted.poll(["r1"])) == [1, 2]


def test_an_attempt_another_executor_adds_to_a_listed_task_dir_is_found(executor, tmp_path):
    local = executor()
    local.launch(shell_task("true"))
    wait_for(lambda: phases(local).get("t1") is AttemptPhase.SUCCEEDED, "attempt 1 succeeded")
    time.sleep(RACY_MTIME_NS / 1e9)  # past the window in which the task dir is listed again regardless
    local.poll(["r1"])  # the task dir's listing is now kept by its mtime
    other = LocalExecutor(local.data_dir)
    other.launch(shell_task("true", attempt=2))
    wait_for(
        lambda: sorted(s.attempt for s in local.poll(["r1"]) if s.phase.is_final) == [1, 2],
        "the other executor's attempt polled",
    )
