"""Test Sona in a real browser, on the demo's Sona step: say something, see the job, the
runner-up and an action "not sent" in the panel beside the conversation, save the turn as a test case, break it by detaching the job,
see Publish blocked, publish anyway with a reason.

Accessible names used here are a contract: buttons "Test Sona", "Say", "End call", "Save as test
case", "Run tests", "Publish anyway" (a checkbox), field "Caller says"; a status region announces
each turn.
"""

import re

from django.core.management import call_command
from playwright.sync_api import expect

from callflows.models import CallFlowVersion, PhoneNumber
from calls.models import Call, Scenario

from .conftest import login

SAID = "I think I chipped my tooth and it is bleeding"


def test_mock_call_test_case_and_publish_anyway(page, live_server, transactional_db):
    call_command("demo")
    phone = PhoneNumber.objects.get(number="+15555550100")
    login(page, live_server, "owner@demo.test", "demo")

    page.goto(f"{live_server.url}/numbers/{phone.pk}/")
    page.get_by_role("button", name="Test Sona on step Sona", exact=True).click()
    expect(page.get_by_role("heading", name="Test Sona on “Sona”", level=1)).to_be_visible()

    page.get_by_label("Caller says").fill(SAID)
    page.get_by_role("button", name="Say").click()
    turn = page.locator("li.turn").first
    expect(turn.locator(".bubble.sona")).to_contain_text(
        "Are you having trouble breathing or swallowing?"
    )
    panel = page.get_by_role("complementary", name="Turn 1: what Sona decided")
    expect(panel.locator(".picked")).to_contain_text("Sona picked Dental emergency")
    expect(panel.locator(".runner-up")).to_contain_text("Runner-up:")
    expect(panel.locator("ul.actions")).to_contain_text("would transfer to +1 555-555-0199")
    expect(panel.locator("ul.actions")).to_contain_text("not sent")
    expect(page.locator("#mock-announce")).to_contain_text("Turn 1: Sona picked “Dental emergency”")
    expect(page.get_by_label("Caller says")).to_be_focused()  # ready for the next turn

    turn.get_by_role("button", name="Save as test case").click()
    expect(turn.get_by_role("status")).to_contain_text("Saved as test case")
    assert Scenario.objects.filter(turns=[SAID], expect={"job": "Dental emergency"}).exists()

    page.get_by_role("button", name="End call").click()
    expect(page.get_by_role("heading", name="Mock call saved")).to_be_visible()
    assert Call.objects.filter(source="mock").latest("pk").job_name == "Dental emergency"

    # Break the test case: detach the job it expects, in the draft.
    page.goto(
        f"{live_server.url}/numbers/{phone.pk}/steps/{phone.call_flow.steps.get(kind='sona', name='Sona').pk}/jobs/"
    )
    page.get_by_role("button", name="Detach Dental emergency").click()
    expect(page.locator("#jobs-announce")).to_contain_text("Detached")

    page.get_by_role("link", name="Tests").click()
    page.get_by_role("button", name="Run tests").click()
    expect(page.get_by_role("status").filter(has_text="scenarios run")).to_contain_text(
        "fail on the draft"
    )

    page.goto(f"{live_server.url}/numbers/{phone.pk}/publish/")
    expect(page.get_by_role("alert").filter(has_text="fail on this draft")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Cannot publish: scenarios fail")).to_be_visible()
    assert CallFlowVersion.objects.count() == 1

    page.get_by_label("Publish anyway").check()
    page.get_by_label("Reason for publishing anyway").fill("Emergencies now go to voicemail")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", name=re.compile("Published versions"))).to_be_visible()
    expect(page.get_by_text("Emergencies now go to voicemail")).to_be_visible()
    assert (
        CallFlowVersion.objects.get(number=2).override_reason == "Emergencies now go to voicemail"
    )
