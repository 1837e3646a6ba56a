"""Dark mode: with `prefers-color-scheme: dark` emulated, the dark theme applies (a dark page,
light text) and axe finds no violation of any impact on any page, colour contrast included; the
demo's busiest pages (figures, charts, badges, the call flow diagram) are checked in both themes.

The conftest's watcher runs axe (every rule, every impact) on each page load; `check_a11y` makes a
page's violations fail the test at that page."""

import pytest
from django.core.management import call_command

from tests.e2e.conftest import check_a11y, login
from tests.pages import app_urls
from tests.test_roles import world  # noqa: F401  (one of everything behind the pages)

# The relative luminance of the computed background of <body> and of its text colour.
LUMINANCE = """(what) => {
  const css = getComputedStyle(document.body)[what];
  const [r, g, b] = css.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}"""


def theme(page) -> tuple[float, float]:
    """(background luminance, text luminance) of the page's body."""
    return page.evaluate(LUMINANCE, "backgroundColor"), page.evaluate(LUMINANCE, "color")


def html_pages(page, base, urls):
    """The urls that answer 200 with an HTML page (GET-only views answer 405 to nothing)."""
    for url in urls:
        head = page.request.get(base + url, max_redirects=0)
        if head.status == 200 and "text/html" in head.headers.get("content-type", ""):
            yield url


def test_every_page_is_dark_and_accessible_in_the_dark_theme(page, live_server, request):
    w = request.getfixturevalue("world")
    page.emulate_media(color_scheme="dark")
    login(page, live_server, w.owner.email)
    seen = 0
    for url in html_pages(page, live_server.url, app_urls(w.workspace, w)):
        page.goto(live_server.url + url)
        background, text = theme(page)
        assert background < 0.05 and text > 0.6, (url, background, text)
        check_a11y(page)
        seen += 1
    assert seen > 25


DEMO_PAGES = ["/", "/jobs/", "/knowledge/", "/numbers/", "/calls/", "/alerts/"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_demos_main_pages_are_accessible_in_both_themes(
    page, live_server, transactional_db, scheme
):
    call_command("demo", "--password", "demo-dark-pass")
    page.emulate_media(color_scheme=scheme)
    login(page, live_server, "owner@demo.test", "demo-dark-pass")
    base = live_server.url
    page.goto(f"{base}/numbers/")
    editor = page.get_by_role("link", name="Call flow of Main line").get_attribute("href")
    page.goto(f"{base}/jobs/")
    job = page.locator("main table a").first.get_attribute("href")
    page.goto(f"{base}/calls/")
    call = page.locator("main table a").first.get_attribute("href")
    for path in [*DEMO_PAGES, editor, job, call, "/workspace/members/", "/workspace/activity/"]:
        page.goto(base + path)
        background, _ = theme(page)
        assert (background < 0.05) == (scheme == "dark"), path
        check_a11y(page)
