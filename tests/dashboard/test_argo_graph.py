"""KFP v1 (Argo Workflow) pipelines and runs in the dashboard's graph: every corpus workflow lays out, loops,
nested DAGs and the exit handler are boxes, and a run's nodes are its task records."""

import re
import time
import uuid

import pytest
import requests
import yaml
from playwright.sync_api import expect

from chalicelib.dashboard.argo_graph import argo_run_graph, argo_version_graph
from chalicelib.dashboard.layout import Block, layout
from chalicelib.engine.model import TaskRecord
from chalicelib.task_contract import TaskState
from tests.spec.conftest import corpus_root

V1_CORPUS = corpus_root() / "kfp-v1-compiled"
WORKFLOWS = sorted(V1_CORPUS.glob("*.yaml")) if V1_CORPUS.is_dir() else []


def _load(name: str) -> dict:
    path = V1_CORPUS / name
    if not path.is_file():
        pytest.skip(f"the v1 corpus is not at {V1_CORPUS}")
    return yaml.safe_load(path.read_text())


def _blocks(block: Block) -> list[Block]:
    return [block, *(inner for child in block.children for inner in _blocks(child))]


@pytest.mark.skipif(not WORKFLOWS, reason="the v1 corpus is not checked out beside the repository")
@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.stem)
def test_every_v1_corpus_workflow_lays_out(path):
    graph = argo_version_graph(yaml.safe_load(path.read_text()))
    placed = layout(graph)
    assert placed.nodes, f"{path.name} drew nothing"
    ids = [node.node_id for node in placed.nodes]
    assert len(ids) == len(set(ids)), f"{path.name} has duplicate node ids"


def test_a_steps_loop_and_its_body_are_boxes_and_cards():
    graph = argo_version_graph(_load("withitem_nested.yaml"))
    kinds = sorted(block.kind for block in _blocks(graph)[1:])
    assert "loop" in kinds and "container" in kinds


def test_dependencies_become_edges_between_siblings():
    workflow = _load("coin.yaml")
    graph = argo_version_graph(workflow)
    edges = {edge for block in _blocks(graph) for edge in block.edges}
    assert edges, "coin.yaml's conditions depend on flip"
    ids = {block.node_id for block in _blocks(graph)}
    assert all(source in ids and target in ids for source, target in edges)


def test_the_exit_handler_is_a_box_beside_the_pipeline():
    path = next((p for p in WORKFLOWS if "onExit:" in p.read_text()), None)
    if path is None:
        pytest.skip("no corpus workflow with onExit")
    graph = argo_version_graph(yaml.safe_load(path.read_text()))
    assert any(block.kind == "exit-handler" for block in graph.children)


def _record(task_id: str, parent_id: str, kind: str, index: int | None = None) -> TaskRecord:
    return TaskRecord(
        task_id=task_id,
        name=task_id.rsplit(".", 1)[-1],
        kind=kind,
        parent_id=parent_id,
        state=TaskState.SUCCEEDED,
        iteration_index=index,
    )


def test_a_recursive_template_is_drawn_as_deep_as_the_run_went():
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "dag": {
                        "tasks": [
                            {"name": "flip", "template": "step"},
                            {"name": "again", "template": "main", "dependencies": ["flip"]},
                        ]
                    },
                },
                {"name": "step", "container": {"image": "alpine"}},
            ],
        },
    }
    assert len(_blocks(argo_version_graph(workflow))) == 3  # root, flip, again (a repeat is not descended)
    records = {
        r.task_id: r
        for r in (
            _record("root", "", "dag"),
            _record("root.flip", "root", "container"),
            _record("root.again", "root", "dag"),
            _record("root.again.flip", "root.again", "container"),
        )
    }
    drawn = {block.node_id for block in _blocks(argo_run_graph(workflow, records, ()))}
    assert {"root.flip", "root.again", "root.again.flip", "root.again.again"} <= drawn
    assert "root.again.again.flip" not in drawn


@pytest.fixture(scope="module")
def finished_v1_run(kfp_client):
    path = V1_CORPUS / "withitem_nested.yaml"
    if not path.is_file():
        pytest.skip(f"the v1 corpus is not at {V1_CORPUS}")
    name = f"v1-graph-{uuid.uuid4().hex[:6]}"
    pipeline = kfp_client.upload_pipeline(str(path), pipeline_name=name)
    version = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]
    experiment = kfp_client.create_experiment(name)
    run = kfp_client.run_pipeline(
        experiment_id=experiment.experiment_id,
        job_name=name,
        pipeline_id=pipeline.pipeline_id,
        version_id=version.pipeline_version_id,
    )
    deadline = time.monotonic() + 240
    while (state := kfp_client.get_run(run.run_id).state) not in ("SUCCEEDED", "FAILED"):
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.5)
    assert state == "SUCCEEDED"
    return run.run_id


@pytest.mark.timeout(300)
def test_a_v1_run_graph_stands_for_its_task_records(local_stack, finished_v1_run):
    url = f"{local_stack.url}/apis/v2beta1/runs/{finished_v1_run}/graph"
    graph = requests.get(url, timeout=30).json()
    run = requests.get(f"{local_stack.url}/apis/v2beta1/runs/{finished_v1_run}", timeout=30).json()
    task_ids = {task["task_id"] for task in run["run_details"]["task_details"]}
    drawn = {task_id for node in graph["nodes"] for task_id in node.get("task_ids", [])}
    assert drawn and drawn <= task_ids
    pods = {
        task["task_id"]
        for task in run["run_details"]["task_details"]
        if task.get("child_tasks") is None and task["task_id"].count(".") >= 1
    }
    assert drawn & pods
    loop = next(node for node in graph["nodes"] if node["kind"] == "loop" and node.get("expandable"))
    expanded = requests.get(url, params={"expand": loop["id"]}, timeout=30).json()
    assert (
        sum(
            1
            for node in expanded["nodes"]
            if node["kind"] in ("iteration", "container") and node["id"].split(".")[-1].isdigit()
        )
        == loop["iterations"]
    )


@pytest.mark.timeout(300)
def test_a_v1_run_page_draws_and_colours_its_graph(dashboard, finished_v1_run):
    dashboard.open(f"#/runs/{finished_v1_run}")
    graph = dashboard.page.locator("svg.graph")
    expect(graph.locator(".node.k-loop").first).to_be_visible()
    expect(graph.locator('.node[data-id="root.my-out-cop"]')).to_have_class(re.compile(r"\bst-SUCCEEDED\b"))
    dashboard.shot("v1-run-graph")
    assert not dashboard.errors


def test_a_v1_version_graph_is_served(local_stack, kfp_client):
    path = V1_CORPUS / "coin.yaml"
    if not path.is_file():
        pytest.skip(f"the v1 corpus is not at {V1_CORPUS}")
    pipeline = kfp_client.upload_pipeline(str(path), pipeline_name=f"v1-version-graph-{uuid.uuid4().hex[:6]}")
    version = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]
    url = f"{local_stack.url}/apis/v2beta1/pipelines/{pipeline.pipeline_id}/versions/{version.pipeline_version_id}/graph"
    graph = requests.get(url, timeout=30).json()
    assert {node["id"]: node["kind"] for node in graph["nodes"]}["condition-1"] == "condition"
    assert ("flip", "condition-1") in {(edge["source"], edge["target"]) for edge in graph["edges"]}
