"""Invitation pages: invite, the pending list, the emailed link's landing page, sign-up; member
names and "(you)"; the last used workspace; removing a member after a confirmation."""

import re
from io import StringIO
from urllib.parse import quote

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from tests.conftest import command_help, messages_of
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory
from tests.workspaces.test_invitations import GOOD_PASSWORD, invite, state, token_of
from workspaces.models import Invitation, Membership, Role

pytestmark = pytest.mark.django_db


CSRF = re.compile(r'(?<=csrfmiddlewaretoken" value=")[^"]+|(?<="X-CSRFToken": ")[^"]+')


def link(token):
    return reverse("invitation", kwargs={"token": token})


# The owner's side ------------------------------------------------------------------------------


def test_invite_answers_the_same_for_known_and_unknown_emails(owner_client, workspace):
    UserFactory(email="known@example.test")
    answers = []
    for email in ("known@example.test", "unknown@example.test"):
        response = owner_client.post(
            reverse("workspaces:invite"), {"email": email, "role": "member"}, follow=True
        )
        page = CSRF.sub("", response.text)  # a fresh CSRF mask on every page
        answers.append((response.status_code, page.replace(email, "E")))
    assert answers[0] == answers[1]
    assert "Invitation sent to E." in answers[0][1]
    assert workspace.memberships.count() == 1  # nobody joined
    # The link is built from the request's own address.
    assert f"http://testserver/invitations/{token_of(mail.outbox[0])}/" in mail.outbox[0].body


def test_invite_refusal_is_shown_and_changes_nothing(owner_client, owner, workspace):
    before = state()
    response = owner_client.post(
        reverse("workspaces:invite"), {"email": owner.email, "role": "member"}, follow=True
    )
    assert f"{owner.email} is already a member of {workspace.name}." in response.text
    assert state() == before


def test_invitations_page_lists_pending_with_resend_and_revoke(owner_client, owner, workspace):
    pending, _ = invite(workspace, owner, "ana@example.test")
    ended, _ = invite(workspace, owner, "gone@example.test")
    ended.revoked_at = timezone.now()
    ended.save()
    page = owner_client.get(reverse("workspaces:invitations")).text
    assert "ana@example.test" in page and "gone@example.test" not in page
    row = f'aria-describedby="invitation-{pending.pk}"'
    assert f'<button type="submit" {row}>Resend</button>' in page
    assert f'<button type="submit" {row}>Revoke invitation</button>' in page
    assert 'href="/workspace/invitations/"' in owner_client.get(reverse("workspaces:members")).text

    response = owner_client.post(reverse("workspaces:invitation_resend", args=[pending.pk]))
    assert messages_of(response) == [
        "A new invitation was sent to ana@example.test; the old link no longer works."
    ]
    response = owner_client.post(reverse("workspaces:invitation_revoke", args=[pending.pk]))
    assert messages_of(response)[-1:] == ["The invitation of ana@example.test was revoked."]
    pending.refresh_from_db()
    assert pending.revoked_at is not None
    response = owner_client.post(
        reverse("workspaces:invitation_revoke", args=[pending.pk]), follow=True
    )
    assert "no longer pending" in response.text


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_only_owners_see_and_manage_invitations(client, workspace, owner, role):
    invitation, _ = invite(workspace, owner)
    client.force_login(MembershipFactory(workspace=workspace, role=role).user)
    assert "Invitations" not in client.get(reverse("workspaces:members")).text
    before = state()
    assert client.get(reverse("workspaces:invitations")).status_code == 403
    for name in ("workspaces:invitation_resend", "workspaces:invitation_revoke"):
        assert client.post(reverse(name, args=[invitation.pk])).status_code == 403
    post = {"email": "x@example.test", "role": "owner"}
    assert client.post(reverse("workspaces:invite"), post).status_code == 403
    assert state() == before


# The emailed link --------------------------------------------------------------------------


def test_a_new_person_signs_up_and_lands_in_the_workspace(client, workspace, owner):
    _, token = invite(workspace, owner)
    page = client.get(link(token)).text
    assert "Create your account" in page and 'name="password2"' in page
    response = client.post(
        link(token),
        {"full_name": "Ana Lima", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert response.context["current_workspace"] == workspace
    assert response.context["user"].full_name == "Ana Lima"
    assert f"Welcome to {workspace.name}." in response.text


def test_sign_up_form_errors_are_shown_next_to_the_fields(client, workspace, owner):
    _, token = invite(workspace, owner)
    before = state()
    response = client.post(
        link(token), {"full_name": "Ana", "password1": "short", "password2": "short"}
    )
    assert "This password is too short." in response.text
    response = client.post(
        link(token), {"full_name": "Ana", "password1": GOOD_PASSWORD, "password2": "other"}
    )
    assert "The two passwords differ." in response.text
    assert state() == before


def test_a_person_with_an_account_logs_in_first_and_comes_back(client, workspace, owner):
    _, token = invite(workspace, owner)
    ana = UserFactory(email="ana@example.test")
    page = client.get(link(token)).text
    assert "log in first" in page and "Create your account" not in page
    assert f'href="/accounts/login/?next={quote(link(token), safe="")}"' in page
    response = client.post(
        f"/accounts/login/?next={link(token)}",
        {"username": ana.email, "password": PASSWORD, "next": link(token)},
    )
    assert response.url == link(token)
    page = client.get(link(token)).text
    assert 'value="accept">Accept invitation</button>' in page
    assert 'value="decline">Decline</button>' in page
    response = client.post(link(token), {"answer": "accept"}, follow=True)
    assert response.context["current_workspace"] == workspace
    assert ana.memberships.get().role == Role.ADMIN


def test_decline_on_the_page(client, workspace, owner):
    invitation, token = invite(workspace, owner)
    ana = UserFactory(email="ana@example.test")
    client.force_login(ana)
    response = client.post(link(token), {"answer": "decline"})
    assert messages_of(response) == [f"You declined the invitation to {workspace.name}."]
    invitation.refresh_from_db()
    assert invitation.declined_at is not None and not ana.memberships.exists()


def test_a_wrong_account_sees_why_and_no_buttons(client, workspace, owner):
    _, token = invite(workspace, owner)
    client.force_login(UserFactory(email="bob@example.test"))
    before = state()
    page = client.get(link(token)).text
    assert "but you are logged in as bob@example.test" in page
    assert "Accept invitation" not in page
    client.post(link(token), {"answer": "accept"})
    assert state() == before


@pytest.mark.parametrize(
    ("end", "status", "text"),
    [
        ("accepted_at", 410, "already been accepted"),
        ("revoked_at", 410, "was withdrawn"),
        ("expires_at", 410, "has expired"),
        ("forged", 404, "This invitation link is not valid"),
    ],
)
def test_an_ended_link_shows_a_clear_page(client, workspace, owner, end, status, text):
    invitation, token = invite(workspace, owner)
    if end == "forged":
        token = token[:-2] + ("yy" if token.endswith("xx") else "xx")  # never the real one
    else:
        Invitation.objects.filter(pk=invitation.pk).update(**{end: timezone.now()})
    before = state()
    for response in (client.get(link(token)), client.post(link(token), {"answer": "accept"})):
        assert response.status_code == status
        assert text in response.text and "Accept invitation" not in response.text
    assert state() == before


# Members page, confirmation, profile, last workspace -----------------------------------------


def test_members_show_names_emails_and_you(owner_client, owner, workspace):
    owner.full_name = "Olga Owner"
    owner.save()
    MembershipFactory(workspace=workspace, user__full_name="Ana Lima", user__email="ana@x.test")
    page = owner_client.get(reverse("workspaces:members")).text
    assert f'Olga Owner <span class="muted">{owner.email}</span> (you)</td>' in page
    assert 'Ana Lima <span class="muted">ana@x.test</span></td>' in page


def test_remove_asks_first_and_removes_only_on_confirm(owner_client, workspace):
    ana = MembershipFactory(
        workspace=workspace, role=Role.MEMBER, user__full_name="Ana", user__email="ana@x.test"
    )
    url = reverse("workspaces:remove", args=[ana.pk])
    members = owner_client.get(reverse("workspaces:members")).text
    assert f'<form method="get" action="{url}">' in members
    page = owner_client.get(url).text
    assert f"Remove Ana (ana@x.test) from {workspace.name}?" in page
    assert "They lose access at once." in page
    assert ">Confirm</button>" in page
    owner_client.post(url)  # a POST without the confirmation only asks again
    assert Membership.objects.filter(pk=ana.pk).exists()  # asking changed nothing
    owner_client.post(url, {"confirm": "yes"})
    assert not Membership.objects.filter(pk=ana.pk).exists()


def test_removing_the_last_owner_is_refused_on_the_confirmation_page(owner_client, owner):
    page = owner_client.get(reverse("workspaces:remove", args=[owner.memberships.get().pk])).text
    assert "The last owner cannot be removed" in page and ">Confirm</button>" not in page


def test_profile_page_changes_the_name(owner_client, owner):
    assert owner_client.get(reverse("profile")).status_code == 200
    response = owner_client.post(reverse("profile"), {"full_name": "Olga"}, follow=True)
    assert (
        "Your name was saved." in response.text
        and '<span class="account-name">Olga</span>' in response.text
    )
    response = owner_client.post(reverse("profile"), {"full_name": "x" * 151})
    assert "Ensure this value has at most 150 characters" in response.text
    owner.refresh_from_db()
    assert owner.full_name == "Olga"


def test_a_login_returns_to_the_workspace_last_used(client, owner, workspace):
    zeta = WorkspaceFactory(name="Zeta")  # sorts after the first workspace
    MembershipFactory(workspace=zeta, user=owner, role=Role.MEMBER)
    client.force_login(owner)
    assert client.get(reverse("jobs:list")).context["current_workspace"] == workspace
    client.post(reverse("workspaces:switch"), {"workspace": zeta.pk})
    client.logout()
    client.force_login(owner)
    assert client.get(reverse("jobs:list")).context["current_workspace"] == zeta
    # Removed from it: the next login never opens it.
    Membership.objects.filter(user=owner, workspace=zeta).delete()
    client.logout()
    client.force_login(owner)
    assert client.get(reverse("jobs:list")).context["current_workspace"] == workspace


# The command ---------------------------------------------------------------------------------


def test_invite_member_command(workspace, owner, settings, capsys):
    settings.PLAYBOOK_BASE_URL = "https://playbook.example"
    assert "--email EMAIL" in command_help("invite_member", capsys)
    out = StringIO()
    call_command(
        "invite_member",
        *("--workspace", workspace.slug, "--email", "Ana@Example.test"),
        *("--role", "admin", "--user", owner.email),
        stdout=out,
    )
    assert out.getvalue().startswith(
        f"Invitation sent to ana@example.test for {workspace.slug} (Admin); it expires on "
    )
    assert "https://playbook.example/invitations/" in mail.outbox[0].body
    assert not Membership.objects.filter(user__email="ana@example.test").exists()


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("bad", "member", "Enter a valid email address."),
        ("ana@example.test", "owner", "has a pending invitation already"),
    ],
)
def test_invite_member_command_refusals(workspace, owner, email, role, message):
    invite(workspace, owner, "ana@example.test")
    before = state()
    argv = ["--workspace", workspace.slug, "--email", email, "--role", role, "--user", owner.email]
    with pytest.raises(CommandError, match=message):
        call_command("invite_member", *argv)
    assert state() == before


# The admin -----------------------------------------------------------------------------------


def test_staff_see_invitations_and_may_revoke_them(staff_client, workspace, owner):
    invitation, token = invite(workspace, owner)
    changelist = reverse("admin:workspaces_invitation_changelist")
    assert "ana@example.test" in staff_client.get(changelist).text
    response = staff_client.post(
        changelist, {"action": "revoke", "_selected_action": [invitation.pk]}
    )
    assert messages_of(response) == ["Revoked 1 invitation(s)."]
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    event = invitation.workspace.audit_events.first()
    assert (event.action, event.via_support) == ("invitation.revoked", True)
    assert staff_client.get(reverse("admin:workspaces_invitation_add")).status_code == 403
