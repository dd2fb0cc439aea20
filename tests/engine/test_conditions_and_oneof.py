"""dsl.If / Elif / Else: CEL conditions on sub-DAG tasks, skipped branches, OneOf outputs, evaluation errors."""

from __future__ import annotations

from engine_fakes import FakeRun, Result, sample_outputs
from spec_builders import SpecBuilder, comp_in, one_of, out, parameter_output, task

from chalicelib.task_contract import TaskState


def branching_spec(
    first_condition: str = "inputs.parameter_values['pipelinechannel--flip-Output'] == 'heads'",
):
    builder = SpecBuilder("branches")
    flip = builder.container("flip", outputs={"Output": "STRING"})
    say = builder.container("say", inputs={"msg": "STRING"}, outputs={"Output": "STRING"})
    show = builder.container("show", inputs={"value": "STRING"})
    channel = {"pipelinechannel--flip-Output": comp_in("pipelinechannel--flip-Output")}
    heads = builder.dag(
        "condition-2",
        {"say-heads": task(say, {"msg": {"runtimeValue": {"constant": "heads!"}}})},
        inputs={"pipelinechannel--flip-Output": "STRING"},
        outputs={"parameters": {"pipelinechannel--say-heads-Output": parameter_output("say-heads")}},
    )
    tails = builder.dag(
        "condition-3",
        {"say-tails": task(say, {"msg": {"runtimeValue": {"constant": "tails!"}}})},
        inputs={"pipelinechannel--flip-Output": "STRING"},
        outputs={"parameters": {"pipelinechannel--say-tails-Output": parameter_output("say-tails")}},
    )
    branches = builder.dag(
        "condition-branches-1",
        {
            "condition-2": task(heads, channel, triggerPolicy={"condition": first_condition}),
            "condition-3": task(tails, channel, triggerPolicy={"condition": f"!({first_condition})"}),
        },
        inputs={"pipelinechannel--flip-Output": "STRING"},
        outputs={
            "parameters": {
                "pipelinechannel--condition-branches-1-oneof-1": one_of(
                    ("condition-2", "pipelinechannel--say-heads-Output"),
                    ("condition-3", "pipelinechannel--say-tails-Output"),
                )
            }
        },
    )
    return builder.build(
        {
            "flip": task(flip),
            "condition-branches-1": task(branches, {"pipelinechannel--flip-Output": out("flip")}),
            "show": task(
                show, {"value": out("condition-branches-1", "pipelinechannel--condition-branches-1-oneof-1")}
            ),
        }
    )


def coin(side: str):
    def behaviour(task_spec):
        if task_spec.task_name == "flip":
            return Result(parameters={"Output": side})
        if task_spec.task_name.startswith("say"):
            return Result(parameters={"Output": task_spec.parameters["msg"]})
        return sample_outputs(task_spec)

    return behaviour


def test_true_condition_runs_branch_and_false_one_is_skipped():
    fake = FakeRun(branching_spec(), behaviour=coin("heads"))
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    assert fake.record("root.condition-branches-1.condition-2").state is TaskState.SUCCEEDED
    assert fake.record("root.condition-branches-1.condition-3").state is TaskState.SKIPPED
    assert "root.condition-branches-1.condition-3.say-tails" not in fake.tasks


def test_oneof_output_takes_the_branch_that_ran():
    for side, expected in [("heads", "heads!"), ("tails", "tails!")]:
        fake = FakeRun(branching_spec(), behaviour=coin(side))
        fake.run_to_end()
        assert fake.launched("show")[0].spec.parameters == {"value": expected}


def test_condition_that_fails_to_evaluate_fails_the_task_with_the_expression():
    bad = "inputs.parameter_values['missing'] == 'x'"
    fake = FakeRun(branching_spec(bad), behaviour=coin("heads"))
    decisions = fake.run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert "missing" in decisions.outcome.error and "condition-2" in decisions.outcome.error
    assert not fake.launched("show")


def test_condition_that_is_not_boolean_is_an_error_not_false():
    fake = FakeRun(
        branching_spec("inputs.parameter_values['pipelinechannel--flip-Output']"), behaviour=coin("x")
    )
    decisions = fake.run_to_end()
    assert decisions.outcome.state == "FAILED"
    assert "not a boolean" in decisions.outcome.error


def test_integer_condition_uses_int_of_double_binding():
    builder = SpecBuilder()
    num = builder.container("num", outputs={"Output": "NUMBER_INTEGER"})
    say = builder.container("say")
    big = builder.dag(
        "condition-1", {"say": task(say)}, inputs={"pipelinechannel--num-Output": "NUMBER_INTEGER"}
    )
    spec = builder.build(
        {
            "num": task(num),
            "condition-1": task(
                big,
                {"pipelinechannel--num-Output": out("num")},
                triggerPolicy={
                    "condition": "int(inputs.parameter_values['pipelinechannel--num-Output']) > 5"
                },
            ),
        }
    )
    for value, ran in [(7, True), (3, False)]:
        fake = FakeRun(
            spec,
            behaviour=lambda s, v=value: (
                Result(parameters={"Output": v}) if s.task_name == "num" else Result()
            ),
        )
        fake.run_to_end()
        assert bool(fake.launched("say")) is ran


def test_task_depending_on_a_skipped_task_is_skipped():
    builder = SpecBuilder()
    say = builder.container("say")
    never = builder.dag("condition-1", {"say": task(say)})
    spec = builder.build(
        {
            "condition-1": task(never, triggerPolicy={"condition": "1 == 2"}),
            "after": task(say, after=["condition-1"]),
        }
    )
    fake = FakeRun(spec)
    assert fake.run_to_end().outcome.state == "SUCCEEDED"
    assert fake.record("root.after").state is TaskState.SKIPPED
