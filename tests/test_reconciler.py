"""Crash safety of the reconciler: a pass may die between any two writes, and two passes may run at once;
runs still finish with every task executed exactly once. Runs on the session's store (`make test` runs it on
both implementations)."""

import collections
import itertools
import threading
import time
from pathlib import Path

import pytest
import yaml
from kfp import compiler, dsl

from chalicelib.executors.local import LocalExecutor
from chalicelib.reconciler import Reconciler
from chalicelib.run_states import FINAL_RUN_STATES
from chalicelib.runtime import Runtime
from chalicelib.services.experiments import create_experiment
from chalicelib.services.runs import RunRequest, submit_run
from chalicelib.spec import spec_from_struct
from tests.support.launch_counting import counted_local_launches, repeated


@dsl.component
def step(marker: str, name: str, value: int) -> int:
    with open(marker, "a") as handle:
        handle.write(name + "\n")
    return value + 1


@dsl.component
def total(marker: str, values: list) -> int:
    with open(marker, "a") as handle:
        handle.write("total\n")
    return sum(values)


@dsl.pipeline(name="crash-safety")
def crashy(marker: str):
    first = step(marker=marker, name="first", value=1)
    second = step(marker=marker, name="second", value=first.output)
    with dsl.ParallelFor([1, 2, 3]) as item:
        looped = step(marker=marker, name="loop", value=item).after(second)
    total(marker=marker, values=dsl.Collected(looped.output))


EXPECTED = collections.Counter({"first": 1, "second": 1, "loop": 3, "total": 1})


class Crash(Exception):
    pass


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    path = tmp_path_factory.mktemp("crash") / "crash.yaml"
    compiler.Compiler().compile(crashy, str(path))
    return spec_from_struct(yaml.safe_load(path.read_text()))


def _submit(runtime: Runtime, package, marker: Path, unique: str) -> str:
    experiment = create_experiment(runtime, f"crash-{unique}", "", "")
    run = submit_run(
        runtime,
        RunRequest(
            display_name="crash",
            experiment_id=experiment.experiment_id,
            namespace="",
            package=package,
            parameters={"marker": str(marker)},
        ),
    )
    return run.run_id


def _executions(marker: Path) -> collections.Counter:
    return collections.Counter(marker.read_text().split()) if marker.exists() else collections.Counter()


@pytest.mark.parametrize("span", [4, 9])
def test_run_finishes_with_each_task_once_when_passes_die_between_writes(
    package, tmp_path, unique, quiet_stack, app_runtime, span
):
    """Each reconciler dies at its 1st, then the next at its 2nd, ... `span`-th write, then again from the 1st:
    every position between two writes of a pass is hit, and every crash is followed by a fresh reconciler."""
    settings, runs = app_runtime.settings, app_runtime.store.runs
    marker = tmp_path / "marker.txt"
    run_id = _submit(app_runtime, package, marker, unique)
    positions = itertools.cycle(range(1, span + 1))
    crashes = 0
    deadline = time.monotonic() + 120
    while runs.get_run(run_id).state not in FINAL_RUN_STATES:
        assert time.monotonic() < deadline, "run did not finish"
        crash_at, writes = next(positions), itertools.count(1)

        def checkpoint(label: str, crash_at: int = crash_at, writes=writes) -> None:
            if next(writes) == crash_at:
                raise Crash(label)

        # A fresh reconciler and executor object after every crash, as after a Lambda or stack restart.
        reconciler = Reconciler(
            settings, app_runtime.store, LocalExecutor(tmp_path / "executor"), checkpoint=checkpoint
        )
        try:
            while runs.get_run(run_id).state not in FINAL_RUN_STATES and time.monotonic() < deadline:
                reconciler.run_pass([run_id])
                time.sleep(0.05)
        except Crash:
            crashes += 1
    run = runs.get_run(run_id)
    assert run.state == "SUCCEEDED", run.error
    assert crashes > 0
    assert _executions(marker) == EXPECTED
    tasks = runs.load_tasks(run_id)
    containers = [t for t in tasks.values() if t.kind == "container"]
    assert len(containers) == 6 and all(t.attempt == 1 for t in containers)
    totals = [t for t in containers if t.name == "total"]
    assert totals[0].parameters == {"Output": 2 + 3 + 4}


def test_a_pass_never_relaunches_the_attempts_it_launched_itself(
    package, tmp_path, unique, quiet_stack, app_runtime
):
    """The executor's status snapshot is taken before a pass launches anything, so the attempts the pass
    launches are missing from it; they must not be mistaken for lost writes and launched again."""
    settings, runs = app_runtime.settings, app_runtime.store.runs
    marker = tmp_path / "marker.txt"
    run_id = _submit(app_runtime, package, marker, unique)
    reconciler = Reconciler(settings, app_runtime.store, LocalExecutor(tmp_path / "executor"))
    deadline = time.monotonic() + 120
    with counted_local_launches() as launches:
        while runs.get_run(run_id).state not in FINAL_RUN_STATES and time.monotonic() < deadline:
            reconciler.run_pass([run_id])
            time.sleep(0.05)
    assert runs.get_run(run_id).state == "SUCCEEDED"
    assert len(launches) == 6  # first, second, three loop iterations, total
    assert repeated(launches) == {}


def test_two_passes_at_once_execute_each_task_once(package, tmp_path, unique, quiet_stack, app_runtime):
    settings, runs = app_runtime.settings, app_runtime.store.runs
    marker = tmp_path / "marker.txt"
    run_id = _submit(app_runtime, package, marker, unique)
    errors: list[BaseException] = []

    def loop() -> None:
        reconciler = Reconciler(settings, app_runtime.store, LocalExecutor(tmp_path / "executor"))
        deadline = time.monotonic() + 120
        try:
            while runs.get_run(run_id).state not in FINAL_RUN_STATES and time.monotonic() < deadline:
                reconciler.run_pass([run_id])
                time.sleep(0.02)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    final = runs.get_run(run_id)
    assert final.state == "SUCCEEDED", (
        final.error,
        {t.task_id: (t.state, t.error) for t in runs.load_tasks(run_id).values()},
    )
    assert _executions(marker) == EXPECTED
