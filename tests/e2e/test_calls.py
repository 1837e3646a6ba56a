"""The Calls page in a real browser: open it from the nav link "Calls", filter by job with the
"Job" field and the "Filter" button, open a call and read its summary and actions.

Accessible names used here are a contract: link "Calls", field "Job", buttons "Filter" and
"Export CSV", each call's time link "Call from <caller> at <time>"."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from calls.models import Outcome, Source
from tests.factories import CallFactory, JobFactory, PhoneNumberFactory


def test_filter_calls_by_job_and_open_one(logged_in_page, live_server, owner_membership):
    page = logged_in_page
    workspace = owner_membership.workspace
    phone = PhoneNumberFactory(workspace=workspace, number="+15555550100")
    hours = JobFactory(workspace=workspace, name="Opening hours")
    booking = JobFactory(workspace=workspace, name="Book a table")
    now = timezone.now()
    for i in range(3):
        CallFactory(
            phone_number=phone,
            job=booking,
            job_name=booking.name,
            caller=f"+1555555020{i}",
            started_at=now - timedelta(minutes=i),
            summary=f"Booked a table for {i + 2}.",
        )
    CallFactory(
        phone_number=phone,
        job=hours,
        job_name=hours.name,
        caller="+15555550301",
        started_at=now - timedelta(hours=2),
        outcome=Outcome.SMS_SENT,
        summary="Asked when the restaurant opens; got the hours by SMS.",
        next_steps=["Nothing to do"],
        actions=[{"type": "send_sms", "status": "ok"}],
    )

    page.get_by_role("link", name="Calls", exact=True).click()
    expect(page.get_by_role("heading", name="Calls", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Export CSV")).to_be_visible()
    rows = page.locator("table.calls tbody tr")
    expect(rows).to_have_count(4)

    # Search as you type (htmx): the Job select offers only the jobs matching. (On a loaded
    # machine htmx may not be set up yet when the page shows: typing then would trigger nothing.)
    page.wait_for_function("() => window.htmx !== undefined")
    page.get_by_label("Find a job", exact=True).fill("hours")
    expect(page.get_by_label("Job", exact=True).locator("option")).to_have_text(
        ["Any", "Opening hours"]
    )
    page.get_by_label("Job", exact=True).select_option(label="Opening hours")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Opening hours")
    expect(rows.first).to_contain_text("SMS sent")
    expect(page.get_by_label("Job", exact=True)).to_have_value(str(hours.pk))

    page.get_by_role("link", name="Call from +15555550301 at").click()
    expect(page.get_by_role("heading", name="Call from +15555550301")).to_be_visible()
    expect(page.get_by_text("got the hours by SMS")).to_be_visible()
    expect(page.get_by_text("Nothing to do")).to_be_visible()
    expect(page.locator("ul.call-actions")).to_contain_text("Send SMS: ok")


def test_mock_calls_are_kept_apart_and_labelled(logged_in_page, live_server, owner_membership):
    """Real calls by default; the "Source" field shows mock calls (labelled "Mock") or all, and
    the choice stays in the address."""
    page = logged_in_page
    phone = PhoneNumberFactory(workspace=owner_membership.workspace, number="+15555550100")
    now = timezone.now()
    CallFactory(phone_number=phone, caller="+15555550201", started_at=now - timedelta(minutes=2))
    CallFactory(
        phone_number=phone,
        source=Source.MOCK,
        caller="anonymous",
        started_at=now - timedelta(minutes=1),
        summary="Nothing was sent to anyone: this was a mock call.",
    )

    page.goto(f"{live_server.url}/calls/")
    rows = page.locator("table.calls tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("+15555550201")
    expect(page.get_by_label("Source", exact=True)).to_have_value("live")
    expect(page.locator("table.calls .badge")).to_have_count(0)

    page.get_by_label("Source", exact=True).select_option(label="Mock calls")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".badge.mock")).to_have_text("Mock")
    assert "source=mock" in page.url

    page.get_by_label("Source", exact=True).select_option(label="All")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    expect(page.locator("table.calls .badge.mock")).to_have_count(1)

    page.get_by_role("link", name="Call from anonymous at").click()
    expect(page.get_by_role("heading", name="Call from anonymous")).to_contain_text("Mock")
    expect(page.get_by_text("no figure counts it")).to_be_visible()
