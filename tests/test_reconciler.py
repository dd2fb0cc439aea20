"""Crash safety of the reconciler: a pass may die between any two writes, and two passes may run at once;
runs still finish with every task executed exactly once."""

import collections
import threading
import time
from pathlib import Path

import pytest
import yaml
from kfp import compiler, dsl

from chalicelib.executors.local import LocalExecutor
from chalicelib.reconciler import Reconciler
from chalicelib.run_states import FINAL_RUN_STATES
from chalicelib.run_submission import RunRequest, submit_run
from chalicelib.settings import Settings
from chalicelib.spec import spec_from_struct
from chalicelib.store import catalog
from chalicelib.store import runs as run_store
from chalicelib.store.objects import ObjectStore
from tests.support.crashing_passes import drive_with_crashes


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


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    path = tmp_path_factory.mktemp("crash") / "crash.yaml"
    compiler.Compiler().compile(crashy, str(path))
    return spec_from_struct(yaml.safe_load(path.read_text()))


def _submit(package, marker: Path, unique: str) -> str:
    settings = Settings.from_env()
    experiment = catalog.create_experiment(f"crash-{unique}", "", "")
    run = submit_run(
        RunRequest(
            display_name="crash",
            experiment_id=experiment.experiment_id,
            namespace="",
            package=package,
            parameters={"marker": str(marker)},
        ),
        settings,
        ObjectStore(settings.bucket),
    )
    return run.run_id


def _executions(marker: Path) -> collections.Counter:
    return collections.Counter(marker.read_text().split()) if marker.exists() else collections.Counter()


@pytest.mark.parametrize("span", [4, 9])
def test_run_finishes_with_each_task_once_when_passes_die_between_writes(
    package, tmp_path, unique, quiet_stack, span
):
    """Each reconciler dies at its 1st, then the next at its 2nd, ... `span`-th write, then again from the 1st:
    every position between two writes of a pass is hit, and every crash is followed by a fresh reconciler."""
    settings = Settings.from_env()
    marker = tmp_path / "marker.txt"
    run_id = _submit(package, marker, unique)
    crashes = drive_with_crashes(run_id, lambda: LocalExecutor(tmp_path / "executor"), span)
    run = run_store.get_run(run_id)
    assert run.state == "SUCCEEDED", run.error
    assert crashes > 0
    assert _executions(marker) == EXPECTED
    tasks = run_store.load_tasks(run_id, ObjectStore(settings.bucket))
    containers = [t for t in tasks.values() if t.kind == "container"]
    assert len(containers) == 6 and all(t.attempt == 1 for t in containers)
    totals = [t for t in containers if t.name == "total"]
    assert totals[0].parameters == {"Output": 2 + 3 + 4}


def test_two_passes_at_once_execute_each_task_once(package, tmp_path, unique, quiet_stack):
    settings = Settings.from_env()
    marker = tmp_path / "marker.txt"
    run_id = _submit(package, marker, unique)
    errors: list[BaseException] = []

    def loop() -> None:
        reconciler = Reconciler(settings, ObjectStore(settings.bucket), LocalExecutor(tmp_path / "executor"))
        deadline = time.monotonic() + 120
        try:
            while run_store.get_run(run_id).state not in FINAL_RUN_STATES and time.monotonic() < deadline:
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
    final = run_store.get_run(run_id)
    assert final.state == "SUCCEEDED", (
        final.error,
        {
            t.task_id: (t.state, t.error)
            for t in run_store.load_tasks(run_id, ObjectStore(settings.bucket)).values()
        },
    )
    assert _executions(marker) == EXPECTED
