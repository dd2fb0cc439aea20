# ruff: noqa: B006, UP006, UP014, UP035 -- kfp reads typing.List, functional NamedTuples and literal defaults
"""Conditions (If/Elif/Else), OneOf over parameters and artifacts, ParallelFor over raw lists, parameter
lists and artifact lists (nested, with parallelism limits and dict items), dsl.Collected fan-in, and nested
pipelines with sub-DAG inputs and outputs — one task detail per task and loop iteration."""

import datetime
import functools
import json
from typing import List, NamedTuple

import pytest
from kfp import dsl
from kfp.dsl import Dataset, Input, Output
from local_reference import run_locally
from run_waiting import DEFAULT_TIMEOUT, only_task, tasks_by_name
from submitting import artifact_text, pipeline_outputs, states, submit

component = functools.partial(dsl.component, base_image="python:3.11", install_kfp_package=False)


@component
def echo(text: str) -> str:
    return text


@component
def tag(prefix: str, value: str) -> str:
    return f"{prefix}:{value}"


@component
def write(text: str, out: Output[Dataset]):
    with open(out.path, "w") as handle:
        handle.write(text)


@component
def read(data: Input[Dataset]) -> str:
    with open(data.path) as handle:
        return handle.read()


@dsl.pipeline(name="conformance-branches")
def branches_pipeline(flip: str = "heads") -> NamedTuple("Outputs", [("label", str), ("data", Dataset)]):
    coin = echo(text=flip)
    with dsl.If(coin.output == "heads"):
        heads = tag(prefix="if", value=coin.output)
        heads_data = write(text="H")
    with dsl.Elif(coin.output == "tails"):
        tails = tag(prefix="elif", value=coin.output)
        tails_data = write(text="T")
    with dsl.Else():
        other = tag(prefix="else", value=coin.output)
        other_data = write(text="E")
    label = dsl.OneOf(heads.output, tails.output, other.output)
    data = dsl.OneOf(heads_data.outputs["out"], tails_data.outputs["out"], other_data.outputs["out"])
    Outputs = NamedTuple("Outputs", [("label", str), ("data", Dataset)])
    return Outputs(label, data)


@dsl.pipeline(name="conformance-branch-labels")
def branch_labels_pipeline(flip: str = "heads") -> str:
    """The parameter half of `branches_pipeline` (kfp.local cannot run OneOf over artifacts)."""
    coin = echo(text=flip)
    with dsl.If(coin.output == "heads"):
        heads = tag(prefix="if", value=coin.output)
    with dsl.Elif(coin.output == "tails"):
        tails = tag(prefix="elif", value=coin.output)
    with dsl.Else():
        other = tag(prefix="else", value=coin.output)
    return dsl.OneOf(heads.output, tails.output, other.output)


@component
def square(x: int) -> int:
    return x * x


@component
def numbers(n: int) -> List[int]:
    return list(range(1, n + 1))


@component
def total(values: List[int]) -> int:
    return sum(values)


@component
def describe_pair(name: str, size: str) -> str:
    return f"{name}={size}"


@component
def concat(parts: List[str]) -> str:
    return ",".join(parts)


@component
def read_all(data: Input[List[Dataset]]) -> str:
    texts = []
    for item in data:
        with open(item.path) as handle:
            texts.append(handle.read())
    return ",".join(texts)


@dsl.pipeline(name="conformance-loops")
def loops_pipeline(n: int = 3) -> NamedTuple(
    "Outputs", [("raw", int), ("param", int), ("nested", int), ("pairs", str), ("texts", str)]
):
    with dsl.ParallelFor([1, 2, 3], parallelism=1) as raw_item:
        raw_square = square(x=raw_item)
    raw_total = total(values=dsl.Collected(raw_square.output))

    listed = numbers(n=n)
    with dsl.ParallelFor(listed.output, parallelism=2) as param_item:
        param_square = square(x=param_item)
    param_total = total(values=dsl.Collected(param_square.output))

    with dsl.ParallelFor([1, 2]) as outer:
        with dsl.ParallelFor([10, 20]) as inner:
            nested_square = square(x=inner).after(square(x=outer))
    nested_total = total(values=dsl.Collected(nested_square.output))

    with dsl.ParallelFor([{"label": "a", "size": "1"}, {"label": "b", "size": "2"}]) as pair:
        described = describe_pair(name=pair.label, size=pair.size)
    pairs = concat(parts=dsl.Collected(described.output))

    with dsl.ParallelFor(["x", "y"]) as text:
        written = write(text=text)
    texts = read_all(data=dsl.Collected(written.outputs["out"]))

    Outputs = NamedTuple(
        "Outputs", [("raw", int), ("param", int), ("nested", int), ("pairs", str), ("texts", str)]
    )
    return Outputs(raw_total.output, param_total.output, nested_total.output, pairs.output, texts.output)


@dsl.pipeline(name="conformance-item-fields")
def item_fields_pipeline(pairs: List[dict] = [{"label": "a", "size": 1}, {"label": "b", "size": 2}]):
    """Dict item fields in f-strings, in a condition and an inner loop inside the loop, and in a loop inside an
    exit handler: the compiler wires them to pipeline inputs that do not exist (kubeflow/pipelines #9366,
    #13273)."""
    with dsl.ExitHandler(echo(text="done")):
        with dsl.ParallelFor(pairs) as pair:
            described = echo(text=f"{pair.label}={pair.size}")
            with dsl.If(pair.size > 1):
                tag(prefix="big", value=f"{pair.label}")
            with dsl.ParallelFor([1]) as inner:
                tag(prefix="inner", value=f"{pair.label}{inner}")
        concat(parts=dsl.Collected(described.output))


@dsl.pipeline(name="conformance-make-datasets")
def make_datasets(texts: List[str]) -> List[Dataset]:
    with dsl.ParallelFor(texts) as text:
        written = write(text=text)
    return dsl.Collected(written.outputs["out"])


@dsl.pipeline(name="conformance-artifact-loop")
def artifact_loop_pipeline() -> str:
    made = make_datasets(texts=["p", "q", "r"])
    with dsl.ParallelFor(made.output) as data:
        each = read(data=data)
    return concat(parts=dsl.Collected(each.output)).output


@dsl.pipeline(name="conformance-inner")
def inner_pipeline(value: str, times: int = 2) -> NamedTuple("Inner", [("label", str), ("data", Dataset)]):
    labelled = tag(prefix=value, value=value)
    written = write(text=labelled.output)
    Inner = NamedTuple("Inner", [("label", str), ("data", Dataset)])
    return Inner(labelled.output, written.outputs["out"])


@dsl.pipeline(name="conformance-nested")
def nested_pipeline(value: str = "v") -> NamedTuple("Outputs", [("label", str), ("text", str)]):
    inner = inner_pipeline(value=value).set_display_name("inner")
    text = read(data=inner.outputs["data"])
    Outputs = NamedTuple("Outputs", [("label", str), ("text", str)])
    return Outputs(inner.outputs["label"], text.output)


def _time(stamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamp)


BRANCHES = {"heads": ("if:heads", "H"), "tails": ("elif:tails", "T"), "edge": ("else:edge", "E")}


@pytest.fixture(scope="module")
def runs(executor_stack):
    ids = {flip: submit(executor_stack.client, branches_pipeline, {"flip": flip}) for flip in BRANCHES}
    ids["loops"] = submit(executor_stack.client, loops_pipeline, {"n": 4})
    ids["artifact-loop"] = submit(executor_stack.client, artifact_loop_pipeline)
    ids["nested"] = submit(executor_stack.client, nested_pipeline, {"value": "w"})
    ids["item-fields"] = submit(executor_stack.client, item_fields_pipeline)
    # Seven runs at once: on the process kubelet of a loaded 2-core machine they take longer than one.
    finished = executor_stack.wait_for_runs(ids.values(), timeout=2 * DEFAULT_TIMEOUT)
    return {key: finished[run_id] for key, run_id in ids.items()}


@pytest.mark.parametrize("flip", sorted(BRANCHES))
def test_if_elif_else_runs_one_branch_and_oneof_picks_its_outputs(runs, flip):
    run = runs[flip]
    assert run["state"] == "SUCCEEDED", run.get("error")
    label, text = BRANCHES[flip]
    assert pipeline_outputs(run) == {"label": label}
    tags = [task for name, tasks in tasks_by_name(run).items() if name.startswith("tag") for task in tasks]
    ran = [task for task in tags if task["state"] == "SUCCEEDED"]
    assert [task["output_parameters"]["Output"] for task in ran] == [label]
    root = [task for task in run["run_details"]["task_details"] if not task.get("parent_task_id")][0]
    (data,) = root["outputs"]["data"]["artifacts"]
    assert artifact_text(data) == text
    assert states(run)["condition-branches-1"] == ["SUCCEEDED"]
    branches = {
        name: got
        for name, got in states(run).items()
        if name in ("condition-2", "condition-3", "condition-4")
    }
    assert sorted(got for (got,) in branches.values()) == ["SKIPPED", "SKIPPED", "SUCCEEDED"], branches


@pytest.mark.parametrize("flip", ["heads", "edge"])
def test_branch_labels_equal_kfp_local(runs, flip, tmp_path):
    local = run_locally(branch_labels_pipeline, tmp_path, flip=flip)
    assert local == {"Output": pipeline_outputs(runs[flip])["label"]}


def test_loops_fan_out_and_collect(runs):
    run = runs["loops"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    assert pipeline_outputs(run) == {
        "raw": 1 + 4 + 9,
        "param": 1 + 4 + 9 + 16,
        "nested": 2 * (100 + 400),
        "pairs": "a=1,b=2",
        "texts": "x,y",
    }


def test_dict_item_fields_reach_fstrings_conditions_and_loops_in_exit_handlers(runs):
    run = runs["item-fields"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    assert only_task(run, "concat")["output_parameters"] == {"Output": "a=1,b=2"}
    tags = sorted(task["output_parameters"]["Output"] for task in tasks_by_name(run)["tag"])
    assert tags == ["big:b"]
    inner = sorted(task["output_parameters"]["Output"] for task in tasks_by_name(run)["tag-2"])
    assert inner == ["inner:a1", "inner:b1"]
    described = sorted(task["output_parameters"]["Output"] for task in tasks_by_name(run)["echo-2"])
    assert described == ["a=1", "b=2"]
    assert only_task(run, "echo")["output_parameters"] == {"Output": "done"}


def test_every_loop_iteration_is_a_task_detail_with_parent_and_children(runs):
    run = runs["loops"]
    details = run["run_details"]["task_details"]
    by_id = {task["task_id"]: task for task in details}
    squares = [task for task in details if task["display_name"].startswith("square")]
    assert len(squares) == 3 + 4 + 2 * 2 * 2  # raw, param, two per nested iteration
    for task in squares:
        parent = by_id[task["parent_task_id"]]
        assert {"task_id": task["task_id"]} in parent["child_tasks"]
        assert {"pod_name", "start_time", "end_time", "create_time"} <= task.keys(), json.dumps(task)
        assert task["state"] == "SUCCEEDED"
    loops = [
        task
        for task in details
        if task["task_id"].count(".") == 1 and task["display_name"].startswith("for-loop")
    ]
    iteration_counts = sorted(len(loop["child_tasks"]) for loop in loops)
    assert iteration_counts == [2, 2, 2, 3, 4], (
        iteration_counts
    )  # nested outer, dict items, texts, raw, param
    for loop in loops:
        for child in loop["child_tasks"]:
            iteration = by_id[child["task_id"]]
            assert iteration["parent_task_id"] == loop["task_id"] and iteration["state"] == "SUCCEEDED"


def test_parallelism_one_runs_iterations_one_after_another(runs, executor_stack):
    run = runs["loops"]
    by_id = {task["task_id"]: task for task in run["run_details"]["task_details"]}
    loop = by_id["root.for-loop-2"]  # the first loop: ParallelFor([1, 2, 3], parallelism=1)
    raw = [
        task
        for task in run["run_details"]["task_details"]
        if task["task_id"].startswith(f"{loop['task_id']}.") and task["display_name"] == "square"
    ]
    assert len(raw) == 3 and len(loop["child_tasks"]) == 3
    assert all("start_time" in task for task in raw), raw
    ordered = sorted(raw, key=lambda task: _time(task["start_time"]))
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        ended = _time(earlier["end_time"])
        if executor_stack.executor == "kubernetes":  # a pod's start time has whole seconds only
            ended = ended.replace(microsecond=0)
        assert ended <= _time(later["start_time"])


def test_parallel_for_over_a_collected_artifact_list(runs):
    run = runs["artifact-loop"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    assert pipeline_outputs(run) == {"Output": "p,q,r"}


def test_nested_pipeline_passes_inputs_in_and_outputs_out(runs):
    run = runs["nested"]
    assert run["state"] == "SUCCEEDED", run.get("error")
    assert pipeline_outputs(run) == {"label": "w:w", "text": "w:w"}
    (inner,) = tasks_by_name(run)["inner"]
    assert inner["output_parameters"] == {"label": "w:w"}
    children = {
        task["display_name"]
        for task in run["run_details"]["task_details"]
        if task.get("parent_task_id") == inner["task_id"]
    }
    assert children == {"tag", "write"}


def test_nested_pipeline_outputs_equal_kfp_local(runs, tmp_path):
    assert run_locally(nested_pipeline, tmp_path, value="w") == pipeline_outputs(runs["nested"])
