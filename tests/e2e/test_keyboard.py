"""Keyboard focus after htmx swaps (static/js/app.js, `data-focus-after-swap`): the control the
person uses next has the focus, never the top of the page, and the page's live region
(role="status") says what happened. Only the keyboard drives the swaps here: a control is
focused once to start, then Enter and Tab do the rest.
"""

import re

from playwright.sync_api import expect

from callflows.services import step_attach_job
from tests.conftest import attached_names, sona_of
from tests.e2e.test_callflows import make_jobs, make_number
from tests.e2e.test_editor import make_job
from tests.factories import CallFactory

FOCUSED_NAME = """() => {
  const el = document.activeElement;
  return el ? (el.getAttribute("aria-label") || el.textContent).replace(/\\s+/g, " ").trim() : "";
}"""


def focused_name(page) -> str:
    return page.evaluate(FOCUSED_NAME)


def test_optimize_focuses_undo_and_undo_focuses_optimize(
    logged_in_page, live_server, owner_membership
):
    page = logged_in_page
    job = make_job(owner_membership)
    page.goto(f"{live_server.url}/jobs/{job.pk}/edit/")
    tools = page.get_by_role("group", name="Rewrite the instructions")
    optimize = tools.get_by_role("button", name="Optimize", exact=True)
    optimize.focus()

    page.keyboard.press("Enter")
    undo = tools.get_by_role("button", name="Undo", exact=True)
    expect(undo).to_be_focused()  # reached in no Tab at all
    expect(page.locator("#job-announce")).to_have_text(re.compile(r"^Optimized and saved: \d+"))
    expect(page).to_have_url(re.compile(rf"/jobs/{job.pk}/edit/$"))  # an htmx swap, no reload

    page.keyboard.press("Enter")
    expect(tools.get_by_role("button", name="Optimize", exact=True)).to_be_focused()
    expect(page.locator("#job-announce")).to_have_text(re.compile(r"^Undo done\."))
    job.refresh_from_db()
    assert job.instructions.startswith("you should probably")  # really undone


def test_attach_detach_and_move_keep_focus_on_the_same_job(
    logged_in_page, live_server, owner_membership
):
    page = logged_in_page
    jobs = make_jobs(owner_membership.workspace, count=3)
    phone = make_number(owner_membership)
    sona = sona_of(phone)
    page.goto(f"{live_server.url}/numbers/{phone.pk}/steps/{sona.pk}/jobs/")
    announce = page.locator("#jobs-announce")

    # Attach → the same job's Detach has the focus (one Tab away at most: here none).
    page.get_by_role("button", name="Attach Job 01", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Detach Job 01", exact=True)).to_be_focused()
    expect(announce).to_have_text("Attached “Job 01”.")

    # Tab leaves the row for the library; Shift+Tab comes back to Detach in one press.
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Detach Job 01", exact=True)).to_be_focused()

    page.get_by_role("button", name="Attach Job 02", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Detach Job 02", exact=True)).to_be_focused()
    assert attached_names(sona) == ["Job 01", "Job 02"]

    # Move: the moved job keeps the focus, on its Move button (Move down is gone once last).
    page.keyboard.press("Shift+Tab")  # Detach Job 02 → Move up Job 02
    assert focused_name(page) == "Move up Job 02"
    page.keyboard.press("Enter")
    expect(announce).to_have_text("Moved “Job 02” up.")
    expect(page.get_by_role("button", name="Move down Job 02", exact=True)).to_be_focused()
    assert attached_names(sona) == ["Job 02", "Job 01"]
    page.keyboard.press("Enter")
    expect(announce).to_have_text("Moved “Job 02” down.")
    expect(page.get_by_role("button", name="Move up Job 02", exact=True)).to_be_focused()
    assert attached_names(sona) == ["Job 01", "Job 02"]

    # Detach → the next row's Detach (none after the last: the previous row's).
    page.keyboard.press("Tab")  # Move up Job 02 → Detach Job 02
    assert focused_name(page) == "Detach Job 02"
    page.keyboard.press("Enter")
    expect(announce).to_have_text("Detached “Job 02”. It stays in the job library.")
    expect(page.get_by_role("button", name="Detach Job 01", exact=True)).to_be_focused()
    # The last one: focus goes to the library's Attach of that job.
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Attach Job 01", exact=True)).to_be_focused()
    assert attached_names(sona) == []
    assert [j.name for j in jobs] == ["Job 01", "Job 02", "Job 03"]


def test_say_keeps_focus_in_caller_says(logged_in_page, live_server, owner_membership):
    page = logged_in_page
    make_jobs(owner_membership.workspace, count=2)
    phone = make_number(owner_membership)
    sona = sona_of(phone)
    page.goto(f"{live_server.url}/numbers/{phone.pk}/steps/{sona.pk}/jobs/")
    page.get_by_role("button", name="Attach Job 01", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Detach Job 01", exact=True)).to_be_focused()

    page.goto(f"{live_server.url}/numbers/{phone.pk}/steps/{sona.pk}/test/")
    says = page.get_by_label("Caller says")
    says.focus()
    page.keyboard.type("I need help with job one")
    page.keyboard.press("Enter")
    expect(page.locator("#mock-announce")).to_contain_text("Turn 1")
    expect(says).to_be_focused()
    expect(says).to_have_value("")


def test_save_as_test_case_keeps_focus_on_its_turn(logged_in_page, live_server, owner_membership):
    """The saved turn's status takes the focus (its button is gone), and the next Tab reaches
    "See the tests". (It used to go to the next turn's "Save as test case", whose Enter saved
    the wrong turn.)"""
    page = logged_in_page
    [job] = make_jobs(owner_membership.workspace, count=1)
    phone = make_number(owner_membership)
    sona = sona_of(phone)
    step_attach_job(step=sona, job=job, user=owner_membership.user)
    page.goto(f"{live_server.url}/numbers/{phone.pk}/steps/{sona.pk}/test/")
    says = page.get_by_label("Caller says")
    says.focus()
    for n, words in enumerate(["I need help with job one", "and with job one again"], start=1):
        page.keyboard.type(words)
        page.keyboard.press("Enter")
        expect(page.locator("#mock-announce")).to_contain_text(f"Turn {n}")
        expect(says).to_be_focused()

    first = page.locator("li.turn").first
    first.get_by_role("button", name="Save as test case").focus()
    page.keyboard.press("Enter")
    saved = first.get_by_role("status")
    expect(saved).to_contain_text("Saved as test case")
    expect(saved).to_be_focused()
    page.keyboard.press("Tab")
    expect(first.get_by_role("link", name="See the tests")).to_be_focused()


def test_new_calls_link_keeps_the_focus_when_the_count_changes(
    logged_in_page, live_server, owner_membership, settings
):
    """The poll replaces "N new calls" every few seconds: the link that had the focus has it
    again once the count grows (it used to drop it to the page's <body>)."""
    settings.NEW_CALLS_POLL_SECONDS = 0.5
    page = logged_in_page
    phone = make_number(owner_membership)
    page.goto(f"{live_server.url}/")
    CallFactory(phone_number=phone)
    one = page.get_by_role("link", name="1 new call — show it")
    one.focus()
    CallFactory(phone_number=phone)
    two = page.get_by_role("link", name="2 new calls — show them")
    expect(two).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Calls", level=1)).to_be_visible()
