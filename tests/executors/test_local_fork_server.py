"""The prewarmed local executor: lightweight Python steps forked from the fork server behave like plain
processes (env, cwd, process group, logs, outputs, exit codes, cancel), and a fork server that dies or hangs
loses no attempt and runs none twice."""

import dataclasses
import json
import os
import re
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from kfp import dsl

from chalicelib.executors.fork_server import ForkRequest
from chalicelib.executors.local import LocalExecutor
from chalicelib.executors.local_processes import ProcessRecord, write_record_exclusively
from chalicelib.executors.protocol import AttemptLaunch, AttemptPhase, AttemptStatus
from chalicelib.launcher.runner import PREWARMED_LOG_PREFIX
from chalicelib.task_contract import TaskSpec
from tests.launcher.task_specs import compile_component, task_spec_from_ir
from tests.support.waiting import wait_for

TIMEOUT = 60.0
FORKED = f"{PREWARMED_LOG_PREFIX} the Python step runs in a fork"


@dsl.component(base_image="python:3.11")
def introspect(note: str) -> str:
    import json
    import os
    import sys

    leader = os.getsid(0)
    stat = open(f"/proc/{leader}/stat").read()
    return json.dumps(
        {
            "note": note,
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "argv": sys.argv,
            "path0": sys.path[0],
            "module": __name__,
            "executable": sys.executable,
            "pid": os.getpid(),
            "pgid": os.getpgid(0),
            "sid": leader,
            "leader_parent": int(stat[stat.rindex(")") + 2 :].split()[1]),
            "stdin": sys.stdin.read(),
        }
    )


@dsl.component(base_image="python:3.11")
def train(epochs: int, data: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model]) -> NamedTuple(
    "Outputs", [("steps", int), ("label", str)]
):
    with open(data.path) as f:
        rows = f.read().split()
    with open(model.path, "w") as f:
        f.write(f"model of {len(rows)} rows")
    model.metadata["epochs"] = epochs
    outputs = NamedTuple("Outputs", [("steps", int), ("label", str)])  # noqa: UP014 - runs as source
    return outputs(epochs * len(rows), "trained")


@dsl.component(base_image="python:3.11")
def chatty(lines: int):
    import atexit
    import sys
    import threading
    import time

    atexit.register(lambda: print("atexit ran"))
    for i in range(lines):
        print(f"out {i}")
        print(f"err {i}", file=sys.stderr)

    def after_main() -> None:  # the interpreter waits for this thread at exit, before atexit handlers
        while threading.main_thread().is_alive():
            time.sleep(0.01)
        print("non-daemon thread ran")

    threading.Thread(target=after_main).start()


@dsl.component(base_image="python:3.11")
def fail(message: str):
    print("about to fail")
    raise ValueError(message)


@dsl.component(base_image="python:3.11")
def exit_with(code: int):
    import sys

    sys.exit(code)


@dsl.component(base_image="python:3.11")
def hold_until_released(release: str, pid_file: str) -> str:
    import os
    import subprocess
    import time

    child = subprocess.Popen(["sleep", "300"])
    with open(pid_file, "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    while not os.path.exists(release):
        time.sleep(0.02)
    child.kill()
    return "released"


@dsl.component(base_image="python:3.11")
def count(marker: str) -> int:
    with open(marker, "a") as f:
        f.write("ran\n")
    return 1


def status_of(executor: LocalExecutor, spec: TaskSpec) -> AttemptStatus:
    (status,) = [s for s in executor.poll([spec.run_id]) if s.task_id == spec.task_id]
    return status


def finished(executor: LocalExecutor, spec: TaskSpec) -> AttemptStatus:
    wait_for(lambda: status_of(executor, spec).phase.is_final, f"{spec.task_id} to finish")
    return status_of(executor, spec)


@pytest.fixture
def make_executor(tmp_path: Path):
    """LocalExecutor factory (prewarmed ones with their fork server ready); everything stopped afterwards."""
    made: list[LocalExecutor] = []

    def make(prewarm: bool, name: str = "", **options) -> LocalExecutor:
        executor = LocalExecutor(
            tmp_path / (name or ("forked" if prewarm else "plain")), prewarm=prewarm, **options
        )
        made.append(executor)
        if prewarm:
            assert executor.fork_server is not None and executor.fork_server.wait_ready(TIMEOUT)
        return executor

    yield make
    for executor in made:
        runs = executor.data_dir / "runs"
        for status in executor.poll(p.name for p in runs.glob("*")) if runs.is_dir() else []:
            executor.cancel(status.run_id, status.task_id, status.attempt)
        executor.close()


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Callable[..., TaskSpec]:
    directory = tmp_path_factory.mktemp("components")
    packages = {}

    def spec(component, parameters: dict, root: Path, task_id: str = "", **fields) -> TaskSpec:
        if component.name not in packages:
            packages[component.name] = compile_component(component, directory)
        made = task_spec_from_ir(packages[component.name], str(root), parameters, **fields)
        return dataclasses.replace(made, task_id=task_id or made.task_id)

    return spec


def test_forked_attempt_runs_user_code_in_its_own_group_with_the_attempts_env_and_cwd(
    make_executor, compiled, tmp_path
):
    executor = make_executor(prewarm=True)
    spec = dataclasses.replace(
        compiled(introspect, {"note": "hi"}, tmp_path / "root"), env={"RUN_LABEL": "forked"}
    )

    executor.launch(AttemptLaunch(spec))
    status = finished(executor, spec)

    assert status.phase is AttemptPhase.SUCCEEDED, executor.logs(spec.run_id, spec.task_id, 1)
    seen = json.loads(status.result.parameters["Output"])
    workdir = executor.workdir(spec.run_id, spec.task_id, 1)
    record = ProcessRecord.from_text((workdir / "pid").read_text())
    assert FORKED in executor.logs(spec.run_id, spec.task_id, 1)
    assert seen["leader_parent"] == executor.fork_server.pid  # the launcher is a fork of the server
    assert (
        seen["sid"] == seen["pgid"] == record.pid != seen["pid"]
    )  # own session and group, led by the launcher
    assert seen["cwd"] == str(workdir) == seen["env"]["PWD"]
    assert seen["env"]["RUN_LABEL"] == "forked" and seen["env"]["_KFP_RUNTIME"] == "true"
    assert seen["env"]["KFPS_WORKSPACE_PATH"] == str(executor.data_dir / "workspaces" / spec.run_id)
    assert seen["module"] == "ephemeral_component" and seen["stdin"] == ""
    assert seen["argv"][0].endswith("kfp/dsl/executor_main.py") and "--function_to_execute" in seen["argv"]


def normalized_log(text: str, data_dir: Path) -> str:
    """A launcher log without what differs between any two runs: times, temporary dirs, the data dir, the
    prewarmed launcher's own line."""
    text = text.replace(str(data_dir), "<data>")
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", "<time>", text)
    text = re.sub(r"/tmp/tmp\.\w+", "<program dir>", text)
    return "\n".join(line for line in text.splitlines() if PREWARMED_LOG_PREFIX not in line)


def normalized_introspection(value: str, data_dir: Path) -> dict:
    seen = json.loads(value.replace(str(data_dir), "<data>"))
    for name in ("pid", "pgid", "sid", "leader_parent"):
        del seen[name]  # different processes, of course
    seen["argv"] = [re.sub(r"/tmp/tmp\.\w+", "<program dir>", part) for part in seen["argv"]]
    seen["path0"] = re.sub(r"/tmp/tmp\.\w+", "<program dir>", seen["path0"])
    return seen


CASES = {
    "introspect": (introspect, {"note": "same"}),
    "train": (train, {"epochs": 3}),
    "chatty": (chatty, {"lines": 3}),
    "fail": (fail, {"message": "boom"}),
    "exit_with": (exit_with, {"code": 3}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_forked_and_plain_attempts_have_the_same_logs_outputs_and_exit_codes(
    make_executor, compiled, tmp_path, case
):
    component, parameters = CASES[case]
    data = tmp_path / "data.txt"
    data.write_text("a b c d")
    dataset = {"name": "d", "uri": str(data), "type": {"schemaTitle": "system.Dataset"}, "metadata": {}}
    outcomes = {}
    for prewarm in (False, True):
        executor = make_executor(prewarm=prewarm)
        root = executor.data_dir / "root"
        artifacts = {"data": [dataset]} if case == "train" else {}
        spec = dataclasses.replace(compiled(component, parameters, root, artifacts=artifacts), env={"A": "1"})
        executor.launch(AttemptLaunch(spec))
        status = finished(executor, spec)
        log = executor.logs(spec.run_id, spec.task_id, 1)
        assert (FORKED in log) is prewarm, log
        result = status.result
        outputs = dict(result.parameters)
        if case == "introspect" and "Output" in outputs:
            outputs["Output"] = normalized_introspection(outputs["Output"], executor.data_dir)
        artifacts_out = {
            name: [(a["metadata"], Path(a["uri"]).read_text()) for a in items]
            for name, items in result.artifacts.items()
        }
        outcomes[prewarm] = (
            status.phase,
            result.exit_code,
            result.error,
            outputs,
            artifacts_out,
            normalized_log(log, executor.data_dir),
            normalized_log(result.log_tail, executor.data_dir),
        )
    assert outcomes[True] == outcomes[False]
    if case == "fail":
        assert "ValueError: boom" in outcomes[True][5] and outcomes[True][1] == 1
    if case == "chatty":
        assert "atexit ran" in outcomes[True][5] and "non-daemon thread ran" in outcomes[True][5]


def test_cancel_kills_the_forked_attempts_whole_process_group(make_executor, compiled, tmp_path):
    executor = make_executor(prewarm=True)
    pids = tmp_path / "pids"
    spec = compiled(
        hold_until_released, {"release": str(tmp_path / "never"), "pid_file": str(pids)}, tmp_path / "root"
    )
    executor.launch(AttemptLaunch(spec))
    wait_for(lambda: pids.exists() and pids.read_text(), "the step and its child")
    step, child = (int(p) for p in pids.read_text().split())
    launcher = ProcessRecord.from_text((executor.workdir(spec.run_id, spec.task_id, 1) / "pid").read_text())

    executor.cancel(spec.run_id, spec.task_id, 1)

    for pid in (launcher.pid, step, child):
        wait_for(lambda pid=pid: not alive(pid), f"process {pid} to end")
    status = status_of(executor, spec)
    assert (status.phase, status.reason) == (AttemptPhase.FAILED, "Canceled")


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def test_a_fork_server_killed_mid_attempt_loses_nothing_and_comes_back(make_executor, compiled, tmp_path):
    changes = threading.Event()
    executor = make_executor(prewarm=True, on_change=changes.set)
    release, pids = tmp_path / "release", tmp_path / "pids"
    running = compiled(
        hold_until_released, {"release": str(release), "pid_file": str(pids)}, tmp_path / "root", "running"
    )
    executor.launch(AttemptLaunch(running))
    wait_for(lambda: pids.exists() and pids.read_text(), "the attempt to run")
    first_server = executor.fork_server.pid

    os.kill(first_server, signal.SIGKILL)
    next_one = compiled(count, {"marker": str(tmp_path / "marker")}, tmp_path / "root", "next")
    wait_for(lambda: not alive(first_server), "the server to die")
    executor.launch(AttemptLaunch(next_one))  # the server is noticed gone: a plain process, or a new server
    release.touch()

    assert finished(executor, running).phase is AttemptPhase.SUCCEEDED
    assert status_of(executor, running).result.parameters == {"Output": "released"}
    assert changes.wait(TIMEOUT)  # the orphaned attempt's end was still noticed at once
    assert finished(executor, next_one).phase is AttemptPhase.SUCCEEDED
    assert executor.fork_server.wait_ready(TIMEOUT) and executor.fork_server.pid != first_server
    after = compiled(count, {"marker": str(tmp_path / "marker")}, tmp_path / "root", "after")
    executor.launch(AttemptLaunch(after))
    assert finished(executor, after).phase is AttemptPhase.SUCCEEDED
    assert FORKED in executor.logs(after.run_id, after.task_id, 1)
    assert (tmp_path / "marker").read_text() == "ran\nran\n"


def test_an_unanswered_fork_request_runs_the_attempt_once_as_a_plain_process(
    make_executor, compiled, tmp_path
):
    executor = make_executor(prewarm=True)
    executor.fork_server.reply_timeout = 0.5
    server = executor.fork_server.pid
    os.kill(server, signal.SIGSTOP)  # it takes the request, but neither forks nor answers
    try:
        spec = compiled(count, {"marker": str(tmp_path / "marker")}, tmp_path / "root")
        executor.launch(AttemptLaunch(spec))
        status = finished(executor, spec)
    finally:
        if alive(server):
            os.kill(server, signal.SIGCONT)
    assert status.phase is AttemptPhase.SUCCEEDED
    assert FORKED not in executor.logs(spec.run_id, spec.task_id, 1)
    assert (tmp_path / "marker").read_text() == "ran\n"
    wait_for(lambda: not alive(server), "the hung server to be stopped")


def test_a_forked_launcher_finding_its_attempt_taken_does_nothing(make_executor, compiled, tmp_path):
    """The executor took the attempt back (reserved its pid record) after losing the server mid-request: a
    child forked for it anyway must not run it."""
    executor = make_executor(prewarm=True)
    spec = compiled(count, {"marker": str(tmp_path / "marker")}, tmp_path / "root")
    workdir = tmp_path / "attempt"
    workdir.mkdir()
    (workdir / "task.json").write_text(spec.to_json())
    assert write_record_exclusively(workdir / "pid", None)
    arguments = (
        "run",
        "--task-file",
        str(workdir / "task.json"),
        "--result-file",
        str(workdir / "result.json"),
    )

    record = executor.fork_server.fork(
        ForkRequest(
            launcher_args=(*arguments, "--workdir", str(workdir), "--fork-python-steps"),
            env=dict(executor.fork_server.env),
            cwd=str(workdir),
            log_file=str(workdir / "launcher.log"),
            pid_file=str(workdir / "pid"),
            canceled_file=str(workdir / "canceled"),
        )
    )

    wait_for(lambda: not alive(record.pid), "the child to exit")
    assert not (tmp_path / "marker").exists() and not (workdir / "result.json").exists()
    assert (workdir / "pid").read_text() == ""


def test_container_commands_run_as_plain_processes_on_a_prewarmed_executor(make_executor, tmp_path):
    executor = make_executor(prewarm=True)
    spec = TaskSpec(
        run_id="r1",
        task_id="shell",
        attempt=1,
        task_name="shell",
        display_name="shell",
        pipeline_name="p",
        pipeline_root=str(tmp_path / "root"),
        container={"image": "alpine:3", "command": ["sh", "-c", 'echo "parent=$PPID"']},
        input_definitions={},
        output_definitions={},
        parameters={},
        artifacts={},
        output_artifact_uris={},
    )

    executor.launch(AttemptLaunch(spec))

    assert finished(executor, spec).phase is AttemptPhase.SUCCEEDED
    log = executor.logs("r1", "shell", 1)
    launcher = ProcessRecord.from_text((executor.workdir("r1", "shell", 1) / "pid").read_text())
    assert PREWARMED_LOG_PREFIX not in log
    assert f"parent={launcher.pid}" in log
    assert launcher_parent(launcher.pid) in (os.getpid(), None)  # ours (None once it is reaped)


def launcher_parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def test_the_fork_server_holds_no_threads_and_no_sockets(make_executor):
    executor = make_executor(prewarm=True)
    pid = executor.fork_server.pid

    assert len(os.listdir(f"/proc/{pid}/task")) == 1
    descriptors = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    assert not [d for d in descriptors if d.startswith("socket:")], descriptors


def test_closing_the_executor_stops_its_fork_server_but_not_running_attempts(
    make_executor, compiled, tmp_path
):
    executor = make_executor(prewarm=True)
    release, pids = tmp_path / "release", tmp_path / "pids"
    spec = compiled(hold_until_released, {"release": str(release), "pid_file": str(pids)}, tmp_path / "root")
    executor.launch(AttemptLaunch(spec))
    wait_for(lambda: pids.exists() and pids.read_text(), "the attempt to run")
    server = executor.fork_server.pid

    executor.close()
    wait_for(lambda: not alive(server), "the server to stop")
    release.touch()

    assert finished(executor, spec).phase is AttemptPhase.SUCCEEDED


def test_stopping_all_tasks_ends_forked_attempts_and_starts_nothing_in_their_place(
    make_executor, compiled, tmp_path
):
    executor = make_executor(prewarm=True)
    pids = tmp_path / "pids"
    spec = compiled(
        hold_until_released, {"release": str(tmp_path / "never"), "pid_file": str(pids)}, tmp_path / "root"
    )
    executor.launch(AttemptLaunch(spec))
    wait_for(lambda: pids.exists() and pids.read_text(), "the attempt to run")
    step, child = (int(p) for p in pids.read_text().split())
    record_file = executor.workdir(spec.run_id, spec.task_id, 1) / "pid"
    launcher = ProcessRecord.from_text(record_file.read_text())

    executor.stop_all()

    for pid in (launcher.pid, step, child):
        wait_for(lambda pid=pid: not alive(pid), f"process {pid} to end")
    assert ProcessRecord.from_text(record_file.read_text()) == launcher  # nothing restarted it
    assert status_of(LocalExecutor(executor.data_dir), spec).phase is AttemptPhase.LOST  # re-run on restart


def test_a_step_with_its_own_interpreter_settings_runs_as_a_plain_process(make_executor, compiled, tmp_path):
    executor = make_executor(prewarm=True)
    extra = tmp_path / "extra"
    extra.mkdir()
    spec = dataclasses.replace(
        compiled(introspect, {"note": "own"}, tmp_path / "root"), env={"PYTHONPATH": str(extra)}
    )

    executor.launch(AttemptLaunch(spec))
    status = finished(executor, spec)

    assert status.phase is AttemptPhase.SUCCEEDED, executor.logs(spec.run_id, spec.task_id, 1)
    assert PREWARMED_LOG_PREFIX not in executor.logs(spec.run_id, spec.task_id, 1)
    seen = json.loads(status.result.parameters["Output"])
    assert seen["leader_parent"] != executor.fork_server.pid
    assert seen["env"]["PYTHONPATH"].startswith(str(extra))
