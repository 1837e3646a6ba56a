"""Public sign-up in the browser, keyboard only: from the login page's link to the emailed
verification link, landing logged in in the new workspace. The accessible names are a contract."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import check_a11y
from workspaces.models import Role, User

PASSWORD = "a long enough passphrase 42"


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def tab_to(page, element_id: str, most: int = 15) -> None:
    """Press Tab until the element has the focus (it must be reachable by keyboard)."""
    for _ in range(most):
        if focused_id(page) == element_id:
            return
        page.keyboard.press("Tab")
    assert focused_id(page) == element_id, f"#{element_id} never got the focus"


def test_sign_up_with_the_keyboard_verify_and_land_logged_in(
    page, live_server, transactional_db, mailoutbox
):
    page.goto(f"{live_server.url}/accounts/login/")
    link = page.get_by_role("link", name="Sign up")
    link.focus()  # the one focus given; Enter, Tab and typing do the rest
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    check_a11y(page)

    tab_to(page, "id_full_name")
    page.keyboard.type("Rosa Diaz")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Business name")).to_be_focused()
    page.keyboard.type("Diaz Plumbing")
    page.keyboard.press("Tab")
    country = page.get_by_label("Country")
    expect(country).to_be_focused()
    page.keyboard.type("United Kingdom")  # a select's type-ahead
    expect(country).to_have_value("GB")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type("rosa@example.test")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check_a11y(page)
    user = User.objects.get(email="rosa@example.test")
    assert user.email_verified_at is None

    # Not verified yet: the right password is refused, with the way to a new link.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").focus()
    page.keyboard.type("rosa@example.test")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Your email address is not verified yet")
    expect(page.get_by_role("button", name="Send the link again")).to_be_visible()

    [mail] = mailoutbox
    verify = re.search(r"http://\S+/accounts/verify/\S+/", mail.body).group(0)
    page.goto(verify)
    expect(page.get_by_role("heading", name="Getting started")).to_be_visible()  # the home page
    expect(page.get_by_role("status")).to_contain_text("Your email address is verified.")
    user.refresh_from_db()
    workspace = user.last_workspace
    assert user.email_verified_at is not None
    assert (workspace.name, workspace.country) == ("Diaz Plumbing", "GB")
    assert user.memberships.get().role == Role.OWNER
    expect(page.get_by_label("Workspace")).to_have_value(str(workspace.pk))
