"""The job library in a real browser: the accessible names used here are a contract."""

import re

from playwright.sync_api import expect

from jobs.builtin_templates import BUILTIN_TEMPLATES
from jobs.models import Job
from tests.e2e.conftest import expect_console_error, login
from tests.factories import JobFactory, MembershipFactory
from workspaces.models import Role

TAKE_A_MESSAGE = next(t for t in BUILTIN_TEMPLATES if t["key"] == "take-a-message")


def counter(n: int, limit: int) -> str:
    return f"{n:,} / {limit:,} characters"


def go_to_library(page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs", exact=True).click()
    expect(page.get_by_role("heading", name="Job library")).to_be_visible()


def test_create_from_template_edit_search_delete_and_restore(logged_in_page, owner_membership):
    page = logged_in_page

    page.get_by_role("link", name="New job", exact=True).click()
    expect(page.get_by_role("heading", name="New job", level=1)).to_be_visible()
    page.get_by_role("link", name="Use template Take a message", exact=True).click()

    # The form starts with the template's texts, each with a live counter under it.
    name = page.get_by_label("Name", exact=True)
    instructions = page.get_by_label("Instructions", exact=True)
    expect(name).to_have_value("Take a message")
    expect(name).to_have_accessible_description(counter(14, 100))
    n_instructions = len(TAKE_A_MESSAGE["instructions"])
    expect(instructions).to_have_accessible_description(
        re.compile(re.escape(counter(n_instructions, 10_000)) + "$")
    )
    assert n_instructions >= 1_000  # so the thousands separator is really checked

    # The counter follows the typing and counts characters, not UTF-16 units.
    name.clear()
    expect(name).to_have_accessible_description(counter(0, 100))
    name.press_sequentially("Front desk")
    expect(name).to_have_accessible_description(counter(10, 100))
    job_name = "Front desk \N{TELEPHONE RECEIVER} messages"
    name.press_sequentially(job_name.removeprefix("Front desk"))
    expect(name).to_have_accessible_description(counter(len(job_name), 100))

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name=job_name, level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Job “{job_name}” created.")
    expect(page.get_by_text("Take a message", exact=True)).to_be_visible()  # Made from template

    # Find it again through the search box.
    go_to_library(page)
    page.get_by_label("Search jobs").fill("front desk")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("1 job matching “front desk”")).to_be_visible()
    page.get_by_role("link", name=job_name, exact=True).click()
    expect(page.get_by_role("heading", name=job_name, level=1)).to_be_visible()

    # Delete, with confirmation.
    page.get_by_role("link", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", name=f"Delete “{job_name}”?")).to_be_visible()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", name="Job library")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("moved to Recently deleted")
    expect(page.get_by_text("No jobs yet.")).to_be_visible()
    expect(page.get_by_role("link", name=job_name)).to_have_count(0)

    # Restore it from Recently deleted.
    page.get_by_role("link", name="Recently deleted", exact=True).click()
    expect(page.get_by_role("heading", name="Recently deleted")).to_be_visible()
    page.get_by_role("button", name=f"Restore {job_name}", exact=True).click()
    expect(page.get_by_role("heading", name=job_name, level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Job “{job_name}” restored.")

    go_to_library(page)
    expect(page.get_by_role("link", name=job_name, exact=True)).to_be_visible()

    job = Job.objects.get(workspace=owner_membership.workspace)
    assert (job.name, job.template_name, job.deleted_at) == (job_name, "Take a message", None)


def test_member_sees_no_editing_controls(page, live_server, transactional_db):
    membership = MembershipFactory(role=Role.MEMBER)
    job = JobFactory(workspace=membership.workspace)
    login(page, live_server, membership.user.email)

    expect(page.get_by_role("link", name=job.name, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="New job")).to_have_count(0)

    page.get_by_role("link", name=job.name, exact=True).click()
    expect(page.get_by_role("heading", name=job.name, level=1)).to_be_visible()
    for role in ("link", "button"):
        for control in ("Edit", "Delete", "Save as template"):
            expect(page.get_by_role(role, name=control)).to_have_count(0)

    # Typing the address does not help either.
    expect_console_error(page, "status of 403 \\(Forbidden\\)")
    response = page.goto(f"{live_server.url}/jobs/new/")
    assert response.status == 403


def test_over_limit_name_is_not_saved_silently(logged_in_page):
    page = logged_in_page
    page.get_by_role("link", name="New job", exact=True).click()
    page.get_by_role("link", name="Start from scratch", exact=True).click()
    expect(page.get_by_role("heading", name="New job", level=1)).to_be_visible()

    name = page.get_by_label("Name", exact=True)
    too_long = "N" * 101
    # Typed key by key: the browser would stop at 100 if the script had not removed maxlength.
    name.press_sequentially(too_long)
    expect(name).to_have_value(too_long)
    expect(name).to_have_accessible_description(counter(101, 100))
    page.get_by_label("Instructions", exact=True).fill("1. Greet the caller.")

    page.get_by_role("button", name="Save", exact=True).click()

    # The form comes back with the text kept and the error tied to the field.
    expect(page).to_have_url(re.compile(r"/jobs/new/edit/$"))
    expect(page.get_by_role("heading", name="New job", level=1)).to_be_visible()
    expect(name).to_have_value(too_long)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description(re.compile("at most 100 characters"))
    expect(name).to_have_accessible_description(re.compile(re.escape(counter(101, 100))))
    expect(page.get_by_role("alert")).to_contain_text("at most 100 characters")
    assert not Job.objects.exists()


def test_instructions_the_counter_accepts_are_saved(logged_in_page):
    page = logged_in_page
    page.get_by_role("link", name="New job", exact=True).click()
    page.get_by_role("link", name="Start from scratch", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Many short steps")
    instructions = page.get_by_label("Instructions", exact=True)
    text = "\n".join(["x" * 99] * 100)
    instructions.fill(text)
    expect(instructions).to_have_accessible_description(
        re.compile(re.escape(counter(len(text), 10_000)) + "$")
    )
    assert len(text) <= 10_000

    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()

    # Today: "Ensure this value has at most 10000 characters (it has 10098)."
    assert page.get_by_role("alert").all_inner_texts() == []
    expect(page.get_by_role("heading", name="Many short steps", level=1)).to_be_visible()
    assert Job.objects.get().instructions == text
