"""Webhooks in a real browser: an owner adds an endpoint from the menu, copies the secret shown
once, and opens its page (axe checks each page as it loads)."""

from playwright.sync_api import expect

from tests.e2e.conftest import check_a11y
from webhooks.models import WebhookEndpoint


def test_an_owner_adds_a_webhook_and_sees_the_secret_once(logged_in_page, live_server):
    page = logged_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    page.get_by_label("Endpoint URL").fill("https://hooks.example.com/playbook")
    page.get_by_label("call.reported", exact=False).check()
    page.get_by_label("Description").fill("Our CRM")
    page.get_by_role("button", name="Add endpoint").click()
    secret = WebhookEndpoint.objects.get().secret
    expect(page.get_by_role("textbox", name="Signing secret")).to_have_value(secret)
    check_a11y(page)
    page.get_by_role("link", name="https://hooks.example.com/playbook").click()
    expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)
    check_a11y(page)
