"""Experiments, pipelines, recurring runs and artifacts as a person uses them in the dashboard, including
bad input that must show the API's own message."""

import re
import time
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.dashboard.conftest import RUN_TIMEOUT_MS

pytestmark = pytest.mark.timeout(600)


def test_create_archive_and_restore_an_experiment(dashboard, kfp_client):
    name = f"exp-{uuid.uuid4().hex[:6]}"
    page = dashboard.page
    dashboard.open("#/experiments")
    page.fill("#experiment-name", name)
    page.fill("#experiment-description", "made in the browser")
    page.get_by_role("button", name="Create experiment").click()
    row = page.locator("table[aria-label='Experiments'] tr", has_text=name)
    expect(row).to_be_visible()
    assert kfp_client.get_experiment(experiment_name=name).description == "made in the browser"
    dashboard.shot("created")
    # A duplicate name is refused by the API, whose message is shown.
    page.fill("#experiment-name", name)
    page.get_by_role("button", name="Create experiment").click()
    expect(page.locator(".notice.error")).to_contain_text(name)
    row.get_by_role("button", name="Archive").click()
    expect(row).to_have_count(0)
    page.get_by_role("tab", name="Archived").click()
    archived = page.locator("table[aria-label='Experiments'] tr", has_text=name)
    archived.get_by_role("button", name="Unarchive").click()
    expect(archived).to_have_count(0)
    page.get_by_role("tab", name="Active").click()
    expect(page.locator("table[aria-label='Experiments'] tr", has_text=name)).to_be_visible()
    assert kfp_client.get_experiment(experiment_name=name).storage_state == "AVAILABLE"


def test_upload_a_pipeline_and_read_its_graph_parameters_and_source(dashboard, demo_package, kfp_client):
    name = f"uploaded-{uuid.uuid4().hex[:6]}"
    page = dashboard.page
    dashboard.open("#/pipelines")
    page.set_input_files("input[type=file]", str(demo_package))
    page.fill("#Upload\\ pipeline-name", name)
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("h1")).to_contain_text(name)
    assert kfp_client.get_pipeline_id(name)
    dashboard.shot("pipeline")
    page.locator("table[aria-label='Versions'] a", has_text=name).click()
    graph = page.locator("svg.graph")
    expect(graph.locator(".node.k-loop")).to_have_count(1)
    expect(graph.locator(".node.k-condition")).to_have_count(1)
    expect(graph.locator(".node.k-container")).to_have_count(4)
    expect(graph.locator("path.edge")).to_have_count(2)
    graph.locator(".node.k-container", has_text="train").click()
    expect(page.locator("aside.side")).to_contain_text("learning_rate: NUMBER_DOUBLE")
    dashboard.shot("version-graph")
    page.get_by_role("tab", name="Parameters").click()
    table = page.locator("table[aria-label='Parameters']")
    expect(table.locator("tr", has_text="learning_rate")).to_contain_text("number")
    expect(table.locator("tr", has_text="learning_rate")).to_contain_text("0.1")
    expect(table.locator("tr", has_text="publish")).to_contain_text("boolean")
    page.get_by_role("tab", name="Source").click()
    expect(page.locator("pre[aria-label='Pipeline source']")).to_contain_text("pipelineInfo:")
    expect(page.locator("pre[aria-label='Pipeline source']")).to_contain_text("name: dashboard-demo")
    dashboard.shot("version-source")


def test_drop_a_new_version_onto_the_pipeline_page(dashboard, demo_package, kfp_client):
    pipeline = kfp_client.upload_pipeline(str(demo_package), pipeline_name=f"dropped-{uuid.uuid4().hex[:6]}")
    page = dashboard.page
    dashboard.open(f"#/pipelines/{pipeline.pipeline_id}")
    content = demo_package.read_text()
    transfer = page.evaluate_handle(
        "(text) => { const d = new DataTransfer(); d.items.add(new File([text], 'v2.yaml')); return d; }",
        content,
    )
    page.locator(".dropzone").dispatch_event("drop", {"dataTransfer": transfer})
    expect(page.locator(".dropzone")).to_contain_text("v2.yaml")
    page.fill("#Upload\\ new\\ version-name", "second")
    page.get_by_role("button", name="Upload version").click()
    expect(page.locator("table[aria-label='Versions'] tr", has_text="second")).to_be_visible()
    names = {
        v.display_name for v in kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions
    }
    assert "second" in names


def test_a_broken_package_shows_the_api_message_and_creates_nothing(
    dashboard, local_stack, tmp_path, kfp_client
):
    broken = tmp_path / "broken.yaml"
    broken.write_text("pipelineInfo: {name: x}\nroot: [unclosed\n")
    expected = requests.post(
        f"{local_stack.url}/apis/v2beta1/pipelines/upload",
        params={"name": "probe-never-created"},
        files={"uploadfile": ("broken.yaml", broken.read_bytes())},
        timeout=30,
    ).json()["error_message"]
    page = dashboard.page
    dashboard.open("#/pipelines")
    page.set_input_files("input[type=file]", str(broken))
    page.fill("#Upload\\ pipeline-name", "broken-upload")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("form[aria-label='Upload pipeline'] .alert")).to_contain_text(expected)
    dashboard.shot("broken-upload")
    assert kfp_client.get_pipeline_id("broken-upload") is None


def test_create_disable_and_enable_a_recurring_run(dashboard, demo_package, kfp_client):
    pipeline = kfp_client.upload_pipeline(str(demo_package), pipeline_name=f"nightly-{uuid.uuid4().hex[:6]}")
    page = dashboard.page
    dashboard.open("#/recurring/new")
    page.select_option("#run-pipeline", pipeline.pipeline_id)
    expect(page.locator("#param-rows")).to_have_value("100")
    page.fill("#run-name", "nightly training")
    # An invalid cron expression passes the form and is refused by the API, whose message is shown.
    page.fill("#trigger-cron", "not a cron")
    page.get_by_role("button", name="Create recurring run").click()
    expect(page.locator("form .alert")).to_contain_text("cron")
    expect(page.locator("form .alert")).to_contain_text("HTTP 400")
    dashboard.shot("bad-cron")
    page.select_option("#trigger-kind", "interval")
    page.fill("#trigger-interval", "86400")
    page.fill("#trigger-concurrency", "2")
    page.uncheck("#trigger-catchup")
    page.fill("#param-rows", "12")
    page.get_by_role("button", name="Create recurring run").click()
    expect(page.locator("h1")).to_contain_text("nightly training")
    expect(page.locator("h1 .badge")).to_have_text("enabled")
    expect(page.locator(".panel")).to_contain_text("every 86400 s")
    recurring_id = page.url.rsplit("/", 1)[-1]
    created = kfp_client.get_recurring_run(recurring_id)
    assert created.max_concurrency == "2" and created.no_catchup is True
    assert created.runtime_config.parameters == {
        "rows": 12,
        "label": "batch",
        "learning_rate": 0.1,
        "publish": True,
    }
    dashboard.shot("recurring-details")
    page.get_by_role("button", name="Disable").click()
    expect(page.locator("h1 .badge")).to_have_text("disabled")
    assert kfp_client.get_recurring_run(recurring_id).status == "DISABLED"
    page.get_by_role("button", name="Enable").click()
    expect(page.locator("h1 .badge")).to_have_text("enabled")
    dashboard.open("#/recurring")
    expect(
        page.locator("table[aria-label='Recurring runs'] tr", has_text="nightly training")
    ).to_contain_text("enabled")
    dashboard.shot("recurring-list")
    kfp_client.delete_recurring_run(recurring_id)


def test_find_an_artifact_and_read_its_preview_and_lineage(dashboard, demo_package, kfp_client):
    run = kfp_client.create_run_from_pipeline_package(
        str(demo_package), arguments={"rows": 3}, run_name="artifact source"
    )
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while kfp_client.get_run(run.run_id).state != "SUCCEEDED":
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.5)
    page = dashboard.page
    dashboard.open("#/artifacts")
    page.get_by_label("Search artifacts").fill("artifact source")
    rows = page.locator("table[aria-label='Artifacts'] tbody tr")
    expect(rows).to_have_count(9)  # prepare has no artifacts; 3 × train metrics, evaluate's six
    dashboard.shot("artifacts")
    rows.filter(has_text="report").get_by_role("link", name="report").click()
    expect(page.locator("main > h1")).to_contain_text("report")
    expect(page.locator(".md h1")).to_have_text("Evaluation report")
    expect(page.locator(".panel").first).to_contain_text(re.compile("Produced by\\s*evaluate"))
    dashboard.shot("artifact")


def test_keyboard_only_and_a_narrow_window(dashboard, demo_package, kfp_client):
    run = kfp_client.create_run_from_pipeline_package(str(demo_package), run_name="keyboard run")
    page = dashboard.page
    page.set_viewport_size({"width": 400, "height": 800})
    dashboard.open(f"#/runs/{run.run_id}")
    expect(page.locator("h1 .badge")).to_have_text("succeeded", timeout=RUN_TIMEOUT_MS)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page is {width}px wide in a 400px window"
    node = page.locator('.node[data-id="root.prepare"]')
    node.focus()
    assert (
        page.evaluate("getComputedStyle(document.activeElement.querySelector('rect.body')).strokeWidth")
        == "3px"
    )
    page.keyboard.press("Enter")
    expect(page.locator("aside.side h2")).to_contain_text("prepare")
    dashboard.shot("narrow-run")
    page.set_viewport_size({"width": 1280, "height": 800})
    dashboard.open("#/runs")
    expect(page.locator("table[aria-label='Runs'] a", has_text="keyboard run")).to_be_visible()
    for _ in range(40):  # from the top of the page, Tab reaches the run's link
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "keyboard run":
            break
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("keyboard run")


def test_a_missing_run_or_page_shows_a_message_not_a_blank_page(dashboard):
    page = dashboard.page
    dashboard.open("#/runs/no-such-run")
    expect(page.locator("h1")).to_have_text("Something went wrong")
    expect(page.locator(".alert")).to_contain_text("no-such-run")
    expect(page.locator(".alert")).to_contain_text("HTTP 404")
    dashboard.open("#/nowhere/at/all")
    expect(page.locator("h1")).to_have_text("Page not found")
    dashboard.open("#/compare?runs=only-one")
    expect(page.locator(".alert")).to_contain_text("Select 2 to 10 runs")
    dashboard.shot("missing-run")
