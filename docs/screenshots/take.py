"""Viewport screenshots of the main pages at a phone (390x844) and a laptop (1280x800) size.

Run by hand against a demo server (not part of the test suite):

    DATABASE_URL=sqlite:////tmp/shots.db .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:////tmp/shots.db .venv/bin/python manage.py demo
    DATABASE_URL=sqlite:////tmp/shots.db .venv/bin/python manage.py runserver 127.0.0.1:8731
    .venv/bin/python docs/screenshots/take.py http://127.0.0.1:8731 docs/screenshots/after

It also prints, per page and size, whether the header is wider than the window (overflow).
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

DEMO_EMAIL = "owner@demo.test"  # calls/management/commands/demo.py
SIZES = {"390": {"width": 390, "height": 844}, "1280": {"width": 1280, "height": 800}}


def pages(page, base):
    """(name, path) of the main pages, ids looked up from the demo's own links."""
    page.goto(f"{base}/numbers/")
    editor = page.get_by_role("link", name="Main line").first.get_attribute("href")
    page.goto(base + editor)
    test_sona = page.locator("form:has(button:text-is('Test Sona'))").first.get_attribute("action")
    page.goto(f"{base}/jobs/")
    job = page.locator("main table a").first.get_attribute("href")
    return [
        ("jobs-list", "/jobs/"),
        ("job-detail", job),
        ("job-editor", f"{job}edit/"),
        ("knowledge-list", "/knowledge/"),
        ("phone-numbers", "/numbers/"),
        ("callflow-editor", editor),
        # The Sona step's settings open beside the diagram (its id from the Test Sona URL).
        ("callflow-editor-step", f"{editor}?step={test_sona.rstrip('/').split('/')[-2]}"),
        ("test-sona", test_sona),
        ("calls-list", "/calls/"),
        ("activity", "/workspace/activity/"),
    ]


def main(base: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for size, viewport in SIZES.items():
            page = browser.new_page(viewport=viewport)
            page.goto(f"{base}/accounts/login/")
            page.get_by_label("Email").fill(DEMO_EMAIL)
            page.get_by_label("Password").fill("demo")
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state()
            for name, path in pages(page, base):
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                overflow = page.evaluate(
                    "() => document.documentElement.scrollWidth > window.innerWidth"
                )
                page.screenshot(path=out / f"{name}-{size}.png")
                print(f"{name:16} {size:>5}px  page wider than window: {overflow}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
