"""Fail-fast, exit handlers with PipelineTaskFinalStatus, ignore_upstream_failure, and run terminate."""

from __future__ import annotations

from engine_fakes import FakeRun, Result, sample_outputs
from spec_builders import SpecBuilder, comp_in, const, out, parameter, task

from chalicelib.engine.model import Cancel
from chalicelib.task_contract import TaskState


def failing(*names: str, running: tuple[str, ...] = ()):
    def behaviour(task_spec):
        if task_spec.task_name in names:
            return Result(succeeded=False, error=f"{task_spec.task_name} exited 1", exit_code=1)
        if task_spec.task_name in running:
            return Result(running=True)
        return sample_outputs(task_spec)

    return behaviour


def exit_handler_spec():
    builder = SpecBuilder("exit")
    work = builder.container("work")
    report = builder.container("report", inputs={"status": "TASK_FINAL_STATUS", "msg": "STRING"})
    body = builder.dag("exit-handler-1", {"fail-op": task(work), "other": task(work, after=["fail-op"])})
    return builder.build(
        {
            "exit-handler-1": task(body, display="my-pipeline"),
            "exit-op": task(
                report,
                {"status": {"taskFinalStatus": {"producerTask": "exit-handler-1"}}, "msg": const("bye")},
                after=["exit-handler-1"],
                triggerPolicy={"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"},
            ),
        }
    )


def test_exit_handler_runs_after_failure_and_sees_failed_status():
    fake = FakeRun(exit_handler_spec(), behaviour=failing("fail-op"))
    decisions = fake.run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert (
        "fail-op exited 1" in decisions.outcome.error
        and "root.exit-handler-1.fail-op" in decisions.outcome.error
    )
    status = fake.launched("exit-op")[0].spec.parameters["status"]
    assert status["state"] == "FAILED"
    assert status["pipelineTaskName"] == "exit-handler-1"
    assert status["pipelineJobResourceName"].startswith("exit-")
    assert status["error"]["message"] == "fail-op exited 1"
    assert not fake.launched("other")


def test_exit_handler_sees_complete_after_success():
    fake = FakeRun(exit_handler_spec())
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    assert fake.launched("exit-op")[0].spec.parameters["status"] == {
        "state": "COMPLETE",
        "pipelineJobResourceName": fake.launched("exit-op")[0].spec.parameters["status"][
            "pipelineJobResourceName"
        ],
        "pipelineTaskName": "exit-handler-1",
        "error": {},
    }


def test_failure_stops_new_tasks_but_lets_running_siblings_finish():
    builder = SpecBuilder()
    work = builder.container("work")
    spec = builder.build(
        {
            "fails": task(work),
            "slow": task(work),
            "after-slow": task(work, after=["slow"]),
        }
    )
    calls = {}

    def behaviour(task_spec):
        calls[task_spec.task_name] = calls.get(task_spec.task_name, 0) + 1
        if task_spec.task_name == "fails":
            return Result(succeeded=False, error="boom", exit_code=2)
        if task_spec.task_name == "slow" and calls["slow"] < 3:
            return Result(running=True)
        return Result()

    fake = FakeRun(spec, behaviour=behaviour)
    decisions = fake.run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert fake.record("root.slow").state is TaskState.SUCCEEDED
    assert not fake.launched("after-slow")
    assert fake.record("root.fails").exit_code == 2


def test_ignore_upstream_failure_task_runs_with_default_input():
    builder = SpecBuilder()
    fail = builder.container("fail-op", outputs={"Output": "STRING"})
    show = builder.container("print-op", inputs={"message": parameter("STRING", "default")})
    spec = builder.build(
        {
            "fail-op": task(fail),
            "print-op": task(
                show, {"message": out("fail-op")}, triggerPolicy={"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
            ),
        }
    )
    fake = FakeRun(spec, behaviour=failing("fail-op"))
    assert fake.run_to_end().outcome.state == "FAILED"
    assert fake.launched("print-op")[0].spec.parameters == {"message": "default"}


def test_terminate_cancels_running_cancels_pending_and_still_runs_exit_handler():
    builder = SpecBuilder("term")
    work = builder.container("work")
    report = builder.container("report", inputs={"status": "TASK_FINAL_STATUS"})
    body = builder.dag("exit-handler-1", {"long": task(work), "next": task(work, after=["long"])})
    spec = builder.build(
        {
            "exit-handler-1": task(body),
            "exit-op": task(
                report,
                {"status": {"taskFinalStatus": {"producerTask": "exit-handler-1"}}},
                after=["exit-handler-1"],
                triggerPolicy={"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"},
            ),
        }
    )
    fake = FakeRun(spec, behaviour=failing(running=("long",)))
    fake.step()
    fake.step()
    assert fake.record("root.exit-handler-1.long").state is TaskState.RUNNING
    fake.terminate()
    decisions = fake.step()
    assert Cancel("root.exit-handler-1.long", 1) in decisions.cancels
    final = fake.run_to_end()
    assert final.outcome.state == "CANCELED"
    assert fake.record("root.exit-handler-1.long").state is TaskState.CANCELED
    assert not fake.launched("next")
    assert fake.launched("exit-op")[0].spec.parameters["status"]["state"] == "CANCELED"


def test_input_resolution_error_in_a_sub_dag_fails_the_run():
    builder = SpecBuilder()
    show = builder.container("show", inputs={"x": "NUMBER_INTEGER"})
    body = builder.dag("sub", {"show": task(show, {"x": comp_in("x")})}, inputs={"x": "NUMBER_INTEGER"})
    spec = builder.build({"sub": task(body, {"x": const([1, 2])})})
    decisions = FakeRun(spec).run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert "declared NUMBER_INTEGER" in decisions.outcome.error
