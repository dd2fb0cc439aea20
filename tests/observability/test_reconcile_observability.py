"""A run through the reconciler with a retried attempt and a failing task, as the console sees it: one log line
per state change (no repeats from the passes that change nothing), every line keyed by run (and task), and the
EMF metrics counting the same changes."""

import collections
import time
from pathlib import Path

import pytest
import yaml
from kfp import compiler, dsl

from chalicelib.executors.local import LocalExecutor
from chalicelib.observability import metric_names as m
from chalicelib.observability.invocations import invocation
from chalicelib.reconciler import Reconciler
from chalicelib.run_states import FINAL_RUN_STATES
from chalicelib.services.experiments import create_experiment
from chalicelib.services.runs import RunRequest, submit_run
from chalicelib.spec import spec_from_struct
from tests.observability.conftest import Output


@dsl.component
def flaky(marker: str) -> str:
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise SystemExit(3)
    return "second time lucky"


@dsl.component
def echo(text: str) -> str:
    return text


@dsl.component
def broken(text: str):
    raise SystemExit(5)


@dsl.pipeline(name="observed")
def observed(marker: str):
    first = flaky(marker=marker).set_retry(num_retries=1, backoff_duration="0s")
    second = echo(text=first.output)
    broken(text=second.output)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    path = tmp_path_factory.mktemp("observed") / "observed.yaml"
    compiler.Compiler().compile(observed, str(path))
    return spec_from_struct(yaml.safe_load(path.read_text()))


def test_a_run_with_a_retry_and_a_failure_logs_each_state_change_once(
    output: Output, package, tmp_path: Path, unique: str
) -> None:
    current = output.settings
    from chalicelib import runtime

    app = runtime.current()
    with invocation(current, None):  # the API's request
        experiment = create_experiment(app, f"observed-{unique}", "", "")
        run_id = submit_run(
            app,
            RunRequest(
                display_name="observed",
                experiment_id=experiment.experiment_id,
                namespace="",
                package=package,
                parameters={"marker": str(tmp_path / "marker")},
            ),
        ).run_id
    reconciler = Reconciler(current, app.store, LocalExecutor(tmp_path / "executor"))
    deadline = time.monotonic() + 120
    while app.store.runs.get_run(run_id).state not in FINAL_RUN_STATES:
        assert time.monotonic() < deadline, "run did not finish"
        with invocation(current, None):  # one reconcile Lambda invocation per pass
            reconciler.run_pass([run_id])
        time.sleep(0.05)
    for _ in range(3):  # passes after the end change nothing and log nothing
        with invocation(current, None):
            reconciler.run_pass([run_id])
    output.read()

    run_lines = [line for line in output.logs if line.get("run_id") == run_id]
    changes = collections.Counter(
        (line["message"], line.get("task_id"), line.get("attempt"), line.get("state"))
        for line in run_lines
        if line["message"] != "reconcile pass"
    )
    assert [key for key, count in changes.items() if count > 1] == [], "a state change was logged twice"
    assert all(line["service"] == "kfp-serverless" for line in run_lines)

    (created,) = output.lines("run created", run_id=run_id)
    assert created["experiment_id"] == experiment.experiment_id and created["state"] == "PENDING"
    assert len(output.lines("run state changed", run_id=run_id, state="RUNNING")) == 1
    (ended,) = output.lines("run ended", run_id=run_id)
    assert ended["state"] == "FAILED" and ended["level"] == "WARNING" and ended["previous_state"] == "RUNNING"

    launched = output.lines("task attempt launched", run_id=run_id)
    assert sorted((line["task_name"], line["attempt"]) for line in launched) == [
        ("broken", 1),
        ("echo", 1),
        ("flaky", 1),
        ("flaky", 2),
    ]
    assert all(line["task_id"] and line["pod_name"] for line in launched)
    (retried,) = output.lines("task attempt retried", run_id=run_id)
    assert (retried["task_name"], retried["attempt"], retried["next_attempt"]) == ("flaky", 1, 2)
    assert retried["exit_code"] == 3 and retried["state"] == "PENDING"
    (failed,) = output.lines("task attempt failed", run_id=run_id)
    assert (failed["task_name"], failed["attempt"], failed["state"], failed["exit_code"]) == (
        "broken",
        1,
        "FAILED",
        5,
    )
    succeeded = output.lines("task attempt ended", run_id=run_id, state="SUCCEEDED")
    assert sorted((line["task_name"], line["attempt"]) for line in succeeded) == [("echo", 1), ("flaky", 2)]
    running = output.lines("task state changed", run_id=run_id, state="RUNNING", task_kind="container")
    assert len(running) <= 4  # an attempt may end before any pass sees it running

    totals = output.totals()
    assert totals[m.RUNS_CREATED.name] == 1
    assert totals[m.RUNS_FAILED.name] == 1
    assert m.RUNS_SUCCEEDED.name not in totals and m.RUNS_CANCELED.name not in totals
    assert totals[m.TASK_ATTEMPTS_STARTED.name] == 4
    assert totals[m.TASK_ATTEMPTS_FAILED.name] == 2  # flaky's first attempt and broken's only one
    assert totals[m.LAUNCHES_PER_PASS.name] == 4
    values = output.metric_values()
    # echo after flaky, broken after echo; flaky's second attempt is a retry, not a dependant
    assert len(values[m.TASK_END_TO_LAUNCH_GAP.name]) == 2
    assert all(gap >= 0 for gap in values[m.TASK_END_TO_LAUNCH_GAP.name])
    assert len(values[m.RECONCILE_PASS_DURATION.name]) == len(values[m.LAUNCHES_PER_PASS.name])
    assert values[m.OLDEST_RUN_WITHOUT_PROGRESS.name], "active runs' progress is measured on each pass"
    # one EMF document per invocation, and none for invocations that measured nothing
    assert all(len(document["_aws"]["CloudWatchMetrics"]) == 1 for document in output.documents)
