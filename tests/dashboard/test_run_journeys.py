"""Runs as a person uses them in the dashboard: start one from the form, watch it finish, read a step's logs
and artifact previews, look at its timeline and task list; terminate, retry, compare, run again."""

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import RUN_TIMEOUT_MS
from tests.dashboard.pipelines import compile_to, flaky_pipeline, sleeper_pipeline

pytestmark = pytest.mark.timeout(600)


def _wait_for_state(kfp_client, run_id: str, states: set[str], timeout: float = RUN_TIMEOUT_MS / 1000) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = kfp_client.get_run(run_id).state
        if state in states:
            return state
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not reach {states}")


@pytest.fixture(scope="module")
def demo_version(kfp_client, demo_package):
    pipeline = kfp_client.upload_pipeline(str(demo_package), pipeline_name=f"demo-{uuid.uuid4().hex[:6]}")
    versions = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions
    return pipeline, versions[0]


def test_start_run_from_form_watch_it_finish_and_read_logs_and_previews(dashboard, demo_version, kfp_client):
    pipeline, version = demo_version
    page = dashboard.page
    dashboard.open(f"#/pipelines/{pipeline.pipeline_id}/versions/{version.pipeline_version_id}")
    page.get_by_role("link", name="Create run").first.click()
    expect(page.locator("#param-rows")).to_have_value("100")
    dashboard.shot("create-run-form")
    # A value of the wrong type is caught before anything is sent.
    page.fill("#param-rows", "seven")
    page.get_by_role("button", name="Start run").click()
    expect(page.locator("#param-rows-error")).to_contain_text("rows must be a whole number")
    expect(page.locator("#param-rows")).to_have_attribute("aria-invalid", "true")
    page.fill("#param-rows", "7")
    page.fill("#param-label", "dash")
    page.fill("#run-name", "form run")
    page.get_by_role("button", name="Start run").click()
    expect(page.locator("h1")).to_contain_text("form run")
    run_id = page.url.rsplit("/", 1)[-1]
    assert kfp_client.get_run(run_id).runtime_config.parameters == {
        "rows": 7,
        "label": "dash",
        "learning_rate": 0.1,
        "publish": True,
    }
    # The page follows the run without a reload until it succeeds, colouring the graph.
    expect(page.locator("h1 .badge")).to_have_text("succeeded", timeout=RUN_TIMEOUT_MS)
    graph = page.locator("svg.graph")
    expect(graph.locator('.node[data-id="root.evaluate"]')).to_have_class(
        re.compile(r"\bst-SUCCEEDED\b"), timeout=10_000
    )
    expect(graph.locator(".node.k-loop")).to_contain_text("3 iteration(s)")
    expect(graph.locator(".node.k-condition")).to_contain_text("condition")
    dashboard.shot("run-details-graph")

    # A step: its logs, inputs and its artifacts' previews (Markdown, ClassificationMetrics, Metrics).
    graph.locator('.node[data-id="root.evaluate"]').click()
    side = page.locator("aside.side")
    expect(side.locator("pre[aria-label='Task log']")).to_contain_text("evaluating")
    expect(side.locator(".md h1")).to_have_text("Evaluation report")
    expect(side.locator(".md strong")).to_have_text("7")
    expect(side.locator("table.matrix")).to_contain_text("cat")
    expect(side.locator("table.matrix td").first).to_have_text("9")
    expect(side.get_by_role("img", name="ROC curve").first).to_be_visible()
    expect(side.locator("table[aria-label='Metrics']")).to_contain_text("f1")
    expect(side).to_contain_text("rows")  # the input parameter
    frame = side.locator("iframe.html-preview")
    expect(frame).to_have_attribute("sandbox", "")  # no scripts, no same origin
    expect(page.frame_locator("aside.side iframe.html-preview").locator("h1")).to_have_text("Scores page")
    expect(
        side.locator("section[aria-label='Slice dogs']").get_by_role("img", name="ROC curve")
    ).to_be_visible()
    image = side.get_by_role("img", name="Image artifact chart")
    expect(image).to_be_visible()
    assert image.evaluate("(img) => img.complete && img.naturalWidth") == 2
    dashboard.shot("run-details-step")

    # Loop iterations expand into one box per iteration; a train step shows its Metrics.
    loop_id = graph.locator(".node.k-loop").get_attribute("data-id")
    page.get_by_role("button", name=re.compile("^Expand iterations of for-loop")).click()
    expect(graph.locator(".node.k-iteration")).to_have_count(3)
    graph.locator(f'.node[data-id="{loop_id}.0.train"]').click()
    expect(side.locator("table[aria-label='Metrics']")).to_contain_text("accuracy")
    dashboard.shot("run-details-expanded-loop")

    page.get_by_role("tab", name="Timeline").click()
    bars = page.locator(".timeline .seg")
    expect(bars).to_have_count(6)  # prepare, 3 × train, evaluate, announce
    dashboard.shot("run-timeline")
    page.get_by_role("tab", name="Tasks").click()
    page.get_by_label("Search tasks").fill("train")
    expect(page.locator("table[aria-label='Tasks'] tbody tr")).to_have_count(3)
    dashboard.shot("run-task-list")
    page.get_by_role("tab", name="Details").click()
    expect(page.locator("table[aria-label='State history']")).to_contain_text("succeeded")
    dashboard.shot("run-facts")


def test_terminate_a_running_run(dashboard, kfp_client, tmp_path):
    package = compile_to(sleeper_pipeline, tmp_path / "sleeper.yaml")
    run = kfp_client.create_run_from_pipeline_package(
        str(package), arguments={"seconds": 300}, run_name="sleepy"
    )
    dashboard.open(f"#/runs/{run.run_id}")
    page = dashboard.page
    expect(page.locator('.node[data-id="root.sleep-for"]')).to_have_class(
        re.compile(r"\bst-RUNNING\b"), timeout=RUN_TIMEOUT_MS
    )
    # The running step's log follows while it runs.
    page.locator('.node[data-id="root.sleep-for"]').click()
    expect(page.locator("aside.side pre[aria-label='Task log']")).to_contain_text("sleeping", timeout=60_000)
    expect(page.locator("aside.side")).to_contain_text("following")
    dashboard.shot("running")
    page.get_by_role("button", name="Terminate").click()
    expect(page.locator("h1 .badge")).to_have_text("canceled", timeout=RUN_TIMEOUT_MS)
    assert kfp_client.get_run(run.run_id).state == "CANCELED"
    dashboard.shot("canceled")


def test_retry_a_failed_run(dashboard, kfp_client, tmp_path):
    package = compile_to(flaky_pipeline, tmp_path / "flaky.yaml")
    marker = tmp_path / "marker"
    run = kfp_client.create_run_from_pipeline_package(
        str(package), arguments={"marker": str(marker)}, run_name="flaky"
    )
    assert _wait_for_state(kfp_client, run.run_id, {"FAILED", "SUCCEEDED"}) == "FAILED"
    dashboard.open(f"#/runs/{run.run_id}")
    page = dashboard.page
    expect(page.locator(".alert").first).to_contain_text("failing on purpose")
    page.locator('.node[data-id="root.fail-once"]').click()
    expect(page.locator("aside.side pre[aria-label='Task log']")).to_contain_text(
        "failing on purpose the first time"
    )
    dashboard.shot("failed")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator("h1 .badge")).to_have_text("succeeded", timeout=RUN_TIMEOUT_MS)
    dashboard.shot("retried")


def test_compare_two_runs_and_run_one_again(dashboard, kfp_client, demo_package):
    experiment = kfp_client.create_experiment(f"compare-{uuid.uuid4().hex[:6]}")
    ids = [
        kfp_client.create_run_from_pipeline_package(
            str(demo_package),
            arguments={"learning_rate": rate, "rows": 5},
            run_name=f"rate {rate}",
            experiment_id=experiment.experiment_id,
        ).run_id
        for rate in (0.1, 0.3)
    ]
    for run_id in ids:
        assert _wait_for_state(kfp_client, run_id, {"SUCCEEDED", "FAILED"}) == "SUCCEEDED"
    dashboard.open(f"#/experiments/{experiment.experiment_id}")
    page = dashboard.page
    expect(page.locator("table[aria-label='Runs of this experiment'] tbody tr")).to_have_count(2)
    page.get_by_label("Select rate 0.1").check()
    page.get_by_label("Select rate 0.3").check()
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("h1")).to_have_text("Compare 2 runs")
    parameters = page.locator("table[aria-label='Parameters']")
    expect(parameters.locator("tr", has_text="learning_rate")).to_have_attribute("data-differs", "true")
    expect(parameters.locator("tr", has_text="rows")).not_to_have_attribute("data-differs", "true")
    metrics = page.locator("table[aria-label='Metrics']")
    expect(metrics.locator("tr", has_text="accuracy").first).to_have_attribute("data-differs", "true")
    expect(metrics.locator("tr", has_text="f1")).not_to_have_attribute("data-differs", "true")
    dashboard.shot("compare")

    # "Run again" opens the form with that run's parameters.
    page.get_by_role("link", name="rate 0.3").click()
    page.get_by_role("link", name="Run again").click()
    expect(page.locator("#param-learning_rate")).to_have_value("0.3")
    page.get_by_role("button", name="Start run").click()
    expect(page.locator("h1")).to_contain_text("Clone of rate 0.3")
    run_id = page.url.rsplit("/", 1)[-1]
    assert kfp_client.get_run(run_id).runtime_config.parameters["learning_rate"] == 0.3
