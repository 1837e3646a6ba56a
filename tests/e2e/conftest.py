"""Browser tests: Debian's chromium driven through Playwright against pytest-django's live_server.

Every test's page is checked with axe-core (see `page` below): each page it loads and each
state an htmx swap leaves; a violation of any impact (minor to critical) fails the test. Its console is
watched too: an error message (a CSP violation, a failed request, a script error) fails the
test, unless the test expects it (`expect_console_error`).

Playwright's sync API keeps an asyncio event loop in the main thread, and Django refuses ORM
calls made while a loop runs there. The tests touch the ORM only to build data with the
factories and to check what was saved, never concurrently, so the guard is switched off here and
nowhere else.
"""

import json
import os
import re
import time
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import axe_playwright_python  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import Page, Route, expect, sync_playwright  # noqa: E402

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


# axe-core as bundled by axe-playwright-python (no download at run time).
AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
FAILING_IMPACTS = ("minor", "moderate", "serious", "critical")  # all of them: 0 violations

# Runs in every document before the page's own scripts. axe checks the page once it has loaded
# and again after every htmx swap has settled (the swaps of one response, out-of-band ones
# included, make one check). Checks run one at a time. Each tells Python through bindings when it
# is scheduled (`__pbAxeStart`) and what it found (`__pbAxeReport`: the violations), so that Python can wait for it.
AXE_WATCH = """
(() => {
  if (window.__pbAxeWatching) return;
  window.__pbAxeWatching = true;
  let queue = Promise.resolve();
  let scheduled = false;
  // axe's experimental rules too (label-content-name-mismatch is one of them).
  const rules = {};
  if (window.axe) window.axe.getRules(["experimental"]).forEach((r) => { rules[r.ruleId] = { enabled: true }; });
  function check(state) {
    if (scheduled) return;
    scheduled = true;
    window.__pbAxeStart();
    setTimeout(() => {
      scheduled = false;
      queue = queue.then(() => run(state));
    }, 0);
  }
  async function run(state) {
    const report = { url: location.href, state, violations: [] };
    try {
      // preload: false: axe would inject a <style> to read the style sheets, which the CSP
      // blocks (and tests/e2e/test_csp.py would report).
      // A test's own axe run (tests/e2e/test_home.py) may be going: axe runs one at a time.
      for (let i = 0; i < 100 && window.axe._running; i++) await new Promise((r) => setTimeout(r, 50));
      const started = performance.now();
      const results = await window.axe.run(document, { resultTypes: ["violations"], preload: false, rules });
      report.ms = Math.round(performance.now() - started);
      report.violations = results.violations
        .filter((v) => IMPACTS.includes(v.impact))
        .map((v) => ({
          id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
          targets: v.nodes.map((n) => n.target.join(" ")),
        }));
    } catch (error) {
      report.error = String(error);
    }
    await window.__pbAxeReport(JSON.stringify(report));
  }
  window.addEventListener("load", () => check("load"));
  document.addEventListener("htmx:afterSettle", (e) => {
    const target = e.detail && e.detail.target;
    check("after an htmx swap of " + (target && target.id ? "#" + target.id : "an element"));
  });
})();
""".replace("IMPACTS", json.dumps(list(FAILING_IMPACTS)))
AXE_WAIT_S = 5  # the longest wait for a page's pending checks (a check takes ~0.1 s)


class AxeLog:
    """What axe found on the pages of one test: `checks` counts the states checked, `pending`
    the checks scheduled but not reported yet, `failures` the violations (any impact)."""

    def __init__(self):
        self.checks = 0
        self.pending = 0
        self.slowest_ms = 0
        self.failures = []

    def navigated(self, frame):
        # A new document: the checks of the one it replaced will never report.
        if frame.parent_frame is None:
            self.pending = 0

    def start(self, source):
        self.pending += 1

    def report(self, source, payload):
        result = json.loads(payload)
        self.pending = max(self.pending - 1, 0)
        self.checks += 1
        self.slowest_ms = max(self.slowest_ms, result.get("ms", 0))
        where = f"{result['url']} ({result['state']})"
        if result.get("error"):
            self.failures.append(f"{where}: axe failed: {result['error']}")
        for v in result["violations"]:
            targets = ", ".join(v["targets"][:5]) + (" …" if len(v["targets"]) > 5 else "")
            self.failures.append(
                f"{where}: {v['impact']} {v['id']}: {v['help']}\n"
                f"    on: {targets}\n    see: {v['helpUrl']}"
            )

    def message(self):
        return f"axe-core found {len(self.failures)} violation(s):\n" + "\n".join(self.failures)


def wait_for_axe(page: Page) -> None:
    """Let the page's pending axe checks finish. The page keeps running scripts while a
    navigation request waits (unlike `page.evaluate`, which blocks then): poll the count."""
    deadline = time.monotonic() + AXE_WAIT_S
    try:
        while page.axe_log.pending > 0 and time.monotonic() < deadline:
            page.wait_for_timeout(20)
    except PlaywrightError:
        pass  # the page closed: its checks reported what they could


def check_a11y(page: Page) -> None:
    """Fail now if axe found a violation on a page or state so far."""
    wait_for_axe(page)
    log = page.axe_log
    if log.failures:
        message = log.message()
        log.failures = []
        pytest.fail(message, pytrace=False)


class ConsoleLog:
    """The console errors and uncaught script errors of one test's pages. A test that provokes
    one on purpose (a 404 page, a refused request) declares it with `expect_console_error`."""

    def __init__(self):
        self.errors = []
        self.expected = []

    def console(self, message):
        if message.type == "error":
            location = message.location or {}
            self.errors.append(f"console error on {location.get('url', '?')}: {message.text}")

    def page_error(self, error):
        self.errors.append(f"uncaught script error: {error}")

    def unexpected(self):
        return [e for e in self.errors if not any(p.search(e) for p in self.expected)]

    def message(self):
        errors = self.unexpected()
        return f"{len(errors)} console error(s):\n" + "\n".join(errors)


def watch_console(page: Page) -> Page:
    """Record the page's console errors and uncaught script errors in `page.console_log`."""
    log = ConsoleLog()
    page.console_log = log
    page.on("console", log.console)
    page.on("pageerror", log.page_error)
    return page


def expect_console_error(page: Page, pattern: str) -> None:
    """Let console errors matching `pattern` (a regular expression) pass for this test."""
    page.console_log.expected.append(re.compile(pattern))


def check_console(page: Page) -> None:
    """Fail now if the page logged an unexpected console error so far."""
    log = page.console_log
    if log.unexpected():
        message = log.message()
        log.errors = []
        pytest.fail(message, pytrace=False)


@pytest.fixture
def page(browser):
    """A fresh browser page whose every page load and htmx swap is checked by axe-core.

    A document request waits (in a route) until the checks of the page it replaces are done, so
    even a page a test leaves at once is checked. At teardown the test fails on any violation,
    whatever its impact, with rule, targets and help URL. `check_a11y(page)` fails earlier.
    Every console error (type "error") and uncaught script error fails the test too, at
    teardown (`check_console(page)` fails earlier)."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    log = AxeLog()
    context.expose_binding("__pbAxeStart", log.start)
    context.expose_binding("__pbAxeReport", log.report)
    context.add_init_script(AXE_SOURCE + "\n" + AXE_WATCH)
    page = context.new_page()
    page.axe_log = log
    page.on("framenavigated", log.navigated)
    watch_console(page)

    def hold_navigation(route: Route) -> None:
        try:
            if route.request.is_navigation_request():
                wait_for_axe(page)
        finally:
            try:
                route.continue_()
            except PlaywrightError:
                pass  # the page closed meanwhile

    page.route("**/*", hold_navigation)
    yield page
    wait_for_axe(page)
    context.close()
    problems = []
    if log.failures:
        problems.append(log.message())
    if page.console_log.unexpected():
        problems.append(page.console_log.message())
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def login(page: Page, live_server, email: str, password: str = PASSWORD) -> Page:
    """Log in through the real login form; the user lands on the home page, then the tests
    start from the job library (where they begin)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("heading", level=1).wait_for()
    page.goto(f"{live_server.url}/jobs/")
    page.get_by_role("heading", name="Job library").wait_for()
    return page


@pytest.fixture
def owner_membership(transactional_db):
    return MembershipFactory(role=Role.OWNER)


@pytest.fixture
def logged_in_page(page, live_server, owner_membership):
    """A page logged in as the owner of a fresh workspace (`owner_membership`)."""
    return login(page, live_server, owner_membership.user.email)
