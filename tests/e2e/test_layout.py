"""The shared layout in a real browser: at phone widths (360 and 390 px) no main page is wider
than the window and the workspace "Switch" button is fully visible; the main menu marks the
current section with aria-current="page" at every width.

Accessible names used here: navigation "Main", its links "Jobs", "Phone numbers", "Calls"…,
button "Switch"."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.conftest import login

DEMO_EMAIL = "owner@demo.test"


@pytest.fixture
def demo_page(page, live_server, transactional_db):
    call_command("demo", "--password", "demo-layout-pass")
    return login(page, live_server, DEMO_EMAIL, "demo-layout-pass")


def main_pages(page, base):
    """(section, url) of the main pages, their ids read from the demo's own links."""
    page.goto(f"{base}/numbers/")
    editor = page.get_by_role("link", name="Call flow of Main line").get_attribute("href")
    page.goto(base + editor)
    test_sona = page.locator("form:has(button:text-is('Test Sona'))").first.get_attribute("action")
    page.goto(f"{base}/jobs/")
    job = page.locator("main table a").first.get_attribute("href")
    return [
        ("Jobs", "/jobs/"),
        ("Jobs", job),
        ("Jobs", f"{job}edit/"),
        ("Knowledge", "/knowledge/"),
        ("Phone numbers", "/numbers/"),
        ("Phone numbers", editor),
        ("Phone numbers", test_sona),
        ("Calls", "/calls/"),
        ("Activity", "/workspace/activity/"),
    ]


@pytest.mark.parametrize("width", [360, 390, 1280])
def test_main_pages_fit_the_window_and_mark_their_section(demo_page, live_server, width):
    page = demo_page
    pages = main_pages(page, live_server.url)
    page.set_viewport_size({"width": width, "height": 844})
    for section, path in pages:
        page.goto(live_server.url + path)
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.locator('[aria-current="page"]')).to_have_text(section)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a {width}px window"
        switch = page.get_by_role("button", name="Switch", exact=True).bounding_box()
        assert switch["x"] >= 0 and switch["x"] + switch["width"] <= width, path
        for link in nav.get_by_role("link").all():
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (path, link.text_content())


def test_favicon_loads_on_a_page(demo_page, live_server):
    page = demo_page
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.ok and response.headers["content-type"].startswith("image/svg+xml")
