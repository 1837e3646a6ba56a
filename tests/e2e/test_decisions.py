"""The router's three decisions in a real browser: a mock call where Sona asks which of two
jobs the caller means and the next turn settles it, no job with the message offer, and the
Tests page's mislabel warning and Routing health. The question comes from the test router
backend (tests/calls/fake_router.py): real scores rarely tie on cue."""

from playwright.sync_api import expect

from callflows import services as cf
from calls import services
from jobs import services as js
from tests.calls.conftest import CLINIC, CLINIC_SAYS
from tests.calls.fake_router import QUESTION

from .conftest import login


def _clinic(owner_membership):
    workspace, owner = owner_membership.workspace, owner_membership.user
    phone = cf.phone_number_create(
        workspace=workspace, number="+15555550123", display_name="Main line", user=owner
    )
    sona = cf.step_add(call_flow=phone.call_flow, kind="sona", name="Sona", user=owner)
    jobs = {}
    for key, data in CLINIC.items():
        jobs[key] = js.job_create(workspace=workspace, user=owner, data=data)
        cf.step_attach_job(step=sona, job=jobs[key], user=owner)
    return phone, sona, jobs


def test_a_question_is_settled_by_the_next_turn(page, live_server, owner_membership, settings):
    phone, sona, jobs = _clinic(owner_membership)
    settings.ROUTER_BACKEND = "tests.calls.fake_router.FakeRouter"
    login(page, live_server, owner_membership.user.email)
    page.goto(f"{live_server.url}/numbers/{phone.pk}/steps/{sona.pk}/test/")

    page.get_by_label("Caller says").fill("I want an appointment")
    page.get_by_role("button", name="Say").click()
    first = page.locator("li.turn").first
    panel = page.locator("#turn-panel")
    expect(panel.locator(".picked")).to_contain_text(
        "Sona asks which job the caller means: “Book an appointment” or “Reschedule or cancel”"
    )
    expect(panel.locator(".question")).to_contain_text(QUESTION)
    expect(first.locator(".bubble.sona")).to_contain_text(QUESTION)
    expect(page.locator("#mock-announce")).to_contain_text(f"Turn 1: Sona asks “{QUESTION}”")
    expect(first.get_by_label("Sona should pick")).to_be_visible()

    page.get_by_label("Caller says").fill("the second one, I need to change it")
    page.get_by_role("button", name="Say").click()
    expect(page.locator("li.turn")).to_have_count(2)
    expect(panel.locator(".settles")).to_contain_text("Answers Sona's question")
    expect(panel.locator(".picked")).to_contain_text("Sona picked Reschedule or cancel Likely")

    page.get_by_label("Caller says").fill("is this the pizza place")
    page.get_by_role("button", name="Say").click()
    third = page.locator("li.turn").nth(2)
    expect(panel.locator(".picked")).to_contain_text(
        "No job fits: Sona says what the business can help with and offers to take a message"
    )
    expect(third.locator(".bubble.sona")).to_contain_text(
        "I can help with: Book an appointment, Reschedule or cancel, Take a message. "
        "Would you like to leave a message?"
    )


def test_the_tests_page_flags_a_mislabeled_example_and_shows_routing_health(
    page, live_server, owner_membership
):
    phone, sona, jobs = _clinic(owner_membership)
    owner = owner_membership.user
    mislabeled = "I want to cancel my appointment tomorrow"
    services.scenario_create(
        call_flow=phone.call_flow, user=owner, step_key=sona.key, name=mislabeled,
        turns=[mislabeled], expect={"job": jobs["message"].name},
    )  # fmt: skip
    services.scenario_create(
        call_flow=phone.call_flow, user=owner, step_key=sona.key, name=CLINIC_SAYS["none"],
        turns=[CLINIC_SAYS["none"]], expect={"job": None},
    )  # fmt: skip
    login(page, live_server, owner.email)
    page.goto(f"{live_server.url}/numbers/{phone.pk}/steps/{sona.pk}/tests/")
    row = page.get_by_role("row").filter(has_text=mislabeled)
    expect(row).to_contain_text(
        "This example pulls callers toward “Reschedule or cancel”; check its label."
    )
    health = page.get_by_role("region", name="Routing health")
    expect(health).to_contain_text("Each test case is routed without itself")
    table = health.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(4)  # the header and a row per attached job
    expect(table.get_by_role("row", name="Take a message")).to_contain_text("0 of 1")

    page.get_by_role("button", name="Run tests").click()
    expect(page.get_by_role("row").filter(has_text=CLINIC_SAYS["none"])).to_contain_text(
        "Pass No job by the end"
    )
