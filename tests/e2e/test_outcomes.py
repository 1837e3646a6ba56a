"""The before/after comparison in a real browser: a job with calls is edited through its
editor, and its page then leads with the comparison of the new version against the one before
("too few calls yet" at first, the sentence with its verdict once calls came in), linked to the
diff of the change; a number page likewise after a publish, with Roll back.

Accessible names used here are a contract: the region "Version N against version N-1", the
link "What changed in version N" and the button "Roll back to version N-1"."""

from playwright.sync_api import expect

from callflows import services as cf
from jobs import services as js
from tests.calls.test_calls_api import TEXTS
from tests.conftest import sona_of
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


def test_a_number_page_leads_with_the_publish_and_rolls_back(
    logged_in_page, live_server, owner_membership
):
    """Version 2 resolved fewer calls than version 1: the number page says so first, and its
    Roll back button goes through the existing confirmation."""
    page = logged_in_page
    workspace, owner = owner_membership.workspace, owner_membership.user
    phone = cf.phone_number_create(
        workspace=workspace, number="+15555550100", display_name="Support line", user=owner
    )
    sona = sona_of(phone)
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    add_calls(phone, {"resolved": 80, "failed": 20}, version=1, step_key=sona.key)
    cf.step_update(step=sona, name="Front desk", settings=sona.settings, user=owner)
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    add_calls(phone, {"resolved": 40, "failed": 60}, version=2, step_key=sona.key)

    page.goto(live_server.url + phone.get_absolute_url())
    comparison = page.get_by_role("region", name="Version 2 against version 1")
    expect(comparison).to_contain_text(
        "Resolved 80% → 40% (−40 points, 95% interval −51 to −27) over 100 and 100 calls since "
        "version 2 — worse"
    )
    steps = page.get_by_role("table", name="Outcomes per Sona step, last 30 days")
    expect(steps.get_by_role("row", name="Front desk")).to_contain_text("200")
    comparison.get_by_role("button", name="Roll back to version 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Publish version 1 of Support line again?"
    )
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_text("Version 1 is live again, published as version 3.")).to_be_visible()
