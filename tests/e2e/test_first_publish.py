"""A new owner, keyboard only, from the sign-up form to a first publish: every control is reached
with Tab (or Shift+Tab) and used with Enter, Space or typing; the pointer is never used and no
field is filled by the test. The home page's getting-started checklist ticks one item after each
step, and once the call flow is published it gives way to how Sona is doing.

`tab_to` presses Tab until the wanted control (found by its accessible role and name) has the
focus: it depends on no page layout (the navigation may move), only on the control being
reachable by keyboard at all.
"""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from callflows.models import CallFlowVersion
from calls.models import Call, Scenario, Source
from tests.e2e.conftest import check_a11y, check_console
from workspaces.models import Role, User

PASSWORD = "a long enough passphrase 42"
EMAIL = "rosa@example.test"
MOST_PRESSES = 80
ITEMS = [
    "Create a job from a template",
    "Add a phone number",
    "Attach the job to Sona",
    "Run a mock call",
    "Save a scenario",
    "Publish the call flow",
]
SAID = "Can I leave a message for the manager? He is out today."

HAS_FOCUS = "(els) => els.includes(document.activeElement)"
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "<body>";
  const name = el.getAttribute("aria-label") || el.textContent || el.value || "";
  return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " “" + name.replace(/\\s+/g, " ").trim().slice(0, 60) + "”";
}"""


def has_focus(target: Locator) -> bool:
    return target.evaluate_all(HAS_FOCUS)


def tab_to(page: Page, target: Locator, *, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab with `backwards`) until `target` (or one of the elements it matches)
    is document.activeElement; fail after MOST_PRESSES presses."""
    expect(target.first).to_be_attached()
    # The page's scripts first: a key pressed before htmx is there would post a whole page.
    page.wait_for_function("() => window.htmx !== undefined")
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for _ in range(MOST_PRESSES):
        if has_focus(target):
            # A keyboard user sees where they are: the focused control is scrolled into view.
            expect(page.locator(":focus")).to_be_in_viewport()
            return
        page.keyboard.press(key)
        seen.append(page.evaluate(FOCUSED))
    assert has_focus(target), (
        f"{target} never got the focus in {MOST_PRESSES} presses of {key}; focused in turn: "
        + ", ".join(dict.fromkeys(seen))
    )


def activate(page: Page, target: Locator, *, backwards: bool = False) -> None:
    """Reach `target` by keyboard and press Enter on it."""
    tab_to(page, target, backwards=backwards)
    page.keyboard.press("Enter")


def type_into(page: Page, field: Locator, text: str) -> None:
    tab_to(page, field)
    page.keyboard.type(text)


def checklist(page: Page) -> Locator:
    return page.get_by_role("list", name=re.compile(r"^Getting started"))


def item(page: Page, label: str) -> Locator:
    return (
        checklist(page)
        .get_by_role("listitem")
        .filter(has=page.get_by_role("link", name=label, exact=True))
    )


def expect_ticked(page: Page, done: int) -> None:
    """The first `done` items say Done, the others To do, and the heading counts them."""
    expect(page.get_by_role("heading", name=f"Getting started: {done} of 6 done")).to_be_visible()
    for n, label in enumerate(ITEMS):
        expect(item(page, label)).to_contain_text("Done" if n < done else "To do")
        expect(item(page, label)).not_to_contain_text("To do" if n < done else "Done")


def go_home(page: Page, *, backwards: bool = False) -> None:
    """Back to the home page through the link every page has (the brand, or a Home link);
    `backwards` from a control deep in the page (Shift+Tab)."""
    home = page.get_by_role("link", name=re.compile(r"^\s*(Home|Playbook)\s*$"))
    activate(page, home, backwards=backwards)
    expect(page.get_by_role("heading", name="Diaz Plumbing", level=1)).to_be_visible()
    check_a11y(page)
    check_console(page)


def follow_item(page: Page, label: str) -> None:
    """From the home page, open a checklist item's link (the one in the list)."""
    activate(page, checklist(page).get_by_role("link", name=label, exact=True))


@pytest.mark.parametrize("width", [1280, 390])  # a laptop, and a phone (the menu folded)
def test_sign_up_to_a_first_publish_with_the_keyboard_only(
    page, live_server, transactional_db, mailoutbox, width
):
    page.set_viewport_size({"width": width, "height": 800 if width > 390 else 844})
    # Sign-up: from the login page's link.
    page.goto(f"{live_server.url}/accounts/login/")
    activate(page, page.get_by_role("link", name="Sign up"))
    expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    type_into(page, page.get_by_label("Your name"), "Rosa Diaz")
    type_into(page, page.get_by_label("Business name"), "Diaz Plumbing")
    country = page.get_by_label("Country")
    tab_to(page, country)
    page.keyboard.type("United States")  # a select's type-ahead
    expect(country).to_have_value("US")
    type_into(page, page.get_by_label("Email"), EMAIL)
    type_into(page, page.get_by_label("Password"), PASSWORD)
    activate(page, page.get_by_role("button", name="Create account"))
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check_a11y(page)

    # The emailed link (the mail client is not the app: the link is opened as a person would).
    [mail] = mailoutbox
    assert mail.to == [EMAIL]
    verify = re.search(r"http://\S+/accounts/verify/\S+/", mail.body).group(0)
    page.goto(verify)
    # Verified and logged in, on the new workspace's home: nothing ticked yet.
    expect(page.get_by_role("status")).to_contain_text("Your email address is verified.")
    expect(page.get_by_role("heading", name="Diaz Plumbing", level=1)).to_be_visible()
    user = User.objects.get(email=EMAIL)
    workspace = user.memberships.get(role=Role.OWNER).workspace
    expect_ticked(page, 0)
    check_a11y(page)

    # 1. A job from a template.
    follow_item(page, "Create a job from a template")
    expect(page.get_by_role("heading", name="New job", level=1)).to_be_visible()
    activate(page, page.get_by_role("link", name="Use template Take a message"))
    expect(page.get_by_text("Starting from the template “Take a message”")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Take a message")
    activate(page, page.get_by_role("button", name="Save", exact=True))
    expect(page.get_by_role("heading", name="Take a message", level=1)).to_be_visible()
    go_home(page)
    expect_ticked(page, 1)

    # 2. A phone number (read in the workspace's country).
    follow_item(page, "Add a phone number")
    expect(page.get_by_role("heading", name="Phone numbers", level=1)).to_be_visible()
    type_into(page, page.get_by_label("Phone number"), "(555) 555-0123")
    type_into(page, page.get_by_label("Name", exact=True), "Main line")
    activate(page, page.get_by_role("button", name="Add number"))
    expect(page.get_by_role("heading", name=re.compile("Main line"), level=1)).to_be_visible()
    phone = workspace.phone_numbers.get()
    assert phone.number == "+15555550123"
    go_home(page)
    expect_ticked(page, 2)

    # 3. The job attached to the number's Sona step: the focus stays on the job's row.
    follow_item(page, "Attach the job to Sona")
    expect(page.get_by_role("heading", name="Jobs of the Sona step “Sona”")).to_be_visible()
    activate(page, page.get_by_role("button", name="Attach Take a message", exact=True))
    expect(page.locator("#jobs-announce")).to_have_text("Attached “Take a message”.")
    expect(page.get_by_role("button", name="Detach Take a message", exact=True)).to_be_focused()
    go_home(page, backwards=True)
    expect_ticked(page, 3)

    # 4. A mock call: say one sentence, then end the call (it is saved as a mock call).
    follow_item(page, "Run a mock call")
    expect(page.get_by_role("heading", name="Test Sona on “Sona”", level=1)).to_be_visible()
    type_into(page, page.get_by_label("Caller says"), SAID)
    page.keyboard.press("Enter")
    expect(page.locator("#mock-announce")).to_contain_text("Turn 1: Sona picked “Take a message”")
    expect(page.get_by_label("Caller says")).to_be_focused()  # ready for the next turn
    activate(page, page.get_by_role("button", name="End call"))
    expect(page.get_by_role("heading", name="Mock call saved")).to_be_visible()
    assert Call.objects.filter(workspace=workspace, source=Source.MOCK).count() == 1
    go_home(page, backwards=True)
    expect_ticked(page, 4)

    # 5. A scenario, added on the step's Tests tab: the job is picked from a select by typing.
    follow_item(page, "Save a scenario")
    expect(page.get_by_role("heading", name="Tests of “Sona”", level=1)).to_be_visible()
    activate(page, page.get_by_role("link", name="Add scenario"))
    expect(page.get_by_role("heading", name="New scenario for “Sona”")).to_be_visible()
    type_into(page, page.get_by_label("Name", exact=True), "Message for the manager")
    type_into(page, page.get_by_label("What the caller says"), SAID)
    job = page.get_by_label("Job chosen")
    tab_to(page, job)
    page.keyboard.type("Take a message")
    expect(job).to_have_value(re.compile(r".+"))
    activate(page, page.get_by_role("button", name="Save scenario"))
    expect(page.get_by_role("heading", name="Tests of “Sona”", level=1)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Message for the manager"))).to_be_visible()
    assert Scenario.objects.filter(name="Message for the manager").count() == 1
    activate(page, page.get_by_role("button", name="Run tests"))
    expect(page.get_by_role("status").filter(has_text="scenario run")).to_contain_text(
        "1 scenario run: all pass on the draft"
    )
    go_home(page)
    expect_ticked(page, 5)

    # 6. Publish: the last item; then the checklist gives way to how Sona is doing.
    follow_item(page, "Publish the call flow")
    expect(page.get_by_role("heading", name="Publish the call flow of Main line")).to_be_visible()
    type_into(page, page.get_by_label("Note"), "First version: Sona takes messages")
    activate(page, page.get_by_role("button", name="Publish", exact=True))
    expect(page.get_by_role("heading", name=re.compile("Published versions"))).to_be_visible()
    assert CallFlowVersion.objects.filter(call_flow__phone_number=phone).count() == 1
    go_home(page)
    expect(page.get_by_text("Getting started")).to_have_count(0)
    expect(page.get_by_role("heading", name="Calls this week")).to_be_visible()
    expect(page.get_by_role("heading", name="Your last change")).to_be_visible()
    expect(page.get_by_role("heading", name="Scenarios failing on the draft")).to_be_visible()
    expect(page.get_by_text("No scenario failed at its last run.")).to_be_visible()
    # The page's main action is now the calls, not a next step.
    expect(page.get_by_role("link", name="See calls")).to_be_visible()
