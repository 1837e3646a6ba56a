"""Guard rails in a real browser: the "leave without saving?" prompt, copy buttons and the
fields of the chosen step kind (static/js/guards.js)."""

from playwright.sync_api import expect

from callflows import services as callflow_services
from jobs import services
from jobs.models import Job


def _job(owner_membership):
    return services.job_create(
        workspace=owner_membership.workspace,
        user=owner_membership.user,
        data={"name": "Escalate", "instructions": "1. Apologise."},
    )


def test_leaving_the_job_editor_with_unsaved_edits_asks_first(
    logged_in_page, live_server, owner_membership
):
    job = _job(owner_membership)
    page = logged_in_page
    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # "Stay on page"

    page.on("dialog", answer)
    edit_url = f"{live_server.url}/jobs/{job.pk}/edit/"
    page.goto(edit_url)
    # Untouched: leaving asks nothing.
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="Escalate", level=1)).to_be_visible()
    assert dialogs == []

    page.goto(edit_url)
    instructions = page.get_by_label("Instructions", exact=True)
    instructions.click()
    instructions.press("End")
    instructions.press_sequentially(" 2. Hand over.")
    page.get_by_role("link", name="Cancel").click()
    expect(instructions).to_be_visible()  # stayed: the prompt was dismissed
    assert dialogs == ["beforeunload"]
    assert page.url == edit_url

    # Typing it back to what was loaded is not an unsaved change.
    for _ in " 2. Hand over.":
        instructions.press("Backspace")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="Escalate", level=1)).to_be_visible()
    assert dialogs == ["beforeunload"]

    # Saving is not leaving: no prompt.
    page.goto(edit_url)
    instructions = page.get_by_label("Instructions", exact=True)
    instructions.click()
    instructions.press("End")
    instructions.press_sequentially(" 2. Hand over.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Escalate", level=1)).to_be_visible()
    assert dialogs == ["beforeunload"]
    assert Job.objects.get(pk=job.pk).instructions == "1. Apologise. 2. Hand over."


def test_copy_the_new_token_and_the_live_api_url(logged_in_page, live_server, owner_membership):
    page = logged_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"{live_server.url}/workspace/tokens/")
    page.get_by_label("Token name").fill("Runtime")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("New token").input_value()
    # The Copy buttons work once the page's script has run: on a loaded machine the field can
    # be read before that (a click then copies nothing and says nothing).
    page.wait_for_load_state("load")
    assert len(token) > 20

    page.get_by_role("button", name="Copy token").click()
    status = page.locator("button[aria-label='Copy token'] + .copy-status")
    expect(status).to_have_text("Copied")
    expect(status).to_have_attribute("role", "status")
    assert page.evaluate("navigator.clipboard.readText()") == token

    page.get_by_role("button", name="Copy live API URL").click()
    assert page.evaluate("navigator.clipboard.readText()") == (
        f"{live_server.url}/api/v1/numbers/{{number}}/live"
    )


def test_add_a_step_shows_forward_to_only_for_forward_steps(
    logged_in_page, live_server, owner_membership
):
    phone = callflow_services.phone_number_create(
        workspace=owner_membership.workspace,
        number="+15555550100",
        display_name="Main line",
        user=owner_membership.user,
    )
    page = logged_in_page
    page.goto(f"{live_server.url}{phone.get_absolute_url()}")
    forward_to = page.get_by_label("Forward to")
    expect(forward_to).to_be_hidden()
    page.get_by_label("Step kind").select_option("forward")
    expect(forward_to).to_be_visible()
    page.get_by_label("Step name").fill("Office")
    forward_to.fill("+1 555 000 1111")
    page.get_by_role("button", name="Add step").click()
    expect(page.get_by_text("Step “Office” added at the end of the draft.")).to_be_visible()
    step = phone.call_flow.steps.get(name="Office")
    assert step.settings == {"number": "+15550001111"}

    # Switching to another kind hides the number and does not send it (the form would refuse
    # a number on a greeting step).
    page.get_by_label("Step kind").select_option("forward")
    page.get_by_label("Forward to").fill("+1 555 000 2222")
    page.get_by_label("Step kind").select_option("greeting")
    expect(page.get_by_label("Forward to")).to_be_hidden()
    page.get_by_label("Step name").fill("Hello")
    page.get_by_role("button", name="Add step").click()
    expect(page.get_by_text("Step “Hello” added at the end of the draft.")).to_be_visible()


def test_diagram_boxes_open_the_step_beside_the_diagram(
    logged_in_page, live_server, owner_membership
):
    """Enter on a box opens its settings in the panel beside the diagram (htmx, focus on the
    panel), a click on another box asks first when the panel has unsaved edits, and Save keeps
    the panel open with the diagram updated."""
    user = owner_membership.user
    phone = callflow_services.phone_number_create(
        workspace=owner_membership.workspace,
        number="+15555550100",
        display_name="Main line",
        user=user,
    )
    greeting = callflow_services.step_add(
        call_flow=phone.call_flow, kind="greeting", name="Welcome", user=user
    )
    page = logged_in_page
    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss() if len(dialogs) == 1 else dialog.accept()

    page.on("dialog", answer)
    editor_url = f"{live_server.url}{phone.get_absolute_url()}"
    page.goto(editor_url)
    box = page.locator("svg a.cf-box-link").first
    box.focus()
    expect(box).to_be_focused()
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", name="Edit step “Sona” Sona", level=2)
    expect(heading).to_be_focused()  # the panel's heading: the next Tab reaches its tabs
    expect(page).to_have_url(f"{editor_url}?step={phone.call_flow.steps.get(kind='sona').pk}")
    expect(page.locator("svg a.cf-box-link[aria-current=true]")).to_have_count(1)
    panel = page.locator("#step-panel")
    expect(panel.get_by_role("link", name="Settings")).to_have_attribute("aria-current", "page")
    page.keyboard.press("Tab")
    expect(panel.get_by_role("link", name="Settings")).to_be_focused()

    # Unsaved edit, then another box: asked first; "stay" keeps the edit, "leave" opens it.
    panel.get_by_label("Greeting").fill("Hi from the panel")
    welcome_box = page.locator("svg a.cf-box-link").nth(1)
    welcome_box.click()
    expect(panel.get_by_label("Greeting")).to_have_value("Hi from the panel")
    assert len(dialogs) == 1
    welcome_box.click()
    expect(page.get_by_role("heading", name="Edit step “Welcome”", level=2)).to_be_focused()
    assert len(dialogs) == 2 and "without saving" in dialogs[0]

    # Save from the panel: back on the editor with the step still open and the diagram renamed.
    panel = page.locator("#step-panel")
    panel.get_by_label("Step name").fill("Hello there")
    panel.get_by_label("Message").fill("Thanks for calling.")
    panel.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Step “Hello there” saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Edit step “Hello there”", level=2)).to_be_visible()
    expect(page.locator("svg .cf-box-selected .cf-box-name")).to_have_text("Hello there")
    greeting.refresh_from_db()
    assert greeting.name == "Hello there" and greeting.settings["message"] == "Thanks for calling."

    # A business-hours step's wide form fits its panel (axe checks this state too).
    callflow_services.step_add(
        call_flow=phone.call_flow, kind="business_hours", name="Hours", user=user
    )
    page.reload()
    page.locator("svg a.cf-box-link").nth(2).click()
    expect(page.get_by_role("heading", name="Edit step “Hours”", level=2)).to_be_focused()
    assert page.locator("#step-panel").evaluate("p => p.scrollWidth <= p.clientWidth")

    # The step's other pages are tabs of the panel.
    page.locator("svg a.cf-box-link").first.click()
    page.locator("#step-panel").get_by_role("link", name="Jobs", exact=True).click()
    expect(page.get_by_role("heading", name="Jobs of the Sona step “Sona”")).to_be_visible()
    page.get_by_role("navigation", name="Pages of the step “Sona”").get_by_role(
        "link", name="Settings"
    ).click()
    expect(page.get_by_role("heading", name="Edit step “Sona” Sona", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name="Draft call flow")).to_be_visible()
