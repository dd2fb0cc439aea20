"""Browser fixtures: one headless Debian Chromium per session (Playwright, fresh profile), one page per test
on the session's local stack, a screenshot helper writing to build/screenshots/, and a check that no page
threw an uncaught error."""

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.dashboard.pipelines import compile_to, demo_pipeline

CHROMIUM = os.environ.get("KFPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
# Browser waits: runs take seconds locally, longer on a loaded 2-core machine; lists read whole partitions.
RUN_TIMEOUT_MS = 180_000
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def browser_context() -> Iterator:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install Debian's package (`apt-get install -y chromium`; "
            "`make test` does it when run as root) or set KFPS_CHROMIUM to its path. Never `playwright install`."
        )
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="kfps-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 800},
        )
        context.set_default_timeout(30_000)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


class Dashboard:
    """A page on the dashboard plus helpers: `open(fragment)`, `shot(name)`."""

    def __init__(self, page, url: str, test_name: str) -> None:
        self.page, self.url, self.test_name = page, url, test_name
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())

    def open(self, fragment: str) -> None:
        self.page.goto(f"{self.url}/{fragment}")

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}--{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def dashboard(browser_context, local_stack, request) -> Iterator[Dashboard]:
    page = browser_context.new_page()
    board = Dashboard(page, local_stack.url, re.sub(r"[^a-z0-9_]+", "-", request.node.name.lower()))
    yield board
    page.close()
    assert not board.errors, f"uncaught errors in the page: {board.errors}"


@pytest.fixture(scope="session")
def demo_package(tmp_path_factory) -> Path:
    return compile_to(demo_pipeline, tmp_path_factory.mktemp("dashboard") / "dashboard_demo.yaml")
