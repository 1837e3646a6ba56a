"""The shared layout in a real browser: a sidebar on wide screens, folded behind a "Menu" button
on phones (open without JavaScript). At phone widths (360 and 390 px) no main page is wider than
the window and, with the menu open, the workspace "Switch" button and every menu link are fully
visible; the main menu marks the current section with aria-current="page" at every width.

Accessible names used here: navigation "Main", its links "Jobs", "Phone numbers", "Calls"…,
buttons "Menu" and "Switch"."""

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
        menu = page.get_by_role("button", name="Menu")
        if width < 800:  # phones: the menu is folded behind its button
            expect(nav).to_be_hidden()
            expect(menu).to_have_attribute("aria-expanded", "false")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow}px wider than a {width}px window"
            menu.click()
            expect(menu).to_have_attribute("aria-expanded", "true")
        else:
            expect(menu).to_be_hidden()
        expect(nav).to_be_visible()
        expect(nav.locator('[aria-current="page"]')).to_have_text(section)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a {width}px window"
        switch = page.get_by_role("button", name="Switch", exact=True).bounding_box()
        assert switch["x"] >= 0 and switch["x"] + switch["width"] <= width, path
        for link in nav.get_by_role("link").all():
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (path, link.text_content())


def test_the_phone_menu_closes_with_escape_and_returns_focus(demo_page, live_server):
    page = demo_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/jobs/")
    menu = page.get_by_role("button", name="Menu")
    menu.focus()
    page.keyboard.press("Enter")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    page.keyboard.press("Tab")  # into the menu: the workspace list first
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()


def test_without_javascript_the_phone_menu_is_open(browser, live_server, transactional_db):
    call_command("demo", "--password", "demo-layout-pass")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(DEMO_EMAIL)
        page.get_by_label("Password").fill("demo-layout-pass")
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{live_server.url}/calls/")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_visible()
        expect(nav.locator('[aria-current="page"]')).to_have_text("Calls")
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    finally:
        context.close()


def test_favicon_loads_on_a_page(demo_page, live_server):
    page = demo_page
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.ok and response.headers["content-type"].startswith("image/svg+xml")
