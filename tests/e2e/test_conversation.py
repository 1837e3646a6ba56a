"""A mock call as a conversation, by keyboard alone: type what the caller says, press Enter,
and the transcript grows by one caller and one Sona bubble while the focus stays in the box;
the panel beside it explains the current turn only. At 1280×800 the page grows by less than
600 px a turn (it printed the whole job every turn before)."""

from django.core.management import call_command
from playwright.sync_api import expect

from callflows.models import PhoneNumber

from .conftest import check_a11y, login

TURNS = (
    ("What are your opening hours on Saturday?", "From “Opening hours and prices”:"),
    ("I need to move my cleaning to next week", "Could you tell me your name and date of birth?"),
    ("It's Sam Lee, born May 3 1990", "Which appointment would you like to change?"),
)
MAX_GROWTH_PX = 600


def test_a_three_turn_mock_call_by_keyboard(page, live_server, transactional_db):
    call_command("demo")
    phone = PhoneNumber.objects.get(number="+15555550100")
    sona = phone.call_flow.steps.get(kind="sona", name="Sona")
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server, "owner@demo.test", "demo")
    page.goto(f"{live_server.url}/numbers/{phone.pk}/steps/{sona.pk}/test/")

    says = page.get_by_label("Caller says")
    expect(says).to_be_focused()  # autofocus: typing starts at once
    transcript = page.get_by_role("list", name="Conversation")
    expect(transcript).to_have_attribute("aria-live", "polite")
    height = page.evaluate("document.documentElement.scrollHeight")
    for number, (said, sona_says) in enumerate(TURNS, start=1):
        page.keyboard.type(said)
        page.keyboard.press("Enter")
        expect(page.locator("#mock-announce")).to_contain_text(f"Turn {number}:")
        expect(page.locator("li.turn")).to_have_count(number)
        turn = page.locator("li.turn").nth(number - 1)
        expect(turn.locator(".bubble.caller")).to_contain_text(said)
        expect(turn.locator(".bubble.sona")).to_contain_text(sona_says)
        expect(says).to_be_focused()
        expect(says).to_have_value("")
        panel = page.get_by_role("complementary", name=f"Turn {number}: what Sona decided")
        expect(panel).to_be_visible()
        check_a11y(page)
        grown = page.evaluate("document.documentElement.scrollHeight") - height
        assert grown < MAX_GROWTH_PX, f"turn {number} made the page {grown} px longer"
        height += grown

    panel = page.locator("#turn-panel")
    expect(panel.locator(".picked")).to_contain_text("Sona picked Reschedule or cancel")
    expect(panel.locator("li.current")).to_contain_text(
        "Which appointment would you like to change?"
    )
    expect(panel.locator("ul.actions")).to_contain_text("would send SMS — not sent")
    expect(page.locator(".job-steps")).to_have_count(1)  # earlier turns show only their bubbles

    # The whole call ends by keyboard too: Tab from the box reaches Say, then End call.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="End call")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Mock call saved")).to_be_visible()


def test_the_panel_is_collapsed_on_a_phone(page, live_server, transactional_db):
    call_command("demo")
    phone = PhoneNumber.objects.get(number="+15555550100")
    sona = phone.call_flow.steps.get(kind="sona", name="Sona")
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "owner@demo.test", "demo")
    page.goto(f"{live_server.url}/numbers/{phone.pk}/steps/{sona.pk}/test/")
    says = page.get_by_label("Caller says")
    says.fill("I need to move my cleaning to next week")
    says.press("Enter")
    expect(page.locator("li.turn .bubble.sona")).to_contain_text("Could you tell me")
    panel = page.locator("#turn-panel details")
    expect(panel).not_to_have_attribute("open", "")
    expect(page.locator("#turn-panel .picked")).to_be_hidden()
    page.locator("#turn-panel summary").click()
    expect(page.locator("#turn-panel .picked")).to_be_visible()
    says.fill("It's Sam Lee")
    says.press("Enter")
    expect(page.locator("li.turn")).to_have_count(2)
    expect(page.locator("#turn-panel .picked")).to_be_visible()  # stays open once opened
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow
