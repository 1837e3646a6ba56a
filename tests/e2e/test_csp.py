"""Every page, loaded in chromium as an owner (and the admin's pages as support staff), carries
the Content-Security-Policy header and violates it nowhere: no console message about it and no
`securitypolicyviolation` event, also after an htmx swap."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.pages import admin_urls, app_urls
from tests.test_roles import world  # noqa: F401  (one of everything behind the pages)

# Runs before any script of the page: records every violation the page reports.
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
});
"""


@pytest.fixture
def watched(page):
    """The page, recording CSP violations from the console and from violation events."""
    console = []
    page.add_init_script(WATCH)
    page.on(
        "console",
        lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.console_csp = console
    return page


def visit(page, url):
    """Load `url` when it is a page (GET-only URLs answer 405 with no body: only the header is
    checked); return the violations it caused, or None when it was not loaded."""
    head = page.request.get(url, max_redirects=0)
    assert "content-security-policy" in head.headers, url
    if head.status != 200 or "text/html" not in head.headers.get("content-type", ""):
        return None
    response = page.goto(url, wait_until="load")
    assert "content-security-policy" in response.headers, url
    violations = page.evaluate("window.__cspViolations") + page.console_csp
    page.console_csp.clear()
    return violations


def test_every_page_loads_without_a_csp_violation(watched, live_server, workspace, request):
    w = request.getfixturevalue("world")
    login(watched, live_server, w.owner.email)
    urls = app_urls(workspace, w)
    seen = {url: visit(watched, live_server.url + url) for url in urls}
    assert {url: v for url, v in seen.items() if v} == {}
    assert len([v for v in seen.values() if v is not None]) > 25  # pages really loaded


def test_an_htmx_swap_causes_no_violation(watched, live_server, request):
    w = request.getfixturevalue("world")
    login(watched, live_server, w.owner.email)
    url = f"{live_server.url}/numbers/{w.phone.pk}/steps/{w.sona.pk}/jobs/"
    assert visit(watched, url) == []
    watched.get_by_role("button", name="Attach Third", exact=True).click()
    expect(watched.get_by_role("button", name="Detach Third", exact=True)).to_be_visible()
    assert watched.evaluate("window.__cspViolations") + watched.console_csp == []


@pytest.mark.usefixtures("world")
def test_every_admin_page_loads_without_a_csp_violation(watched, live_server, staff, password):
    watched.goto(f"{live_server.url}/admin/login/")
    watched.get_by_label(re.compile("^Email")).fill(staff.email)
    watched.get_by_label(re.compile("^Password")).fill(password)
    watched.get_by_role("button", name="Log in").click()
    expect(watched.get_by_role("heading", name="Site administration")).to_be_visible()
    seen = {url: visit(watched, live_server.url + url) for url in admin_urls()}
    assert {url: v for url, v in seen.items() if v} == {}
    assert len([v for v in seen.values() if v is not None]) > 30
