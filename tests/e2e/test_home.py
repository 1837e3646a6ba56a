"""The home page in a real browser: axe finds no violation of any impact, and "N new calls"
appears without a reload when a call is reported while the page is open (the poll interval
shortened by the NEW_CALLS_POLL_SECONDS setting)."""

from playwright.sync_api import expect

from callflows import services as callflow_services
from calls.models import Source
from tests.e2e.conftest import wait_for_axe
from tests.factories import CallFactory

# Every impact, minor included, and axe's experimental rules, run here and now (the conftest's
# check does the same on every load and swap, and reports at the test's end).
AXE_ALL = """async () => {
  // the conftest's own check may still be running (after a swap): one axe run at a time
  for (let i = 0; i < 100 && window.axe._running; i++) await new Promise((r) => setTimeout(r, 50));
  const rules = {};
  window.axe.getRules(["experimental"]).forEach((r) => { rules[r.ruleId] = { enabled: true }; });
  const results = await window.axe.run(document, { resultTypes: ["violations"], preload: false, rules });
  return results.violations.map((v) => v.id + " (" + v.impact + "): " + v.nodes.map((n) => n.target.join(" ")).join(", "));
}"""


def test_home_is_accessible_and_shows_new_calls_without_a_reload(
    logged_in_page, live_server, owner_membership, settings
):
    settings.NEW_CALLS_POLL_SECONDS = 0.5
    page = logged_in_page
    owner, workspace = owner_membership.user, owner_membership.workspace
    phone = callflow_services.phone_number_create(
        workspace=workspace, number="+15555550123", display_name="Main line", user=owner
    )
    CallFactory(phone_number=phone, source=Source.MOCK)
    CallFactory(phone_number=phone)

    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Getting started: 2 of 6 done")).to_be_visible()
    expect(page.get_by_role("link", name="Create a job from a template").first).to_be_visible()
    wait_for_axe(page)  # the conftest's checks first: axe runs one at a time
    assert page.evaluate(AXE_ALL) == []

    # The checklist collapses (a native <details>: keyboard and screen readers included).
    page.get_by_text("Getting started: 2 of 6 done").click()
    expect(page.locator(".checklist-items")).to_be_hidden()

    expect(page.get_by_role("link", name="new call")).to_have_count(0)
    CallFactory(phone_number=phone)  # reported while the page is open
    CallFactory(phone_number=phone, source=Source.MOCK)  # not a real call: not counted
    notice = page.get_by_role("link", name="1 new call — show it")
    expect(notice).to_be_visible()
    wait_for_axe(page)  # the conftest's checks first: axe runs one at a time
    assert page.evaluate(AXE_ALL) == []
    notice.click()
    expect(page.get_by_role("heading", name="Calls", level=1)).to_be_visible()


def test_the_calls_list_shows_new_calls(logged_in_page, live_server, owner_membership, settings):
    settings.NEW_CALLS_POLL_SECONDS = 0.5
    page = logged_in_page
    owner, workspace = owner_membership.user, owner_membership.workspace
    phone = callflow_services.phone_number_create(
        workspace=workspace, number="+15555550123", display_name="Main line", user=owner
    )
    CallFactory(phone_number=phone)
    page.goto(f"{live_server.url}/calls/")
    expect(page.get_by_role("row")).to_have_count(2)
    CallFactory(phone_number=phone)
    CallFactory(phone_number=phone)
    page.get_by_role("link", name="2 new calls — show them").click()
    expect(page.get_by_role("row")).to_have_count(4)


def test_the_demos_home_is_accessible_with_every_card(page, live_server, transactional_db):
    """The demo's home: the checklist done, figures, the last change, an open alert."""
    from django.core.management import call_command

    from tests.e2e.conftest import login

    call_command("demo", "--password", "demo-password-1")
    login(page, live_server, "owner@demo.test", "demo-password-1")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Calls this week")).to_be_visible()
    expect(page.get_by_text("Getting started")).to_have_count(0)
    expect(page.get_by_role("heading", name="1 open alert")).to_be_visible()
    wait_for_axe(page)  # the conftest's checks first: axe runs one at a time
    assert page.evaluate(AXE_ALL) == []


def test_a_hidden_tab_does_not_poll(logged_in_page, live_server, settings):
    settings.NEW_CALLS_POLL_SECONDS = 0.2
    page = logged_in_page
    # The tab reports itself hidden (as a background tab does).
    page.add_init_script(
        'Object.defineProperty(document, "visibilityState", { get: () => "hidden" });'
    )
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/calls/new/" in r.url else None)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Calls this week")).to_be_visible()
    page.wait_for_timeout(1500)
    assert polls == []
