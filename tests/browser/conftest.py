"""Browser tests: the built React app, served by a real local stage, driven in Debian's chromium.

The app must be built first (``make frontend``); chromium comes from Debian (``make chromium``),
never from ``playwright install``. Every wait is one of Playwright's auto-waiting expectations.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from reference_stack.local.config import REPO_ROOT
from tests.browser.helpers import connection_ids, user_id
from tests.support.stage_process import RunningStage, start_stage

DIST = REPO_ROOT / "frontend" / "dist"
SCREENSHOTS = REPO_ROOT / "reports" / "screenshots"
# One timeout unit for every wait, scaled for slow machines: CHATSTACK_TEST_TIMEOUT_SCALE=3.
TIMEOUT_MS = int(10_000 * float(os.environ.get("CHATSTACK_TEST_TIMEOUT_SCALE", "1")))

expect.set_options(timeout=TIMEOUT_MS)


BROWSER_TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests after all others.

    Playwright's sync API keeps its event loop marked as running in this thread from its first
    use to the end of the session, so asyncio tests collected after it could not run their loop.
    """
    items.sort(key=lambda item: item.path.is_relative_to(BROWSER_TESTS))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's chromium, headless: Playwright's own browser download is not available."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not on PATH: run `make chromium` (apt-get install -y chromium)")
    return {**browser_type_launch_args, "executable_path": chromium, "headless": True}


@pytest.fixture(scope="session")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStage]:
    """A local stage serving the built app at its web URL."""
    if not (DIST / "index.html").is_file():
        pytest.fail(
            f"{DIST / 'index.html'} is missing: build the web app first with `make frontend` "
            "(or `cd frontend && npm ci && npm run build`)"
        )
    running = start_stage(tmp_path_factory.mktemp("browser-stage"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def new_page(browser: Browser) -> Iterator:
    """Open pages in fresh browser contexts (one person each); all are closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(width: int = 1280, height: int = 800, *, phone: bool = False) -> Page:
        """A page of a new person; ``phone``: a touch screen that reports itself as mobile."""
        context = browser.new_context(
            viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def drop_connections(stage: RunningStage) -> Callable[[Page], list[str]]:
    """Close a browser's WebSockets from the server side, as API Gateway would.

    Finds the connections of the page's user in the stage's Connections table and deletes each
    through the @connections API; returns their ids.
    """
    common = {
        "region_name": "us-east-1",
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }

    def drop(page: Page) -> list[str]:
        dynamodb = stage.client("dynamodb")
        management = boto3.client(
            "apigatewaymanagementapi", endpoint_url=stage.management_url, **common
        )
        ids = connection_ids(dynamodb, stage.table("connections"), user_id(page))
        for connection_id in ids:
            management.delete_connection(ConnectionId=connection_id)
        return ids

    return drop
