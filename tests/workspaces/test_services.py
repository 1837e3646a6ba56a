import pytest
from django.core.exceptions import ValidationError

from tests.factories import MembershipFactory, UserFactory
from workspaces import services
from workspaces.models import Membership, Role, Workspace

pytestmark = pytest.mark.django_db


def test_workspace_create_makes_owner_and_unique_slug(owner):
    first = services.workspace_create(name="Acme Plumbing", owner=owner)
    second = services.workspace_create(name="Acme Plumbing", owner=owner)
    assert (first.slug, second.slug) == ("acme-plumbing", "acme-plumbing-2")
    assert Membership.objects.get(workspace=first).role == Role.OWNER


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_workspace_create_refuses_bad_name(owner, name):
    before = Workspace.objects.count()
    with pytest.raises(ValidationError):
        services.workspace_create(name=name, owner=owner)
    assert Workspace.objects.count() == before


def test_invite_existing_user(workspace, owner):
    invitee = UserFactory(email="Jane@Example.test")
    membership = services.membership_invite(
        workspace=workspace, email="jane@example.TEST", role="admin", user=owner
    )
    assert (membership.user, membership.role) == (invitee, Role.ADMIN)


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("nobody@example.test", "member", "No user with the email"),
        ("{owner}", "member", "is already a member"),
        ("{owner}", "superuser", "Choose owner, admin or member."),
    ],
)
def test_invite_errors(workspace, owner, email, role, message):
    with pytest.raises(ValidationError, match=message):
        services.membership_invite(
            workspace=workspace, email=email.format(owner=owner.email), role=role, user=owner
        )
    assert workspace.memberships.count() == 1


def test_last_owner_cannot_be_demoted_or_removed(workspace, owner):
    membership = owner.memberships.get()
    with pytest.raises(ValidationError, match="last owner cannot be demoted"):
        services.membership_change_role(membership=membership, role="admin", user=owner)
    with pytest.raises(ValidationError, match="last owner cannot be removed"):
        services.membership_remove(membership=membership, user=owner)
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_owner_can_step_down_when_another_owner_exists(workspace, owner):
    other_owner = MembershipFactory(workspace=workspace, role=Role.OWNER).user
    membership = owner.memberships.get()
    services.membership_change_role(membership=membership, role="member", user=owner)
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER
    services.membership_remove(membership=membership, user=other_owner)
    assert not Membership.objects.filter(pk=membership.pk).exists()
