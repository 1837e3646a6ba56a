"""Viewport screenshots of the main pages at a phone (390x844) and a laptop (1280x800) size.

Run by hand against a demo server (not part of the test suite):

    DATABASE_URL=sqlite:////tmp/shots.db .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:////tmp/shots.db .venv/bin/python manage.py demo
    DATABASE_URL=sqlite:////tmp/shots.db .venv/bin/python manage.py runserver 127.0.0.1:8731
    .venv/bin/python docs/screenshots/take.py http://127.0.0.1:8731 docs/screenshots/after

It also prints, per page and size, whether the header is wider than the window (overflow).
Names after the folder take only those pages (e.g. `test-sona-call`). `test-sona-call` is the
Test Sona page after a three-turn mock call (CALL), the whole page (not only the viewport), so
its length shows how the page grows turn by turn.
With DARK=1 in the environment the browser asks for the dark theme (prefers-color-scheme) and
each file name ends in `-dark`.
"""

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

DEMO_EMAIL = "owner@demo.test"  # calls/management/commands/demo.py
# The three turns of the `test-sona-call` shot: a question, a job, the job's next step.
CALL = (
    "What are your opening hours on Saturday?",
    "I need to move my cleaning to next week",
    "It's Sam Lee, born May 3 1990",
)
SCHEME = "dark" if os.environ.get("DARK") else "light"  # DARK=1: the dark theme, names end in -dark
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
        ("test-sona-call", test_sona),
        ("calls-list", "/calls/"),
        ("activity", "/workspace/activity/"),
        ("home", "/"),
        ("alerts", "/alerts/"),
        ("members", "/workspace/members/"),
    ]


def call(page) -> None:
    """Say CALL's turns, one after another, as a person would (type, Enter)."""
    says = page.get_by_label("Caller says")
    for number, said in enumerate(CALL, start=1):
        says.fill(said)
        says.press("Enter")
        page.locator("#mock-announce").filter(has_text=f"Turn {number}").wait_for()
        page.wait_for_load_state("networkidle")


def main(base: str, out: Path, only: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for size, viewport in SIZES.items():
            page = browser.new_page(viewport=viewport, color_scheme=SCHEME)
            page.goto(f"{base}/accounts/login/")
            page.get_by_label("Email").fill(DEMO_EMAIL)
            page.get_by_label("Password").fill("demo")
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state()
            for name, path in pages(page, base):
                if only and name not in only:
                    continue
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                if name == "test-sona-call":
                    call(page)
                overflow = page.evaluate(
                    "() => document.documentElement.scrollWidth > window.innerWidth"
                )
                whole = name == "test-sona-call"
                suffix = "-dark" if SCHEME == "dark" else ""
                page.screenshot(path=out / f"{name}-{size}{suffix}.png", full_page=whole)
                print(f"{name:16} {size:>5}px  page wider than window: {overflow}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), sys.argv[3:])
