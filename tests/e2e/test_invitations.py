"""Invitations in a real browser: the accessible names used here are a contract."""

import re

from playwright.sync_api import expect

from tests.factories import MembershipFactory
from workspaces.models import Membership, Role

PASSWORD = "a long enough passphrase 42"


def emailed_link(folder) -> str:
    """The invitation link in the one email the file backend wrote."""
    [message] = list(folder.iterdir())
    return re.search(r"http://\S+/invitations/[^/\s]+/", message.read_text()).group(0)


def test_owner_invites_a_new_email_who_signs_up_and_lands_in_the_workspace(
    logged_in_page, owner_membership, browser, live_server, settings, tmp_path
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    workspace = owner_membership.workspace
    page = logged_in_page

    page.get_by_role("link", name="Members", exact=True).click()
    page.get_by_label("Email", exact=True).fill("newcomer@example.test")
    page.get_by_label("Role", exact=True).select_option("admin")
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to newcomer@example.test.")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invitations").click()
    expect(page.get_by_role("heading", name="Pending invitations")).to_be_visible()
    for name in ("Resend", "Revoke invitation"):
        button = page.get_by_role("button", name=name, exact=True)
        expect(button).to_have_accessible_description("newcomer@example.test")

    # The invitee, in another browser, opens the link from the email.
    invitee = browser.new_context().new_page()
    invitee.goto(emailed_link(tmp_path))
    expect(invitee.get_by_role("heading", name=f"Join {workspace.name}")).to_be_visible()
    invitee.get_by_label("Your name").fill("Nina Newcomer")
    invitee.get_by_label("Password", exact=True).fill(PASSWORD)
    invitee.get_by_label("Password again").fill(PASSWORD)
    invitee.get_by_role("button", name="Create account and join").click()
    expect(invitee.get_by_role("heading", name=workspace.name, level=1)).to_be_visible()  # home
    expect(invitee.get_by_role("status")).to_contain_text(f"Welcome to {workspace.name}.")
    expect(invitee.get_by_label("Workspace")).to_have_value(str(workspace.pk))
    membership = Membership.objects.get(user__email="newcomer@example.test")
    assert (membership.workspace, membership.role) == (workspace, Role.ADMIN)

    # The link is used up.
    invitee.goto(emailed_link(tmp_path))
    expect(invitee.get_by_role("alert")).to_have_text("This invitation has already been accepted.")
    invitee.context.close()


def test_remove_asks_for_a_confirmation(logged_in_page, owner_membership):
    ana = MembershipFactory(
        workspace=owner_membership.workspace,
        role=Role.MEMBER,
        user__full_name="Ana",
        user__email="ana@example.test",
    )
    page = logged_in_page
    page.get_by_role("link", name="Members", exact=True).click()
    expect(page.get_by_role("cell", name=re.compile(r"\(you\)$"))).to_be_visible()
    page.get_by_role("button", name="Remove ana@example.test").click()
    expect(
        page.get_by_role(
            "heading", name=f"Remove Ana (ana@example.test) from {ana.workspace.name}?"
        )
    ).to_be_visible()
    assert Membership.objects.filter(pk=ana.pk).exists()
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("ana@example.test removed")
    assert not Membership.objects.filter(pk=ana.pk).exists()
