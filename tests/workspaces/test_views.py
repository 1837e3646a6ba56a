import pytest
from django.urls import reverse

from tests.factories import JobFactory, MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db


def test_login_with_email_any_case(client, owner, password):
    response = client.post(
        reverse("login"), {"username": owner.email.upper(), "password": password}, follow=True
    )
    assert response.context["user"] == owner
    assert response.redirect_chain[-1][0] == reverse("home")


def test_wrong_password_is_refused(client, owner):
    response = client.post(reverse("login"), {"username": owner.email, "password": "nope"})
    assert response.status_code == 200 and "correct email" in response.text.lower()


def test_logout_and_password_change(owner_client, owner, password):
    response = owner_client.post(
        reverse("password_change"),
        {
            "old_password": password,
            "new_password1": "a new long passphrase 42",
            "new_password2": "a new long passphrase 42",
        },
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("a new long passphrase 42")
    owner_client.post(reverse("logout"))
    assert owner_client.get(reverse("jobs:list")).status_code == 302


def test_switch_workspace_is_remembered(owner_client, owner, workspace):
    second = WorkspaceFactory(name="Zeta Co")
    MembershipFactory(user=owner, workspace=second, role=Role.MEMBER)
    JobFactory(workspace=second, name="Zeta job")
    assert owner_client.get(reverse("jobs:list")).context["current_workspace"] == workspace
    response = owner_client.post(
        reverse("workspaces:switch"), {"workspace": second.pk, "next": "/jobs/"}
    )
    assert response.url == "/jobs/"
    page = owner_client.get(reverse("jobs:list"))
    assert page.context["current_workspace"] == second
    assert [j.name for j in page.context["page"]] == ["Zeta job"]
    assert "Zeta Co (Member)" in page.text


def test_cannot_switch_to_foreign_workspace_or_offsite(owner_client, workspace):
    foreign = WorkspaceFactory()
    assert (
        owner_client.post(reverse("workspaces:switch"), {"workspace": foreign.pk}).status_code
        == 404
    )
    assert owner_client.post(reverse("workspaces:switch"), {"workspace": "x"}).status_code == 404
    response = owner_client.post(
        reverse("workspaces:switch"), {"workspace": workspace.pk, "next": "https://evil.test/"}
    )
    assert response.url == reverse("home")
    assert owner_client.get(reverse("jobs:list")).context["current_workspace"] == workspace


def test_user_without_workspace_gets_explanation(client):
    client.force_login(UserFactory())
    response = client.get(reverse("jobs:list"))
    assert response.status_code == 403 and "not a member of any workspace" in response.text


def test_owner_changes_role_and_removes_after_confirming(owner_client, workspace):
    membership = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    owner_client.post(reverse("workspaces:role", args=[membership.pk]), {"role": "admin"})
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    owner_client.post(reverse("workspaces:remove", args=[membership.pk]), {"confirm": "yes"})
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_invite_form_errors_are_shown(owner_client, workspace):
    response = owner_client.post(
        reverse("workspaces:invite"), {"email": "not-an-email", "role": "member"}, follow=True
    )
    assert "valid email" in response.text
    assert workspace.memberships.count() == 1
    assert not workspace.invitations.exists()


def test_last_owner_protected_in_pages(owner_client, owner):
    membership = owner.memberships.get()
    response = owner_client.post(
        reverse("workspaces:role", args=[membership.pk]), {"role": "member"}, follow=True
    )
    assert "The last owner cannot be demoted" in response.text
    response = owner_client.post(
        reverse("workspaces:remove", args=[membership.pk]), {"confirm": "yes"}, follow=True
    )
    assert "The last owner cannot be removed" in response.text
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_only_owners_manage_members(client, workspace, owner, role):
    user = MembershipFactory(workspace=workspace, role=role).user
    client.force_login(user)
    target = owner.memberships.get()
    assert client.get(reverse("workspaces:members")).status_code == 200
    UserFactory(email="x@example.test")
    assert (
        client.post(
            reverse("workspaces:invite"), {"email": "x@example.test", "role": "owner"}
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("workspaces:role", args=[target.pk]), {"role": "member"}).status_code
        == 403
    )
    assert client.post(reverse("workspaces:remove", args=[target.pk])).status_code == 403
    assert workspace.memberships.count() == 2
    target.refresh_from_db()
    assert target.role == Role.OWNER
