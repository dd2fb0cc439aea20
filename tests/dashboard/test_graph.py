"""Specs and task records → the blocks the layout draws: groups for loops, conditions, exit handlers and
nested pipelines; a run's nodes carry the task ids they stand for; loop iterations expand."""

import yaml
from kfp import compiler, dsl

from chalicelib.dashboard.graph import run_graph, version_graph
from chalicelib.dashboard.layout import layout
from chalicelib.engine.model import TaskRecord
from chalicelib.task_contract import TaskState
from tests.dashboard.geometry import edges_through_nodes, overlapping_nodes
from tests.dashboard.pipelines import demo_pipeline


@dsl.component
def step(text: str) -> str:
    return text


@dsl.pipeline(name="inner")
def inner_pipeline(text: str = "x"):
    step(text=text)


@dsl.pipeline(name="outer")
def exit_and_nested_pipeline():
    cleanup = step(text="cleanup")
    with dsl.ExitHandler(cleanup):
        first = step(text="a")
        inner_pipeline(text=first.output)


def compiled(pipeline, tmp_path) -> dict:
    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    return yaml.safe_load(path.read_text())


def flat(block) -> dict:
    found = {}
    for child in block.children:
        found[child.node_id] = child
        found.update(flat(child))
    return found


def test_a_version_graph_draws_loops_and_conditions_as_groups_with_edges_between_siblings(tmp_path):
    root = version_graph(compiled(demo_pipeline, tmp_path))
    nodes = flat(root)
    kinds = {node.label: node.kind for node in nodes.values()}
    assert kinds["prepare"] == kinds["train"] == kinds["evaluate"] == kinds["announce"] == "container"
    loop = next(node for node in nodes.values() if node.kind == "loop")
    condition = next(node for node in nodes.values() if node.kind == "condition")
    assert [child.label for child in loop.children] == ["train"]
    assert [child.label for child in condition.children] == ["announce"]
    assert loop.data["iterator"] and loop.data["parallelism"] == 2
    assert "publish" in condition.data["condition"]
    assert set(root.edges) == {("prepare", loop.node_id), ("prepare", "evaluate")}


def test_exit_handlers_and_nested_pipelines_are_groups(tmp_path):
    root = version_graph(compiled(exit_and_nested_pipeline, tmp_path))
    nodes = flat(root)
    handler = next(node for node in nodes.values() if node.kind == "exit-handler")
    nested = next(node for node in nodes.values() if node.kind == "pipeline")
    assert nested in handler.children
    assert [child.label for child in nested.children] == ["step"]
    cleanup = next(node for node in root.children if node.kind == "container")
    assert cleanup.data["runs_after_failures"] is True
    assert (handler.node_id, cleanup.node_id) in root.edges


def test_every_valid_corpus_pipeline_lays_out_without_overlaps_or_edges_through_nodes(corpus):
    checked = 0
    for path in sorted((corpus / "valid").rglob("*.yaml")):
        try:
            documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        except yaml.YAMLError:
            continue
        if not documents or "root" not in documents[0]:
            continue
        result = layout(version_graph(documents[0]))
        assert overlapping_nodes(result) == [], path
        assert edges_through_nodes(result) == [], path
        checked += 1
    assert checked > 100


def record(
    task_id: str, name: str, kind: str, state: str = "SUCCEEDED", parent: str = "", index=None
) -> TaskRecord:
    return TaskRecord(task_id, name, kind, TaskState(state), parent_id=parent, iteration_index=index)


def test_a_run_graph_names_the_task_instances_of_each_node_and_expands_a_loop(tmp_path):
    spec = compiled(demo_pipeline, tmp_path)
    root = version_graph(spec)
    loop_key = next(node.data["task"] for node in flat(root).values() if node.kind == "loop")
    loop_id = f"root.{loop_key}"
    records = {
        r.task_id: r
        for r in [
            record("root", "root", "dag", "RUNNING"),
            record("root.prepare", "prepare", "container", parent="root"),
            record(loop_id, loop_key, "loop", "RUNNING", parent="root"),
            record(f"{loop_id}.0", loop_key, "iteration", parent=loop_id, index=0),
            record(f"{loop_id}.1", loop_key, "iteration", "RUNNING", parent=loop_id, index=1),
            record(f"{loop_id}.0.train", "train", "container", parent=f"{loop_id}.0"),
            record(f"{loop_id}.1.train", "train", "container", "RUNNING", parent=f"{loop_id}.1"),
        ]
    }
    collapsed = flat(run_graph(spec, records, expanded=()))
    assert collapsed["root.prepare"].data["task_ids"] == ["root.prepare"]
    assert collapsed["root.evaluate"].data["task_ids"] == []  # not started yet
    assert collapsed[loop_id].data["iterations"] == 2 and collapsed[loop_id].data["expandable"]
    train = collapsed[f"each:{loop_key}/train"]
    assert train.data["task_ids"] == [f"{loop_id}.0.train", f"{loop_id}.1.train"]
    assert train.data["instances"] == 2

    expanded = flat(run_graph(spec, records, expanded=[loop_id]))
    assert expanded[loop_id].grid and expanded[loop_id].data["expanded"]
    assert [child.node_id for child in expanded[loop_id].children] == [f"{loop_id}.0", f"{loop_id}.1"]
    assert expanded[f"{loop_id}.1.train"].data["task_ids"] == [f"{loop_id}.1.train"]
    result = layout(run_graph(spec, records, expanded=[loop_id]))
    assert overlapping_nodes(result) == [] and edges_through_nodes(result) == []
