"""Sign-in in the browser: the lockout message and the way to a password reset."""

from playwright.sync_api import expect

from tests.e2e.conftest import expect_console_error
from tests.factories import PASSWORD

LOCKED = (
    "Too many failed attempts for this account from your network. "
    "Try again in 15 minutes, or reset your password."
)


def test_a_locked_out_login_shows_the_lockout_message(page, live_server, owner_membership):
    email = owner_membership.user.email
    expect_console_error(page, "status of 429 \\(Too Many Requests\\)")  # the lockout's status
    page.goto(f"{live_server.url}/accounts/login/")
    for _ in range(5):
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Log in").wait_for()
    expect(page.get_by_role("alert").filter(has_text="Too many")).to_have_text(LOCKED)

    # Even the right password is refused now; the page offers the reset instead.
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert").filter(has_text="Too many")).to_have_text(LOCKED)
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
