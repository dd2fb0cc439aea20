"""The KFP v1 planner's Argo semantics, on small workflows run by the fake reconciler (planning twice never
launches or changes anything twice: `FakeArgoRun.step` checks that on every step)."""

from __future__ import annotations

import datetime
import json

from chalicelib.engine.attempts import MAX_LOST_ATTEMPTS
from chalicelib.timestamps import parse_time
from tests.engine.argo.argo_fakes import START, FakeArgoRun, Outcome, echo_outputs, workflow_of

ECHO = {"image": "alpine", "command": ["sh", "-c", "echo hi"]}


def workflow(templates: list[dict], entrypoint: str = "main", **spec: object) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "test-"},
        "spec": {"entrypoint": entrypoint, "templates": templates, **spec},
    }


def container(name: str, outputs: list[str] = (), inputs: list[str] = (), **extra: object) -> dict:
    template = {"name": name, "container": dict(ECHO), **extra}
    if outputs:
        template["outputs"] = {
            "parameters": [{"name": output, "valueFrom": {"path": f"/tmp/{output}"}} for output in outputs]
        }
    if inputs:
        template["inputs"] = {"parameters": [{"name": name} for name in inputs]}
    return template


def dag(name: str, tasks: list[dict], **extra: object) -> dict:
    return {"name": name, "dag": {"tasks": tasks}, **extra}


def fails(*templates: str, exit_code: int | None = 1):
    def behaviour(spec):
        if spec.argo_step["template"] in templates:
            return Outcome(succeeded=False, exit_code=exit_code, error="boom")
        return echo_outputs(spec)

    return behaviour


def states_by_name(run: FakeArgoRun) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for record in run.tasks.values():
        found.setdefault(record.name, []).append(record.state.value)
    return {name: sorted(states) for name, states in found.items()}


def test_a_skipped_dependency_still_lets_its_dependant_run():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {"name": "a", "template": "step", "when": "'x' == 'y'"},
                    {"name": "b", "template": "step", "dependencies": ["a"]},
                ],
            ),
            container("step"),
        ]
    )
    run = FakeArgoRun(spec)
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    assert states_by_name(run)["a"] == ["SKIPPED"]
    assert states_by_name(run)["b"] == ["SUCCEEDED"]
    assert "evaluated false" in run.tasks["root.a"].error


def test_a_failed_dependency_omits_its_dependants_and_fails_the_dag():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {"name": "a", "template": "bad"},
                    {"name": "b", "template": "step", "dependencies": ["a"]},
                    {"name": "c", "template": "step", "dependencies": ["b"]},
                ],
            ),
            container("step"),
            container("bad"),
        ]
    )
    run = FakeArgoRun(spec, behaviour=fails("bad"))
    decisions = run.run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert "'a'" in decisions.outcome.error and "boom" in decisions.outcome.error
    assert set(run.tasks) == {"root", "root.a"}  # b and c are omitted: derived each pass, never stored


def test_depends_on_failed_runs_a_handler_and_the_dag_succeeds_when_fail_fast_is_off():
    spec = workflow(
        [
            {
                "name": "main",
                "dag": {
                    "failFast": False,
                    "tasks": [
                        {"name": "a", "template": "bad", "continueOn": {"failed": True}},
                        {"name": "on-failure", "template": "step", "depends": "a.Failed"},
                        {"name": "on-success", "template": "step", "depends": "a.Succeeded"},
                        {"name": "last", "template": "step", "depends": "on-failure || on-success"},
                    ],
                },
            },
            container("step"),
            container("bad"),
        ]
    )
    run = FakeArgoRun(spec, behaviour=fails("bad"))
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    names = states_by_name(run)
    assert names["on-failure"] == ["SUCCEEDED"] and names["last"] == ["SUCCEEDED"]
    assert "on-success" not in names  # omitted


def test_an_omitted_leaf_inherits_the_failure_above_it_as_in_argo():
    spec = workflow(
        [
            {
                "name": "main",
                "dag": {
                    "failFast": False,
                    "tasks": [
                        {"name": "a", "template": "bad"},
                        {"name": "on-success", "template": "step", "depends": "a.Succeeded"},
                    ],
                },
            },
            container("step"),
            container("bad"),
        ]
    )
    assert FakeArgoRun(spec, behaviour=fails("bad")).run_to_end().outcome.state == "FAILED"


def test_fail_fast_starts_nothing_new_but_lets_running_tasks_finish():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {"name": "fast-failure", "template": "bad"},
                    {"name": "slow", "template": "slow"},
                    {"name": "after-slow", "template": "step", "dependencies": ["slow"]},
                ],
            ),
            container("step"),
            container("bad"),
            container("slow"),
        ]
    )
    calls = {"slow": 0}

    def behaviour(spec):
        if spec.argo_step["template"] == "slow":
            calls["slow"] += 1
            return Outcome(running=calls["slow"] < 3)
        return fails("bad")(spec)

    run = FakeArgoRun(spec, behaviour=behaviour)
    assert run.run_to_end().outcome.state == "FAILED"
    assert states_by_name(run)["slow"] == ["SUCCEEDED"]
    assert "after-slow" not in states_by_name(run)


def test_with_items_of_objects_expands_into_named_iterations_with_item_fields():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {
                        "name": "loop",
                        "template": "show",
                        "withItems": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
                        "arguments": {
                            "parameters": [
                                {"name": "a", "value": "{{item.a}}"},
                                {"name": "all", "value": "{{item}}"},
                            ]
                        },
                    }
                ],
            ),
            container("show", inputs=["a", "all"]),
        ]
    )
    run = FakeArgoRun(spec)
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    launched = sorted((launch.spec.parameters["a"], launch.spec.parameters["all"]) for launch in run.launches)
    assert launched == [("1", '{"a":1,"b":"x"}'), ("2", '{"a":2,"b":"y"}')]
    labels = sorted(
        record.display_name for record in run.tasks.values() if record.iteration_index is not None
    )
    assert labels == ["loop(0:a:1,b:x)", "loop(1:a:2,b:y)"]


def test_with_param_loops_over_an_upstream_json_output_and_aggregates_outputs():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {"name": "produce", "template": "produce"},
                    {
                        "name": "loop",
                        "template": "double",
                        "dependencies": ["produce"],
                        "withParam": "{{tasks.produce.outputs.parameters.list}}",
                        "arguments": {"parameters": [{"name": "x", "value": "{{item}}"}]},
                    },
                    {
                        "name": "sum",
                        "template": "sum",
                        "dependencies": ["loop"],
                        "arguments": {
                            "parameters": [{"name": "all", "value": "{{tasks.loop.outputs.parameters.y}}"}]
                        },
                    },
                ],
            ),
            container("produce", outputs=["list"]),
            container("double", inputs=["x"], outputs=["y"]),
            container("sum", inputs=["all"]),
        ]
    )

    def behaviour(spec):
        if spec.argo_step["template"] == "produce":
            return Outcome(parameters={"list": "[1, 2, 3]"})
        if spec.argo_step["template"] == "double":
            return Outcome(parameters={"y": str(2 * int(spec.parameters["x"]))})
        return Outcome()

    run = FakeArgoRun(spec, behaviour=behaviour)
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    (total,) = [launch for launch in run.launches if launch.spec.argo_step["template"] == "sum"]
    assert json.loads(total.spec.parameters["all"]) == ["2", "4", "6"]


def test_with_param_that_is_not_a_json_list_fails_the_loop_naming_the_value():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {
                        "name": "loop",
                        "template": "step",
                        "withParam": "not json",
                        "arguments": {"parameters": []},
                    }
                ],
            ),
            container("step"),
        ]
    )
    decisions = FakeArgoRun(spec).run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert "not json" in decisions.outcome.error


def test_workflow_parallelism_caps_the_running_pods():
    items = list(range(6))
    spec = workflow(
        [
            dag("main", [{"name": "loop", "template": "slow", "withItems": items}]),
            container("slow"),
        ],
        parallelism=2,
    )
    calls: dict[str, int] = {}

    def behaviour(spec):
        calls[spec.task_id] = calls.get(spec.task_id, 0) + 1
        return Outcome(running=calls[spec.task_id] < 2)

    run = FakeArgoRun(spec, behaviour=behaviour)
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    assert run.max_running == 2
    assert len(run.launches) == 6


def test_dag_parallelism_caps_active_children_and_zero_means_no_limit():
    def spec_with(parallelism: int) -> dict:
        return workflow(
            [
                dag(
                    "main",
                    [{"name": "loop", "template": "slow", "withItems": list(range(5))}],
                    parallelism=parallelism,
                ),
                container("slow"),
            ]
        )

    for parallelism, expected in ((3, 3), (0, 5)):
        calls: dict[str, int] = {}

        def behaviour(spec, calls=calls):
            calls[spec.task_id] = calls.get(spec.task_id, 0) + 1
            return Outcome(running=calls[spec.task_id] < 2)

        run = FakeArgoRun(spec_with(parallelism), behaviour=behaviour)
        assert run.run_to_end().outcome.state == "SUCCEEDED"
        assert run.max_running == expected


def test_retry_strategy_limit_retries_failed_attempts_with_backoff():
    strategy = {"limit": 2, "backoff": {"duration": "10s", "factor": 2}}
    spec = workflow(
        [dag("main", [{"name": "a", "template": "bad"}]), container("bad", retryStrategy=strategy)]
    )
    run = FakeArgoRun(spec, behaviour=fails("bad"))
    assert run.run_to_end().outcome.state == "FAILED"
    attempts = [launch.spec.attempt for launch in run.launches]
    assert attempts == [1, 2, 3]
    record = run.tasks["root.a"]
    assert record.attempt == 3 and record.data["phase"] == "Failed"
    # backoff 10 s then 20 s: the third attempt started at least 30 s after the first failed
    assert run.now - START >= datetime.timedelta(seconds=30)


def test_retry_policy_on_error_does_not_retry_a_non_zero_exit():
    strategy = {"limit": 3, "retryPolicy": "OnError"}
    spec = workflow(
        [dag("main", [{"name": "a", "template": "bad"}]), container("bad", retryStrategy=strategy)]
    )
    run = FakeArgoRun(spec, behaviour=fails("bad", exit_code=2))
    assert run.run_to_end().outcome.state == "FAILED"
    assert len(run.launches) == 1
    errors = FakeArgoRun(spec, behaviour=fails("bad", exit_code=None))
    assert errors.run_to_end().outcome.state == "FAILED"
    assert len(errors.launches) == 4 and errors.tasks["root.a"].data["phase"] == "Error"


def test_a_lost_attempt_runs_again_at_once_without_a_retry_strategy_a_bounded_number_of_times():
    spec = workflow([dag("main", [{"name": "a", "template": "work"}]), container("work")])
    lost = Outcome(succeeded=False, exit_code=None, error="attempt lost", lost=True)
    losses = iter([lost, lost])
    recovered = FakeArgoRun(spec, behaviour=lambda launched: next(losses, Outcome()))
    assert recovered.run_to_end().outcome.state == "SUCCEEDED"
    assert [launch.spec.attempt for launch in recovered.launches] == [1, 2, 3]
    assert recovered.now - START < datetime.timedelta(seconds=10)  # no backoff between them

    always_lost = FakeArgoRun(spec, behaviour=lambda launched: lost)
    assert always_lost.run_to_end().outcome.state == "FAILED"
    assert len(always_lost.launches) == MAX_LOST_ATTEMPTS + 1
    assert always_lost.tasks["root.a"].error == "attempt lost"


def test_retry_stops_when_max_duration_would_pass():
    strategy = {"limit": 10, "backoff": {"duration": "1m", "factor": 2, "maxDuration": "2m"}}
    spec = workflow(
        [dag("main", [{"name": "a", "template": "bad"}]), container("bad", retryStrategy=strategy)]
    )
    run = FakeArgoRun(spec, behaviour=fails("bad"))
    assert run.run_to_end().outcome.state == "FAILED"
    assert len(run.launches) == 2  # 1 m after the first, the next wait (2 m) would end after 2 m


def test_workflow_deadline_cancels_running_attempts_fails_the_run_and_still_runs_the_exit_handler():
    spec = workflow(
        [dag("main", [{"name": "a", "template": "forever"}]), container("forever"), container("cleanup")],
        activeDeadlineSeconds=5,
        onExit="cleanup",
    )

    def behaviour(spec):
        return Outcome(running=spec.argo_step["template"] == "forever")

    run = FakeArgoRun(spec, behaviour=behaviour)
    decisions = run.run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert "activeDeadlineSeconds" in decisions.outcome.error
    assert run.cancelled == ["root.a"]
    assert run.tasks["onexit"].state.value == "SUCCEEDED"


def test_terminate_cancels_and_runs_the_exit_handler_with_the_workflow_status():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {"name": "a", "template": "forever"},
                    {"name": "b", "template": "step", "dependencies": ["a"]},
                ],
            ),
            container("forever"),
            container("step"),
            {
                "name": "cleanup",
                "inputs": {"parameters": [{"name": "status", "value": "{{workflow.status}}"}]},
                "container": {"image": "alpine", "command": ["echo", "{{inputs.parameters.status}}"]},
            },
        ],
        onExit="cleanup",
    )

    def behaviour(spec):
        return Outcome(running=spec.argo_step["template"] == "forever")

    run = FakeArgoRun(spec, behaviour=behaviour)
    run.step()
    run.step()
    run.run = run.run.__class__(**{**run.run.__dict__, "cancel_requested": True})
    decisions = run.run_to_end()
    assert decisions.outcome.state == "CANCELED"
    (cleanup,) = [launch for launch in run.launches if launch.spec.argo_step["template"] == "cleanup"]
    assert cleanup.spec.container["command"] == ["echo", "Failed"]
    assert "root.b" not in run.tasks


def test_exit_handler_gets_the_workflow_arguments_and_succeeded_status():
    spec = workflow(
        [
            dag("main", [{"name": "a", "template": "step"}], inputs={"parameters": [{"name": "msg"}]}),
            container("step"),
            {
                "name": "cleanup",
                "inputs": {"parameters": [{"name": "msg"}]},
                "container": {
                    "image": "alpine",
                    "command": ["echo", "{{inputs.parameters.msg}} {{workflow.status}}"],
                },
            },
        ],
        onExit="cleanup",
        arguments={"parameters": [{"name": "msg", "value": "default"}]},
    )
    run = FakeArgoRun(spec, parameters={"msg": "given"})
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    (cleanup,) = [launch for launch in run.launches if launch.spec.argo_step["template"] == "cleanup"]
    assert cleanup.spec.container["command"] == ["echo", "given Succeeded"]


def test_a_failing_exit_handler_fails_a_successful_run():
    spec = workflow(
        [dag("main", [{"name": "a", "template": "step"}]), container("step"), container("cleanup")],
        onExit="cleanup",
    )
    decisions = FakeArgoRun(spec, behaviour=fails("cleanup")).run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert decisions.outcome.error.startswith("exit handler")


def test_recursion_through_a_graph_template_runs_until_its_condition_is_false():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {"name": "flip", "template": "flip"},
                    {
                        "name": "graph",
                        "template": "graph",
                        "dependencies": ["flip"],
                        "arguments": {
                            "parameters": [
                                {"name": "coin", "value": "{{tasks.flip.outputs.parameters.coin}}"}
                            ]
                        },
                    },
                ],
            ),
            dag(
                "graph",
                [
                    {
                        "name": "again",
                        "template": "again",
                        "when": '"{{inputs.parameters.coin}}" == "heads"',
                    }
                ],
                inputs={"parameters": [{"name": "coin"}]},
            ),
            dag(
                "again",
                [
                    {"name": "flip", "template": "flip"},
                    {
                        "name": "graph",
                        "template": "graph",
                        "dependencies": ["flip"],
                        "arguments": {
                            "parameters": [
                                {"name": "coin", "value": "{{tasks.flip.outputs.parameters.coin}}"}
                            ]
                        },
                    },
                ],
            ),
            container("flip", outputs=["coin"]),
        ]
    )
    flips = iter(["heads", "heads", "heads", "tails"])

    def behaviour(spec):
        return Outcome(parameters={"coin": next(flips)})

    run = FakeArgoRun(spec, behaviour=behaviour)
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    assert len(run.launches) == 4
    assert max(len(task_id.split(".")) for task_id in run.tasks) == 9


def test_dag_outputs_come_from_its_tasks():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {"name": "inner", "template": "inner"},
                    {
                        "name": "use",
                        "template": "use",
                        "dependencies": ["inner"],
                        "arguments": {
                            "parameters": [
                                {"name": "v", "value": "{{tasks.inner.outputs.parameters.result}}"}
                            ]
                        },
                    },
                ],
            ),
            {
                "name": "inner",
                "dag": {"tasks": [{"name": "make", "template": "make"}]},
                "outputs": {
                    "parameters": [
                        {
                            "name": "result",
                            "valueFrom": {"parameter": "{{tasks.make.outputs.parameters.out}}"},
                        }
                    ]
                },
            },
            container("make", outputs=["out"]),
            container("use", inputs=["v"]),
        ]
    )
    run = FakeArgoRun(spec)
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    (use,) = [launch for launch in run.launches if launch.spec.argo_step["template"] == "use"]
    assert use.spec.parameters["v"] == "make"


def test_an_output_of_a_skipped_task_cannot_be_resolved_and_fails_the_consumer():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {"name": "maybe", "template": "make", "when": "1 > 2"},
                    {
                        "name": "use",
                        "template": "use",
                        "dependencies": ["maybe"],
                        "arguments": {
                            "parameters": [{"name": "v", "value": "{{tasks.maybe.outputs.parameters.out}}"}]
                        },
                    },
                ],
            ),
            container("make", outputs=["out"]),
            container("use", inputs=["v"]),
        ]
    )
    decisions = FakeArgoRun(spec).run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert "{{tasks.maybe.outputs.parameters.out}}" in decisions.outcome.error


def test_steps_templates_run_groups_in_order_and_refer_to_steps():
    spec = workflow(
        [
            {
                "name": "main",
                "steps": [
                    [{"name": "one", "template": "make"}],
                    [
                        {
                            "name": "two",
                            "template": "use",
                            "arguments": {
                                "parameters": [{"name": "v", "value": "{{steps.one.outputs.parameters.out}}"}]
                            },
                        },
                        {"name": "three", "template": "make"},
                    ],
                ],
            },
            container("make", outputs=["out"]),
            container("use", inputs=["v"]),
        ]
    )
    run = FakeArgoRun(spec)
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    order = [launch.spec.task_name for launch in run.launches]
    assert order[0] == "one" and set(order[1:]) == {"two", "three"}


def test_run_retry_reopens_what_failed_and_runs_the_exit_handler_again():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {"name": "a", "template": "flaky"},
                    {"name": "b", "template": "step", "dependencies": ["a"]},
                ],
            ),
            container("flaky"),
            container("step"),
            container("cleanup"),
        ],
        onExit="cleanup",
    )
    attempts = {"n": 0}

    def behaviour(spec):
        if spec.argo_step["template"] == "flaky":
            attempts["n"] += 1
            if attempts["n"] == 1:
                return Outcome(succeeded=False, exit_code=1)
        return echo_outputs(spec)

    run = FakeArgoRun(spec, behaviour=behaviour)
    assert run.run_to_end().outcome.state == "FAILED"
    run.retry()
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    assert run.tasks["root.a"].attempt == 2
    assert {"onexit", "onexit-1"} <= set(run.tasks)


def test_template_parameters_and_workflow_values_are_substituted_into_the_container():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {
                        "name": "a",
                        "template": "show",
                        "arguments": {"parameters": [{"name": "x", "value": "{{workflow.parameters.p}}"}]},
                    }
                ],
            ),
            {
                "name": "show",
                "inputs": {"parameters": [{"name": "x"}]},
                "container": {
                    "image": "alpine:{{inputs.parameters.x}}",
                    "command": [
                        "echo",
                        "{{inputs.parameters.x}}",
                        "{{workflow.name}}",
                        "{{workflow.uid}}",
                        "{{pod.name}}",
                    ],
                },
            },
        ],
        arguments={"parameters": [{"name": "p", "value": "v1"}]},
    )
    run = FakeArgoRun(spec)
    run.run_to_end()
    (launch,) = run.launches
    command = launch.spec.container["command"]
    assert command[:2] == ["echo", "v1"] and launch.spec.container["image"] == "alpine:v1"
    assert command[2].startswith("test-") and len(command[2]) == len("test-") + 5
    assert command[3] == "run-1"
    assert command[4] == "{{pod.name}}"  # the executor names the pod and fills it in
    assert launch.spec.with_pod_name("pod-7").container["command"][4] == "pod-7"


def test_workflow_from_the_corpus_shape_plans_the_condition_branch():
    spec = workflow_of(
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: numbers-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: number, template: number}
      - name: big
        template: step
        dependencies: [number]
        when: '{{tasks.number.outputs.parameters.n}} > 5'
      - name: small
        template: step
        dependencies: [number]
        when: '{{tasks.number.outputs.parameters.n}} <= 5'
  - name: number
    container: {image: alpine, command: [echo]}
    outputs:
      parameters:
      - name: n
        valueFrom: {path: /tmp/n}
  - name: step
    container: {image: alpine, command: [echo]}
"""
    )
    run = FakeArgoRun(spec, behaviour=lambda spec: Outcome(parameters={"n": "7"}))
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    assert states_by_name(run)["big"] == ["SUCCEEDED"] and states_by_name(run)["small"] == ["SKIPPED"]
    assert parse_time(run.tasks["root"].finished_at) >= START


def test_a_step_past_its_active_deadline_is_stopped_and_retried_by_its_strategy():
    spec = workflow(
        [
            dag("main", [{"name": "a", "template": "slow"}]),
            container("slow", activeDeadlineSeconds=3, retryStrategy={"limit": 1}),
        ]
    )
    run = FakeArgoRun(spec, behaviour=lambda spec: Outcome(running=True))
    decisions = run.run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert "activeDeadlineSeconds" in decisions.outcome.error
    assert [launch.spec.attempt for launch in run.launches] == [1, 2]
    assert run.cancelled.count("root.a") >= 2


def test_run_retry_evaluates_again_a_task_that_failed_before_it_started():
    spec = workflow(
        [
            dag(
                "main",
                [
                    {
                        "name": "loop",
                        "template": "step",
                        "withParam": "{{workflow.parameters.items}}",
                        "arguments": {"parameters": [{"name": "x", "value": "{{item}}"}]},
                    }
                ],
            ),
            container("step", inputs=["x"]),
        ],
        arguments={"parameters": [{"name": "items", "value": "not a list"}]},
    )
    run = FakeArgoRun(spec)
    assert run.run_to_end().outcome.state == "FAILED"
    run.run = run.run.__class__(**{**run.run.__dict__, "parameters": {"items": "[1, 2]"}})
    run.retry()
    assert run.run_to_end().outcome.state == "SUCCEEDED"
    assert sorted(launch.spec.parameters["x"] for launch in run.launches) == ["1", "2"]
