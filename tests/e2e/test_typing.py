"""Nothing typed is lost to an htmx swap (issue 24, point 5), and the pages that swap make no
console error (point 6; every e2e test checks the console too: tests/e2e/conftest.py).

Undo after Optimize restores the instructions only: a name typed after the optimize stays in
its field, unsaved, until Save. The attach panel keeps the text typed in its search box when
Attach, Detach or Move swaps the panel; Test Sona's "Caller says" keeps what was typed while
Sona was answering.
"""

import re

from django.core.management import call_command
from playwright.sync_api import expect

from callflows.models import PhoneNumber
from jobs.models import Job
from jobs.optimizer import optimize
from tests.conftest import history_reasons
from tests.e2e.conftest import check_console, login
from tests.e2e.test_editor import MESSY, make_job


def test_undo_after_optimize_keeps_a_typed_name(logged_in_page, live_server, owner_membership):
    page = logged_in_page
    job = make_job(owner_membership)
    page.goto(f"{live_server.url}/jobs/{job.pk}/edit/")
    name = page.get_by_label("Name", exact=True)
    instructions = page.get_by_label("Instructions", exact=True)
    tools = page.get_by_role("group", name="Rewrite the instructions")

    # The person drags the instructions' resize handle: the browser gives the field a style
    # attribute (CSSOM, which the CSP allows). htmx must not copy it onto the swapped-in field
    # with setAttribute (a CSP violation in the console: base.html's htmx-config).
    instructions.evaluate("field => { field.style.height = '20rem'; }")
    # A name typed before Optimize: Optimize saves it with the instructions it rewrites.
    name.fill("Reception")
    tools.get_by_role("button", name="Optimize", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Optimized and saved.")).to_be_visible()
    expect(instructions).to_have_value(optimize(MESSY).text)
    expect(name).to_have_value("Reception")

    # A name typed after Optimize: Undo brings the instructions back and keeps the name.
    name.fill("Reception desk")
    tools.get_by_role("button", name="Undo", exact=True).click()
    undone = page.get_by_role("status").filter(has_text="Undone:")
    expect(undone).to_contain_text("Your changes to Name are kept but not saved yet")
    expect(instructions).to_have_value(MESSY)
    expect(name).to_have_value("Reception desk")
    job.refresh_from_db()
    assert (job.name, job.instructions) == ("Reception", MESSY)
    assert history_reasons(job) == ["created", "edited", "optimized", "undo optimize"]
    # Still unsaved: leaving the page asks first.
    assert page.evaluate("document.querySelector('#job-form').dataset.guardUnsaved") == "dirty"
    check_console(page)

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Reception desk", level=1)).to_be_visible()
    assert Job.objects.get(pk=job.pk).name == "Reception desk"


def test_attach_panel_keeps_the_typed_search_and_test_sona_logs_no_error(
    page, live_server, transactional_db
):
    call_command("demo")
    phone = PhoneNumber.objects.get(number="+15555550100")
    step = phone.call_flow.steps.get(kind="sona", name="Sona")
    login(page, live_server, "owner@demo.test", "demo")
    page.goto(f"{live_server.url}/numbers/{phone.pk}/steps/{step.pk}/jobs/")

    search = page.get_by_label("Search jobs")
    search.fill("emergency")
    results = page.get_by_role("region", name="Job library results")
    expect(results).to_contain_text("matching “emergency”")
    detach = page.get_by_role("button", name=re.compile("^Detach ")).first
    detach.click()
    expect(page.locator("#jobs-announce")).to_contain_text("Detached")
    expect(search).to_have_value("emergency")
    expect(results).to_contain_text("matching “emergency”")
    page.get_by_role("button", name=re.compile("^Attach ")).first.click()
    expect(page.locator("#jobs-announce")).to_contain_text("Attached")
    expect(search).to_have_value("emergency")
    check_console(page)

    page.get_by_role("button", name="Test Sona").click()
    page.get_by_label("Caller says").fill("I think I chipped my tooth and it is bleeding")
    page.get_by_role("button", name="Say").click()
    expect(page.locator("li.turn").first.locator(".bubble.sona")).not_to_be_empty()
    # The next sentence typed while Sona answers is still in the field after the answer.
    page.evaluate(
        """document.addEventListener("htmx:beforeRequest", () => setTimeout(() => {
          document.getElementById("caller-says").value = "Typed while Sona answered";
        }, 0), { once: true })"""
    )
    page.get_by_label("Caller says").fill("Can you see me today?")
    page.get_by_role("button", name="Say").click()
    expect(page.locator("li.turn")).to_have_count(2)
    expect(page.get_by_label("Caller says")).to_have_value("Typed while Sona answered")
    check_console(page)
