"""The dashboard's pages and JSON helpers over HTTP on the session's local stack: static files, graph
layouts, a task's inputs and consumers, artifacts across runs, and their 4xx answers."""

import time
import uuid

import pytest
import requests

from chalicelib.dashboard.static import base_path
from tests.dashboard.pipelines import CHART_PNG

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def finished_run(kfp_client, demo_package):
    run = kfp_client.create_run_from_pipeline_package(
        str(demo_package), arguments={"rows": 4}, run_name=f"api-{uuid.uuid4().hex[:6]}"
    )
    deadline = time.monotonic() + 180
    while kfp_client.get_run(run.run_id).state != "SUCCEEDED":
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.5)
    return run.run_id


def get(local_stack, path: str, **params):
    return requests.get(f"{local_stack.url}{path}", params=params, timeout=30)


def test_the_index_page_and_its_assets_are_served_with_a_content_policy(local_stack):
    index = get(local_stack, "/")
    assert index.status_code == 200 and index.headers["Content-Type"].startswith("text/html")
    assert '<base href="/">' in index.text
    assert "default-src 'self'" in index.headers["Content-Security-Policy"]
    script = get(local_stack, "/dashboard/app.js")
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert get(local_stack, "/dashboard/style.css").headers["Content-Type"].startswith("text/css")


@pytest.mark.parametrize(
    "name", ["missing.js", "api.py", "..%2Fapi.py", "index.html", ".hidden.js", "APP.JS"]
)
def test_only_dashboard_assets_are_served(local_stack, name):
    response = get(local_stack, f"/dashboard/{name}")
    assert response.status_code == 404
    assert "no dashboard file" in response.text


def test_the_base_path_is_where_the_app_is_mounted():
    assert base_path("/") == "/"
    assert base_path("/api/") == "/api/"
    assert base_path("/api") == "/api/"


def test_a_version_graph_is_laid_out(local_stack, kfp_client, demo_package):
    pipeline = kfp_client.upload_pipeline(str(demo_package), pipeline_name=f"graph-{uuid.uuid4().hex[:6]}")
    version = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]
    graph = get(
        local_stack,
        f"/apis/v2beta1/pipelines/{pipeline.pipeline_id}/versions/{version.pipeline_version_id}/graph",
    ).json()
    kinds = sorted(node["kind"] for node in graph["nodes"])
    assert kinds == ["condition", "container", "container", "container", "container", "loop"]
    assert {(edge["source"], edge["target"]) for edge in graph["edges"]} >= {("prepare", "evaluate")}
    assert graph["width"] > 0 and graph["height"] > 0


def test_a_run_graph_names_task_ids_and_counts_tasks(local_stack, finished_run):
    graph = get(local_stack, f"/apis/v2beta1/runs/{finished_run}/graph").json()
    nodes = {node["id"]: node for node in graph["nodes"]}
    assert nodes["root.prepare"]["task_ids"] == ["root.prepare"]
    loop = next(node for node in graph["nodes"] if node["kind"] == "loop")
    assert loop["iterations"] == 3 and loop["expandable"] is True
    assert (
        graph["task_count"] >= 9
    )  # root, prepare, loop, 3 iterations, 3 train, evaluate, condition, announce
    expanded = get(local_stack, f"/apis/v2beta1/runs/{finished_run}/graph", expand=loop["id"]).json()
    assert sum(1 for node in expanded["nodes"] if node["kind"] == "iteration") == 3


def test_a_task_shows_its_inputs_producers_and_consumers(local_stack, finished_run):
    io = get(local_stack, f"/apis/v2beta1/runs/{finished_run}/tasks/root.evaluate/io").json()
    assert io["inputs"] == {
        "parameters": {"rows": 4, "chart_png": CHART_PNG},
        "artifacts": {},
        "recorded": True,
    }
    prepare = get(local_stack, f"/apis/v2beta1/runs/{finished_run}/tasks/root.prepare/io").json()
    consumers = [consumer["task_id"] for consumer in prepare["consumers"]["Output"]]
    assert any(task_id.startswith("root.for-loop") for task_id in consumers)


def test_artifacts_across_runs_page_without_gaps_or_repeats(local_stack, finished_run):
    run_name = requests.get(f"{local_stack.url}/apis/v2beta1/runs/{finished_run}", timeout=30).json()[
        "display_name"
    ]
    everything = get(local_stack, "/apis/v2beta1/artifacts", search=run_name).json()["artifacts"]
    outputs = sorted(row["output"] for row in everything)
    assert outputs == [
        "chart",
        "matrix",
        "metrics",
        "metrics",
        "metrics",
        "metrics",
        "page",
        "report",
        "sliced",
    ]
    assert {row["type"] for row in everything} == {
        "system.Artifact",
        "system.ClassificationMetrics",
        "system.HTML",
        "system.Markdown",
        "system.Metrics",
        "system.SlicedClassificationMetrics",
    }
    paged, token = [], ""
    for _ in range(20):
        page = get(
            local_stack, "/apis/v2beta1/artifacts", search=run_name, page_size=1, page_token=token
        ).json()
        paged += page["artifacts"]
        token = page.get("next_page_token", "")
        if not token:
            break
    assert paged == everything


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/apis/v2beta1/runs/no-such-run/graph", 404, "no-such-run"),
        ("/apis/v2beta1/runs/no-such-run/tasks/root/io", 404, "no-such-run"),
        ("/apis/v2beta1/pipelines/nope/versions/nope/graph", 404, "nope"),
        ("/apis/v2beta1/artifacts?page_token=abc", 400, "page_token"),
        ("/apis/v2beta1/artifacts?page_size=-3", 400, "page_size"),
        ("/apis/v2beta1/runs/x/graph?expand=" + ",".join(f"l{i}" for i in range(60)), 400, "expand"),
    ],
)
def test_bad_requests_get_a_status_body_naming_the_problem(local_stack, path, status, words):
    response = requests.get(f"{local_stack.url}{path}", timeout=30)
    assert response.status_code == status
    body = response.json()
    assert body["code"] in (3, 5) and words in body["message"]


def test_an_unknown_task_of_a_real_run_is_not_found(local_stack, finished_run):
    response = get(local_stack, f"/apis/v2beta1/runs/{finished_run}/tasks/root.nope/io")
    assert response.status_code == 404 and "root.nope" in response.json()["message"]


def test_the_log_of_a_running_task_can_be_followed_and_the_final_log_replaces_it(
    local_stack, kfp_client, tmp_path
):
    from tests.dashboard.pipelines import compile_to, sleeper_pipeline

    package = compile_to(sleeper_pipeline, tmp_path / "sleeper.yaml")
    run = kfp_client.create_run_from_pipeline_package(
        str(package), arguments={"seconds": 120}, run_name="follow"
    )
    url = f"{local_stack.url}/apis/v2beta1/runs/{run.run_id}/tasks/root.sleep-for/logs"
    deadline = time.monotonic() + 120
    while True:
        response = requests.get(url, timeout=30)
        if response.status_code == 200 and "sleeping" in response.text:
            break
        assert time.monotonic() < deadline, f"no live log: {response.status_code} {response.text[:200]}"
        time.sleep(0.5)
    assert response.headers["X-Log-State"] == "live"
    kfp_client.terminate_run(run.run_id)
    while kfp_client.get_run(run.run_id).state != "CANCELED":
        assert time.monotonic() < deadline + 60, "the run was not canceled"
        time.sleep(0.5)
    final = requests.get(url, timeout=30)
    assert final.headers["X-Log-State"] == "final" and "sleeping" in final.text
