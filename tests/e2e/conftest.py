"""Browser tests: Debian's chromium driven through Playwright against pytest-django's live_server.

Playwright's sync API keeps an asyncio event loop in the main thread, and Django refuses ORM
calls made while a loop runs there. The tests touch the ORM only to build data with the
factories and to check what was saved, never concurrently, so the guard is switched off here and
nowhere else.
"""

import os
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.factories import PASSWORD, MembershipFactory  # noqa: E402
from workspaces.models import Role  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
HERE = Path(__file__).parent

expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(items):
    # The hook sees the whole session's items: mark only the ones in this folder.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).is_file():
        # Fail, never skip: CI installs Debian's chromium before running these tests.
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium). "
            "The e2e tests do not use Playwright's downloaded browsers.",
            pytrace=False,
        )
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def login(page: Page, live_server, email: str, password: str = PASSWORD) -> Page:
    """Log in through the real login form; the user lands on the job library."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Job library").wait_for()
    return page


@pytest.fixture
def owner_membership(transactional_db):
    return MembershipFactory(role=Role.OWNER)


@pytest.fixture
def logged_in_page(page, live_server, owner_membership):
    """A page logged in as the owner of a fresh workspace (`owner_membership`)."""
    return login(page, live_server, owner_membership.user.email)
