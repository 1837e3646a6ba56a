"""The Activity page in a real browser: an owner publishes a call flow and sees the publish,
with their name, on the page linked as "Activity" in the header."""

import re

from playwright.sync_api import expect

from tests.e2e.test_callflows import make_number, open_editor, publish


def test_activity_shows_the_publish_with_the_publishers_name(
    logged_in_page, live_server, owner_membership
):
    page = logged_in_page
    owner = owner_membership.user
    owner.full_name = "Olga Owner"
    owner.save()
    phone = make_number(owner_membership)

    open_editor(page, live_server, phone)
    publish(page, "Go live.", {})

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    newest = page.get_by_role("row").nth(1)  # after the header row
    expect(newest).to_contain_text("Olga Owner")
    expect(newest).to_contain_text("published")
    expect(newest).to_contain_text("version – → 1: “Go live.”")
    newest.get_by_role("link", name="Version 1 of Support line").click()
    expect(page).to_have_url(re.compile(rf"/numbers/{phone.pk}/versions/$"))
