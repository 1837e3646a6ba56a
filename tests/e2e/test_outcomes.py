"""The before/after comparison in a real browser: a job with calls is edited through its
editor, and its page then leads with the comparison of the new version against the one before
("too few calls yet" at first, the sentence with its verdict once calls came in), linked to the
diff of the change.

Accessible names used here are a contract: the region "Version N against version N-1" and the
link "What changed in version N"."""

from playwright.sync_api import expect

from jobs import services as js
from tests.calls.test_calls_api import TEXTS
from tests.factories import PhoneNumberFactory
from tests.outcomes.test_selectors import add_calls, history_ids


def test_a_job_page_after_an_edit_leads_with_before_and_after(
    logged_in_page, live_server, owner_membership
):
    page = logged_in_page
    workspace, owner = owner_membership.workspace, owner_membership.user
    phone = PhoneNumberFactory(workspace=workspace, number="+15555550100")
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    add_calls(phone, {"resolved": 153, "failed": 59}, job=job, history_id=history_ids(job)[0])

    page.goto(live_server.url + job.get_absolute_url())
    expect(page.get_by_role("region", name="Version 2 against version 1")).to_have_count(0)
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Description", exact=True).fill("Now with the new opening hours.")
    page.get_by_role("button", name="Save", exact=True).click()
    comparison = page.get_by_role("region", name="Version 2 against version 1")
    expect(comparison).to_contain_text(
        "Resolved since version 2: too few calls yet (212 and 0 calls; 30 needed on each side)"
    )

    add_calls(
        phone, {"resolved": 35, "message_taken": 29}, job=job, history_id=history_ids(job)[-1]
    )
    page.reload()
    expect(comparison).to_contain_text(
        "Resolved 72% → 55% (−17 points, 95% interval −31 to −4) over 212 and 64 calls since "
        "version 2 — worse"
    )
    table = page.get_by_role("table", name="Outcomes per job version")
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table).to_contain_text("72% (66–78%)")
    comparison.get_by_role("link", name="What changed in version 2").click()
    expect(page.get_by_text("Now with the new opening hours.")).to_be_visible()
